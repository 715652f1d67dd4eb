"""The condition vocabulary of rules: named, tested predicates over one attempt's typed view.

A rule's ``[rule.when]`` table maps predicate names to arguments (``error = ["MBEDTLS_ERR_..."]``,
``alert_received = [40]``, ``reached = ["ClientHello"]``...). Each predicate returns a
:class:`Match` or None. A match carries the view items it rests on (each knows its line and text),
facts that explanations and fix values can use, and the **assumptions** it had to make: a
predicate about absence ("no ServerHello arrived") that the log could not have shown either way
(no handshake steps printed) still matches, but says so, and the engine lowers the rule's
confidence for it. Predicates read :class:`~tlsdiag.analysis.views.AttemptView` only; they never
look at log text or events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tlsdiag.analysis.views import AttemptView, Milestone, PrintedValue
from tlsdiag.codes import Scope
from tlsdiag.versions import series_key


@dataclass
class Match:
    evidence: list[Any] = field(default_factory=list)  # view items: each has .line and .quote
    facts: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)  # what the match takes for granted
    # what knowledge the match brought along (the fixes and next steps of a code it read), added to the rule's
    fixes: list[Any] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


@dataclass
class Subject:
    """What the predicates look at: one attempt's view and what is known of the log as a whole."""

    attempt: AttemptView
    stack: str
    series: tuple[str, ...]
    scope: Scope
    version_known: bool = True
    platform_version: str | None = None
    earlier_success: bool = False  # an earlier attempt of the same log completed its handshake
    diff: Any = None  # a tlsdiag.diff.Comparison when the attempt is the failing side of a diff
    features: tuple[tuple[str, int, str], ...] = ()  # board features the log shows (name, line, text)
    pasted_config: tuple[Any, ...] = ()  # lint findings on a configuration pasted into the log

    @property
    def reached(self) -> tuple[Milestone, ...]:
        return self.attempt.milestones

    def values(self) -> Iterable[PrintedValue]:
        return self.attempt.errors


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


def as_list(argument: Any) -> list[Any]:
    return list(argument) if isinstance(argument, (list, tuple, set, frozenset)) else [argument]


def strongest(items: Iterable[PrintedValue]) -> PrintedValue | None:
    """The value a program printed rather than one mentioned in prose, first come."""
    pool = list(items)
    return next((item for item in pool if not item.mentioned), pool[0] if pool else None)


# --- errors --------------------------------------------------------------------------------------------------


@predicate("error")
def error(subject: Subject, names: Any) -> Match | None:
    """An error value in the attempt has one of ``names`` (as a whole, or as a composite part)."""
    wanted = set(as_list(names))
    hits = [item for item in subject.values() if item.names & wanted]
    if not hits:
        return None
    first = strongest(hits)
    assert first is not None
    name = sorted(first.names & wanted)[0]
    return Match(hits[:3], {"error": first.raw, "error_name": name, "error_value": first.value})


@predicate("final_error")
def final_error(subject: Subject, names: Any) -> Match | None:
    """The value the attempt finally failed with has one of ``names``."""
    final = subject.attempt.final
    if final is None or not final.names & set(as_list(names)):
        return None
    return Match([final], {"error": final.raw, "error_value": final.value, "function": final.function})


@predicate("error_meaning")
def error_meaning(subject: Subject, expected: bool) -> Match | None:
    """The final error has a meaning in the log's versions (a defined code): its names, category and
    meaning become facts, and the code's own fixes and next steps come along with the match. ``false``
    holds when no code with a meaning ended the attempt (none at all, or one no table defines)."""
    final = subject.attempt.final
    known = final is not None and bool(final.interpretations) and bool(final.names)
    if known != bool(expected):
        return None
    if final is None or not known:
        return Match()
    best = final.interpretations[0]
    facts = {
        "error": final.raw,
        "error_function": final.function,
        "error_parts": " + ".join(part.name or part.hex for part in best.parts),
        "error_category": best.category,
        "error_meaning": best.meaning,
    }
    return Match(
        [final], facts, fixes=list(best.fixes), next_steps=list(best.next_steps), references=list(best.references)
    )


@predicate("error_category")
def error_category(subject: Subject, categories: Any) -> Match | None:
    """The final error decodes to one of ``categories`` (from the code knowledge)."""
    final = subject.attempt.final
    if final is None or not final.categories & set(as_list(categories)):
        return None
    return Match([final], {"error": final.raw})


