"""Reporters: turn result objects into text, markdown, html or JSON. They format; they never analyse.

Each report starts from its document: a typed model (:mod:`tlsdiag.documents`) assembled from the
result objects' ``to_json``. JSON is that model written out; the text-like formats come from Jinja
templates in ``templates/`` that read the same document as plain JSON values.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Sequence
from enum import StrEnum
from functools import cache
from typing import IO, Any

from tlsdiag.paths import package_path
from tlsdiag.report.spoken import sides, spoken


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


#: the formats made to be pasted into a forum post or an issue: their log strings are redacted by default
SHARED_FORMATS = frozenset({Format.markdown, Format.html})


_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def use_color(stream: IO[str], no_color: bool) -> bool:
    """Colour only for a terminal, and never when the user or ``NO_COLOR`` says no."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def to_json(document: object) -> str:
    """A document model written as the contract's JSON."""
    import json  # deferred: only the JSON format needs it

    from tlsdiag.documents.base import plain

    return json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n"


def template_document(document: object) -> dict[str, Any]:
    """A document model as the templates read it: the JSON object, as plain values."""
    from tlsdiag.documents.base import plain_object

    return plain_object(document)


@cache
def _environment(color: bool) -> Any:
    import jinja2  # deferred: only text-like reports need it

    from tlsdiag.cache import cache_dir

    directory = cache_dir()
    bytecode_cache = jinja2.FileSystemBytecodeCache(directory) if directory else None
    env = jinja2.Environment(
        bytecode_cache=bytecode_cache,
        loader=jinja2.FileSystemLoader(package_path("report", "templates")),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["style"] = lambda text, *names: style(str(text), color, *names)
    env.filters["wrap"] = wrap
    env.filters["span"] = version_span
    env.filters["md"] = markdown_escape
    env.filters["prose"] = markdown_prose
    env.filters["spoken"] = spoken
    env.globals["sides"] = sides
    return env


def render_report(document: object, findings: Sequence[Any], fmt: Format, kind: str, color: bool, redact: bool) -> str:
    """A diagnose or diff report in ``fmt`` from its document model (``kind`` names the templates).

    Markdown and html, the formats made to be shared, mask secrets unless told not to; JSON and the
    terminal text are for the user's own eyes and stay as the log said.
    """
    if fmt is Format.json:
        return to_json(document)
    values = template_document(document)
    if redact and fmt in SHARED_FORMATS:
        from tlsdiag.redact import redact_value

        values, findings = redact_value(values), redact_value(list(findings))
    template = {Format.text: f"{kind}.txt.j2", Format.markdown: f"{kind}.md.j2", Format.html: f"{kind}.html.j2"}[fmt]
    return render(template, color=color, doc=values, findings=findings)


def render(template: str, color: bool = False, **context: Any) -> str:
    return _environment(color).get_template(template).render(**context)


def style(text: str, color: bool, *names: str) -> str:
    """Wrap ``text`` in ANSI styles (``bold``, ``red`` ...) when colour is on."""
    if not color or not names:
        return text
    codes = ";".join(_STYLES[name] for name in names)
    return f"\x1b[{codes}m{text}\x1b[0m"


def wrap(text: str, indent: int = 0, first: int | None = None, width: int = 100) -> str:
    """Wrap a paragraph for the terminal: continuation lines at ``indent``, the first at ``first``; a number
    keeps its ``%`` on its line."""
    lines = textwrap.wrap(
        str(text).replace(" %", "\u00a0%"),
        width=width,
        initial_indent=" " * (indent if first is None else first),
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return "\n".join(lines).replace("\u00a0%", " %")


def version_span(versions: Sequence[str], known: Sequence[str] = ()) -> str:
    """``2.7, 2.16, 2.28`` -> ``2.7 - 2.28`` when they are a contiguous run of the examined series."""
    items = list(versions)
    if len(items) > 2 and known:
        positions = [known.index(item) if item in known else -1 for item in items]
        if -1 not in positions and positions == list(range(positions[0], positions[0] + len(items))):
            return f"{items[0]} - {items[-1]}"
    return ", ".join(items)


def markdown_escape(text: str) -> str:
    """Escape the characters that would turn log text into markdown markup."""
    out = []
    for char in str(text):
        if char in "\\`*_{}[]<>()#+!|~":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


@cache
def _markdown_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The patterns of markdown markup, compiled on first use (a text report never needs them):

    - a code span: a run of backticks, text, and the same run again;
    - what starts a block at the beginning of a line: a heading, a quote, a list item;
    - a numbered item's dot;
    - what starts markup inside a line; ``_`` only where it can open or close emphasis, not inside a name.
    """
    return (
        re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S),
        re.compile(r"^(\s*)(#|>|[-+](?=\s))", re.M),
        re.compile(r"^(\s*\d+)([.)])(?=\s)", re.M),
        re.compile(r"[\\*\[\]<>|~`]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"),
    )


def markdown_prose(text: str, facts: Sequence[tuple[str, object]] = ()) -> str:
    """Our own prose (knowledge texts: meanings, causes, fixes, rule explanations) for a markdown report.

    The prose is written with markdown code spans on purpose (`` `cacert_buf` ``): they are kept. Everything
    else that would turn into markup (a ``*`` of a C pointer, a ``<`` or ``|`` from a log value filled in) is
    escaped. A value quoted from the log (``facts``) that holds a backtick is escaped whole, so that it can never
    open or close a code span of ours.
    """
    text = str(text)
    quoted = sorted(
        {str(value) for _, value in facts if isinstance(value, str) and "`" in value and str(value) in text},
        key=len,
        reverse=True,
    )
    for index, value in enumerate(quoted):
        text = text.replace(value, f"\ue000{index}\ue001")
    out, position = [], 0
    for span in _markdown_patterns()[0].finditer(text):
        out.append(_escape_inline(text[position : span.start()]))
        out.append(span.group())
        position = span.end()
    out.append(_escape_inline(text[position:]))
    result = "".join(out)
    for index, value in enumerate(quoted):
        result = result.replace(f"\ue000{index}\ue001", markdown_escape(value))
    return result


def _escape_inline(text: str) -> str:
    _, block_start, numbered, inline_markup = _markdown_patterns()
    escaped = inline_markup.sub(lambda match: "\\" + match.group(), text)
    escaped = block_start.sub(lambda match: match.group(1) + "\\" + match.group(2), escaped)
    return numbered.sub(lambda match: match.group(1) + "\\" + match.group(2), escaped)
