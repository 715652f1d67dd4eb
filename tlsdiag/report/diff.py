"""The diff report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlsdiag.diff import Comparison
from tlsdiag.report import Format, envelope, render_report


def _side(comparison_side: Any) -> dict[str, Any]:
    return {
        "input": {
            "name": comparison_side.name,
            "lines": comparison_side.lines,
            "recognized_lines": comparison_side.recognized_lines,
            "dialects": sorted(comparison_side.dialects, key=lambda name: -comparison_side.dialects[name]),
        },
        "context": comparison_side.context.to_json(),
    }


def aligned_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """The two timelines side by side, row by row, as the alignment paired them."""
    rows = []
    good, bad = comparison.good_timeline, comparison.bad_timeline
    for tag, a1, a2, b1, b2 in comparison.alignment:
        for offset in range(max(a2 - a1, b2 - b1)):
            left = good[a1 + offset] if a1 + offset < a2 else None
            right = bad[b1 + offset] if b1 + offset < b2 else None
            rows.append(
                {
                    "same": tag == "equal",
                    "good": None if left is None else {"line": left.line, "label": left.label},
                    "bad": None if right is None else {"line": right.line, "label": right.label},
                }
            )
    return rows


def diff_document(comparison: Comparison, findings: Sequence[Any]) -> dict[str, Any]:
    first = comparison.first_divergence
    return envelope(
        good=_side(comparison.good),
        bad=_side(comparison.bad),
        same_connection=comparison.same_connection,
        client_hellos_equivalent=comparison.identical_client_hello,
        first_divergence=first.to_json() if first else None,
        differences=[item.to_json() for item in comparison.differences],
        timeline=aligned_rows(comparison),
        findings=[finding.to_json() for finding in findings],
    )


def render_diff(
    comparison: Comparison, findings: Sequence[Any], fmt: Format, color: bool = False, redact: bool = True
) -> str:
    """The report in ``fmt``; markdown and html, the formats made to be shared, mask secrets unless told not to."""
    return render_report(diff_document(comparison, findings), findings, fmt, "diff", color, redact)
