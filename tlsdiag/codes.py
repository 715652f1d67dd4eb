"""Decoding error values: which names a value has in which mbedTLS, PSA, ESP-IDF or transport table.

A value is read in every selected mbedTLS series on its own: as a whole code, or split into the
high-level and low-level parts mbedTLS adds together (``-0x4290`` = ``-0x4280`` + ``-0x0010``). Series
that read the value the same way are grouped into one :class:`Interpretation`, so a value whose
meaning changed (``-0x7500``) yields one interpretation per meaning, never a merged one. ESP-IDF
``esp_err_t`` values and values from below TLS (lwIP, errno, NSAPI, Espruino) are read too, and all
readings are ranked by plausibility.
"""

# No ``from __future__ import annotations`` here: the named tuples below would carry their field types
# as strings, and typing compiles each string when the class is made, a cost every start of tlsdiag pays.
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from tlsdiag import forms
from tlsdiag.knowledge import CodeEntry, Knowledge, load
from tlsdiag.model import CodeReading, DecodedCode, Explanation, Fix, Interpretation, Part, hex_of
from tlsdiag.versions import VersionSelection, esp_idf_series, select_mbedtls, series_key

# How much sense a reading makes, used only to rank readings of the same text against each other.
PLAUSIBLE_WHOLE = 1.0
PLAUSIBLE_COMPOSITE = 0.95
NOT_FROM_TLS_CALLS = 0.4  # defined, but mbedTLS's TLS calls never return it
TRANSPORT = 0.5
TRANSPORT_BESIDE_DEFINED = 0.3  # a transport reading next to a defined mbedTLS code
UNLIKELY_COMPOSITE = 0.25
PARTLY_DEFINED = 0.1
LOW_LEVEL_LIMIT = 0x80  # absolute values below this are low-level codes, or foreign values


class Scope(NamedTuple):
    """What the user told us about the build: the mbedTLS series and ESP-IDF series to read with."""

    mbedtls: VersionSelection
    esp_idf: str | None = None  # ESP-IDF series such as "4.4", or None when unknown


def default_scope(
    knowledge: Knowledge, mbedtls_version: str | None = None, esp_idf_version: str | None = None
) -> Scope:
    from tlsdiag.versions import select_by_esp_idf

    selection = select_mbedtls(mbedtls_version, knowledge.mbedtls.series)
    esp = None
    if esp_idf_version:
        esp = esp_idf_series(esp_idf_version)
        if mbedtls_version is None:
            selection = select_by_esp_idf(esp_idf_version, knowledge.esp_idf_releases, knowledge.mbedtls.series)
    return Scope(selection, esp)


def explain(text: str, scope: Scope | None = None, knowledge: Knowledge | None = None) -> list[DecodedCode]:
    """Decode one written code; several results when the text can be read several ways, likeliest first."""
    knowledge = knowledge or load()
    scope = scope or default_scope(knowledge)
    readings = forms.read(text, knowledge)
    decoded = [decode(reading, scope, knowledge, text.strip()) for reading in readings]
    useful = [item for item in decoded if item.interpretations]
    if not useful:
        return decoded[:1]
    useful.sort(key=lambda item: -item.interpretations[0].plausibility)
    best = useful[0].interpretations[0].plausibility
    weak = [item for item in useful[1:] if item.interpretations[0].plausibility <= PARTLY_DEFINED < best]
    useful = [item for item in useful if item not in weak]
    dropped = [item for item in decoded if not item.interpretations] + weak
    if len(useful) > 1:
        useful = [_note(useful[0], _ambiguity_note(useful)), *useful[1:]]
    for item in dropped:
        useful[0] = _note(useful[0], f"read as {item.hex} ({_how(readings, item.value)}) it is not a defined code")
    return useful


def decode_value(value: int, scope: Scope | None = None, knowledge: Knowledge | None = None) -> DecodedCode:
    """Decode a value that a log printed as a number (the log already fixed its form)."""
    knowledge = knowledge or load()
    return decode(CodeReading(value, "number"), scope or default_scope(knowledge), knowledge, hex_of(value))


