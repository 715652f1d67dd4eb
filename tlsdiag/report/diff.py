"""The diff report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tlsdiag.diff import Comparison
from tlsdiag.documents.base import JsonValue, plain_object
from tlsdiag.report import Format, render_report

if TYPE_CHECKING:
    from tlsdiag.analysis.pipeline import Analysis
    from tlsdiag.documents.diff import DiffDocument, DiffSideJson, TimelineRowJson


def _side(analysis: Analysis) -> DiffSideJson:
    from tlsdiag.documents.diagnose import LogInputJson
    from tlsdiag.documents.diff import DiffSideJson

    return DiffSideJson(
        input=LogInputJson(
            name=analysis.name,
            lines=analysis.lines,
            recognized_lines=analysis.recognized_lines,
            dialects=tuple(sorted(analysis.dialects, key=lambda name: -analysis.dialects[name])),
        ),
        context=analysis.context.to_json(),
    )


def aligned_rows(comparison: Comparison) -> list[TimelineRowJson]:
    """The two timelines side by side, row by row, as the alignment paired them."""
    from tlsdiag.documents.diff import TimelineRowJson, TimelineStepJson

    rows = []
    good, bad = comparison.good_timeline, comparison.bad_timeline
    for tag, a1, a2, b1, b2 in comparison.alignment:
        for offset in range(max(a2 - a1, b2 - b1)):
            left = good[a1 + offset] if a1 + offset < a2 else None
            right = bad[b1 + offset] if b1 + offset < b2 else None
            rows.append(
                TimelineRowJson(
                    same=tag == "equal",
                    good=None if left is None else TimelineStepJson(line=left.line, label=left.label),
                    bad=None if right is None else TimelineStepJson(line=right.line, label=right.label),
                )
            )
    return rows


def diff_model(comparison: Comparison, findings: Sequence[Any]) -> DiffDocument:
    """The document of a comparison, with the failing run's findings."""
    from tlsdiag.documents.diff import DiffDocument

    first = comparison.first_divergence
    return DiffDocument(
        good=_side(comparison.good),
        bad=_side(comparison.bad),
        same_connection=comparison.same_connection,
        client_hellos_equivalent=comparison.identical_client_hello,
        first_divergence=first.to_json() if first else None,
        differences=tuple(item.to_json() for item in comparison.differences),
        timeline=tuple(aligned_rows(comparison)),
        findings=tuple(finding.to_json() for finding in findings),
    )


def diff_document(comparison: Comparison, findings: Sequence[Any]) -> dict[str, JsonValue]:
    """The JSON document of a comparison, as plain values."""
    return plain_object(diff_model(comparison, findings))


def render_diff(
    comparison: Comparison, findings: Sequence[Any], fmt: Format, color: bool = False, redact: bool = True
) -> str:
    """The report in ``fmt``; markdown and html, the formats made to be shared, mask secrets unless told not to."""
    return render_report(diff_model(comparison, findings), findings, fmt, "diff", color, redact)