@predicate("library_message")
def library_message(subject: Subject, ids: Any) -> Match | None:
    """The library printed one of the messages ``ids`` (stable ids of ``knowledge/debug/messages.json`` or
    ``knowledge/platforms/esp-tls-messages.json``): a complaint such as ``ssl.bad-message-length``."""
    wanted = set(as_list(ids))
    hits: list[Any] = [item for item in subject.attempt.complaints if item.message_id in wanted]
    hits += [item for item in subject.attempt.library_messages if item.id in wanted]
    if not hits:
        return None
    hits.sort(key=lambda item: item.line)
    first = hits[0]
    facts: dict[str, Any] = {"library_message": getattr(first, "message_id", None) or getattr(first, "id", None)}
    arguments = getattr(first, "arguments", ())
    if arguments:  # what the message printed: a value, a name
        facts["message_value"] = arguments[0]
        if isinstance(arguments[0], int):
            facts["message_value_hex"] = f"0x{arguments[0]:04x}"
    return Match(hits[:3], facts)


@predicate("function")
def function(subject: Subject, names: Any) -> Match | None:
    """The final error came from one of ``names`` (mbedtls_ssl_handshake, mbedtls_ssl_read ...)."""
    final = subject.attempt.final
    if final is None or (final.function or "") not in set(as_list(names)):
        return None
    return Match([final], {"function": final.function})


# --- alerts, steps, verification -----------------------------------------------------------------------------


def _alert(subject: Subject, wanted: Any, direction: str) -> Match | None:
    """An alert in ``direction`` whose number or name is in ``wanted`` (``"any"``: whichever alert)."""
    values = {item if isinstance(item, int) else str(item) for item in as_list(wanted)}
    anything = "any" in values
    for alert in subject.attempt.alerts:
        if alert.direction == direction and (anything or alert.description in values or alert.name in values):
            return Match([alert], {"alert": alert.description, "alert_name": alert.name})
    return None


@predicate("alert_received")
def alert_received(subject: Subject, wanted: Any) -> Match | None:
    return _alert(subject, wanted, "in")


@predicate("alert_sent")
def alert_sent(subject: Subject, wanted: Any) -> Match | None:
    return _alert(subject, wanted, "out")


@predicate("reached")
def reached(subject: Subject, milestones: Any) -> Match | None:
    """Every milestone in the list was reached (printed, or implied by what was printed)."""
    seen = {item.name for item in subject.reached}
    wanted = as_list(milestones)
    if not all(name in seen for name in wanted):
        return None
    return Match([], {"reached": wanted})


@predicate("not_reached")
def not_reached(subject: Subject, milestones: Any) -> Match | None:
    """None of the milestones in the list was reached; an assumption when the log prints no milestones."""
    seen = {item.name for item in subject.reached}
    if any(name in seen for name in as_list(milestones)):
        return None
    if not subject.attempt.visibility.shows_steps:
        return Match(assumptions=[f"the log shows no handshake steps, so it cannot show that {milestones} never came"])
    return Match()


@predicate("last_step")
def last_step(subject: Subject, milestones: Any) -> Match | None:
    """The last milestone reached is one of the list."""
    if not subject.reached:
        return None
    name = subject.reached[-1].name
    if name not in set(as_list(milestones)):
        return None
    return Match([], {"last_step": name})


@predicate("verify_flag")
def verify_flag(subject: Subject, names: Any) -> Match | None:
    wanted = set(as_list(names))
    for flag in subject.attempt.verify_flags:
        if flag.name in wanted:
            return Match([flag], {"verify_flag": flag.name})
    return None


@predicate("verify_flags_also")
def verify_flags_also(subject: Subject, names: Any) -> Match | None:
    """Like ``verify_flag``, under another name so that one condition table can ask for two flags at once."""
    return verify_flag(subject, names)


# --- sizes, context, platform --------------------------------------------------------------------------------


@predicate("measure")
def measure(subject: Subject, spec: Any) -> Match | None:
    """A printed size named ``spec['name']``, optionally with ``value_over_limit``, ``min`` or ``max``."""
    for item in subject.attempt.sizes:
        if item.name != spec["name"]:
            continue
        if "min" in spec and item.value < spec["min"]:
            continue
        if "max" in spec and item.value > spec["max"]:
            continue
        if spec.get("value_over_limit") and (item.limit is None or item.value <= item.limit):
            continue
        return Match([item], size_facts(item.name, item.value, item.limit))
    return None


#: the TLS plaintext record limit: the largest any content-length option may be
MAX_RECORD_CONTENT = 16384


