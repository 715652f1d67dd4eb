"""Predicates of the resources / network / hardware rule family.

They add to :mod:`tlsdiag.rules.predicates` what these rules need and the shared vocabulary lacks:

- ``allocation_failed``: memory ran out anywhere in the attempt, in any of the forms logs show it;
- ``defined_error``: ``error`` restricted to readings where the value is a defined code;
- ``esp_error``: ESP-IDF ``esp_err_t`` values (``Last esp error code: 0x8001``, ``...: ESP_ERR_...``);
- ``final_error_kind`` / ``wrapper_error``: which table the value the application got decodes in first
  (a transport value passed through ``mbedtls_ssl_handshake``, or a socket API's summary printed after
  the mbedTLS code);
- ``context_detail``: a context line together with the text the parser kept from it (a host name);
- ``handshake_progress``: a fact provider that never rejects, for explanations that name the step
  where the handshake stopped.

Like every predicate they read the attempt's typed view, never log text.
"""

from __future__ import annotations

from typing import Any

from tlsdiag.analysis.views import PrintedValue
from tlsdiag.knowledge import load
from tlsdiag.model import Interpretation
from tlsdiag.rules.predicates import Match, Subject, predicate, strongest

#: a plausibility below this is a half-match (undefined high part) or a composite of modules that never combine
PLAUSIBLE_READING = 0.3


def _as_set(argument: Any) -> set[str]:
    return set(argument) if isinstance(argument, (list, tuple, set)) else {argument}


def _defined_names(item: PrintedValue) -> frozenset[str]:
    """Names of the value in the readings where every part is a defined code."""
    found: set[str] = set()
    for reading in item.interpretations:
        if reading.complete and reading.plausibility >= PLAUSIBLE_READING:
            for part in reading.parts:
                if part.name:
                    found.add(part.name)
                found.update(part.aliases)
    return frozenset(found)


# --- error values read only where they are defined ---------------------------------------------------------


@predicate("defined_error")
def defined_error(subject: Subject, names: Any) -> Match | None:
    """Like ``error``, but only readings in which the value is a defined code count.

    ``error`` also matches half-readings: MicroPython's ``-2880`` (decimal, -0x0B40) has no defined high
    part, yet its low part reads as ENTROPY_NO_SOURCES_DEFINED. Here such a value matches nothing.
    """
    wanted = _as_set(names)
    hits = [item for item in subject.values() if _defined_names(item) & wanted]
    if not hits:
        return None
    first = strongest(hits)
    assert first is not None
    name = sorted(_defined_names(first) & wanted)[0]
    return Match(hits[:3], {"error": first.raw, "error_name": name, "error_value": first.value})


# --- allocation failures ------------------------------------------------------------------------------------


@predicate("allocation_failed")
def allocation_failed(subject: Subject, expected: Any) -> Match | None:
    """Memory ran out somewhere in the attempt (``true``), or nowhere (``false``).

    Signs: an error value with an ``*_ALLOC_FAILED`` name, whole or as the low part of a composite
    (-0x4290 = RSA_PUBLIC_FAILED + MPI_ALLOC_FAILED); a final error whose category is memory; an
    ``alloc-failed`` context line (ESP-IDF's dynamic buffers: ``alloc(16717 bytes) failed``); the
    library's own allocation messages or an application's words for it (``knowledge/errors/
    outcomes.toml``). Facts: ``error``, ``error_name``, ``alloc_size``. Rules of other families can use
    ``[rule.unless] allocation_failed = true``: a verify failure or a key error next to an allocation
    failure is what the failed allocation looked like.
    """
    message_ids, texts, other_names = load().memory_signs
    attempt = subject.attempt
    evidence: list[Any] = []
    facts: dict[str, Any] = {}
    for item in attempt.errors:
        names = sorted(name for name in _defined_names(item) if name.endswith("_ALLOC_FAILED") or name in other_names)
        if names:
            evidence.append(item)
            if "error" not in facts or not item.mentioned:
                facts.update({"error": item.raw, "error_name": names[0], "error_value": item.value})
    for complaint in attempt.complaints:
        if complaint.message_id in message_ids or any(text in complaint.text.casefold() for text in texts):
            evidence.append(complaint)
            facts.setdefault("error_text", complaint.text)
    final = attempt.final
    if final is not None and "memory" in final.categories:
        evidence.append(final)
        facts.setdefault("error", final.raw)
    for context in attempt.context:
        if context.kind == "alloc-failed":
            evidence.append(context)
            if context.value is not None:
                facts.setdefault("alloc_size", context.value)
    found = bool(evidence)
    if found != bool(expected):
        return None
    unique = sorted({id(item): item for item in evidence}.values(), key=lambda item: item.line)
    return Match(unique[-3:], facts) if found else Match()


# --- ESP-IDF esp_err_t values --------------------------------------------------------------------------------


@predicate("esp_error")
def esp_error(subject: Subject, names: Any) -> Match | None:
    """An ESP-IDF ``esp_err_t`` in the attempt has one of ``names`` (``ESP_ERR_ESP_TLS_...``).

    esp-tls codes are positive (``0x8001``). They reach a log as a number (``Last esp error code:
    0x8001``) or by name (``...: ESP_ERR_HTTP_CONNECT``). A number is read with every ESP-IDF release in
    scope, so ``0x8006`` matches both ``ESP_ERR_MBEDTLS_CERT_PARTLY_OK`` (4.0) and
    ``ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT`` (4.4 and later) unless the release is known.
    """
    wanted = _as_set(names)
    for item in subject.values():
        if item.value > 0:
            found = _defined_names(item) & wanted
            if found:
                return Match([item], {"esp_error": sorted(found)[0], "esp_error_raw": item.raw})
    for context in subject.attempt.context:
        if context.kind == "esp-err" and context.detail in wanted:
            return Match([context], {"esp_error": context.detail, "esp_error_raw": context.detail})
    return None


