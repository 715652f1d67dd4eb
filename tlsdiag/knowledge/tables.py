"""The knowledge base as indexed, read-only tables: error codes, their explanations, TLS names, outcomes.

Fact tables are JSON generated from the reference extraction (``tools/gen_knowledge.py``); what we
wrote ourselves (meanings, causes, fixes, module summaries, transport values) is TOML. Every table
is read through the store (validated, cached) on first use only, so ``tlsdiag explain`` touches just
the files it needs.
"""

# No ``from __future__ import annotations`` here: a NamedTuple's string annotations are each compiled
# when the class is made, which costs a short command more than everything it computes.
import marshal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from tlsdiag.knowledge.store import derive, document, listing
from tlsdiag.model import Explanation, Fix

if TYPE_CHECKING:
    from tlsdiag.knowledge.transport import TransportFamily


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


K = TypeVar("K")


class CodeTable:
    """An indexed list of :class:`CodeEntry` with the version series it covers.

    It is made from plain data (what the store caches fastest), each row marshalled on its own: a row
    becomes a :class:`CodeEntry` only when a lookup reaches it, so decoding one code reads a handful of
    the several hundred.
    """

    def __init__(self, table: dict[str, Any]) -> None:
        self.series: tuple[str, ...] = tuple(table["series"])
        self._rows: tuple[bytes, ...] = table["rows"]
        self._made: list[CodeEntry | None] = [None] * len(self._rows)
        self.by_value: EntryIndex[int] = EntryIndex(table["by_value"], self._entry)
        self.by_name: EntryIndex[str] = EntryIndex(table["by_name"], self._entry)

    def _entry(self, position: int) -> CodeEntry:
        made = self._made[position]
        if made is None:
            made = self._made[position] = CodeEntry._make(marshal.loads(self._rows[position]))
        return made

    @cached_property
    def entries(self) -> tuple[CodeEntry, ...]:
        return tuple(self._entry(position) for position in range(len(self._rows)))

    def at(self, value: int, series: str) -> list[CodeEntry]:
        """Entries with ``value`` in ``series`` (an unknown cell counts: see ``unknown_in``)."""
        return [entry for entry in self.by_value.get(value, ()) if entry.holds_in(series)]

    def defined_anywhere(self, value: int) -> bool:
        return value in self.by_value


class EntryIndex(Generic[K]):
    """Value or name -> the entries of a :class:`CodeTable` that have it, made on lookup (read like a dict)."""

    __slots__ = ("_entry", "_positions")

    def __init__(self, positions: dict[K, tuple[int, ...]], entry: Callable[[int], CodeEntry]) -> None:
        self._positions = positions
        self._entry = entry

    def __getitem__(self, key: K) -> list[CodeEntry]:
        return [self._entry(position) for position in self._positions[key]]

    def get(self, key: K, default: Any = None) -> Any:
        positions = self._positions.get(key)
        return default if positions is None else [self._entry(position) for position in positions]

    def __contains__(self, key: object) -> bool:
        return key in self._positions

    def __iter__(self) -> Iterator[K]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


class Explanations:
    """The hand-written code entries by name, each made into an :class:`Explanation` when first asked for
    (read like a dict).

    The entries are kept as marshalled bytes: a command that explains one code reads one of the
    five hundred, instead of building them all at every start.
    """

    __slots__ = ("_entries", "_made")

    def __init__(self, entries: dict[str, bytes]) -> None:
        self._entries = entries
        self._made: dict[str, Explanation] = {}

    def __getitem__(self, name: str) -> Explanation:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = explanation_from(marshal.loads(self._entries[name]))
        return made

    def get(self, name: str, default: Explanation | None = None) -> Explanation | None:
        return self[name] if name in self._entries else default

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class Module(NamedTuple):
    token: str
    title: str
    summary: str
    category: str


