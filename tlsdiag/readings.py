"""The one code reader for logs: every code a log prints, with all its readings, ranked.

``tlsdiag explain`` and the parse stage read a printed code with the same function
(:func:`tlsdiag.forms.read`): ``-7280`` yields -7280 (decimal) and -0x7280 (hex without ``0x``),
``29312`` yields -0x7280 (a code printed without its minus), ``FFFF8D80`` yields -0x7280
(unsigned 32-bit). What a log adds is context, and it is used here in two steps:

* at parse time, :func:`read_printed` gives each reading a prior from what the line says: the
  wrapper's print format (``knowledge/platforms/print-formats.toml``), and a name or a
  ``mbedtls_strerror`` text printed on the same line, which pins the value it names;
* once the whole log is read and its mbedTLS version is inferred, :func:`rank` orders the readings by
  prior times plausibility (a defined code beats a composite mbedTLS never builds, which beats a value
  no table defines).

A reading that no table defines is kept, so that the report can show it, but it is never ranked above
one that some table defines, and :func:`defined` says so to the stages that decide what failed.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from tlsdiag.codes import Scope, decode, default_scope
from tlsdiag.forms import MAX_MBEDTLS_MAGNITUDE, CodeSyntaxError, read
from tlsdiag.knowledge import Knowledge, load
from tlsdiag.model import CodeReading, DecodedCode, hex_of

#: priors: how likely the spelling makes a reading, before its meaning is looked at
CERTAIN = 1.0
AMBIGUOUS_DECIMAL = 0.7  # "-7280": decimal is the usual printf, hex without 0x the other
AMBIGUOUS_HEX = 0.5
FORMAT_SAYS_SO = 1.0
FORMAT_SAYS_OTHERWISE = 0.2
TEXT_AGREES = 1.5  # a name or strerror text on the same line names this very value

#: how each spelling was read by :func:`tlsdiag.forms.read`
_AMBIGUOUS = {"decimal": AMBIGUOUS_DECIMAL, "hex without 0x": AMBIGUOUS_HEX}
_UINT32 = 1 << 32


class PrintFormat(NamedTuple):
    """A wrapper's print format that fixes how its digits are to be read."""

    id: str
    form: str  # hex-no-prefix | decimal | positive-negated
    pattern: re.Pattern[str]
    context: re.Pattern[str] | None
    source: str
    table: str | None = None  # the code table the number belongs to, when it is a wrapper's own numbering


class RankedReading(NamedTuple):
    """A reading with its score in one log: prior x plausibility of its best meaning."""

    reading: CodeReading
    score: float
    plausibility: float  # 0 when no table defines the value


@cache
def print_formats() -> tuple[PrintFormat, ...]:
    from tlsdiag.knowledge import document

    formats = []
    for entry in document("platforms/print-formats.toml")["format"]:
        context = entry.get("context")
        formats.append(
            PrintFormat(
                id=entry["id"],
                form=entry["form"],
                pattern=re.compile(entry["pattern"], re.IGNORECASE),
                context=re.compile(context, re.IGNORECASE) if context else None,
                source=entry["source"],
                table=entry.get("table"),
            )
        )
    return tuple(formats)


def format_of(raw: str, line: str) -> PrintFormat | None:
    """The known print format that produced ``raw`` on ``line``, if one does."""
    digits = raw.strip().lstrip("+-")
    for candidate in print_formats():
        if candidate.context is not None and not candidate.context.search(line):
            continue
        for match in candidate.pattern.finditer(line):
            printed = match.group(1).lstrip("+-").lower()
            if printed in (digits.lower(), digits.lower().removeprefix("0x")):
                return candidate
    return None


def read_printed(
    raw: str,
    line: str = "",
    text: str | None = None,
    form: str | None = None,
    knowledge: Knowledge | None = None,
) -> tuple[CodeReading, ...]:
    """Every reading of ``raw`` as a log printed it, each with a prior; empty when it is no code at all.

    ``line`` is the message the number came from (its print format is looked up there), ``text`` a
    name or strerror text printed with it, ``form`` a format the caller's grammar already knows
    (``hex-abs``: hex digits of the absolute value, as ESP-IDF's ``(%04X)`` prints them).
    """
    knowledge = knowledge or load()
    if form == "hex-abs":
        number = int(raw.strip().strip("()"), 16)
        value = number - _UINT32 if number >= 0x80000000 else -number
        pinned = (_named_readings(text, knowledge) if text else {}).get(value)
        if pinned is not None:
            return (CodeReading(value, "hex", name=pinned.name, only_versions=pinned.only_versions),)
        return (CodeReading(value, "hex"),)
    try:
        readings = read(raw, knowledge)
    except CodeSyntaxError:
        return ()
    readings = [reading for reading in readings if _in_range(reading.value)]
    if not readings:
        return ()
    table = None
    if form is None and line:
        known = format_of(raw, line)
        if known is not None:
            form, table = known.form, known.table
    named = _named_readings(text, knowledge) if text else {}
    ambiguous = len({reading.value for reading in readings}) > 1
    out = []
    for reading in readings:
        prior = _AMBIGUOUS.get(reading.how, CERTAIN) if ambiguous else CERTAIN
        if form is not None and ambiguous:
            prior = FORMAT_SAYS_SO if _form_agrees(form, reading) else FORMAT_SAYS_OTHERWISE
        pinned = named.get(reading.value)
        if pinned is not None:
            # the text names the code: its name, and the versions where that name has this value, come along
            prior *= TEXT_AGREES
            reading = reading._replace(name=pinned.name, only_versions=pinned.only_versions)
        if table is not None and form is not None and _form_agrees(form, reading):
            reading = reading._replace(table=table)
        out.append(reading._replace(prior=prior))
    return tuple(item.reading for item in rank(tuple(out), None, knowledge))


