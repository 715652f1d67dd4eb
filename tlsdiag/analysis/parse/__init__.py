"""Parse stage: clean lines in, typed events out, one line at a time.

For each record of a line: the envelope prefilter (``envelopes``) finds the dialect and the
message; hex dump lines go straight to a :class:`~tlsdiag.analysis.events.DumpLine` (the fold stage owns
them); every other message is matched against the anchors of the message grammars (``dispatch``)
and, when one applies, parsed by that single LALR rule (``grammar``) and turned into an event
(``builders``). Parsed payloads are memoised per message text, since level-4 logs repeat the same
messages over and over. Memory stays flat: nothing is kept but that bounded memo.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from tlsdiag.analysis import events
from tlsdiag.analysis.events import Envelope, Event, Unrecognized
from tlsdiag.analysis.parse import builders, catalogue, dispatch, envelopes, openworld, wrapped

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

_MEMO_LIMIT = 65536
_DUMP_LINE = dispatch.DUMP_LINE.match
#: the end of the input, after its last line (dispatches the record still held)
_END: tuple[tuple[int, None]] = ((0, None),)


class _Missing(enum.Enum):
    """A message the memo has not seen yet (a memoised None means "no rule applies")."""

    MISSING = enum.auto()


_MISSING: Final = _Missing.MISSING
#: the severities loggers mark an error record with (ESP-IDF and arduino-esp32 ``E``, Zephyr ``err``, mbed-trace)
_ERROR_LEVELS = events.ERROR_LEVELS
_ENDS_IN_CONVERSION = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[diouxXscp]$")


class _Claimed(enum.Enum):
    """A record the grammar claimed that yields no event."""

    CLAIMED = enum.auto()


_CLAIMED: Final = _Claimed.CLAIMED
#: what one record reads as: an event, several (a line that says more than one thing), claimed without an event
#: (``_CLAIMED``), or nothing at all (None)
_Read = Event | tuple[Event, ...] | _Claimed | None


def _several(read: _Read) -> TypeIs[tuple[Event, ...]]:
    """A record that reads as several events: a plain tuple of them (an event itself is a named tuple)."""
    return type(read) is tuple


#: context rules that match anywhere in a line: the rest of the line is read by the open-world layer too
_WHOLE_LINE_CONTEXT = frozenset(
    {
        "network",
        "clock",
        "sntp",
        "psram",
        "watchdog",
        "crash",
        "heap-free",
        "open-failed",
        "verify-failed",
        "socket",
        "dns-failed",
    }
)
_VALUES = (events.ReturnValue, events.CodeMention)
_OPEN_WORLD_EVIDENCE = (
    events.ReturnValue,
    events.CodeMention,
    events.ErrorText,
    events.VerifyInfo,
    events.Alert,
    events.ConsoleStep,
    events.Measure,
)


def _forms(known: catalogue.CatalogueMatch | None) -> dict[str, str] | None:
    """How a catalogued message printed its numbers: ``%d`` decimal, ``%x`` hex without ``0x``."""
    if known is None:
        return None
    forms = {}
    for argument in known.arguments:
        kind = argument.conversion[-1:]
        if kind in "diu":
            forms[argument.text.lstrip("+-")] = "decimal"
        elif kind in "xX":
            forms[argument.text.lstrip("+-")] = "hex-no-prefix"
    return forms


def _payload(cls: type[NamedTuple], fields: dict[str, Any]) -> tuple[type, tuple[Any, ...]]:
    """An event class and its field values in order, without the envelope (the memoised form)."""
    defaults = cls._field_defaults
    return cls, tuple(fields[name] if name in fields else defaults[name] for name in cls._fields[1:])


class ParseStats:
    """Counts for the contract's ``input`` block: lines seen, lines claimed, dialects met."""

    def __init__(self) -> None:
        self.lines = 0
        self.recognized_lines = 0
        self.dialects: dict[str, int] = {}
        self.grammar_parses = 0
        self.memo_hits = 0
        self.open_world = 0  # records only the open-world layer understood
        self.rejoined = 0  # physical lines joined to the line before (wrapped records)


