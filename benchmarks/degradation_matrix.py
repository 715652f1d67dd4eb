#!/usr/bin/env python3
"""How tlsdiag's answer holds up when a failing log is pasted the way users paste it.

Runs every failing log of tests/fixtures/corpus (bad.log, bad.level1.log, bad.level2.log where present)
and every real-world case of tests/fixtures/realworld/cases through every variant of tests/variants.py
(and as it is), and counts per variant: the right category first; an honest differential (the right
category among the findings, the wrong first below 0.6); a wrong first below 0.7; a wrong first at 0.7
or more; nothing at all. A variant that leaves a log unchanged is counted as not applicable. The last
column is how many wrapped copies keep the original's top category.

    python benchmarks/degradation_matrix.py [--json OUT] [--cells]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every cell and the totals to this file")
    parser.add_argument("--cells", action="store_true", help="list every cell that breaks the rule")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.measure import ACCEPTABLE, ORIGINAL, OUTCOMES, cell, degradation_subjects, variant_names

    started = time.perf_counter()
    subjects = degradation_subjects()
    cells = [cell(subject, variant) for subject in subjects for variant in variant_names()]
    elapsed = time.perf_counter() - started
    wrapped = "wrapped at 80 columns"
    top = {(c.subject.id, c.variant): (c.top or ("nothing",))[0] for c in cells if c.applies}

    header = ["variant", "logs", *OUTCOMES, "n/a", "acceptable"]
    rows = []
    for variant in variant_names():
        applied = [c for c in cells if c.variant == variant and c.applies]
        counts = [sum(c.outcome == name for c in applied) for name in OUTCOMES]
        acceptable = sum(c.outcome in ACCEPTABLE for c in applied)
        share = f"{acceptable / len(applied):.0%}" if applied else "-"
        rows.append([variant, len(applied), *counts, len(subjects) - len(applied), f"{acceptable} ({share})"])
    same = [
        c
        for c in cells
        if c.variant == wrapped and c.applies and top[(c.subject.id, wrapped)] == top[(c.subject.id, ORIGINAL)]
    ]
    wrapped_total = sum(c.variant == wrapped and c.applies for c in cells)

    print(f"{len(subjects)} failing logs x {len(variant_names())} variants, {elapsed:.1f} s\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(value) for value in row) + " |")
    print(f"\nwrapped copies with the original's top category: {len(same)} of {wrapped_total}")
    if args.cells:
        print()
        for c in cells:
            if c.applies and c.outcome not in ACCEPTABLE:
                print(f"{c.id}: {c.outcome}; top {c.top}, expected {c.subject.category}")
    if args.json:
        document = {
            "variants": [dict(zip(header, row, strict=True)) for row in rows],
            "wrapped_same_top": {"same": len(same), "of": wrapped_total},
            "cells": [
                {
                    "log": c.subject.id,
                    "variant": c.variant,
                    "expected": c.subject.category,
                    "applies": c.applies,
                    "outcome": c.outcome,
                    "top": list(c.top) if c.top else None,
                }
                for c in cells
            ],
            "seconds": round(elapsed, 2),
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
