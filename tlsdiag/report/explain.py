"""Reports for ``tlsdiag explain``: one block per decoded code, in each output format."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tlsdiag.model import DecodedCode
from tlsdiag.report import Format, render, to_json

if TYPE_CHECKING:
    from tlsdiag.documents.explain import ExplainDocument


def explain_model(codes: Sequence[DecodedCode]) -> ExplainDocument:
    """The document of decoded codes."""
    from tlsdiag.documents.explain import ExplainDocument

    return ExplainDocument(codes=tuple(code.to_json() for code in codes))


def render_explain(codes: Sequence[DecodedCode], fmt: Format, series: Sequence[str], color: bool = False) -> str:
    if fmt is Format.json:
        return to_json(explain_model(codes))
    if fmt is Format.text:
        from tlsdiag.report.explain_text import render_text

        return render_text(codes, series, color)
    template = {Format.markdown: "explain.md.j2", Format.html: "explain.html.j2"}[fmt]
    return render(template, color=color, codes=codes, series=list(series))
