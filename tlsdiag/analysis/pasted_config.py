"""A configuration pasted into the log, read and linted as evidence.

Forum threads quote their ``config.h`` next to the error (seed 003: a hand-made configuration without
``MBEDTLS_SSL_CLI_C`` and without any key exchange, then ``-0x7080``). A maintainer reads it before the
error: the configuration says what the error cannot. The lines of such a paste are collected as the log
streams past (``#define MBEDTLS_...`` and its commented-out or ``#undef`` forms; error macros such as
``#define MBEDTLS_ERR_SSL_ALLOC_FAILED -0x7F00`` are a code quoted in prose, not configuration), and when
there are enough of them they are read and linted with the configuration linter
(:mod:`tlsdiag.config`). The lint findings become part of the log's context, with the log lines they
rest on.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tlsdiag.errors import InputError

#: a configuration line: ``#define MBEDTLS_SSL_CLI_C``, ``//#define MBEDTLS_DEBUG_C``, ``#undef MBEDTLS_...``
_CONFIG_LINE = re.compile(r"\s*(?://\s*)?#\s*(?:define|undef)\s+MBEDTLS_(?!ERR_)[A-Z0-9_]+")
#: fewer lines than this are a macro quoted in prose, not a configuration
MIN_LINES = 8
#: a configuration has a few hundred lines; more is kept out of memory
MAX_LINES = 4000


class PastedConfigFinding(NamedTuple):
    """One finding of the configuration linter on the configuration pasted into the log."""

    rule: str  # the lint rule, e.g. "CFG-KX-001"
    category: str
    title: str
    evidence: tuple[tuple[int, str], ...]  # log lines it rests on (line, text); empty when it rests on absence


class PastedConfig:
    """Collects a configuration's lines as they stream past, then lints them once."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self._last = 0

    def add(self, line: int, text: str) -> None:
        if line != self._last and len(self.lines) < MAX_LINES and "#" in text[:40] and _CONFIG_LINE.match(text):
            self.lines.append((line, text))
            self._last = line

    def findings(self) -> tuple[PastedConfigFinding, ...]:
        """The linter's failures and warnings on the pasted configuration (none when there is none)."""
        if len(self.lines) < MIN_LINES:
            return ()
        from tlsdiag.config import lint, read_config

        texts = [text for _, text in self.lines]
        try:
            result = lint(read_config("pasted configuration", lines=texts))
        except InputError:
            return ()
        found = []
        for finding in result.findings:
            if finding.severity == "info":
                continue
            evidence = tuple(self.lines[index - 1] for index, _ in finding.evidence if 0 < index <= len(self.lines))
            found.append(PastedConfigFinding(finding.rule, finding.category, finding.title, evidence))
        return tuple(found)
