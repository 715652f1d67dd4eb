"""Loads the knowledge base (``knowledge/``) into indexed, read-only tables.

Fact tables are JSON generated from the reference extraction (``tools/gen_knowledge.py``); what we
wrote ourselves (meanings, causes, fixes, module summaries, transport values) is TOML. Every table
is read on first use only, so ``tlsdiag explain`` touches just the files it needs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from functools import cache, cached_property
from typing import Any, NamedTuple

from tlsdiag.cache import load_toml, memoize
from tlsdiag.model import Explanation, Fix
from tlsdiag.paths import knowledge_path


def _json(*parts: str) -> dict[str, Any]:
    return _read_json(knowledge_path(*parts))


def normalise_text(text: str) -> str:
    """Case- and spacing-insensitive key for matching printed error texts."""
    return " ".join(text.strip().rstrip(".").split()).casefold()


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
    scope: str = "any"  # any: every value is read with it too | format: only where a print format names it

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
        return memoize(knowledge_path("errors", "mbedtls.json"), _mbedtls_table)

    @cached_property
    def psa(self) -> CodeTable:
        return memoize(knowledge_path("errors", "psa.json"), _psa_table)

    @cached_property
    def esp_idf(self) -> CodeTable:
        return memoize(knowledge_path("errors", "esp-idf.json"), _esp_idf_table)

    @cached_property
    def esp_idf_releases(self) -> list[dict[str, str]]:
        return memoize(knowledge_path("platforms", "esp-idf-mbedtls.json"), _releases)

    @cached_property
    def transport(self) -> tuple[TransportFamily, ...]:
        return memoize(knowledge_path("errors", "transport.toml"), _transport_families)

    @cached_property
    def modules(self) -> dict[str, Module]:
        return memoize(knowledge_path("errors", "modules.toml"), _modules)

    @cached_property
    def explanations(self) -> dict[str, Explanation]:
        """Hand-written entries for codes (mbedTLS, PSA, ESP-IDF), keyed by name."""
        directory = knowledge_path("errors", "explained")
        found: dict[str, Explanation] = {}
        for name in sorted(os.listdir(directory)):
            if name.endswith(".toml"):
                found.update(memoize(os.path.join(directory, name), _explanations))
        return found

    @cached_property
    def categories(self) -> dict[str, Any]:
        return load_toml(knowledge_path("categories.toml"))

    @cached_property
    def category_precedence(self) -> tuple[str, ...]:
        return tuple(self.categories["precedence"])

    @cached_property
    def composition(self) -> dict[str, Any]:
        return load_toml(knowledge_path("errors", "composition.toml"))

    @cached_property
    def tls_ciphersuites(self) -> dict[int, dict[str, Any]]:
        """IANA cipher suite id -> the name mbedTLS prints, key exchange, guard macros per version."""
        return {row["value"]: row for row in _json("tls", "ciphersuites.json")["ciphersuite"]}

    @cached_property
    def tls_scsv(self) -> dict[int, dict[str, Any]]:
        """Signalling cipher suite values (renegotiation info, fallback) -> name (hand-written)."""
        return {row["value"]: row for row in load_toml(knowledge_path("tls", "scsv.toml"))["scsv"]}

    @cached_property
    def tls_extensions(self) -> dict[int, dict[str, Any]]:
        """Extension type -> the macros and debug name mbedTLS has for it."""
        return {row["value"]: row for row in _json("tls", "extensions.json")["extension"]}

    @cached_property
    def tls_extensions_iana(self) -> dict[int, dict[str, Any]]:
        """Extension type -> IANA name, for the types mbedTLS does not name (hand-written)."""
        return {row["value"]: row for row in load_toml(knowledge_path("tls", "extensions-iana.toml"))["extension"]}

    @cached_property
    def tls_groups_sigalgs(self) -> dict[str, dict[int, dict[str, Any]]]:
        """``group`` and ``signature_scheme`` tables: value -> name and macro."""
        data = _json("tls", "groups-sigalgs.json")
        return {kind: {row["value"]: row for row in data[kind]} for kind in ("group", "signature_scheme")}

    @cached_property
    def tls_signature_tls12(self) -> dict[str, dict[int, str]]:
        """TLS 1.2 ``hash`` and ``signature`` byte -> name (hand-written)."""
        data = load_toml(knowledge_path("tls", "signature-tls12.toml"))
        return {kind: {row["value"]: row["name"] for row in data[kind]} for kind in ("hash", "signature")}

    @cached_property
    def tls_handshake_types(self) -> dict[int, dict[str, Any]]:
        """Handshake message type -> RFC name and mbedTLS macro."""
        return {row["value"]: row for row in _json("tls", "handshake-types.json")["handshake_type"]}

    @cached_property
    def tls_record_types(self) -> dict[str, dict[int, dict[str, Any]]]:
        """``content_type`` and ``alert_level`` tables: value -> name and macro."""
        data = _json("tls", "record-types.json")
        return {kind: {row["value"]: row for row in data[kind]} for kind in ("content_type", "alert_level")}

    @cached_property
    def tls_alerts(self) -> dict[int, dict[str, Any]]:
        """Alert description -> mbedTLS macro and TLS name."""
        return {row["value"]: row for row in _json("tls", "alerts.json")["alert"]}

    @cached_property
    def fix_targets(self) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, tuple[str, ...]], ...]]:
        """Stacks per fix target, and per platform-label prefix (``knowledge/diagnosis/targets.toml``)."""
        data = load_toml(knowledge_path("diagnosis", "targets.toml"))
        targets = {key: tuple(value) for key, value in data["target"].items()}
        prefixes = tuple((key, tuple(value)) for key, value in data["platform"].items())
        return targets, prefixes

    def fix_applies(self, fix: Fix, stack: str) -> bool:
        """Whether ``fix`` is for the stack a log comes from (every fix when the stack is unknown)."""
        if stack == "unknown":
            return True
        targets, prefixes = self.fix_targets
        if fix.stacks:
            return stack in fix.stacks
        allowed = targets.get(fix.target)
        if allowed is not None and stack not in allowed:
            return False
        label = (fix.platform or "").casefold()
        for prefix, stacks in prefixes:
            if label.startswith(prefix.casefold()):
                return stack in stacks
        return True

    @cached_property
    def server_requirements(self) -> dict[str, Any]:
        """What servers commonly need a ClientHello to offer (``knowledge/tls/server-requirements.toml``)."""
        return load_toml(knowledge_path("tls", "server-requirements.toml"))

    @cached_property
    def step_milestones(self) -> dict[str, str]:
        """mbedTLS step text ("write client hello") -> the handshake milestone it completes."""
        return dict(load_toml(knowledge_path("tls", "steps.toml"))["step"])

    @cached_property
    def alert_names(self) -> dict[int, str]:
        """Alert description -> its TLS name (``handshake_failure``)."""
        return {value: row["tls_name"] for value, row in self.tls_alerts.items()}

    @cached_property
    def outcomes(self) -> tuple[frozenset[str], frozenset[str]]:
        """Names that never fail an attempt, and names that fail it only before the handshake is over."""
        data = load_toml(knowledge_path("errors", "outcomes.toml"))
        return frozenset(data["not_a_failure"]), frozenset(data["after_handshake"])

    @cached_property
    def memory_signs(self) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
        """How a failed allocation shows without an *_ALLOC_FAILED code: message ids, texts, other names."""
        data = load_toml(knowledge_path("errors", "outcomes.toml"))["memory"]
        return frozenset(data["message_ids"]), tuple(data["texts"]), frozenset(data["names"])

    @cached_property
    def verify_flags(self) -> tuple[tuple[int, str, str], ...]:
        """(bit value, name, the text ``mbedtls_x509_crt_verify_info`` prints) of every X.509 verify flag, in
        print order."""
        rows = _json("x509", "verify-flags.json")["flag"]
        return tuple((row["value"], row["name"], row.get("verify_info", "")) for row in rows)

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


# --- builders: file -> indexed objects (their results are cached by tlsdiag.cache.memoize) ------------------


def _read_json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        import json  # deferred: a warm start reads the tables from the cache, not from JSON

        return json.load(handle)


def _releases(path: str) -> list[dict[str, str]]:
    return list(_read_json(path)["release"])


def _mbedtls_table(path: str) -> CodeTable:
    data = _read_json(path)
    return CodeTable(data["series"], (_code_entry(row) for row in data["code"]))


def _psa_table(path: str) -> CodeTable:
    data = _read_json(path)
    return CodeTable(data["series"], (_code_entry({**row, "module": "PSA", "level": "psa"}) for row in data["code"]))


def _esp_idf_table(path: str) -> CodeTable:
    data = _read_json(path)
    rows = data["code"]
    return CodeTable(
        data["series"], (_code_entry({**row, "module": row["component"], "level": "esp-idf"}) for row in rows)
    )


def _transport_families(path: str) -> tuple[TransportFamily, ...]:
    families = []
    for family in load_toml(path)["family"]:
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
                scope=family.get("scope", "any"),
            )
        )
    return tuple(families)


def _modules(path: str) -> dict[str, Module]:
    return {
        token: Module(token, entry["title"], entry["summary"], entry["category"])
        for token, entry in load_toml(path)["module"].items()
    }


def _explanations(path: str) -> dict[str, Explanation]:
    return {entry["name"]: explanation_from(entry) for entry in load_toml(path).get("code", ())}


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
            stacks=tuple(fix.get("stacks", ())),
            applicability=fix.get("applicability", "safe"),
        )
        for fix in entries
    )


def load_toml_data(*parts: str) -> dict[str, Any]:
    """A hand-written knowledge file (``knowledge/<parts>``), parsed (and cached while unchanged)."""
    return load_toml(knowledge_path(*parts))


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