# --- which table a value decodes in first --------------------------------------------------------------------


def _application_value(subject: Subject) -> PrintedValue | None:
    """The value the application got: the final error, else the last negative value any call returned."""
    final = subject.attempt.final
    if final is not None:
        return final
    return next((item for item in reversed(subject.attempt.errors) if item.value < 0 and not item.mentioned), None)


def _best_for_stack(interpretations: tuple[Interpretation, ...], kind: str, stack: str) -> Interpretation | None:
    """The reading of ``kind`` that belongs to the log's platform (WIZnet on Espruino, NSAPI on Mbed OS)."""
    readings = [item for item in interpretations if item.kind == kind]
    if not readings:
        return None
    for item in readings:
        if any(platform.split(" ")[0] == stack for platform in item.platforms):
            return item
    return readings[0]


def _reading_facts(prefix: str, reading: Interpretation | None) -> dict[str, Any]:
    if reading is None or not reading.parts:
        return {}
    part = reading.parts[0]
    return {
        f"{prefix}_name": part.name,
        f"{prefix}_family": reading.versions[0] if reading.versions else None,
        f"{prefix}_meaning": reading.meaning or part.summary,
        f"{prefix}_category": reading.category,
    }


@predicate("final_error_kind")
def final_error_kind(subject: Subject, kinds: Any) -> Match | None:
    """The value the application got decodes first as one of ``kinds`` (mbedtls, psa, esp-tls, transport, unknown).

    ``transport`` means the value is not an mbedTLS code at all: a socket callback's own number passed
    straight through ``mbedtls_ssl_handshake`` (``-0x7`` from WIZnet, ``-3011`` from NSAPI). When no
    call failed the attempt, the last negative value any call returned is used. Facts: ``error``,
    ``function``, and ``transport_name`` / ``transport_family`` / ``transport_meaning`` for the reading
    that belongs to the log's stack.
    """
    item = _application_value(subject)
    if item is None or item.kind not in _as_set(kinds):
        return None
    facts = {"error": item.raw, "function": item.function, "error_kind": item.kind}
    facts.update(_reading_facts("transport", _best_for_stack(item.interpretations, "transport", subject.stack)))
    return Match([item], facts)


@predicate("wrapper_error")
def wrapper_error(subject: Subject, kinds: Any) -> Match | None:
    """After the final mbedTLS error, a call outside mbedTLS reported a value of one of ``kinds``.

    This is a socket API summarising the TLS failure in its own terms (Mbed OS ``TLSSocket::connect()``
    returns ``NSAPI_ERROR_AUTH_FAILURE``, -3011, for every failed handshake): the value the application
    sees, but not the cause. Facts: ``wrapper_raw``, ``wrapper_function``, ``wrapper_name``,
    ``wrapper_family``, ``wrapper_meaning``, and ``error`` (the mbedTLS code it stands for).
    """
    final = subject.attempt.final
    if final is None:
        return None
    wanted = _as_set(kinds)
    for item in subject.attempt.errors:
        if item.mentioned or item.value >= 0 or item.line <= final.line or item is final:
            continue
        if item.kind not in wanted or item.kind == final.kind:
            continue
        facts: dict[str, Any] = {"error": final.raw, "wrapper_raw": item.raw, "wrapper_function": item.function}
        facts.update(_reading_facts("wrapper", _best_for_stack(item.interpretations, item.kind, subject.stack)))
        return Match([final, item], facts)
    return None


# --- context with its detail, progress -----------------------------------------------------------------------


@predicate("context_detail")
def context_detail(subject: Subject, kinds: Any) -> Match | None:
    """A context line of one of ``kinds`` that carries a detail (the host of ``dns-failed``).

    Facts: ``context``, ``context_detail``, ``context_value``.
    """
    wanted = _as_set(kinds)
    for item in subject.attempt.context:
        if item.kind in wanted and item.detail:
            return Match([item], {"context": item.kind, "context_detail": item.detail, "context_value": item.value})
    return None


@predicate("handshake_progress")
def handshake_progress(subject: Subject, _argument: Any) -> Match | None:
    """Never rejects: facts about where the handshake stopped, for explanations with ``{fact|fallback}``.

    ``last_step`` is the last milestone the log shows completed. When the step in progress at the end
    (entered, never left) is the parsing of a message from the peer (``=> parse server hello``) and that
    message never arrived, ``waiting_for`` names it: the message the device was waiting for.
    """
    attempt = subject.attempt
    facts: dict[str, Any] = {}
    if attempt.milestones:
        last = attempt.milestones[-1]
        facts.update({"last_step": last.name, "last_step_line": last.line})
    if attempt.waiting_for is not None:
        facts["waiting_for"] = attempt.waiting_for
    return Match([], facts)


__all__ = [
    "allocation_failed",
    "context_detail",
    "defined_error",
    "esp_error",
    "final_error_kind",
    "handshake_progress",
    "wrapper_error",
]
