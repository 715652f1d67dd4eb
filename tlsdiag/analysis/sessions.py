"""Session model: the events of one input grouped into TLS connection attempts.

A log often holds several attempts (retries, a second connection, threads interleaved by their
ssl-context pointer). A new attempt starts at ``=> handshake``, at a sample program's "Performing
the SSL/TLS handshake", or with new TLS activity after an attempt has already failed. Each
:class:`Session` keeps what later stages ask about (steps reached, hellos, certificates, alerts,
errors, verify results, sizes, context such as heap and clock lines), in bounded lists so that a
huge log keeps memory flat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from tlsdiag.analysis.events import (
    ERROR_LEVELS,
    Alert,
    CertificateDer,
    CertificateText,
    CodeMention,
    ConsoleStep,
    Context,
    Dump,
    Envelope,
    ErrorText,
    Event,
    HandshakeState,
    LibraryMessage,
    Measure,
    Offered,
    ReturnValue,
    Step,
    TlsMessage,
    TlsRecord,
    Trace,
    Unrecognized,
    VerifyInfo,
    VersionInfo,
)
from tlsdiag.analysis.outcome import FINAL_CALLS, FailureTest, final_error

MAX_ITEMS = 256  # per list in a session: enough for any real handshake, bounded for garbage
MAX_SESSIONS = 64  # beyond this, the oldest complete sessions are summarised and dropped

#: a console step that reports a certificate verification's result
_VERIFY_REPORT = re.compile(r"\bverif", re.IGNORECASE)
T = TypeVar("T")
_OPEN = object()  # a session whose final error is not fixed yet


@cache
def _any_version() -> FailureTest:
    return FailureTest()


def _append(items: list[T], item: T) -> None:
    if len(items) < MAX_ITEMS:
        items.append(item)


@dataclass
class Session:
    """One connection attempt as the log shows it."""

    index: int
    first_line: int
    context: str | None = None
    last_line: int = 0
    role: str | None = None
    started: bool = False  # any handshake activity was seen
    entered: bool = False  # "=> handshake" was seen
    steps: list[tuple[int, str]] = field(default_factory=list)  # completed steps: (line, "write client hello")
    current_step: tuple[int, str] | None = None  # the last step entered (in progress when a failure hit)
    states: list[tuple[int, int | None, str | None]] = field(default_factory=list)
    messages: list[TlsMessage] = field(default_factory=list)
    records: list[TlsRecord] = field(default_factory=list)
    offered: list[Offered] = field(default_factory=list)
    certificates: list[CertificateText | CertificateDer] = field(default_factory=list)
    alerts: list[Alert | TlsMessage] = field(default_factory=list)
    errors: list[ReturnValue | CodeMention | ErrorText] = field(default_factory=list)
    verify: list[VerifyInfo] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    console: list[ConsoleStep] = field(default_factory=list)
    context_events: list[Context] = field(default_factory=list)
    dumps: int = 0
    events: int = 0
    first_ms: float | None = None
    last_ms: float | None = None
    largest_gap: tuple[float, int, int] | None = None  # (milliseconds, line before, line after)
    handshake_done: int | None = None  # line where the handshake was seen to complete
    library_messages: list[LibraryMessage] = field(default_factory=list)
    debug_levels: set[str] = field(default_factory=set)  # debug levels of its step records
    _last_stamp: tuple[float, int] | None = None
    _final: Any = field(default=_OPEN, repr=False)
    _provisional: tuple[Any, Any] | None = field(default=None, repr=False)  # (state it was computed for, value)
    _failed: tuple[Any, bool] | None = field(default=None, repr=False)

    @property
    def failed(self) -> bool:
        """The attempt ended in a failure: a failing value, a step the program reported as failed, a crash
        in the middle of it, or, in a handshake that never completed, a certificate verification that failed or
        an error report in words (``Failed to open new connection``, ``connection refused``, an ESP-IDF TLS
        component's error line) with no value printed."""
        key = (
            len(self.errors),
            len(self.console),
            len(self.verify),
            len(self.context_events),
            len(self.library_messages),
            self.handshake_done,
        )
        if self._failed is None or self._failed[0] != key or self._final is not _OPEN:
            self._failed = (key, self._compute_failed())
        return self._failed[1]

    def _compute_failed(self) -> bool:
        if self.final_error is not None or any(self._fails(step) for step in self.console):
            return True
        if any(item.kind in _ENDS_IN_A_CRASH for item in self.context_events if item.env.line >= self.first_line):
            return self.started
        if self.handshake_done is not None:
            return False
        return (
            any(item.flags_value or item.flag for item in self.verify)
            or any(_reports_failure(item) for item in self.context_events if item.env.line >= self.first_line)
            or any(_is_error_record(item.env) for item in self.library_messages if item.env.line >= self.first_line)
        )

    def _fails(self, step: ConsoleStep) -> bool:
        """A step the program reported as failed, except the report of a verification result after a
        completed handshake (``Verifying peer X.509 certificate... failed`` under authmode optional):
        the connection went on, and the result is a warning about it."""
        if step.outcome != "failed":
            return False
        done = self.handshake_done
        return done is None or step.env.line < done or _VERIFY_REPORT.search(step.step) is None

    @property
    def final_error(self) -> ReturnValue | CodeMention | None:
        """The value the attempt failed with (see :func:`tlsdiag.analysis.outcome.final_error`).

        Once the whole log is read, :meth:`conclude` fixes it for the log's versions; until then it is
        computed for every version.
        """
        if self._final is not _OPEN:
            return self._final
        key = (len(self.errors), self.handshake_done)
        if self._provisional is None or self._provisional[0] != key:
            self._provisional = (key, final_error(self, _any_version()))
        return self._provisional[1]

    def conclude(self, final: ReturnValue | CodeMention | None) -> None:
        self._final = final

    @property
    def last_step(self) -> tuple[int, str] | None:
        return self.current_step or (self.steps[-1] if self.steps else None)

    def message(self, name: str, direction: str | None = None) -> TlsMessage | None:
        for item in self.messages:
            if item.name == name and (direction is None or item.direction == direction):
                return item
        return None


class SessionBuilder:
    """Groups a stream of events into sessions."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.dropped_sessions = 0
        self._current: dict[str | None, Session] = {}
        self.context_events: list[Context] = []  # context before any session, or outside all
        self.versions: list[VersionInfo] = []

    def in_progress(self) -> list[Session]:
        """The attempts later events may still extend (the latest of each connection); the others are over."""
        current = {id(session) for session in self._current.values()}
        return [session for session in self.sessions if id(session) in current]

    def feed(self, stream: Iterable[Event]) -> SessionBuilder:
        for event in stream:
            self.add(event)
        return self

    def add(self, event: Event) -> None:
        env = event.env
        if type(event) is VersionInfo:
            _append(self.versions, event)
            return
        if type(event) is Unrecognized:
            return
        key = env.context
        session = self._current.get(key)
        if session is None and key is not None:
            plain = self._current.get(None)
            if plain is not None and plain.context is None and not plain.entered:
                session = plain  # the console lines before the first debug record belong to it
                session.context = key
                self._current[key] = session
        if self._starts_attempt(event, session):
            session = self._new(env)
        if session is None:
            if isinstance(event, Context) and event.kind not in _CONNECTION_CONTEXT and not _reports_failure(event):
                _append(self.context_events, event)  # kept for the next attempt (heap, clock, network...)
                return
            if isinstance(event, Trace):
                return
            session = self._new(env)
        self._record(session, event)

    def _starts_attempt(self, event: Event, session: Session | None) -> bool:
        if session is not None and event.env.timestamp_ms is not None and self._clock_went_back(session, event.env):
            return True  # a device that rebooted starts over: its later lines belong to a new attempt
        if type(event) not in _ATTEMPT_KINDS:
            return False
        if isinstance(event, Step):
            if event.direction != "enter" or event.name != "handshake":
                return False
            return session is None or session.entered
        if isinstance(event, ConsoleStep) and "handshake" in event.step.lower():
            return session is None or session.started or session.failed
        if isinstance(event, ConsoleStep) and event.step and session is not None and session.failed:
            # a program that failed and goes on with a step of its own is trying again (or was run again),
            # unless it is only cleaning up after the failure
            return not _CLEANUP.search(event.step)
        if session is None or not session.failed:
            return False
        final = session.final_error
        if isinstance(event, ReturnValue) and final is not None and event.env.line > final.env.line:
            # the application called the same function again and it failed again: a retry (a summary of
            # the same failure, such as "Last error was", names no call)
            test = _any_version()
            again = event.function is not None and (
                event.function == final.function or {event.function, final.function} <= FINAL_CALLS
            )
            return again and test.top_level(final) and test.top_level(event) and test.fails(event)
        if isinstance(event, Offered) and event.kind == "ciphersuite":
            return True
        return isinstance(event, TlsMessage) and event.name == "ClientHello"

    @staticmethod
    def _clock_went_back(session: Session, env: Envelope) -> bool:
        """A timestamp well below the attempt's last one: the device restarted (ESP-IDF counts from boot)."""
        stamp = env.timestamp_ms
        previous = session._last_stamp
        if stamp is None or previous is None:
            return False
        return stamp + _REBOOT_SLACK_MS < previous[0] and stamp < previous[0] / 2

    def _new(self, env: Envelope) -> Session:
        session = Session(index=len(self.sessions) + self.dropped_sessions, first_line=env.line, context=env.context)
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(0)
            self.dropped_sessions += 1
            if len(self._current) > 2 * MAX_SESSIONS:  # connections seen once, long ago: forget the dropped ones
                kept = {id(item) for item in self.sessions}
                self._current = {key: item for key, item in self._current.items() if id(item) in kept}
        self.sessions.append(session)
        self._current[env.context] = session
        if self.context_events:  # what the device printed just before this attempt belongs to it
            session.context_events.extend(self.context_events[:MAX_ITEMS])
            self.context_events.clear()
        if env.context is not None:
            self._current[None] = session  # plain lines that follow belong to the latest connection
        return session

    def _record(self, session: Session, event: Event) -> None:
        env = event.env
        session.events += 1
        session.last_line = env.line
        if env.timestamp_ms is not None:
            self._stamp(session, env.timestamp_ms, env.line)
        if session.role is None:
            session.role = _role(env.source_file)
        kind = type(event)
        listed = _LISTS.get(kind)
        if listed is not None:
            _append(getattr(session, listed), event)
        elif kind is Dump:
            session.dumps += 1
        else:
            recorder = _RECORDERS.get(kind)
            if recorder is not None:
                recorder(session, event, env)

    def _stamp(self, session: Session, stamp: float, line: int) -> None:
        if session.first_ms is None:
            session.first_ms = stamp
        session.last_ms = stamp
        previous = session._last_stamp
        if previous is not None and stamp >= previous[0]:
            gap = stamp - previous[0]
            if session.largest_gap is None or gap > session.largest_gap[0]:
                session.largest_gap = (gap, previous[1], line)
        session._last_stamp = (stamp, line)


#: a program's clean-up steps after a failure, which belong to the failed attempt
#: steps a program takes after a failure without trying again: cleaning up, or reporting on the
#: connection that failed (its verification result, the peer's certificate)
_CLEANUP = re.compile(
    r"\b(?:clos\w*|clean\w*|free\w*|shut\w*|disconnect\w*|exit\w*|verif\w*|peer certificate|last error)\b",
    re.IGNORECASE,
)

_APPLICATION_DATA = frozenset({"application_data_in", "application_data_out"})

#: context lines that end an attempt in progress: the device crashed or a watchdog fired
_ENDS_IN_A_CRASH = frozenset({"crash", "watchdog"})

#: context lines that report a failed connection in words, with no value printed: a refused or unresolved
#: connection is a failure whatever the line's severity; a timeout, a reset, an unreachable host or a failed
#: verification (which esp-tls also reports, at info level, for a connection that goes on) only at an error
#: severity, or with none (a plain text line): a warning-level poll timeout is not
_FAILURE_REPORTS = frozenset({"dns-failed", "connect-failed", "open-failed"})
_FAILURE_REPORTS_WHEN_ERROR = frozenset({"socket", "timeout", "connection-reset", "unreachable", "verify-failed"})


def _is_error_record(env: Envelope) -> bool:
    return env.level in ERROR_LEVELS


def _reports_failure(item: Context) -> bool:
    if item.kind in _FAILURE_REPORTS:
        return True
    return item.kind in _FAILURE_REPORTS_WHEN_ERROR and (item.env.level is None or item.env.level in ERROR_LEVELS)


#: context lines that are themselves part of a connection attempt (esp-tls reporting on it)
_CONNECTION_CONTEXT = frozenset(
    {
        "dns-failed",
        "connect-failed",
        "open-failed",
        "host",
        "socket",
        "esp-err",
        "verify-failed",
        "cert-verified",
        "verification-info",
        "alloc-failed",
        "transport-errno",
    }
)

#: timestamps may run back a little (interleaved tasks, buffered output) without a restart
_REBOOT_SLACK_MS = 1000.0


#: the only event kinds that can open a new attempt
def _record_step(session: Session, event: Step, env: Envelope) -> None:
    if env.level is not None:
        session.debug_levels.add(env.level)  # the other events keep their envelopes
    if event.name == "handshake" and event.direction == "enter":
        session.started = session.entered = True
    elif event.name == "handshake" and event.direction == "leave" and session.started:
        session.handshake_done = env.line
    elif event.name not in _NOISE_STEPS:
        if event.direction == "enter":
            session.current_step = (env.line, event.name)
        else:
            _append(session.steps, (env.line, event.name))


def _record_state(session: Session, event: HandshakeState, env: Envelope) -> None:
    session.started = True
    if event.role in ("client", "server"):
        session.role = event.role
    _append(session.states, (env.line, event.number, event.name))


def _record_console(session: Session, event: ConsoleStep, env: Envelope) -> None:
    # an outcome alone on its line (" ok" after the handshake's debug output) ends the step left open
    step = event.step or next((item.step for item in reversed(session.console) if item.outcome is None), "")
    if "handshake" in step.lower():
        session.started = True
        if event.outcome == "ok":
            session.handshake_done = env.line
    _append(session.console, event)


def _record_message(session: Session, event: TlsMessage, env: Envelope) -> None:
    session.started = True
    if event.name == "Alert":
        _append(session.alerts, event)
    else:
        _append(session.messages, event)


def _record_measure(session: Session, event: Measure, env: Envelope) -> None:
    _append(session.measures, event)
    if event.name in _APPLICATION_DATA and session.handshake_done is None:
        session.handshake_done = env.line  # application data only flows once the handshake is over


#: what an attempt keeps of each event class: the events that only join one of its lists (the list's name),
#: and those that change its state as well (their recorder); a class in neither leaves no trace
_LISTS: dict[type, str] = {
    TlsRecord: "records",
    Alert: "alerts",
    ReturnValue: "errors",
    CodeMention: "errors",
    ErrorText: "errors",
    VerifyInfo: "verify",
    Offered: "offered",
    CertificateText: "certificates",
    CertificateDer: "certificates",
    Context: "context_events",
    LibraryMessage: "library_messages",
}
_RECORDERS: dict[type, Callable[[Session, Any, Envelope], None]] = {
    Step: _record_step,
    HandshakeState: _record_state,
    ConsoleStep: _record_console,
    TlsMessage: _record_message,
    Measure: _record_measure,
}

_ATTEMPT_KINDS = frozenset({Step, ConsoleStep, ReturnValue, Offered, TlsMessage})

#: steps mbedTLS enters for every record: not milestones of the handshake
_NOISE_STEPS = frozenset(
    {
        "flush output",
        "fetch input",
        "read record",
        "write record",
        "write handshake message",
        "decrypt buf",
        "encrypt buf",
        "read",
        "write",
        "free",
        "handshake",
        "send alert message",
    }
)

_ROLE_FILES = {
    "ssl_cli.c": "client",
    "ssl_client.c": "client",
    "ssl_tls12_client.c": "client",
    "ssl_tls13_client.c": "client",
    "ssl_srv.c": "server",
    "ssl_tls12_server.c": "server",
    "ssl_tls13_server.c": "server",
}


def _role(source_file: str | None) -> str | None:
    return _ROLE_FILES.get(source_file or "")