class Knowledge:
    """The whole knowledge base; each table is loaded the first time it is asked for."""

    @cached_property
    def mbedtls(self) -> CodeTable:
        return CodeTable(derive(_mbedtls_rows, "errors/mbedtls.json"))

    @cached_property
    def psa(self) -> CodeTable:
        return CodeTable(derive(_psa_rows, "errors/psa.json"))

    @cached_property
    def esp_idf(self) -> CodeTable:
        return CodeTable(derive(_esp_idf_rows, "errors/esp-idf.json"))

    @cached_property
    def esp_idf_releases(self) -> list[dict[str, str]]:
        return derive(_releases, "platforms/esp-idf-mbedtls.json")

    @cached_property
    def esp_idf_bundles(self) -> tuple[tuple[str, str, str | None], ...]:
        """(ESP-IDF release tag, its series, the examined mbedTLS series of the mbedTLS it bundles) per release."""
        return derive(_bundles, "platforms/esp-idf-mbedtls.json", "errors/mbedtls.json")

    @cached_property
    def transport(self) -> tuple["TransportFamily", ...]:
        from tlsdiag.knowledge.transport import families  # deferred: decoding most codes never needs it

        return families()

    @cached_property
    def modules(self) -> dict[str, Module]:
        return {token: Module(token, *row) for token, row in derive(_module_rows, "errors/modules.toml").items()}

    @cached_property
    def explanations(self) -> Explanations:
        """Hand-written entries for codes (mbedTLS, PSA, ESP-IDF), keyed by name."""
        return Explanations(derive(_explanation_entries, *listing("errors/explained")))

    @cached_property
    def categories(self) -> dict[str, Any]:
        return document("categories.toml")

    @cached_property
    def category_precedence(self) -> tuple[str, ...]:
        return tuple(self.categories["precedence"])

    @cached_property
    def composition(self) -> dict[str, Any]:
        return document("errors/composition.toml")

    @cached_property
    def tls_ciphersuites(self) -> dict[int, dict[str, Any]]:
        """IANA cipher suite id -> the name mbedTLS prints, key exchange, guard macros per version."""
        return {row["value"]: row for row in document("tls/ciphersuites.json")["ciphersuite"]}

    @cached_property
    def tls_scsv(self) -> dict[int, dict[str, Any]]:
        """Signalling cipher suite values (renegotiation info, fallback) -> name (hand-written)."""
        return {row["value"]: row for row in document("tls/scsv.toml")["scsv"]}

    @cached_property
    def tls_extensions(self) -> dict[int, dict[str, Any]]:
        """Extension type -> the macros and debug name mbedTLS has for it."""
        return {row["value"]: row for row in document("tls/extensions.json")["extension"]}

    @cached_property
    def tls_extensions_iana(self) -> dict[int, dict[str, Any]]:
        """Extension type -> IANA name, for the types mbedTLS does not name (hand-written)."""
        return {row["value"]: row for row in document("tls/extensions-iana.toml")["extension"]}

    @cached_property
    def tls_groups_sigalgs(self) -> dict[str, dict[int, dict[str, Any]]]:
        """``group`` and ``signature_scheme`` tables: value -> name and macro."""
        data = document("tls/groups-sigalgs.json")
        return {kind: {row["value"]: row for row in data[kind]} for kind in ("group", "signature_scheme")}

    @cached_property
    def tls_signature_tls12(self) -> dict[str, dict[int, str]]:
        """TLS 1.2 ``hash`` and ``signature`` byte -> name (hand-written)."""
        data = document("tls/signature-tls12.toml")
        return {kind: {row["value"]: row["name"] for row in data[kind]} for kind in ("hash", "signature")}

    @cached_property
    def tls_handshake_types(self) -> dict[int, dict[str, Any]]:
        """Handshake message type -> RFC name and mbedTLS macro."""
        return {row["value"]: row for row in document("tls/handshake-types.json")["handshake_type"]}

    @cached_property
    def tls_record_types(self) -> dict[str, dict[int, dict[str, Any]]]:
        """``content_type`` and ``alert_level`` tables: value -> name and macro."""
        data = document("tls/record-types.json")
        return {kind: {row["value"]: row for row in data[kind]} for kind in ("content_type", "alert_level")}

    @cached_property
    def tls_alerts(self) -> dict[int, dict[str, Any]]:
        """Alert description -> mbedTLS macro and TLS name."""
        return {row["value"]: row for row in document("tls/alerts.json")["alert"]}

    @cached_property
    def fix_targets(self) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, tuple[str, ...]], ...]]:
        """Stacks per fix target, and per platform-label prefix (``knowledge/diagnosis/targets.toml``)."""
        data = document("diagnosis/targets.toml")
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
        return document("tls/server-requirements.toml")

    @cached_property
    def step_milestones(self) -> dict[str, str]:
        """mbedTLS step text ("write client hello") -> the handshake milestone it completes."""
        return dict(document("tls/steps.toml")["step"])

    @cached_property
    def alert_names(self) -> dict[int, str]:
        """Alert description -> its TLS name (``handshake_failure``)."""
        return {value: row["tls_name"] for value, row in self.tls_alerts.items()}

    @cached_property
    def outcomes(self) -> tuple[frozenset[str], frozenset[str]]:
        """Names that never fail an attempt, and names that fail it only before the handshake is over."""
        data = document("errors/outcomes.toml")
        return frozenset(data["not_a_failure"]), frozenset(data["after_handshake"])

    @cached_property
    def memory_signs(self) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
        """How a failed allocation shows without an *_ALLOC_FAILED code: message ids, texts, other names."""
        data = document("errors/outcomes.toml")["memory"]
        return frozenset(data["message_ids"]), tuple(data["texts"]), frozenset(data["names"])

    @cached_property
    def verify_flags(self) -> tuple[tuple[int, str, str], ...]:
        """(bit value, name, the text ``mbedtls_x509_crt_verify_info`` prints) of every X.509 verify flag, in
        print order."""
        rows = document("x509/verify-flags.json")["flag"]
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


