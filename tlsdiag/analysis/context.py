"""What produced a log: the software stack, the mbedTLS version, the platform version.

Decided from markers listed in ``knowledge/versions/markers.toml`` (source file names of debug
records, the format of the handshake state line, stated versions, dialects, texts only one stack
prints), never from one log's wording. Every decision keeps the lines it rests on as evidence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from tlsdiag.analysis import events
from tlsdiag.analysis.pasted_config import PastedConfig, PastedConfigFinding
from tlsdiag.codes import Scope
from tlsdiag.knowledge import Knowledge, document, load
from tlsdiag.versions import VersionError, VersionSelection, select_by_esp_idf, series_of_release

if TYPE_CHECKING:
    from tlsdiag.documents.diagnose import ContextJson

_SCAN_LIMIT = 200_000  # stack texts are looked for in the first lines only
_EVIDENCE_LIMIT = 3
#: context kinds that describe the board for the whole log, whichever attempt they were printed before
_BOARD_FEATURES = frozenset({"psram"})


class InputContext(NamedTuple):
    stack: str
    mbedtls_version: str | None  # "2.28.3", or a span of examined series such as "3.3-4.1"
    mbedtls_series: tuple[str, ...]  # the examined series error codes are read with
    platform_version: str | None  # "ESP-IDF v4.0", "Zephyr 3.5.0" ...
    evidence: tuple[tuple[int, str, str], ...]  # (line, text, why)
    features: tuple[tuple[str, int, str], ...] = ()  # board features the log shows: (name, line, text), e.g. PSRAM
    pasted_config: tuple[PastedConfigFinding, ...] = ()  # what linting a configuration pasted into the log found

    def scope(self) -> Scope:
        """The versions the log's error values are read in."""
        return Scope(VersionSelection(self.mbedtls_version, self.mbedtls_series))

    def to_json(self) -> ContextJson:
        from tlsdiag.documents import diagnose as documents

        return documents.ContextJson(
            stack=cast(documents.Stack, self.stack),
            mbedtls_version=self.mbedtls_version,
            mbedtls_series=self.mbedtls_series,
            platform_version=self.platform_version,
            evidence=tuple(
                documents.ContextEvidenceJson(line=line, text=text, why=why) for line, text, why in self.evidence
            ),
        )


class Observer:
    """Collects version and stack markers while the events stream past."""

    def __init__(self, knowledge: Knowledge | None = None) -> None:
        self.knowledge = knowledge or load()
        data = document("versions/markers.toml")
        self._file_markers = {name: marker for marker in data["marker"] for name in marker.get("source_files", ())}
        self._state_markers = {marker["state_format"]: marker for marker in data["marker"] if "state_format" in marker}
        self._stacks = data["stack"]
        self._by_dialect = {dialect: stack["id"] for stack in reversed(self._stacks) for dialect in stack["dialects"]}
        self._text_owner = {text: stack["id"] for stack in reversed(self._stacks) for text in stack["texts"]}
        self._stack_texts = re.compile(
            "|".join(re.escape(text) for text in sorted(self._text_owner, key=len, reverse=True))
        )
        self._arduino = {entry["core"]: entry for entry in data["arduino_core"]}
        self.markers: dict[str, tuple[dict[str, Any], events.Envelope]] = {}
        self.versions: dict[str, events.VersionInfo] = {}
        self.stack_hits: dict[str, events.Envelope] = {}
        self.dialects: dict[str, int] = {}
        self.features: dict[str, events.Envelope] = {}
        self.pasted_config = PastedConfig()

    def add(self, event: events.Event) -> None:
        env = event.env
        if type(event) is events.DumpLine:
            return
        if env.dialect == "text":
            self.pasted_config.add(env.line, env.text)
        if env.source_file and env.source_file in self._file_markers:
            marker = self._file_markers[env.source_file]
            self.markers.setdefault(marker["id"], (marker, env))
        if type(event) is events.HandshakeState:
            state = (
                "transition"
                if event.role == "unknown"
                else ("number" if event.number is not None and event.name is None else "name")
            )
            marker = self._state_markers.get(state)
            if marker:
                self.markers.setdefault(marker["id"], (marker, env))
        elif type(event) is events.VersionInfo:
            self.versions.setdefault(event.product, event)
        elif type(event) is events.Context and event.kind in _BOARD_FEATURES:
            self.features.setdefault(event.kind, env)
        if env.line <= _SCAN_LIMIT and env.dialect != "mbedtls-debug" and len(self.stack_hits) < len(self._stacks):
            dialect_stack = self._by_dialect.get(env.dialect)
            if dialect_stack is not None and dialect_stack not in self.stack_hits:
                self.stack_hits[dialect_stack] = env
            for match in self._stack_texts.finditer(env.text):
                self.stack_hits.setdefault(self._text_owner[match.group()], env)

    def context(self) -> InputContext:
        evidence: list[tuple[int, str, str]] = []
        stack = self._stack(evidence)
        series, version, platform = self._version(stack, evidence)
        features = tuple((name, env.line, env.text) for name, env in self.features.items())
        pasted = self.pasted_config.findings()
        return InputContext(stack, version, series, platform, tuple(evidence), features, pasted)

    def _stack(self, evidence: list[tuple[int, str, str]]) -> str:
        for stack in self._stacks:
            env = self.stack_hits.get(stack["id"])
            if env is not None:
                evidence.append((env.line, env.text, f"printed by {stack['id']}"))
                return str(stack["id"])
        return "unknown"

    def _version(
        self, stack: str, evidence: list[tuple[int, str, str]]
    ) -> tuple[tuple[str, ...], str | None, str | None]:
        known = self.knowledge.mbedtls.series
        platform = None
        stated = self.versions.get("mbedtls")
        if stated is not None:
            stated_series = series_of_release(stated.version, known)
            if stated_series:
                evidence.append((stated.env.line, stated.env.text, f"states mbedTLS {stated.version}"))
                return (stated_series,), stated.version, self._platform(stack)
        candidates = set(known)
        used = False
        esp = self.versions.get("esp-idf")
        if esp is not None:
            platform = f"ESP-IDF v{esp.version}"
            try:
                selection = select_by_esp_idf(esp.version, self.knowledge.esp_idf_releases, known)
                candidates &= set(selection.series)
                used = True
                evidence.append((esp.env.line, esp.env.text, selection.note or f"ESP-IDF {esp.version}"))
            except VersionError:
                pass
        for marker, env in sorted(self.markers.values(), key=lambda item: item[1].line)[: _EVIDENCE_LIMIT * 3]:
            narrowed = candidates & set(marker["series"])
            if narrowed:
                candidates = narrowed
                used = True
                evidence.append((env.line, env.text, marker["why"]))
        if platform is None:
            platform = self._platform(stack)
        if not used:
            return known, None, platform
        series = tuple(s for s in known if s in candidates)
        label = series[0] if len(series) == 1 else f"{series[0]}-{series[-1]}"
        return series, label, platform

    def _platform(self, stack: str) -> str | None:
        for product, label in (
            ("zephyr", "Zephyr"),
            ("micropython", "MicroPython"),
            ("espruino", "Espruino"),
            ("mbed-os", "Mbed OS"),
            ("esp-idf", "ESP-IDF"),
        ):
            stated = self.versions.get(product)
            if stated is not None:
                return f"{label} {'v' if product == 'esp-idf' else ''}{stated.version}"
        return None
