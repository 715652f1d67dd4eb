"""The analysis of a program's output while it runs: byte chunks in, each failed attempt out once it is over.

``tlsdiag capture`` watches programs that never end on their own (``idf.py monitor``, a serial
terminal, a device test loop). The batch pipeline (:func:`tlsdiag.analysis.pipeline.analyse`) reads a
whole input before it looks at its attempts; here the same stages (the reader's
:class:`~tlsdiag.analysis.read.LineDecoder`, the parser, the folder, the observer, the session builder)
are built once and fed as the output arrives. A line costs the same after hours as in the first
second, and memory stays bounded: each stage keeps bounded state (the builder a bounded number of
attempts with bounded lists, the parser bounded memos, the folder bounded buffers, the decoder one
unfinished line).

The stages are a chain of generators pulled from its end; the chunks come from an iterable that may
block (the capture's queue), with :data:`PAUSE` wherever the program went quiet. A pause ends the
record the parser holds back (it looks one line ahead to join a record wrapped over two lines), so a
failure printed last is seen without waiting for the next line; a line still being written (no line
end yet) waits for its end.

An attempt is over when a new attempt starts on its connection, at a pause, and at the end of the
output. The failed attempts that are over and not yet reported are handed to ``report`` as an
:class:`~tlsdiag.analysis.pipeline.Analysis` of the part of the output since the last report: the
attempts of that part, read for the versions the whole output shows so far, with the part's own line
counts and notes. Each attempt is reported once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Final, NamedTuple, cast

from tlsdiag.analysis.context import Observer
from tlsdiag.analysis.fold import Folder
from tlsdiag.analysis.outcome import resolve_codes
from tlsdiag.analysis.parse import Parser
from tlsdiag.analysis.pipeline import Analysis, recognized_lines
from tlsdiag.analysis.read import InputStats, Limits, LineDecoder
from tlsdiag.analysis.sessions import Session, SessionBuilder


class Pause:
    """The program went quiet: what it printed so far is all there is for now."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PAUSE"


PAUSE: Final = Pause()

#: what :meth:`Parser.events` reads as the end of the input: it dispatches the record it holds back and,
#: given more lines after it, reads on with nothing held
_END_OF_RECORD = cast("tuple[int, str]", (0, None))


