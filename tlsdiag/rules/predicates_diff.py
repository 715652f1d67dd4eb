"""Predicates over the difference between a working and a failing run (only true inside ``tlsdiag diff``)."""

from __future__ import annotations

from typing import Any

from tlsdiag.rules.predicates import Match, Subject, predicate


@predicate("diff_client_hello_identical")
def diff_client_hello_identical(subject: Subject, expected: bool) -> Match | None:
    """Both runs sent a ClientHello and they offer the same (``true``) or differ (``false``)."""
    if subject.diff is None or subject.diff.identical_client_hello is None:
        return None
    return Match() if subject.diff.identical_client_hello == bool(expected) else None


@predicate("diff_only_failing")
def diff_only_failing(subject: Subject, what: Any) -> Match | None:
    """A milestone kind that only the failing run shows: ``peer_closed``, ``cert_too_large`` ..."""
    if subject.diff is None:
        return None
    keys = {"peer_closed": ("read", "end of stream (peer closed)"), "cert_too_large": ("size", "cert_too_large")}
    key = keys.get(what)
    if key is None:
        return None
    good = {item.key[:2] for item in subject.diff.good_timeline}
    hits = [item for item in subject.diff.bad_timeline if item.key[:2] == key and key not in good]
    if not hits:
        return None
    return Match(_items_at(subject, hits[0].line), {"diff_line": hits[0].line, "diff_label": hits[0].label})


def _items_at(subject: Subject, line: int) -> list[Any]:
    """The failing run's view items printed on ``line`` (what a milestone of its timeline was made from)."""
    attempt = subject.attempt
    groups = (attempt.sizes, attempt.errors, attempt.messages, attempt.alerts)
    return [item for group in groups for item in group if item.line == line][:1]


@predicate("diff_changed")
def diff_changed(subject: Subject, kinds: Any) -> Match | None:
    """One of the differences found is of a listed kind (``certificate:server-leaf``, ``client-hello:ciphersuites``)."""
    if subject.diff is None:
        return None
    wanted = set(kinds if isinstance(kinds, list) else [kinds])
    for item in subject.diff.differences:
        if item.kind in wanted:
            return Match([], {"diff_kind": item.kind, "diff_description": item.description})
    return None
