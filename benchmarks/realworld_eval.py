#!/usr/bin/env python3
"""The real-world scorecard: tlsdiag diagnose on every case of tests/fixtures/realworld/cases.

Per case: the confirmed category and code names; tlsdiag's first three categories with their
confidences; whether the first is right and whether the right one is among the three; whether the
printed codes that have a name (mbedTLS codes, ESP-IDF codes, verify flags, alerts)
were read (as tests/test_realworld_codes.py checks them); whether one of the case's
`fix_options` is named in the findings' fixes (an option, or the option's name in an action's text).
Totals against the issue's targets: code names read 100 %, top-1 category >= 90 %, true category among
the first three >= 95 %, a fix option named >= 80 % (over the cases that list one).

    python benchmarks/realworld_eval.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"code names read": 1.0, "top-1 category": 0.90, "category in top 3": 0.95, "fix option named": 0.80}


def option_named(options: list[str], document: dict[str, Any] | None) -> str | None:
    """The first fix option of the case that a finding's fix names, as an option or in its action text.

    ``WiFiClientSecure::setCertificate`` and ``esp_tls_cfg_t.skip_common_name`` also count when the text
    names only the member (``setCertificate``, ``skip_common_name``), as fixes written for a user do.
    """
    texts = []
    for finding in (document or {}).get("findings") or []:
        for fix in finding.get("fixes") or []:
            texts.extend(str(fix.get(key) or "") for key in ("option", "action", "value"))
    blob = "\n".join(texts)
    for option in options:
        member = re.split(r"::|\.", option)[-1]
        for name in {option, member}:
            if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", blob):
                return option
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the per-case rows and the totals to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.measure import diagnose_file, realworld, top_categories
    from tests.test_realworld_codes import check, expectations

    rows = []
    for case in realworld("cases"):
        document = diagnose_file(case.log)
        top = top_categories(document)
        named = [expectation for expectation in expectations(case) if expectation.kind != "other"]
        checks = [check(expectation, document) for expectation in named]
        options = case.record.get("fix_options") or []
        rows.append(
            {
                "id": case.id,
                "category": case.category,
                "code_names": case.record.get("expected_code_names") or [],
                "top3": [[category, confidence] for category, confidence in top],
                "first_right": bool(top) and top[0][0] == case.category,
                "in_top3": any(category == case.category for category, _ in top),
                "codes_read": sum(problem is None for problem in checks),
                "codes_checked": len(checks),
                "fix_options": options,
                "fix_named": option_named(options, document) if options else None,
            }
        )

    def share(hits: int, total: int) -> float:
        return hits / total if total else 0.0

    with_options = [row for row in rows if row["fix_options"]]
    totals = {
        "code names read": share(sum(r["codes_read"] for r in rows), sum(r["codes_checked"] for r in rows)),
        "top-1 category": share(sum(r["first_right"] for r in rows), len(rows)),
        "category in top 3": share(sum(r["in_top3"] for r in rows), len(rows)),
        "fix option named": share(sum(bool(r["fix_named"]) for r in with_options), len(with_options)),
    }

    print("| case | expected | tlsdiag's first three | 1st | top 3 | codes read | fix option named |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        top3 = ", ".join(f"{category} {confidence:.2f}" for category, confidence in row["top3"]) or "(nothing)"
        fix = "-" if not row["fix_options"] else (row["fix_named"] or "no")
        print(
            f"| {row['id']} | {row['category']} | {top3} | {'yes' if row['first_right'] else 'no'} | "
            f"{'yes' if row['in_top3'] else 'no'} | {row['codes_read']}/{row['codes_checked']} | {fix} |"
        )
    print()
    print("| measure | today | target |")
    print("|---|---|---|")
    for name, value in totals.items():
        print(f"| {name} | {value:.0%} | {TARGETS[name]:.0%} |")
    print(
        f"\n{len(rows)} cases; {len(with_options)} list a fix option; "
        f"{sum(r['codes_checked'] for r in rows)} printed codes with a name checked"
    )
    if args.json:
        args.json.write_text(json.dumps({"cases": rows, "totals": totals, "targets": TARGETS}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
