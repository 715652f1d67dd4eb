"""Predicates about the device's situation around the attempt: the address it connects to, its free heap.

They feed the context clues of the differential (``knowledge/diagnosis/clues.toml``) as much as the
rules, and read the attempt's typed view only.
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from tlsdiag.rules.predicates import Match, Subject, as_list, predicate


def _requested_host(subject: Subject) -> tuple[str | None, Any]:
    hello = subject.attempt.client_hello
    if hello is not None and hello.server_name:
        return hello.server_name, hello
    hosts = [item for item in subject.attempt.context if item.kind == "host" and item.detail]
    return (hosts[-1].detail, hosts[-1]) if hosts else (None, None)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@predicate("requested_host_is_ip")
def requested_host_is_ip(subject: Subject, expected: bool) -> Match | None:
    """The name the device connects to (its SNI, or the host esp-tls logged) is an IP address.

    Certificates name hosts, rarely addresses: verification by an address fails on the name, and a
    server that picks its certificate by SNI gets none (an address is never sent as SNI)."""
    name, evidence = _requested_host(subject)
    if name is None:
        return None
    if _is_address(name) != bool(expected):
        return None
    return Match([evidence] if evidence is not None else [], {"requested_host": name})


def _heap_readings(subject: Subject) -> list[Any]:
    final = subject.attempt.final
    limit = final.line if final is not None else None
    return [
        item
        for item in subject.attempt.context
        if item.kind == "heap-free" and item.value is not None and (limit is None or item.line <= limit)
    ]


@predicate("heap_below")
def heap_below(subject: Subject, limit: int) -> Match | None:
    """The last free-heap figure the attempt printed before it failed is below ``limit`` bytes."""
    readings = _heap_readings(subject)
    if not readings or readings[-1].value >= int(limit):
        return None
    return Match([readings[-1]], {"heap_free": readings[-1].value})


@predicate("heap_above")
def heap_above(subject: Subject, limit: int) -> Match | None:
    """The smallest free-heap figure the attempt printed before it failed is above ``limit`` bytes."""
    readings = _heap_readings(subject)
    if not readings:
        return None
    lowest = min(readings, key=lambda item: item.value)
    if lowest.value <= int(limit):
        return None
    return Match([lowest], {"heap_free": lowest.value})


@predicate("worked_before")
def worked_before(subject: Subject, expected: bool) -> Match | None:
    """An earlier attempt in the same log completed its handshake, or the paste says the first requests worked."""
    said = [item for item in subject.attempt.context if item.kind == "worked-before"]
    found = subject.earlier_success or bool(said)
    if found != bool(expected):
        return None
    return Match(said[:1])


class _Printed(NamedTuple):
    """A line of the log as evidence (a board feature printed at boot, before any attempt)."""

    line: int
    quote: str


@predicate("board_feature")
def board_feature(subject: Subject, names: Any) -> Match | None:
    """The log shows the board has one of ``names`` (``psram``), wherever it printed it (usually at boot)."""
    wanted = set(as_list(names))
    found = [(name, line, text) for name, line, text in subject.features if name in wanted]
    if not found:
        return None
    name, line, text = found[0]
    return Match([_Printed(line, text)], {"board_feature": name})


@predicate("pasted_config")
def pasted_config(subject: Subject, rules: Any) -> Match | None:
    """A configuration pasted into the log has a lint finding of one of ``rules`` (``CFG-KX-001``...)."""
    wanted = set(as_list(rules))
    found = [item for item in subject.pasted_config if item.rule in wanted]
    if not found:
        return None
    evidence = [_Printed(line, text) for item in found for line, text in item.evidence][:3]
    return Match(evidence, {"config_finding": found[0].title, "config_rule": found[0].rule})


__all__ = ["board_feature", "heap_above", "heap_below", "pasted_config", "requested_host_is_ip", "worked_before"]