class Parser:
    """Turns lines into events; keep one per input so that its statistics describe that input."""

    def __init__(self, keep_trace: bool = False) -> None:
        self.keep_trace = keep_trace
        self.stats = ParseStats()
        self._memo: dict[tuple[bool, str], tuple[type, tuple[Any, ...]] | None] = {}
        self._open_memo: dict[tuple[str, str | None, str | None, bool], tuple[tuple[type, tuple[Any, ...]], ...]] = {}
        self._parser: Any = None

    def events(self, lines: Iterable[tuple[int, str]]) -> Iterator[events.Event]:
        """The events of ``lines``, with records a terminal or a forum wrapped joined first.

        The joining (:mod:`~tlsdiag.analysis.parse.wrapped`) runs in this loop rather than as a stage
        of its own: a record is dispatched when the line after it shows it is complete, and the
        common line (its own ``file.c:NNNN`` or ``E (ms)`` envelope) takes one string search.
        """
        stats = self.stats
        dialects = stats.dialects
        unrecognized = events.Unrecognized
        continuation = wrapped.continuation
        complete, closed, max_parts = self._complete, self._closed, wrapped.MAX_PARTS
        first: int = 0
        joined: str | None = None
        span = 0
        for number, text in itertools.chain(lines, _END):
            if joined is None:
                first, joined, span = number, text, 1
                continue
            if text is not None and not (text.find(".c:", 0, 64) > 0 or text.startswith(" (", 1)):
                separator = continuation(joined, text, complete, closed, span) if span < max_parts else None
                if separator is not None:
                    joined = joined + separator + text.lstrip() if separator else joined + text
                    span += 1
                    continue
            # ``joined`` (``span`` physical lines from ``first``) is a whole record: dispatch it
            record_text, number_of_record, lines_of_record = joined, first, span
            first, joined, span = number, text, 1
            stats.lines += lines_of_record
            if lines_of_record > 1:
                stats.rejoined += lines_of_record - 1
            claimed: str | None = None  # the dialect of the line's first recognised record
            quoted = record_text if len(record_text) < 2048 else record_text[:2048]
            for record in envelopes.split_glued(record_text):
                env, message, debug = envelopes.frame(record, number_of_record, quoted)
                event = self._event(env, message, debug)
                if event is None:
                    continue
                if event is _CLAIMED:
                    claimed = claimed or env.dialect
                    continue
                if _several(event):
                    claimed = claimed or event[0].env.dialect
                    yield from event
                    continue
                if type(event) is not unrecognized:
                    claimed = claimed or event.env.dialect
                yield event
            if claimed is not None:
                stats.recognized_lines += lines_of_record
                dialects[claimed] = dialects.get(claimed, 0) + lines_of_record

    def _complete(self, text: str) -> bool:
        """Whether ``text`` is a whole message that a dialect rule or the catalogue reads (tells wrapped lines)."""
        _, message, debug = envelopes.frame(text, 0, "")
        if not debug:
            message = message.strip()
        key = (debug, message)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._resolve(debug, message)
            self._memo[key] = found
        if found is not None:
            return True
        known = catalogue.match(message)
        return known is not None and not known.truncated

    def _closed(self, text: str) -> bool:
        """Whether ``text`` is a whole library message whose format ends in literal text: a format ending in
        a conversion (``%s``, ``%d``) may have been cut in the middle of what it printed."""
        _, message, _ = envelopes.frame(text, 0, "")
        known = catalogue.match(message.strip())
        return known is not None and not known.truncated and _ENDS_IN_CONVERSION.search(known.format.rstrip()) is None

    def _event(self, env: Envelope, message: str, debug: bool) -> _Read:
        if debug:
            if message[4:7] == ":  " or message[8:11] == ":  ":
                dump = _DUMP_LINE(message)
                if dump:
                    return events.DumpLine(env, int(dump[1], 16), bytes.fromhex(dump[2]))
            elif message[:1] == " ":
                mpi = dispatch.MPI_LINE.fullmatch(message.rstrip())
                if mpi:
                    return events.DumpLine(env, -1, bytes.fromhex(mpi[1]))
        else:
            message = message.strip()
            if not message:
                return None
        key = (debug, message)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._resolve(debug, message)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        else:
            self.stats.memo_hits += 1
        if found is None:
            return self._trace(env, message) if debug else self._open_world(env, message)
        cls, values = found
        if (cls is events.Context and values[0] in _WHOLE_LINE_CONTEXT) or cls is events.ErrorText:
            return self._with_open_world(cls(env, *values), message)
        return cls(env, *values)

    def _with_open_world(self, event: Event, message: str) -> Event | tuple[Event, ...]:
        """A line a context rule claims whole (Wi-Fi, clock, crash...), or a complaint in words, may still carry
        an error value, a library text or another fact (``Failed to open new connection in specified timeout``
        is also a timeout)."""
        found = self._scan(event.env, message)
        if not _several(found):
            return event
        claimed = event.kind if type(event) is events.Context else None
        extra = tuple(
            item
            for item in found
            if type(item) in _OPEN_WORLD_EVIDENCE or (type(item) is events.Context and item.kind != claimed)
        )
        return (event, *extra) if extra else event

    def _open_world(self, env: Envelope, message: str) -> Event | tuple[Event, ...]:
        """Evidence in a line no rule claims, or Unrecognized.

        A library message behind an envelope no dialect knows (a timestamp, a task name, a Windows
        path before ``ssl_tls.c:``) is read as the debug record it is; an ESP-IDF TLS message is named
        by its catalogue id; anything else goes to the open-world layer
        (:mod:`~tlsdiag.analysis.parse.openworld`).
        """
        known = catalogue.match(message)
        if known is not None and known.entry.source == "mbedtls-debug" and (not known.truncated or known.start == 0):
            levels = known.levels
            framed = env._replace(dialect="mbedtls-debug", level=env.level or (levels[0] if len(levels) == 1 else None))
            inner = self._event(framed, message[known.start :], True)
            if inner is not None and inner is not _CLAIMED:
                if known.start == 0:
                    return inner
                # the library's text ends a line of the application's own: a value printed before it is read too
                # ("]: (-32512) SSL - Memory allocation failed" behind an envelope a paste cut)
                scanned = self._scan(env, message, _forms(known))
                values = [item for item in scanned if type(item) in _VALUES] if _several(scanned) else []
                if values:
                    return (*(inner if _several(inner) else (inner,)), *values)
                return inner
        scanned = self._scan(env, message, _forms(known))
        if known is not None and known.entry.source == "esp-idf":
            named = events.LibraryMessage(env, known.id, known.entry.source)
            return (named, *scanned) if _several(scanned) else named
        return scanned

    def _scan(
        self, env: Envelope, message: str, forms: dict[str, str] | None = None
    ) -> Unrecognized | tuple[Event, ...]:
        # the envelope's file and tag are part of the key: a print format may be known by them
        error_record = env.level in _ERROR_LEVELS
        key = (message, env.source_file, env.tag, error_record)
        found = self._open_memo.get(key, _MISSING)
        if found is _MISSING:
            scanned = openworld.scan(message, forms, env.text, error_record)
            found = tuple(_payload(cls, fields) for cls, fields in scanned)
            if len(self._open_memo) >= _MEMO_LIMIT:
                self._open_memo.clear()
            self._open_memo[key] = found
        if not found:
            return events.Unrecognized(env)
        self.stats.open_world += 1
        return tuple(cls(env, *values) for cls, values in found)

    def _resolve(self, debug: bool, message: str) -> tuple[type, tuple[Any, ...]] | None:
        """Which rule applies to a message and what it says (None: no rule, or the rule did not parse)."""
        rule = dispatch.debug_rule(message) if debug else dispatch.text_rule(message)
        if rule is None:
            return None
        if self._parser is None:
            from tlsdiag.analysis.parse.grammar import parser

            self._parser = parser()
        self.stats.grammar_parses += 1
        try:
            cls, fields = builders.build(rule, self._parser.parse(message, start=rule), message)
        except Exception:  # any parse or conversion failure means "no rule applies"
            return None
        return _payload(cls, fields)

    def _trace(self, env: Envelope, message: str) -> _Read:
        """A debug message without a rule of its own: level 1 lines are the library's complaints.

        Other plain trace is claimed by the grammar's catch-all rule but yields an event only when
        asked for (``tlsdiag parse``): later stages have no use for it, and it is most of a log.
        """
        library = catalogue.debug_catalogue()
        if message and env.source_file is not None and env.source_file not in library.files:
            scanned = self._scan(env, message)  # an application's own file:line record: any wording
            if _several(scanned):
                return scanned
        if message and env.level in ("1", None):
            known = library.match(message, env.level, env.source_file)
            if env.level == "1" or (known is not None and known.levels == ("1",)):
                if known is None:
                    return events.ErrorText(env, None, message.strip())
                values = tuple(argument.value for argument in known.arguments)
                return events.ErrorText(env, None, message.strip(), known.id, values)
        return events.Trace(env) if self.keep_trace else _CLAIMED
