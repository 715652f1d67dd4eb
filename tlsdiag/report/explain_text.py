"""Terminal text for ``tlsdiag explain``, written in Python rather than a template.

``explain`` is the one command meant to answer within the interpreter's own start-up time, and the
template engine's import alone would triple that; markdown and html still come from templates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tlsdiag.model import DecodedCode, Fix, Interpretation
from tlsdiag.report import style, version_span, wrap


def render_text(codes: Sequence[DecodedCode], series: Sequence[str], color: bool) -> str:
    blocks = ["\n".join(_code(code, series, color)) for code in codes]
    return "\n\n".join(blocks) + "\n"


def _code(code: DecodedCode, series: Sequence[str], color: bool) -> Iterator[str]:
    value = f"  =  {code.hex} ({code.value})" if code.value is not None else ""
    yield f"{style(code.input, color, 'bold')}{value}  [{code.kind}]"
    if not code.interpretations:
        yield "  " + style("No version of mbedTLS defines this value.", color, "yellow")
    several = len(code.interpretations) > 1
    for index, interpretation in enumerate(code.interpretations, start=1):
        yield ""
        yield from _interpretation(code, interpretation, index if several else 0, series, color)
    if code.notes:
        yield ""
        yield "  " + style("Notes", color, "bold", "yellow")
        yield from (wrap("- " + note, 6, first=4) for note in code.notes)


def _interpretation(
    code: DecodedCode, item: Interpretation, index: int, series: Sequence[str], color: bool
) -> Iterator[str]:
    where = (
        f"mbedTLS {version_span(item.versions, series)}"
        if item.kind in ("mbedtls", "psa")
        else ", ".join(item.versions)
    )
    platforms = f" ({', '.join(item.platforms)})" if item.platforms else ""
    label = ""
    if index:
        likeliest = index == 1 and item.plausibility > code.interpretations[1].plausibility
        label = style(f"Reading {index}{' (likeliest)' if likeliest else ''}", color, "cyan") + ": "
    yield f"{label}in {where}{platforms}"
    yield from (wrap("- " + note, 6, first=4) for note in item.notes)
    for part in item.parts:
        level = f"  {part.level}-level" if item.composite else ""
        aliases = f"  (also: {', '.join(part.aliases)})" if part.aliases else ""
        yield f"  {style(part.name or '(undefined)', color, 'bold')}  {part.hex}{level}{aliases}"
        if part.strerror:
            yield f'    prints as: "{part.strerror}"'
        if item.composite and part.summary:
            yield wrap(part.summary, 6)
    if item.meaning and not item.composite:
        yield ""
        yield "  " + style("What it means", color, "bold")
        yield wrap(item.meaning, 4)
    yield f"  {style('Category', color, 'bold')}: {item.category}"
    yield from _section("Likely causes", item.causes, color)
    yield from _section("Fix", [_fix(fix) for fix in item.fixes], color, "green")
    yield from _section("Check next", item.next_steps, color)


def _section(title: str, lines: Sequence[str], color: bool, *extra: str) -> Iterator[str]:
    if not lines:
        return
    yield ""
    yield "  " + style(title, color, "bold", *extra)
    yield from (wrap("- " + line, 6, first=4) for line in lines)


def _fix(fix: Fix) -> str:
    option = ""
    if fix.option:
        option = f"{fix.option}{f' = {fix.value}' if fix.value else ''}: "
    platform = f" ({fix.platform})" if fix.platform else ""
    return f"[{fix.target}] {_APPLICABILITY.get(fix.applicability, '')}{option}{fix.action}{platform}"


#: how a fix that is not a plain fix is announced (knowledge marks it with ``applicability``)
_APPLICABILITY = {"unsafe": "unsafe, only to confirm the diagnosis: ", "display-only": "to test: "}