def decode(reading: CodeReading, scope: Scope, knowledge: Knowledge, text: str) -> DecodedCode:
    value = reading.value
    interpretations: list[Interpretation] = []
    notes = list(reading.notes)
    undefined: tuple[str, ...] = ()
    table = reading.table or ""
    if table in ("", "mbedtls", "psa"):
        mbedtls_readings, undefined, version_notes = _mbedtls_interpretations(value, reading, scope, knowledge)
        interpretations.extend(mbedtls_readings)
        notes.extend(version_notes)
    if table in ("", "esp-idf") and value > 0:
        interpretations.extend(_esp_idf_interpretations(value, reading, scope, knowledge))
    if value < 0 and (table == "" or table.startswith("transport:")):
        interpretations.extend(_transport_interpretations(value, table, interpretations, knowledge))
    if any(item.complete for item in interpretations):
        interpretations = [item for item in interpretations if item.complete]  # half-matches add only noise
    interpretations.sort(key=lambda item: -item.plausibility)
    kind = interpretations[0].kind if interpretations else "unknown"
    if not any(item.complete for item in interpretations):
        kind = "unknown"
        notes.append(_unknown_note(value, scope, partly=bool(interpretations)))
    if scope.mbedtls.note:
        notes.append(scope.mbedtls.note)
    return DecodedCode(text, value, kind, tuple(interpretations), tuple(dict.fromkeys(notes)), undefined)


# --- mbedTLS and PSA -------------------------------------------------------------------------------------------


class _SeriesReading(NamedTuple):
    kind: str
    parts: tuple[Part, ...]
    plausibility: float
    complete: bool

    @property
    def key(self) -> tuple[object, ...]:
        return self.kind, tuple((part.value, part.name, part.aliases) for part in self.parts)


def _mbedtls_interpretations(
    value: int, reading: CodeReading, scope: Scope, knowledge: Knowledge
) -> tuple[list[Interpretation], tuple[str, ...], list[str]]:
    series = [s for s in scope.mbedtls.series if reading.only_versions is None or s in reading.only_versions]
    per_series = {s: _read_in_series(value, s, knowledge, reading.table, reading.name) for s in series}
    complete = {s: r for s, r in per_series.items() if r is not None and r.complete}
    chosen = complete or {s: r for s, r in per_series.items() if r is not None}
    groups: dict[tuple[object, ...], list[str]] = {}
    readings: dict[tuple[object, ...], _SeriesReading] = {}
    for s, series_reading in chosen.items():
        groups.setdefault(series_reading.key, []).append(s)
        readings[series_reading.key] = series_reading
    interpretations = [_interpretation(readings[key], tuple(versions), knowledge) for key, versions in groups.items()]
    undefined = tuple(s for s in series if s not in complete) if complete else ()
    notes = _undefined_notes(value, undefined, interpretations, knowledge) if undefined else []
    if reading.only_versions is not None and reading.name:
        notes.extend(_other_meanings_note(value, reading, scope, knowledge))
    return interpretations, undefined, notes


def _read_in_series(
    value: int, series: str, knowledge: Knowledge, table: str | None, preferred: str | None
) -> _SeriesReading | None:
    if value >= 0:
        return None
    whole = sorted(knowledge.mbedtls.at(value, series), key=lambda entry: entry.name != preferred)
    psa = knowledge.psa.at(value, series)
    if psa and table != "mbedtls":
        aliases = tuple(entry.name for entry in whole)
        part = _part(value, "psa", psa[0], knowledge, aliases=aliases)
        return _SeriesReading("psa", (part,), PLAUSIBLE_WHOLE, True)
    if table == "psa":
        return None
    if whole:
        main, *others = whole
        aliases = tuple(entry.name for entry in others) + ((main.alias_of,) if main.alias_of.startswith("PSA_") else ())
        part = _part(value, main.level, main, knowledge, aliases=aliases)
        return _SeriesReading("mbedtls", (part,), _whole_plausibility(part, knowledge), True)
    magnitude = -value
    high, low = magnitude & knowledge.composition["high_mask"], magnitude & knowledge.composition["low_mask"]
    if not high or not low or magnitude > forms.MAX_MBEDTLS_MAGNITUDE:
        return None
    high_entries = knowledge.mbedtls.at(-high, series)
    low_entries = knowledge.mbedtls.at(-low, series)
    if not high_entries and not low_entries:
        return None
    high_part = _part(-high, "high", high_entries[0], knowledge) if high_entries else _unknown_part(-high, "high")
    low_part = _part(-low, "low", low_entries[0], knowledge) if low_entries else _unknown_part(-low, "low")
    if high_entries and low_entries:
        plausible = knowledge.composite_plausible(high_entries[0].module, low_entries[0].module)
        return _SeriesReading(
            "mbedtls", (high_part, low_part), PLAUSIBLE_COMPOSITE if plausible else UNLIKELY_COMPOSITE, True
        )
    return _SeriesReading("mbedtls", (high_part, low_part), PARTLY_DEFINED, False)


def _whole_plausibility(part: Part, knowledge: Knowledge) -> float:
    explanation = knowledge.explanations.get(part.name or "")
    if explanation is not None and not explanation.tls_reachable:
        return NOT_FROM_TLS_CALLS
    return PLAUSIBLE_WHOLE


