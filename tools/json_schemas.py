#!/usr/bin/env python3
"""Write the published JSON Schemas (``tlsdiag/schemas/*.schema.json``) from the document models.

The schemas are generated from the type hints of :mod:`tlsdiag.documents`, the same models the
commands write their JSON from; edit a model, then run this script and commit both.

    python tools/json_schemas.py            # write the files that changed
    python tools/json_schemas.py --check    # write nothing; exit 1 when a committed file is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tlsdiag.documents import schema  # noqa: E402 (the package is imported from this source tree)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed schema differs")
    args = parser.parse_args()
    if args.check:
        stale = schema.stale()
        for name in stale:
            print(f"stale: tlsdiag/schemas/{name}")
        return 1 if stale else 0
    for name in schema.write():
        print(f"wrote tlsdiag/schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
