"""The analysis pipeline: read -> parse -> fold -> sessions, in one streaming pass.

Each stage has its own module; this one only wires them and keeps the numbers every report
shows (lines, recognised lines, dialects). Nothing here keeps the whole log. The output of a
program still running goes through the same stages in :mod:`tlsdiag.analysis.incremental`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tlsdiag.analysis import events
from tlsdiag.analysis.context import InputContext, Observer
from tlsdiag.analysis.fold import Folder
from tlsdiag.analysis.outcome import resolve_codes
from tlsdiag.analysis.parse import Parser
from tlsdiag.analysis.read import InputStats, open_input
from tlsdiag.analysis.sessions import Session, SessionBuilder
from tlsdiag.analysis.summary import summarise
from tlsdiag.analysis.views import AttemptView


@dataclass
class Analysis:
    """Everything the stages found in one input."""

    name: str
    stats: InputStats
    lines: int
    recognized_lines: int
    dialects: dict[str, int]
    context: InputContext
    builder: SessionBuilder

    _views: tuple[AttemptView, ...] | None = field(default=None, init=False, repr=False)

    @property
    def sessions(self) -> list[Session]:
        return self.builder.sessions

    @property
    def attempts(self) -> tuple[AttemptView, ...]:
        """The typed view of every attempt, read for the log's versions (built once)."""
        if self._views is None:
            scope = self.context.scope()
            self._views = tuple(summarise(session, scope) for session in self.sessions)
        return self._views

    @property
    def primary_attempt(self) -> AttemptView | None:
        """The attempt a report is about: the last one that failed, else the last one."""
        primary = self.primary
        return None if primary is None else next(view for view in self.attempts if view.index == primary.index)

    @property
    def primary(self) -> Session | None:
        """The attempt a report is about: the last one that failed, else the last one."""
        failed = [session for session in self.sessions if session.failed]
        if failed:
            return failed[-1]
        return self.sessions[-1] if self.sessions else None

    def override_version(self, version: str) -> None:
        """Read error codes with the version the user gave instead of the inferred one."""
        from tlsdiag.knowledge import load
        from tlsdiag.versions import select_mbedtls

        selection = select_mbedtls(version, load().mbedtls.series)
        evidence = ((0, f"--mbedtls-version {version}", "given on the command line"),)
        self.context = self.context._replace(
            mbedtls_version=version, mbedtls_series=selection.series, evidence=evidence + self.context.evidence
        )
        resolve_codes(self.sessions, self.context.scope())
        self._views = None


class EventStream:
    """The folded events of one input (for ``tlsdiag parse``); the stages' counts are read afterwards."""

    def __init__(self, source: str | os.PathLike[str] | None, stdin: BinaryIO | None = None) -> None:
        self.source = source
        self.stdin = stdin
        self.parser = Parser(keep_trace=True)
        self.folder = Folder()

    def __iter__(self) -> Iterator[events.Event]:
        with open_input(self.source, stdin=self.stdin) as log:
            yield from self.folder.fold(self.parser.events(log))

    @property
    def recognized_lines(self) -> int:
        return recognized_lines(self.parser, self.folder)


def recognized_lines(parser: Parser, folder: Folder) -> int:
    """Lines a grammar rule or a fold (a PEM block) claimed, so far."""
    return min(parser.stats.lines, parser.stats.recognized_lines + folder.claimed_lines)


def analyse(source: str | os.PathLike[str] | None, stdin: BinaryIO | None = None) -> Analysis:
    """Run every stage over one input (a path, ``-``/None for standard input)."""
    parser = Parser()
    folder = Folder()
    builder = SessionBuilder()
    observer = Observer()
    with open_input(source, stdin=stdin) as log:
        for event in folder.fold(parser.events(log)):
            observer.add(event)
            builder.add(event)
        name = log.name
        stats = log.stats
    context = observer.context()
    resolve_codes(builder.sessions, context.scope())
    return Analysis(
        name=name,
        stats=stats,
        lines=parser.stats.lines,
        recognized_lines=recognized_lines(parser, folder),
        dialects=dict(parser.stats.dialects),
        context=context,
        builder=builder,
    )