def _part(value: int, level: str, entry: CodeEntry, knowledge: Knowledge, aliases: tuple[str, ...] = ()) -> Part:
    explanation = knowledge.explanations.get(entry.name)
    module = knowledge.modules.get(entry.module)
    summary = explanation.meaning if explanation else (module.summary if module else "")
    return Part(
        value=value,
        level=level,
        name=entry.name,
        module=entry.module,
        summary=summary,
        strerror=entry.strerror or None,
        aliases=tuple(alias for alias in aliases if alias != entry.name),
    )


def _unknown_part(value: int, level: str) -> Part:
    return Part(value=value, level=level, name=None, summary="not defined in this version")


def _interpretation(reading: _SeriesReading, versions: tuple[str, ...], knowledge: Knowledge) -> Interpretation:
    explained = [knowledge.explanations.get(part.name or "") for part in reading.parts]
    categories = [
        knowledge.category_for_name(part.name, part.module) if part.name else "other" for part in reading.parts
    ]
    order = sorted(range(len(reading.parts)), key=lambda i: _precedence(categories[i], knowledge))
    root = order[0]
    # In a composite the root-cause part speaks for the whole; the other part's advice is kept only
    # when it is about the same kind of problem (an RSA failure's own causes do not explain an
    # allocation failure inside RSA).
    ordered = [
        item for i in order if (item := explained[i]) is not None and (i == root or categories[i] == categories[root])
    ]
    notes = []
    if len(reading.parts) == 2 and reading.complete:
        high, low = reading.parts
        notes.append(
            f"{hex_of(high.value + low.value)} is a composite code: {high.hex} ({high.name}) + {low.hex} ({low.name}); "
            f"the {high.module} layer added the {low.module} error it received to its own."
        )
        if reading.plausibility < PLAUSIBLE_COMPOSITE:
            notes.append(
                f"mbedTLS never adds {low.module} errors to {high.module} errors, so this split is unlikely: "
                "check whether the number was printed in decimal or in hex."
            )
    elif len(reading.parts) == 2:
        known = [part for part in reading.parts if part.known]
        notes.append(
            f"only the {known[0].level}-level part {known[0].hex} ({known[0].name}) is defined here; "
            "the rest matches no mbedTLS code (a vendor fork or a value from another layer)"
        )
    return Interpretation(
        kind=reading.kind,
        versions=versions,
        parts=reading.parts,
        category=categories[root],
        meaning=reading.parts[root].summary,
        causes=_merge(item.causes for item in ordered),
        fixes=_merge_fixes(item.fixes for item in ordered),
        next_steps=_merge(item.next_steps for item in ordered),
        references=_merge(item.references for item in ordered),
        platforms=_platforms_for(versions, knowledge),
        notes=tuple(notes),
        plausibility=reading.plausibility,
    )


def _precedence(category: str, knowledge: Knowledge) -> int:
    order = knowledge.category_precedence
    return order.index(category) if category in order else len(order)


