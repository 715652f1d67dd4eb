#!/usr/bin/env python3
"""Time of ``tlsdiag diff`` on two large logs, next to the time of analysing the same two logs.

Builds two logs of about ``--lines`` lines each by repeating a real working and a real failing run
from ``../shared/corpus`` (each repetition is another connection attempt), then measures in one run:
the analysis of both logs alone, and the whole comparison (analysis + alignment + differences +
rules). The alignment works on milestones, so the difference between the two figures should stay
small whatever the size.

    python benchmarks/diff_speed.py [--lines 200000] [--pair 08-peer-closed-after-hello-v2.28]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def build(source: Path, target: Path, lines: int) -> int:
    text = source.read_text(encoding="utf-8", errors="replace")
    per_copy = text.count("\n") or 1
    copies = max(1, lines // per_copy)
    target.write_text(text * copies, encoding="utf-8")
    return copies * per_copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--pair", default="08-peer-closed-after-hello-v2.28")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.diff import compare
    from tlsdiag.rules import diagnose

    with tempfile.TemporaryDirectory() as scratch:
        good, bad = Path(scratch) / "good.log", Path(scratch) / "bad.log"
        good_lines = build(CORPUS / args.pair / "good.log", good, args.lines)
        bad_lines = build(CORPUS / args.pair / "bad.log", bad, args.lines)
        start = time.perf_counter()
        analyse(str(good))
        analyse(str(bad))
        parse_seconds = time.perf_counter() - start
        start = time.perf_counter()
        comparison = compare(analyse(str(good)), analyse(str(bad)))
        diagnose(comparison.bad, comparison)
        diff_seconds = time.perf_counter() - start
    print(f"logs: {good_lines} + {bad_lines} lines ({args.pair})")
    print(f"analysing both logs      : {parse_seconds:.2f} s")
    print(f"whole diff (incl. rules) : {diff_seconds:.2f} s  ({diff_seconds / parse_seconds:.2f}x the analysis)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
