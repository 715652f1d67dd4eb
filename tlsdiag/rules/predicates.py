"""The condition vocabulary of rules: named, tested predicates over one session.

A rule's ``[rule.when]`` table maps predicate names to arguments (``error = ["MBEDTLS_ERR_..."]``,
``alert_received = [40]``, ``reached = ["ClientHello"]``...). Each predicate returns a
:class:`Match` (the events it rests on, and facts that explanations and fix values can use) or
None. Predicates never parse text: they read the session model and the decoded codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tlsdiag.analysis import events, summary
from tlsdiag.analysis.sessions import Session
from tlsdiag.codes import Scope, decode_value


@dataclass
class Match:
    evidence: list[events.Event] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Subject:
    """What the predicates look at: a session, the whole analysis' context, and memoised views."""

    session: Session
    stack: str
    series: tuple[str, ...]
    scope: Scope
    diff: Any = None  # a tlsdiag.diff.Comparison when the session is the failing side of a diff
    _names: dict[int, frozenset[str]] = field(default_factory=dict)
    _reached: list[tuple[int, str]] | None = None

    def names_of(self, value: int) -> frozenset[str]:
        """Every name the value has (whole or composite parts, aliases) in the versions in scope."""
        if value not in self._names:
            decoded = decode_value(value, self.scope)
            found = set()
            for interpretation in decoded.interpretations:
                if not interpretation.complete or interpretation.plausibility < 0.2:
                    continue  # half a composite, or an unlikely split: not evidence of any code
                for part in interpretation.parts:
                    if part.name:
                        found.add(part.name)
                    found.update(part.aliases)
            self._names[value] = frozenset(found)
        return self._names[value]

    def categories_of(self, value: int) -> frozenset[str]:
        decoded = decode_value(value, self.scope)
        return frozenset(item.category for item in decoded.interpretations if item.plausibility >= 0.9)

    @property
    def reached(self) -> list[tuple[int, str]]:
        if self._reached is None:
            self._reached = summary.reached(self.session)
        return self._reached


Predicate = Callable[[Subject, Any], Match | None]
PREDICATES: dict[str, Predicate] = {}


@cache
def load_predicate_modules() -> None:
    """Import the ``predicates_*.py`` modules next to this one: each registers predicates of a family."""
    import importlib
    import pkgutil

    import tlsdiag.rules as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("predicates_"):
            importlib.import_module(f"tlsdiag.rules.{module.name}")


def predicate(name: str) -> Callable[[Predicate], Predicate]:
    def register(function: Predicate) -> Predicate:
        if name in PREDICATES and PREDICATES[name] is not function:
            raise ValueError(f"rule condition {name!r} is defined twice")
        PREDICATES[name] = function
        return function

    return register


def _as_list(argument: Any) -> list[Any]:
    return list(argument) if isinstance(argument, (list, tuple)) else [argument]


def _numeric_errors(subject: Subject) -> Iterable[events.ReturnValue | events.CodeMention]:
    for item in subject.session.errors:
        if (type(item) is events.ReturnValue and item.value != 0) or type(item) is events.CodeMention:
            yield item  # type: ignore[misc]


# --- errors --------------------------------------------------------------------------------------------------


@predicate("error")
def error(subject: Subject, names: Any) -> Match | None:
    """An error value in the session has one of ``names`` (as a whole, or as a composite part)."""
    wanted = set(_as_list(names))
    hits = [item for item in _numeric_errors(subject) if subject.names_of(item.value) & wanted]
    if not hits:
        return None
    first = next((item for item in hits if type(item) is events.ReturnValue), hits[0])
    name = sorted(subject.names_of(first.value) & wanted)[0]
    return Match(hits[:3], {"error": first.raw, "error_name": name, "error_value": first.value})


@predicate("final_error")
def final_error(subject: Subject, names: Any) -> Match | None:
    """The value the application finally got has one of ``names``."""
    final = subject.session.final_error
    if final is None or not subject.names_of(final.value) & set(_as_list(names)):
        return None
    return Match([final], {"error": final.raw, "error_value": final.value, "function": final.function})