def _merge(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


def _merge_fixes(groups: Iterable[Sequence[Fix]]) -> tuple[Fix, ...]:
    return tuple(dict.fromkeys(fix for group in groups for fix in group))


def _platforms_for(versions: tuple[str, ...], knowledge: Knowledge) -> tuple[str, ...]:
    """ESP-IDF releases whose bundled mbedTLS falls in ``versions`` (e.g. ``ESP-IDF v4.0 - v4.4``)."""
    return _platforms_cached(versions, knowledge)


@lru_cache(maxsize=256)
def _platforms_cached(versions: tuple[str, ...], knowledge: Knowledge) -> tuple[str, ...]:
    series = sorted({esp for _, esp, bundled in knowledge.esp_idf_bundles if bundled in versions}, key=series_key)
    if not series:
        return ()
    label = f"ESP-IDF v{series[0]}" if len(series) == 1 else f"ESP-IDF v{series[0]} - v{series[-1]}"
    return (label,)


def _undefined_notes(
    value: int, undefined: tuple[str, ...], interpretations: list[Interpretation], knowledge: Knowledge
) -> list[str]:
    notes = [f"{hex_of(value)} is not defined in mbedTLS {', '.join(undefined)}."]
    for interpretation in interpretations:
        for part in interpretation.parts:
            for entry in knowledge.mbedtls.by_name.get(part.name or "", ()):
                moved_in = [s for s in undefined if entry.holds_in(s) and entry.value != part.value]
                if moved_in:
                    alias = f" (= {entry.alias_of})" if entry.alias_of else ""
                    notes.append(
                        f"In mbedTLS {', '.join(moved_in)} {part.name} is {entry.value}{alias}, "
                        f"so {hex_of(value)} cannot come from such a build."
                    )
    return list(dict.fromkeys(notes))


def _other_meanings_note(value: int, reading: CodeReading, scope: Scope, knowledge: Knowledge) -> list[str]:
    others = []
    for s in scope.mbedtls.series:
        if reading.only_versions and s in reading.only_versions:
            continue
        for entry in knowledge.mbedtls.at(value, s):
            if entry.name != reading.name:
                others.append((entry.name, s))
    if not others:
        return []
    names = dict.fromkeys(name for name, _ in others)
    parts = []
    for name in names:
        where = [s for n, s in others if n == name]
        parts.append(f"{name} in {where[0]}" + (f" - {where[-1]}" if len(where) > 1 else ""))
    return [f"the same value {hex_of(value)} means " + "; ".join(parts)]


# --- ESP-IDF and transport -------------------------------------------------------------------------------------


def _esp_idf_interpretations(
    value: int, reading: CodeReading, scope: Scope, knowledge: Knowledge
) -> list[Interpretation]:
    by_name: dict[str, list[str]] = {}
    entries: dict[str, CodeEntry] = {}
    for entry in knowledge.esp_idf.by_value.get(value, ()):
        series = sorted(entry.versions, key=series_key)
        if reading.only_versions is not None:
            series = [s for s in series if s in reading.only_versions]
        if scope.esp_idf:
            series = [s for s in series if s == scope.esp_idf]
        if series:
            by_name.setdefault(entry.name, []).extend(series)
            entries[entry.name] = entry
    interpretations = []
    for name, series in by_name.items():
        entry = entries[name]
        explanation = knowledge.explanations.get(name)
        part = Part(value, "esp-idf", name, module=entry.module, summary=explanation.meaning if explanation else "")
        interpretations.append(
            _from_explanation(
                "esp-tls", tuple(f"ESP-IDF {s}" for s in series), part, explanation, PLAUSIBLE_WHOLE, "other"
            )
        )
    return interpretations


def _transport_interpretations(
    value: int, table: str, found: list[Interpretation], knowledge: Knowledge
) -> list[Interpretation]:
    defined = [item for item in found if item.plausibility >= PLAUSIBLE_COMPOSITE]
    if defined and -value >= LOW_LEVEL_LIMIT and not table:
        return []  # a high-level mbedTLS code: callbacks do not return such values
    plausibility = TRANSPORT_BESIDE_DEFINED if defined else TRANSPORT
    interpretations = []
    for family in knowledge.transport:
        if table and table != f"transport:{family.id}":
            continue
        if not table and family.scope == "format":
            continue  # an application's own numbering: read with it only where its print format says so
        for code in family.lookup(value):
            part = Part(value, "transport", code.name, module=family.id, summary=code.meaning)
            notes = [family.how_it_reaches] if family.how_it_reaches else []
            if family.confidence != "exact":
                notes.append(f"the {family.title} numbering is approximate ({family.source})")
            interpretations.append(
                Interpretation(
                    # a framework's own numbering (read only where its print format names it) is no
                    # transport callback's value: it says which step of the framework failed
                    kind="wrapper" if family.scope == "format" else "transport",
                    versions=(family.title,),
                    parts=(part,),
                    category=code.category,
                    meaning=code.meaning,
                    fixes=family.fixes,
                    platforms=family.stacks,
                    notes=tuple(notes),
                    plausibility=plausibility,
                )
            )
    return interpretations


def _from_explanation(
    kind: str,
    versions: tuple[str, ...],
    part: Part,
    explanation: Explanation | None,
    plausibility: float,
    fallback: str,
) -> Interpretation:
    if explanation is None:
        return Interpretation(kind, versions, (part,), fallback, meaning=part.summary, plausibility=plausibility)
    return Interpretation(
        kind=kind,
        versions=versions,
        parts=(part,),
        category=explanation.category,
        meaning=explanation.meaning,
        causes=explanation.causes,
        fixes=explanation.fixes,
        next_steps=explanation.next_steps,
        references=explanation.references,
        plausibility=plausibility,
    )


# --- notes -------------------------------------------------------------------------------------------------------


def _unknown_note(value: int, scope: Scope, partly: bool) -> str:
    span = f"{scope.mbedtls.series[0]} - {scope.mbedtls.series[-1]}"
    half = " (only one half of it matches an mbedTLS code)" if partly else ""
    return (
        f"{hex_of(value)} is not defined by mbedTLS {span}, PSA, ESP-IDF or any transport table tlsdiag knows{half}; "
        "it most likely comes from a vendor fork or an application's own error numbering"
    )


def _ambiguity_note(decoded: list[DecodedCode]) -> str:
    readings = ", ".join(f"{item.hex}" for item in decoded)
    return f"the text can be read as {readings}; the likeliest reading comes first"


def _how(readings: list[CodeReading], value: int | None) -> str:
    return next((reading.how for reading in readings if reading.value == value), "another reading")


def _note(item: DecodedCode, note: str) -> DecodedCode:
    return item._replace(notes=tuple(dict.fromkeys((*item.notes, note))))
