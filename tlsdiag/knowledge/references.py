"""References between knowledge files, and values that must be unique within one.

A schema checks one file; what a file names in another (a rule's cause, a clue's favoured causes, a fix's
target, an explained code's name) is checked here, from the ``references`` and ``unique`` lists of
``knowledge/schema/index.toml``. Both are written as paths into a document:

    rule[].cause          the field ``cause`` of each item of the list ``rule``
    clue[].favours{}      the keys of the table ``favours`` of each clue
    adds{*}[]             each item of each list held by the table ``adds``

A reference's target is ``FILE#PATH`` (``diagnosis/causes.toml#cause[].id``): the values the path finds
in that file are the ones that may be named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tlsdiag.knowledge.errors import shown
from tlsdiag.knowledge.validate import Invalid

Found = tuple[Any, list[str | int]]  # a value and the keys and indexes that lead to it


def walk(document: Any, path: str) -> Iterator[Found]:
    """Every value ``path`` reaches in ``document``, with where it was found; missing fields are skipped."""
    found: list[Found] = [(document, [])]
    for segment in path.split("."):
        found = list(_step(found, segment))
    yield from found


def _step(found: list[Found], segment: str) -> Iterator[Found]:
    name, operators = _split(segment)
    for value, where in found:
        if name:
            if not isinstance(value, dict) or name not in value:
                continue
            value, where = value[name], [*where, name]
        yield from _apply(value, where, operators)


def _split(segment: str) -> tuple[str, list[str]]:
    operators: list[str] = []
    while segment.endswith(("[]", "{}", "{*}")):
        operator = "{*}" if segment.endswith("{*}") else segment[-2:]
        operators.insert(0, operator)
        segment = segment[: -len(operator)]
    return segment, operators


def _apply(value: Any, where: list[str | int], operators: list[str]) -> Iterator[Found]:
    if not operators:
        yield value, where
        return
    operator, rest = operators[0], operators[1:]
    if operator == "[]" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _apply(item, [*where, index], rest)
    elif operator == "{}" and isinstance(value, dict):
        for key in value:
            yield from _apply(key, [*where, key], rest)
    elif operator == "{*}" and isinstance(value, dict):
        for key, item in value.items():
            yield from _apply(item, [*where, key], rest)


def values(document: Any, path: str) -> frozenset[Any]:
    """The values ``path`` reaches (a reference's target set)."""
    return frozenset(_hashable(value) for value, _ in walk(document, path))


def check_unique(document: Any, path: str) -> None:
    """Raise :class:`Invalid` at the second occurrence of any value ``path`` reaches twice."""
    seen: set[Any] = set()
    for value, where in walk(document, path):
        key = _hashable(value)
        if key in seen:
            raise Invalid(f"{shown(value)} is used twice ({path} must be unique)", *where)
        seen.add(key)


def check_reference(document: Any, path: str, allowed: frozenset[Any], target: str) -> None:
    """Raise :class:`Invalid` where ``path`` reaches a value that is not in ``allowed`` (found in ``target``)."""
    for value, where in walk(document, path):
        if _hashable(value) not in allowed:
            raise Invalid(f"{shown(value)} is not defined in {target}", *where)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
