"""Loads the knowledge base (``knowledge/``) into indexed, read-only tables.

Fact tables are JSON generated from the reference extraction (``tools/gen_knowledge.py``); what we
wrote ourselves (meanings, causes, fixes, module summaries, transport values) is TOML. Every table
is read on first use only, so ``tlsdiag explain`` touches just the files it needs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple

from tlsdiag.cache import load_toml
from tlsdiag.model import Explanation, Fix
from tlsdiag.paths import knowledge_path


def _json(*parts: str) -> dict[str, Any]:
    with knowledge_path(*parts).open(encoding="utf-8") as handle:
        return json.load(handle)


def _toml(path: Path) -> dict[str, Any]:
    return load_toml(path)


def normalise_text(text: str) -> str:
    """Case- and spacing-insensitive key for matching printed error texts."""
    return re.sub(r"\s+", " ", text.strip().rstrip(".")).casefold()


class CodeEntry(NamedTuple):
    """One (name, value) row of a code table and the versions where that pair holds."""

    name: str
    value: int
    module: str
    level: str
    versions: frozenset[str]
    unknown_in: frozenset[str] = frozenset()
    alias_of: str = ""
    strerror: str = ""
    strerror_older: tuple[str, ...] = ()  # texts older versions printed for the same code
    # Series whose table could not be read (``?``) and that are taken to match the series before: the
    # crypto side of mbedTLS 4.1 is unknown, so a code that held in 4.0 is assumed to hold in 4.1 too.
    assumed: frozenset[str] = frozenset()

    def holds_in(self, series: str) -> bool:
        return series in self.versions or series in self.assumed


class CodeTable:
    """An indexed list of :class:`CodeEntry` with the version series it covers."""

    def __init__(self, series: Iterable[str], entries: Iterable[CodeEntry]) -> None:
        self.series = tuple(series)
        self.entries = tuple(self._resolve_unknown(entry) for entry in entries)
        self.by_value: dict[int, list[CodeEntry]] = defaultdict(list)
        self.by_name: dict[str, list[CodeEntry]] = defaultdict(list)
        for entry in self.entries:
            self.by_value[entry.value].append(entry)
            self.by_name[entry.name].append(entry)

    def _resolve_unknown(self, entry: CodeEntry) -> CodeEntry:
        if not entry.unknown_in:
            return entry
        assumed = set()
        for series in entry.unknown_in:
            index = self.series.index(series) if series in self.series else 0
            if index and self.series[index - 1] in entry.versions:
                assumed.add(series)
        return entry._replace(assumed=frozenset(assumed))

    def at(self, value: int, series: str) -> list[CodeEntry]:
        """Entries with ``value`` in ``series`` (an unknown cell counts: see ``unknown_in``)."""
        return [entry for entry in self.by_value.get(value, ()) if entry.holds_in(series)]

    def defined_anywhere(self, value: int) -> bool:
        return value in self.by_value


class TransportCode(NamedTuple):
    family: str
    name: str
    value: int
    meaning: str
    category: str


class TransportFamily(NamedTuple):
    """A set of values from below TLS (socket layer, OS errno) that callbacks may pass through."""

    id: str
    title: str
    source: str
    stacks: tuple[str, ...]
    how_it_reaches: str
    sign: str  # "negative": printed as is; "errno": a positive errno a callback may negate
    confidence: str
    codes: tuple[TransportCode, ...]
    fixes: tuple[Fix, ...] = ()

    def lookup(self, value: int) -> list[TransportCode]:
        wanted = abs(value) if self.sign == "errno" else value
        return [code for code in self.codes if code.value == wanted]


class Module(NamedTuple):
    token: str
    title: str
    summary: str
    category: str


class Knowledge:
    """The whole knowledge base; each table is loaded the first time it is asked for."""

    @cached_property
    def mbedtls(self) -> CodeTable:
        data = _json("errors", "mbedtls.json")
        return CodeTable(data["series"], (_code_entry(row) for row in data["code"]))

    @cached_property
    def psa(self) -> CodeTable:
        data = _json("errors", "psa.json")
        entries = (_code_entry({**row, "module": "PSA", "level": "psa"}) for row in data["code"])
        return CodeTable(self.mbedtls.series, entries)

    @cached_property
    def esp_idf(self) -> CodeTable:
        data = _json("errors", "esp-idf.json")
        entries = (_code_entry({**row, "module": row["component"], "level": "esp-idf"}) for row in data["code"])
        return CodeTable(data["series"], entries)

    @cached_property
    def esp_idf_releases(self) -> list[dict[str, str]]:
        return _json("platforms", "esp-idf-mbedtls.json")["release"]

    @cached_property
    def transport(self) -> tuple[TransportFamily, ...]:
        data = _toml(knowledge_path("errors", "transport.toml"))
        families = []
        for family in data["family"]:
            codes = tuple(
                TransportCode(family["id"], code["name"], int(code["value"]), code["meaning"], code["category"])
                for code in family.get("code", ())
            )
            families.append(
                TransportFamily(
                    id=family["id"],
                    title=family["title"],
                    source=family.get("source", ""),
                    stacks=tuple(family.get("stacks", ())),
                    how_it_reaches=family.get("how_it_reaches", ""),
                    sign=family.get("sign", "negative"),
                    confidence=family.get("confidence", "exact"),
                    codes=codes,
                    fixes=fixes_from(family.get("fixes", ())),
                )
            )
        return tuple(families)

    @cached_property
    def modules(self) -> dict[str, Module]:
        data = _toml(knowledge_path("errors", "modules.toml"))
        return {
            token: Module(token, entry["title"], entry["summary"], entry["category"])
            for token, entry in data["module"].items()
        }

    @cached_property
    def explanations(self) -> dict[str, Explanation]:
        """Hand-written entries for codes (mbedTLS, PSA, ESP-IDF), keyed by name."""
        found: dict[str, Explanation] = {}
        for path in sorted(knowledge_path("errors", "explained").glob("*.toml")):
            for entry in _toml(path).get("code", ()):
                found[entry["name"]] = explanation_from(entry)
        return found

    @cached_property
    def categories(self) -> dict[str, Any]:
        return _toml(knowledge_path("categories.toml"))

    @cached_property
    def category_precedence(self) -> tuple[str, ...]:
        return tuple(self.categories["precedence"])

    @cached_property
    def composition(self) -> dict[str, Any]:
        return _toml(knowledge_path("errors", "composition.toml"))

    @cached_property
    def strerror_index(self) -> dict[str, list[CodeEntry]]:
        """Printed error text (``SSL - The connection indicated an EOF``) -> table entries."""
        index: dict[str, list[CodeEntry]] = defaultdict(list)
        for entry in self.mbedtls.entries:
            for text in (entry.strerror, *entry.strerror_older):
                if text:
                    index[normalise_text(text)].append(entry)
        return index

    def category_for_name(self, name: str, module: str | None) -> str:
        """Category of a code: the hand-written one, else by name shape, else the module default."""
        explanation = self.explanations.get(name)
        if explanation:
            return explanation.category
        for rule in self.categories.get("name_rule", ()):
            if name.endswith(rule["suffix"]):
                return str(rule["category"])
        if module and module in self.modules:
            return self.modules[module].category
        return "other"

    def composite_plausible(self, high_module: str, low_module: str) -> bool:
        return low_module in self.composition["adds"].get(high_module, ())


def _code_entry(row: dict[str, Any]) -> CodeEntry:
    return CodeEntry(
        name=row["name"],
        value=int(row["value"]),
        module=row.get("module", ""),
        level=row.get("level", ""),
        versions=frozenset(row.get("versions", ())),
        unknown_in=frozenset(row.get("unknown_in", ())),
        alias_of=row.get("alias_of", ""),
        strerror=row.get("strerror", ""),
        strerror_older=tuple(row.get("strerror_older", ())),
    )


def fixes_from(entries: Iterable[dict[str, Any]]) -> tuple[Fix, ...]:
    return tuple(
        Fix(
            target=fix["target"],
            action=fix["action"],
            option=fix.get("option"),
            value=None if fix.get("value") is None else str(fix["value"]),
            platform=fix.get("platform"),
        )
        for fix in entries
    )


def explanation_from(entry: dict[str, Any]) -> Explanation:
    return Explanation(
        name=entry["name"],
        category=entry["category"],
        meaning=entry.get("meaning", ""),
        causes=tuple(entry.get("causes", ())),
        next_steps=tuple(entry.get("next_steps", ())),
        fixes=fixes_from(entry.get("fixes", ())),
        references=tuple(entry.get("references", ())),
        tls_reachable=bool(entry.get("tls_reachable", True)),
    )


@cache
def load() -> Knowledge:
    """The process-wide knowledge base (tables still load lazily)."""
    return Knowledge()