# --- builders: documents -> indexed objects (cached by the store with the documents they come from) ---------


def _releases(data: dict[str, Any]) -> list[dict[str, str]]:
    return list(data["release"])


def _bundles(releases: dict[str, Any], mbedtls: dict[str, Any]) -> tuple[tuple[str, str, str | None], ...]:
    from tlsdiag.versions import esp_idf_series, series_of_release

    known = tuple(mbedtls["series"])
    rows = releases["release"]
    return tuple((row["tag"], esp_idf_series(row["tag"]), series_of_release(row["mbedtls"], known)) for row in rows)


def _mbedtls_rows(data: dict[str, Any]) -> dict[str, Any]:
    return _indexed(data["series"], [(row, row["module"], row["level"]) for row in data["code"]])


def _psa_rows(data: dict[str, Any]) -> dict[str, Any]:
    return _indexed(data["series"], [(row, "PSA", "psa") for row in data["code"]])


def _esp_idf_rows(data: dict[str, Any]) -> dict[str, Any]:
    return _indexed(data["series"], [(row, row["component"], "esp-idf") for row in data["code"]])


def _indexed(series: list[str], rows: list[tuple[dict[str, Any], str, str]]) -> dict[str, Any]:
    """The plain form of a :class:`CodeTable`: marshalled rows in :class:`CodeEntry` order, and the
    positions of the rows with each value and each name."""
    made = tuple(_code_row(row, module, level, series) for row, module, level in rows)
    by_value: dict[int, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(made):
        by_value[row[1]].append(position)
        by_name[row[0]].append(position)
    return {
        "series": tuple(series),
        "rows": tuple(marshal.dumps(row) for row in made),
        "by_value": {value: tuple(found) for value, found in by_value.items()},
        "by_name": {name: tuple(found) for name, found in by_name.items()},
    }


def _code_row(row: dict[str, Any], module: str, level: str, series: list[str]) -> tuple[Any, ...]:
    versions = frozenset(row.get("versions", ()))
    unknown_in = frozenset(row.get("unknown_in", ()))
    # A series whose cell is unknown is taken to match the series before it (see CodeEntry.assumed).
    before = {name: series[index - 1] for index, name in enumerate(series) if index}
    assumed = frozenset(name for name in unknown_in if before.get(name) in versions)
    return (
        row["name"],
        int(row["value"]),
        module,
        level,
        versions,
        unknown_in,
        row.get("alias_of", ""),
        row.get("strerror", ""),
        tuple(row.get("strerror_older", ())),
        assumed,
    )


def _module_rows(data: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {token: (entry["title"], entry["summary"], entry["category"]) for token, entry in data["module"].items()}


def _explanation_entries(*documents: dict[str, Any]) -> dict[str, bytes]:
    """Every hand-written code entry of ``errors/explained/*.toml``, marshalled, keyed by name."""
    return {entry["name"]: marshal.dumps(entry) for data in documents for entry in data.get("code", ())}


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