def _in_range(value: int) -> bool:
    """mbedTLS codes are 16-bit negatives; ESP-IDF and transport values are small positives or negatives."""
    return -MAX_MBEDTLS_MAGNITUDE <= value <= 0xFFFF


def _form_agrees(form: str, reading: CodeReading) -> bool:
    if form == "hex-no-prefix":
        return reading.how in ("hex without 0x", "hex")
    if form == "decimal":
        return reading.how == "decimal"
    if form == "positive-negated":
        return reading.value < 0
    return True


def _named_readings(text: str, knowledge: Knowledge) -> dict[int, CodeReading]:
    """The codes a name or an ``mbedtls_strerror`` text printed next to a number stands for, by value, each with
    its name and the versions where that name has that value (a text names the code; its name gives the
    versions: ``A field in a message was incorrect`` is 3.x's ILLEGAL_PARAMETER, -0x6600 in 2.x was another)."""
    try:
        readings = read(text, knowledge)
    except CodeSyntaxError:
        return {}
    found: dict[int, CodeReading] = {}
    for reading in readings:
        found.setdefault(reading.value, with_versions_of_name(reading, knowledge))
    return found


def with_versions_of_name(reading: CodeReading, knowledge: Knowledge | None = None) -> CodeReading:
    """``reading`` held to the versions where a code of its value prints the text its name prints.

    A strerror text names one code, and so the releases that have it: "A field in a message was incorrect" is
    3.x's ILLEGAL_PARAMETER (-0x6600 was INVALID_VERIFY_HASH in 2.x). A code renamed with its text unchanged
    (BAD_HS_PROTOCOL_VERSION, then BAD_PROTOCOL_VERSION) keeps every release of both names."""
    if not reading.name or reading.only_versions is not None:
        return reading
    versions = _versions_of_text(reading.value, reading.name, knowledge or load())
    return reading._replace(only_versions=versions) if versions else reading


def _versions_of_text(value: int, name: str, knowledge: Knowledge) -> frozenset[str]:
    key = (value, name, id(knowledge))
    found = _VERSIONS_OF_TEXT.get(key)
    if found is None:
        entries = [entry for entry in knowledge.mbedtls.entries if entry.value == value]
        texts = {text for entry in entries if entry.name == name for text in (entry.strerror, *entry.strerror_older)}
        texts.discard("")
        found = frozenset().union(
            *(
                entry.versions | entry.unknown_in
                for entry in entries
                if entry.name == name or texts & {entry.strerror, *entry.strerror_older}
            )
        )
        _VERSIONS_OF_TEXT[key] = found
    return found


_VERSIONS_OF_TEXT: dict[tuple[int, str, int], frozenset[str]] = {}


def rank(
    readings: tuple[CodeReading, ...], scope: Scope | None, knowledge: Knowledge | None = None
) -> list[RankedReading]:
    """Order readings for one log: prior x the plausibility of each reading's best meaning in ``scope``.

    ``scope`` holds the mbedTLS versions the log may come from (None: every examined version). Readings
    that no table defines come last, whatever their prior.
    """
    knowledge = knowledge or load()
    scope = scope or default_scope(knowledge)
    ranked = []
    for reading in readings:
        plausibility = _plausibility(reading._replace(prior=1.0, notes=()), scope)
        ranked.append(RankedReading(reading, reading.prior * plausibility, plausibility))
    ranked.sort(key=lambda item: (item.plausibility == 0.0, -item.score))
    return ranked


@lru_cache(maxsize=4096)
def _plausibility(reading: CodeReading, scope: Scope) -> float:
    """How much sense the best complete meaning of ``reading`` makes (0: no table defines it)."""
    decoded = decode(reading, scope, load(), reading.name or "")
    return max((item.plausibility for item in decoded.interpretations if item.complete), default=0.0)


def decode_printed(value: int, readings: tuple[CodeReading, ...], scope: Scope | None) -> DecodedCode:
    """What a printed value means: its likeliest reading, with the table a print format pinned it to."""
    knowledge = load()
    chosen = next((reading for reading in readings if reading.value == value), None)
    if chosen is None:
        chosen = CodeReading(value, "number")
    return _decode_cached(chosen._replace(prior=1.0, notes=()), scope or default_scope(knowledge))


@lru_cache(maxsize=4096)
def _decode_cached(reading: CodeReading, scope: Scope) -> DecodedCode:
    return decode(reading, scope, load(), hex_of(reading.value))


def defined(readings: tuple[CodeReading, ...], scope: Scope | None, knowledge: Knowledge | None = None) -> bool:
    """Whether any reading is a value some table defines (only those may become findings)."""
    return any(item.plausibility > 0 for item in rank(readings, scope, knowledge))
