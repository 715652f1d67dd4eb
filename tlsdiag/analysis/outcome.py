"""How an attempt ended: which printed values fail it, the value it failed with, and the log's verdict.

Any value in mbedTLS's range can fail an attempt, whatever printed it: the application's wrapper, a
debug record, a forum paste. A few values are part of normal operation (the non-blocking "try again"
values, TLS 1.3 notifications, a clean close after the handshake) and never do: they are listed in
``knowledge/errors/outcomes.toml``. What a value is depends on the version (``-0x7B00`` fails a 2.x
handshake and only announces a session ticket in 3.3+), so the test reads each value in the versions
the log may come from; while the log is still being read, in every version.

The verdict of a whole log: ``failed-explained`` (an attempt failed and a rule explains why),
``failed-unexplained`` (it failed and only the code's own meaning is known), ``ok`` (TLS ran and
nothing failed) or ``no-tls`` (nothing TLS-related at all).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeGuard

from tlsdiag.analysis import events
from tlsdiag.codes import Scope, default_scope
from tlsdiag.knowledge import load
from tlsdiag.readings import decode_printed, rank

if TYPE_CHECKING:
    from tlsdiag.analysis.sessions import Session

#: calls an application makes itself: their failure is the value it finally saw
FINAL_CALLS = frozenset(
    {
        "mbedtls_ssl_handshake",
        "mbedtls_ssl_read",
        "mbedtls_ssl_write",
        "start_ssl_client",
        "mbedtls_net_connect",
        "ssl_handshake",
        "mbedtls_ssl_setup",
        "mbedtls_ctr_drbg_seed",
    }
)

CodeEvent = events.ReturnValue | events.CodeMention


class FailureTest:
    """Decides which printed values fail an attempt, for the mbedTLS versions in ``scope``."""

    def __init__(self, scope: Scope | None = None) -> None:
        self.scope = scope or default_scope(load())

    def fails(self, event: object, after_handshake: bool = False) -> TypeGuard[CodeEvent]:
        """Whether ``event`` (an error value) fails the attempt it belongs to: only a code event can."""
        if not isinstance(event, (events.ReturnValue, events.CodeMention)):
            return False
        value = event.value
        if value > 0:
            return value in load().esp_idf.by_value  # an esp_err_t failure (0x8000...), never a byte count
        if value == 0:
            return False
        return not _benign(value, event.readings, self.scope, after_handshake)

    def tls_code(self, event: Any) -> bool:
        """Whether the value reads best as an mbedTLS or PSA code (not a socket, errno or esp_err_t value)."""
        return decode_printed(event.value, getattr(event, "readings", ()), self.scope).kind in ("mbedtls", "psa")

    def top_level(self, event: Any) -> bool:
        """A value the application itself printed (not an inner call in a debug trace)."""
        return event.env.source_file is None or (getattr(event, "function", None) or "") in FINAL_CALLS


@lru_cache(maxsize=4096)
def _benign(value: int, readings: tuple[Any, ...], scope: Scope, after_handshake: bool) -> bool:
    never, after = load().outcomes
    names = _names(decode_printed(value, readings, scope))
    if not names:
        return False
    harmless = never | after if after_handshake else never
    return names <= harmless


def _names(decoded: Any) -> frozenset[str]:
    """The names of the value's likeliest complete reading (whole code or composite parts)."""
    complete = [item for item in decoded.interpretations if item.complete]
    if not complete:
        return frozenset()
    best = max(item.plausibility for item in complete)
    return frozenset(part.name for item in complete if item.plausibility == best for part in item.parts if part.name)


def final_error(session: Session, test: FailureTest) -> CodeEvent | None:
    """The value the attempt failed with: the last failing value the handshake did not get past.

    A failure the handshake recovered from (a verify failure under authmode optional, then
    ``<= handshake``) ends nothing. Among the values that count, what the application printed itself
    is preferred over the inner calls of a debug trace that led to it, the value of a TLS call over a
    socket API's or a framework's summary of it (Mbed OS ``NSAPI_ERROR_AUTH_FAILURE`` after the
    mbedTLS code, esp-tls ``0x8006``), and a printed result over a mention in prose.
    """
    done = session.handshake_done
    failing = [
        item
        for item in session.errors
        if test.fails(item, after_handshake=done is not None and item.env.line > done)
        and (done is None or item.env.line > done)
    ]
    if not failing:
        return None
    strong = [item for item in failing if type(item) is events.ReturnValue]
    pool = strong or failing
    top = [item for item in pool if test.top_level(item)] or pool
    calls = [item for item in top if (item.function or "") in FINAL_CALLS]
    tls = [item for item in top if test.tls_code(item)]
    return (calls or tls or top)[-1]


def resolve_codes(sessions: Iterable[Session], scope: Scope) -> None:
    """Rank every printed value's readings for the log's versions, then fix each attempt's final error."""
    knowledge = load()
    test = FailureTest(scope)
    for session in sessions:
        for index, item in enumerate(session.errors):
            if isinstance(item, events.ErrorText):
                continue  # a failure in words: no value to read
            readings = item.readings
            if len(readings) > 1:
                ranked = tuple(entry.reading for entry in rank(readings, scope, knowledge))
                if ranked[0].value != item.value or ranked != readings:
                    session.errors[index] = item._replace(value=ranked[0].value, readings=ranked)
        session.conclude(final_error(session, test))