def size_facts(name: str, size: int, limit: int | None = None) -> dict[str, Any]:
    """The facts a size gives rules and fixes: the size and the buffer it overflowed, how to say both,
    the buffer size (a whole KiB) that would hold it, or that no buffer can (it is over one record)."""
    facts: dict[str, Any] = {name: size, f"{name}_limit": limit}
    if limit is not None:
        facts[f"{name}_text"] = f" ({size} bytes, where the buffer holds {limit})"
    if size <= MAX_RECORD_CONTENT:
        facts[f"{name}_fit"] = min(MAX_RECORD_CONTENT, ((size + 1023) // 1024) * 1024)
    else:
        facts[f"{name}_over_record_limit"] = size
    return facts


@predicate("context")
def context(subject: Subject, kinds: Any) -> Match | None:
    """A context line of one of ``kinds`` (alloc-failed, watchdog, crash, heap-free ...) in the attempt."""
    wanted = set(as_list(kinds))
    hits = [item for item in subject.attempt.context if item.kind in wanted]
    if not hits:
        return None
    return Match(hits[:3], {"context": hits[0].kind, "context_value": hits[0].value})


@predicate("clock_year_before")
def clock_year_before(subject: Subject, year: int) -> Match | None:
    """The device clock, as last shown before the failure, is before ``year`` (never set: 1970)."""
    final = subject.attempt.final
    limit = final.line if final is not None else None
    readings = [
        item
        for item in subject.attempt.context
        if item.kind == "clock" and item.value is not None and (limit is None or item.line <= limit)
    ]
    if readings and readings[-1].value is not None and readings[-1].value < year:
        return Match([readings[-1]], {"clock_year": readings[-1].value})
    return None


@predicate("stack")
def stack(subject: Subject, stacks: Any) -> Match | None:
    return Match() if subject.stack in set(as_list(stacks)) else None


@predicate("mbedtls")
def mbedtls(subject: Subject, series: Any) -> Match | None:
    """The log may come from one of the given series; when its version is unknown this is an assumption."""
    wanted = set(as_list(series))
    if not set(subject.series) & wanted:
        return None
    if not subject.version_known or not set(subject.series) <= wanted:
        listed = sorted(wanted, key=series_key)
        either = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"
        return Match(assumptions=[f"the mbedTLS version is {either}"])
    return Match()


@predicate("client_hello")
def client_hello(subject: Subject, spec: Any) -> Match | None:
    """Conditions on what our ClientHello offered: ``sni``, ``tls13``, ``max_fragment_length`` (true/false)."""
    hello = subject.attempt.client_hello
    if hello is None:
        return None
    checks = {
        "sni": bool(hello.server_name),
        "tls13": hello.offers_tls13,
        "max_fragment_length": bool(hello.max_fragment_length),
    }
    for key, expected in spec.items():
        if checks.get(key) != bool(expected):
            return None
    return Match([hello], {"server_name": hello.server_name, "hello_line": hello.line})


@predicate("peer_closed")
def peer_closed(subject: Subject, spec: Any) -> Match | None:
    """The peer closed the connection (a zero-byte read, CONN_EOF or a reset), optionally ``after`` a milestone."""
    hits: list[Any] = [item for item in subject.attempt.sizes if item.name == "f_recv_returned" and item.value == 0]
    eof = {"MBEDTLS_ERR_SSL_CONN_EOF", "MBEDTLS_ERR_NET_CONN_RESET", "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY"}
    hits += [item for item in subject.values() if item.names & eof]
    if not hits:
        return None
    first_line = min(item.line for item in hits)
    after = spec.get("after") if isinstance(spec, dict) else None
    if after:
        seen = [item.line for item in subject.reached if item.name == after]
        if not seen or seen[0] > first_line:
            return None
        later = [item.name for item in subject.reached if seen[0] < item.line < first_line]
        if later and spec.get("directly", True):
            return None
    return Match(sorted(hits, key=lambda item: item.line)[:2], {"closed_line": first_line})


@predicate("certificate")
def certificate(subject: Subject, spec: Any) -> Match | None:
    """A certificate in the attempt matches ``spec``: ``key_size_below``, ``signature_hash`` ..."""
    for cert in subject.attempt.certificates:
        if "key_size_below" in spec and not (cert.key_size and cert.key_size < spec["key_size_below"]):
            continue
        if "signature_hash" in spec and cert.signature_hash not in as_list(spec["signature_hash"]):
            continue
        return Match([cert], {"certificate": cert.subject, "key_size": cert.key_size})
    return None


@predicate("tls_activity")
def tls_activity(subject: Subject, expected: bool) -> Match | None:
    attempt = subject.attempt
    active = bool(attempt.started or attempt.messages or attempt.steps)
    return Match() if active == bool(expected) else None
