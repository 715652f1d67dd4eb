"""Reports for ``tlsdiag explain``: one block per decoded code, in each output format."""

from __future__ import annotations

from collections.abc import Sequence

from tlsdiag.model import DecodedCode
from tlsdiag.report import Format, envelope, render, to_json


def explain_document(codes: Sequence[DecodedCode]) -> dict[str, object]:
    return envelope(codes=[code.to_json() for code in codes])


def render_explain(codes: Sequence[DecodedCode], fmt: Format, series: Sequence[str], color: bool = False) -> str:
    if fmt is Format.json:
        return to_json(explain_document(codes))
    if fmt is Format.text:
        from tlsdiag.report.explain_text import render_text

        return render_text(codes, series, color)
    template = {Format.markdown: "explain.md.j2", Format.html: "explain.html.j2"}[fmt]
    return render(template, color=color, codes=codes, series=list(series))