class LiveAnalysis:
    """One running program's output, analysed as it arrives (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        report: Callable[[Analysis], None],
        mbedtls_version: str | None = None,
        limits: Limits = Limits(),  # noqa: B008 -- an immutable named tuple
    ) -> None:
        self.name = name  # "output of idf.py": each report is named after it and its lines
        self.report = report
        self.mbedtls_version = mbedtls_version  # read codes with this version rather than the inferred one
        self.decoder = LineDecoder(InputStats(), limits)
        self.parser = Parser()
        self.folder = Folder()
        self.observer = Observer()
        self.builder = SessionBuilder()
        self.bytes_read = 0
        self.reports = 0
        self._reported: set[int] = set()  # indices of the attempts a report covered (those still kept)
        self._accounted = 0  # attempts below this index were reported or counted as dropped
        self._first_line = 1  # the first line after the last report
        self._counted = _Counts(0, {})  # the parser's counts at the last report

    def run(self, chunks: Iterable[bytes | Pause]) -> None:
        """Analyse the output chunk by chunk until it ends, reporting each failed attempt once it is over."""
        builder, observer = self.builder, self.observer
        for event in self.folder.fold(self.parser.events(self._lines(chunks))):
            observer.add(event)
            attempts = builder.dropped_sessions + len(builder.sessions)
            builder.add(event)
            if builder.dropped_sessions + len(builder.sessions) != attempts:
                self._report_over(until=event.env.line - 1, started=builder.sessions[-1])
        self._report_over(until=self.decoder.lines_read, final=True)

    def _lines(self, chunks: Iterable[bytes | Pause]) -> Iterator[tuple[int, str]]:
        decoder = self.decoder
        for chunk in chunks:
            if isinstance(chunk, Pause):
                yield _END_OF_RECORD
                # the parser asks for its next line: every line before the pause has been through every stage
                self._report_over(until=decoder.lines_read)
                continue
            self.bytes_read += len(chunk)
            decoder.stats.bytes_read += len(chunk)
            yield from decoder.push(chunk)
        yield from decoder.finish()

    def _report_over(self, until: int, started: Session | None = None, final: bool = False) -> None:
        """Report the failed attempts that are over, with the attempts before them that no report covered
        yet; at the end, a run that never failed gets one report of all it printed.

        At a pause and at the end every attempt is over; when an attempt has just ``started``, those before
        it are, except the attempts of other connections still going on (threads with a context each).
        """
        sessions = [session for session in self.builder.sessions if session.index not in self._reported]
        if started is not None:
            going_on = {id(session) for session in self.builder.in_progress()}
            sessions = [
                session
                for session in sessions
                if session.index < started.index and (id(session) not in going_on or _same_connection(session, started))
            ]
        failed = [session.index for session in sessions if session.failed]
        closing = final and self.reports == 0 and self.decoder.stats.text_lines > 0
        if not failed and not closing:
            return
        if failed and not closing:  # the attempts after the last failure may fail in turn: not reported yet
            sessions = [session for session in sessions if session.index <= failed[-1]]
        analysis = self._analysis(sessions)
        primary = analysis.primary
        if not closing and (primary is None or not primary.failed):
            return  # the value that looked like a failure is harmless in the versions this output comes from
        until = max([until, *(session.last_line for session in sessions)])
        self._describe(analysis, until)
        self._reported.update(session.index for session in sessions)
        self.reports += 1
        self.report(analysis)

    def _analysis(self, sessions: list[Session]) -> Analysis:
        """The attempts read for the output's versions; copies, so that the live attempts stay as they are."""
        builder = SessionBuilder()
        builder.sessions = [_copy(session) for session in sessions]
        builder.dropped_sessions = self._dropped()
        context = self.observer.context()
        resolve_codes(builder.sessions, context.scope())
        analysis = Analysis(
            name=self.name,
            stats=InputStats(),
            lines=0,
            recognized_lines=0,
            dialects={},
            context=context,
            builder=builder,
        )
        if self.mbedtls_version:
            analysis.override_version(self.mbedtls_version)
        return analysis

    def _dropped(self) -> int:
        """Attempts no report covered that the builder forgot (it keeps a bounded number): counted, not shown."""
        kept = self.builder.sessions
        first_kept = kept[0].index if kept else self.builder.dropped_sessions
        return sum(1 for index in range(self._accounted, first_kept) if index not in self._reported)

    def _describe(self, analysis: Analysis, until: int) -> None:
        """Name the part of the output a report covers and give it that part's counts and notes."""
        first = self._first_line
        until = max(until, first)
        counts = _Counts.of(self.parser, self.folder)
        lines = until - first + 1
        analysis.name = f"{self.name}, lines {first}-{until}"
        analysis.stats = self.decoder.take_stats()
        analysis.lines = lines
        analysis.recognized_lines = min(lines, counts.recognized - self._counted.recognized)
        analysis.dialects = {
            dialect: count - self._counted.dialects.get(dialect, 0)
            for dialect, count in counts.dialects.items()
            if count > self._counted.dialects.get(dialect, 0)
        }
        self._counted = counts
        self._first_line = until + 1
        kept = self.builder.sessions
        self._accounted = kept[0].index if kept else self.builder.dropped_sessions
        self._reported = {index for index in self._reported if index >= self._accounted}


class _Counts(NamedTuple):
    """The parser's running counts, read at a report so that the next one shows only its own part."""

    recognized: int
    dialects: dict[str, int]

    @classmethod
    def of(cls, parser: Parser, folder: Folder) -> _Counts:
        return cls(recognized_lines(parser, folder), dict(parser.stats.dialects))


def _same_connection(earlier: Session, later: Session) -> bool:
    """Whether a new attempt takes over from an earlier one: the same connection, or lines that name none
    (a program's own prints after a failure belong to whatever it tries next)."""
    return earlier.context is None or later.context is None or earlier.context == later.context


def _copy(session: Session) -> Session:
    """A copy whose codes can be read for the output's versions without touching the attempt the builder
    may still extend (its final error is fixed once read, and the builder asks it whether it failed)."""
    copied = copy.copy(session)
    copied.errors = list(session.errors)
    return copied