@predicate("error_category")
def error_category(subject: Subject, categories: Any) -> Match | None:
    """The final error decodes to one of ``categories`` (from the code knowledge)."""
    final = subject.session.final_error
    if final is None or not subject.categories_of(final.value) & set(_as_list(categories)):
        return None
    return Match([final], {"error": final.raw})


@predicate("error_text")
def error_text(subject: Subject, needles: Any) -> Match | None:
    """The library or the application complained in words containing one of ``needles``."""
    wanted = [needle.casefold() for needle in _as_list(needles)]
    hits = [
        item
        for item in subject.session.errors
        if type(item) is events.ErrorText and any(needle in item.text.casefold() for needle in wanted)
    ]
    if not hits:
        return None
    return Match(hits[:3], {"error_text": hits[0].text})


@predicate("function")
def function(subject: Subject, names: Any) -> Match | None:
    """The final error came from one of ``names`` (mbedtls_ssl_handshake, mbedtls_ssl_read ...)."""
    final = subject.session.final_error
    if final is None or (final.function or "") not in set(_as_list(names)):
        return None
    return Match([final], {"function": final.function})


# --- alerts, steps, verification -----------------------------------------------------------------------------


def _alert(subject: Subject, wanted: Any, direction: str) -> Match | None:
    values = set()
    for item in _as_list(wanted):
        values.add(item if isinstance(item, int) else str(item))
    for alert in summary.alerts(subject.session):
        if alert["direction"] == direction and (alert["description"] in values or alert["name"] in values):
            event = _event_at(subject.session, alert["line"])
            return Match([event] if event else [], {"alert": alert["description"], "alert_name": alert["name"]})
    return None


@predicate("alert_received")
def alert_received(subject: Subject, wanted: Any) -> Match | None:
    return _alert(subject, wanted, "in")


@predicate("alert_sent")
def alert_sent(subject: Subject, wanted: Any) -> Match | None:
    return _alert(subject, wanted, "out")


@predicate("reached")
def reached(subject: Subject, milestones: Any) -> Match | None:
    """Every milestone in the list was reached."""
    seen = {name: line for line, name in subject.reached}
    wanted = _as_list(milestones)
    if not all(name in seen for name in wanted):
        return None
    return Match([], {"reached": wanted})


@predicate("not_reached")
def not_reached(subject: Subject, milestones: Any) -> Match | None:
    """None of the milestones in the list was reached."""
    seen = {name for _, name in subject.reached}
    return None if any(name in seen for name in _as_list(milestones)) else Match()


@predicate("last_step")
def last_step(subject: Subject, milestones: Any) -> Match | None:
    """The last milestone reached is one of the list."""
    if not subject.reached:
        return None
    name = subject.reached[-1][1]
    if name not in set(_as_list(milestones)):
        return None
    return Match([], {"last_step": name})


@predicate("verify_flag")
def verify_flag(subject: Subject, names: Any) -> Match | None:
    wanted = set(_as_list(names))
    for flag in summary.verify_flags(subject.session):
        if flag["name"] in wanted:
            event = _event_at(subject.session, flag["line"])
            return Match([event] if event else [], {"verify_flag": flag["name"]})
    return None


# --- sizes, context, platform --------------------------------------------------------------------------------


@predicate("measure")
def measure(subject: Subject, spec: Any) -> Match | None:
    """A printed size named ``spec['name']``, optionally with ``value_over_limit``, ``min`` or ``max``."""
    for item in subject.session.measures:
        if item.name != spec["name"]:
            continue
        if "min" in spec and item.value < spec["min"]:
            continue
        if "max" in spec and item.value > spec["max"]:
            continue
        if spec.get("value_over_limit") and (item.limit is None or item.value <= item.limit):
            continue
        facts = {f"{item.name}": item.value, f"{item.name}_limit": item.limit}
        return Match([item], facts)
    return None


@predicate("context")
def context(subject: Subject, kinds: Any) -> Match | None:
    """A context line of one of ``kinds`` (alloc-failed, watchdog, crash, heap-free ...) in the session."""
    wanted = set(_as_list(kinds))
    hits = [item for item in subject.session.context_events if item.kind in wanted]
    if not hits:
        return None
    return Match(hits[:3], {"context": hits[0].kind, "context_value": hits[0].value})


@predicate("clock_year_before")
def clock_year_before(subject: Subject, year: int) -> Match | None:
    """The device clock, as last shown before the failure, is before ``year`` (never set: 1970)."""
    final = subject.session.final_error
    limit = final.env.line if final is not None else None
    readings = [
        item
        for item in subject.session.context_events
        if item.kind == "clock" and item.value is not None and (limit is None or item.env.line <= limit)
    ]
    if readings and readings[-1].value < year:
        return Match([readings[-1]], {"clock_year": readings[-1].value})
    return None


@predicate("stack")
def stack(subject: Subject, stacks: Any) -> Match | None:
    return Match() if subject.stack in set(_as_list(stacks)) else None


@predicate("mbedtls")
def mbedtls(subject: Subject, series: Any) -> Match | None:
    """The log may come from one of the given series (an unknown version matches every series)."""
    wanted = set(_as_list(series))
    return Match() if set(subject.series) & wanted else None


@predicate("client_hello")
def client_hello(subject: Subject, spec: Any) -> Match | None:
    """Conditions on what our ClientHello offered: ``sni``, ``tls13``, ``max_fragment_length`` (true/false)."""
    hello = summary.client_hello(subject.session)
    if hello is None:
        return None
    checks = {
        "sni": bool(hello.get("server_name")),
        "tls13": "TLS 1.3" in (hello.get("supported_versions") or []) or hello.get("version") == "TLS 1.3",
        "max_fragment_length": bool(hello.get("max_fragment_length")),
    }
    for key, expected in spec.items():
        if checks.get(key) != bool(expected):
            return None
    event = _event_at(subject.session, hello.get("line", 0))
    return Match([event] if event else [], {"server_name": hello.get("server_name"), "hello_line": hello.get("line")})


@predicate("peer_closed")
def peer_closed(subject: Subject, spec: Any) -> Match | None:
    """The peer closed the connection (a zero-byte read, CONN_EOF or a reset), optionally ``after`` a milestone."""
    hits: list[events.Event] = [
        item for item in subject.session.measures if item.name == "f_recv_returned" and item.value == 0
    ]
    eof = {"MBEDTLS_ERR_SSL_CONN_EOF", "MBEDTLS_ERR_NET_CONN_RESET", "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY"}
    hits += [item for item in _numeric_errors(subject) if subject.names_of(item.value) & eof]
    if not hits:
        return None
    first_line = min(item.env.line for item in hits)
    after = (spec or {}).get("after") if isinstance(spec, dict) else None
    if after:
        seen = [line for line, name in subject.reached if name == after]
        if not seen or seen[0] > first_line:
            return None
        later = [name for line, name in subject.reached if line > seen[0] and line < first_line]
        if later and (spec or {}).get("directly", True):
            return None
    return Match(sorted(hits, key=lambda item: item.env.line)[:2], {"closed_line": first_line})


@predicate("certificate")
def certificate(subject: Subject, spec: Any) -> Match | None:
    """A certificate in the session matches ``spec``: ``key_size_below``, ``signature_hash`` ..."""
    for cert in summary.certificates(subject.session):
        if "key_size_below" in spec and not (cert.get("key_size") and cert["key_size"] < spec["key_size_below"]):
            continue
        if "signature_hash" in spec and cert.get("signature_hash") not in _as_list(spec["signature_hash"]):
            continue
        event = _event_at(subject.session, cert.get("line", 0))
        return Match([event] if event else [], {"certificate": cert.get("subject"), "key_size": cert.get("key_size")})
    return None


@predicate("tls_activity")
def tls_activity(subject: Subject, expected: bool) -> Match | None:
    active = bool(subject.session.started or subject.session.messages or subject.session.steps)
    return Match() if active == bool(expected) else None


def _event_at(session: Session, line: int) -> events.Event | None:
    for collection in (session.alerts, session.verify, session.errors, session.messages, session.offered):
        for item in collection:
            if item.env.line == line:
                return item
    for item in session.certificates:
        if item.env.line == line:
            return item
    return None
