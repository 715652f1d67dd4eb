"""Checks a knowledge document against its JSON Schema: the part of draft 2020-12 the schemas use.

A schema is compiled once into nested checks; a valid document costs a call or two per value and builds
no paths. The first problem raises :class:`Invalid`, whose path (keys and indexes from the top) the store
words as the entry and the field at fault. A schema that uses a keyword not listed here is refused
(:class:`SchemaError`) instead of being half applied.

The jsonschema package is not a dependency of tlsdiag: the tests use it as a second opinion on every
file, and its error paths would need the same translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tlsdiag.knowledge.errors import shown

Check = Callable[[Any], None]

# Keywords that describe and never constrain.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples", "format"}
)
_OBJECT = ("properties", "required", "additionalProperties", "propertyNames", "minProperties", "maxProperties")
_ARRAY = ("items", "minItems", "maxItems", "uniqueItems")
_STRING = ("minLength", "maxLength", "pattern")
_NUMBER = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_OTHER = ("$ref", "type", "enum", "const", "oneOf", "anyOf", "allOf")
_KNOWN = frozenset(_OBJECT + _ARRAY + _STRING + _NUMBER + _OTHER) | _ANNOTATIONS

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a table",
    "null": "null",
}


class Invalid(Exception):
    """A value against its schema: ``problem`` says what is wrong, ``path`` where (filled on the way out)."""

    def __init__(self, problem: str, *path: str | int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = list(path)


class SchemaError(Exception):
    """A schema the validator cannot apply: ``where`` is the JSON pointer of the offending part."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def compile_schema(schema: Any) -> Check:
    """The check that raises :class:`Invalid` for a document that ``schema`` rejects."""
    return _Compiler(schema).compile(schema, "#")


def kind_of(value: Any) -> str:
    """How a value's type reads in a message ("a string", "a list", "true or false")."""
    for name, test in _TYPE_TESTS.items():
        if name != "number" and test(value):
            return _TYPE_NAMES[name]
    return "a number"


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.targets: dict[str, list[Check]] = {}

    def compile(self, node: Any, where: str) -> Check:
        if node is True or node == {}:
            return _accept
        if node is False:
            return _reject
        if not isinstance(node, dict):
            raise SchemaError(where, "is not a schema (a table of keywords, true or false)")
        unknown = sorted(set(node) - _KNOWN)
        if unknown:
            raise SchemaError(where, f"uses {', '.join(unknown)}, which the knowledge validator does not support")
        checks = [
            check
            for check in (
                self._reference(node, where),
                _type(node, where),
                _enum(node),
                self._object(node, where),
                self._array(node, where),
                _string(node, where),
                _number(node),
                self._alternatives(node, where),
            )
            if check is not None
        ]
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks

            def both(value: Any) -> None:
                first(value)
                second(value)

            return both

        def every(value: Any) -> None:
            for check in checks:
                check(value)

        return every

    def _reference(self, node: dict[str, Any], where: str) -> Check | None:
        target = node.get("$ref")
        if target is None:
            return None
        if not isinstance(target, str) or not target.startswith("#"):
            raise SchemaError(where, "$ref must point inside the same schema (#/$defs/NAME)")
        holder = self.targets.get(target)
        if holder is None:
            holder = self.targets[target] = []
            holder.append(self.compile(self._resolve(target, where), target))
        if holder:
            return holder[0]

        def later(value: Any) -> None:  # a schema that refers to itself: resolved once compiled
            holder[0](value)

        return later

    def _resolve(self, target: str, where: str) -> Any:
        node = self.root
        for part in (part for part in target[1:].split("/") if part):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise SchemaError(where, f"$ref {target} points at nothing")
            node = node[key]
        return node

    def _object(self, node: dict[str, Any], where: str) -> Check | None:
        if not any(keyword in node for keyword in _OBJECT):
            return None
        properties = {
            key: self.compile(value, f"{where}/properties/{key}") for key, value in node.get("properties", {}).items()
        }
        required = tuple(node.get("required", ()))
        extra = node.get("additionalProperties", True)
        others = None if extra is False else self.compile(extra, f"{where}/additionalProperties")
        names = self.compile(node["propertyNames"], f"{where}/propertyNames") if "propertyNames" in node else None
        fewest = node.get("minProperties", 0)
        most = node.get("maxProperties")
        allowed = ", ".join(properties) or "none"

        def check(value: Any) -> None:
            if not isinstance(value, dict):
                return
            for name in required:
                if name not in value:
                    raise Invalid("is missing", name)
            for key, item in value.items():
                if names is not None:
                    try:
                        names(key)
                    except Invalid as error:
                        raise Invalid(f"is not an allowed name: {shown(key)} {error.problem}", key) from None
                inner = properties.get(key, others)
                if inner is None:
                    raise Invalid(f"is not a field here (the fields are: {allowed})", key)
                try:
                    inner(item)
                except Invalid as error:
                    error.path.insert(0, key)
                    raise
            if len(value) < fewest:
                raise Invalid(f"has {len(value)} entries, fewer than {fewest}")
            if most is not None and len(value) > most:
                raise Invalid(f"has {len(value)} entries, more than {most}")

        return check

    def _array(self, node: dict[str, Any], where: str) -> Check | None:
        if not any(keyword in node for keyword in _ARRAY):
            return None
        items = self.compile(node["items"], f"{where}/items") if "items" in node else None
        fewest = node.get("minItems", 0)
        most = node.get("maxItems")
        unique = bool(node.get("uniqueItems"))

        def check(value: Any) -> None:
            if not isinstance(value, list):
                return
            if len(value) < fewest:
                raise Invalid(f"has {len(value)} items, fewer than {fewest}")
            if most is not None and len(value) > most:
                raise Invalid(f"has {len(value)} items, more than {most}")
            if items is not None:
                for index, item in enumerate(value):
                    try:
                        items(item)
                    except Invalid as error:
                        error.path.insert(0, index)
                        raise
            if unique:
                seen: list[Any] = []
                for index, item in enumerate(value):
                    if any(_same(item, earlier) for earlier in seen):
                        raise Invalid(f"repeats {shown(item)}", index)
                    seen.append(item)

        return check

    def _alternatives(self, node: dict[str, Any], where: str) -> Check | None:
        found: list[Check] = []
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword not in node:
                continue
            options = node[keyword]
            if not isinstance(options, list) or not options:
                raise SchemaError(f"{where}/{keyword}", "must be a non-empty list of schemas")
            compiled = [self.compile(option, f"{where}/{keyword}/{index}") for index, option in enumerate(options)]
            found.append(_combined(keyword, compiled))
        if not found:
            return None
        if len(found) == 1:
            return found[0]

        def every(value: Any) -> None:
            for check in found:
                check(value)

        return every


def _combined(keyword: str, options: list[Check]) -> Check:
    def check(value: Any) -> None:
        problems: list[Invalid] = []
        for option in options:
            try:
                option(value)
            except Invalid as error:
                if keyword == "allOf":
                    raise
                problems.append(error)
        passed = len(options) - len(problems)
        if (keyword == "anyOf" and not passed) or (keyword == "oneOf" and passed == 0):
            closest = max(problems, key=lambda error: len(error.path))
            if closest.path:  # one form fitted the value itself and failed inside it: that is the problem
                raise Invalid(closest.problem, *closest.path)
            raise Invalid(f"matches none of the allowed forms ({closest.problem})")
        if keyword == "oneOf" and passed > 1:
            raise Invalid("matches more than one of the allowed forms")

    return check


def _type(node: dict[str, Any], where: str) -> Check | None:
    wanted = node.get("type")
    if wanted is None:
        return None
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    if not names or any(name not in _TYPE_TESTS for name in names):
        raise SchemaError(where, f"type {wanted} is not one of {', '.join(_TYPE_TESTS)}")
    tests = [_TYPE_TESTS[name] for name in names]
    expected = " or ".join(_TYPE_NAMES[name] for name in names)
    if len(tests) == 1:
        test = tests[0]

        def check(value: Any) -> None:
            if not test(value):
                raise Invalid(f"must be {expected}, not {kind_of(value)}")

        return check

    def check_any(value: Any) -> None:
        if not any(test(value) for test in tests):
            raise Invalid(f"must be {expected}, not {kind_of(value)}")

    return check_any


def _enum(node: dict[str, Any]) -> Check | None:
    if "enum" in node:
        options = list(node["enum"])
    elif "const" in node:
        options = [node["const"]]
    else:
        return None
    listed = ", ".join(shown(option) for option in options)

    def check(value: Any) -> None:
        if not any(_same(value, option) for option in options):
            raise Invalid(f"{shown(value)} is not one of {listed}" if len(options) > 1 else f"must be {listed}")

    return check


def _string(node: dict[str, Any], where: str) -> Check | None:
    if not any(keyword in node for keyword in _STRING):
        return None
    shortest = node.get("minLength", 0)
    longest = node.get("maxLength")
    try:
        pattern = re.compile(node["pattern"]) if "pattern" in node else None
    except re.error as error:
        raise SchemaError(f"{where}/pattern", f"is not a regular expression: {error}") from None

    def check(value: Any) -> None:
        if not isinstance(value, str):
            return
        if len(value) < shortest:
            raise Invalid(f"{shown(value)} is shorter than {shortest} characters")
        if longest is not None and len(value) > longest:
            raise Invalid(f"{shown(value)} is longer than {longest} characters")
        if pattern is not None and not pattern.search(value):
            raise Invalid(f"{shown(value)} does not match {pattern.pattern}")

    return check


def _number(node: dict[str, Any]) -> Check | None:
    bounds = [(keyword, node[keyword]) for keyword in _NUMBER if keyword in node]
    if not bounds:
        return None
    fails = {
        "minimum": (lambda value, bound: value < bound, "less than the minimum"),
        "maximum": (lambda value, bound: value > bound, "more than the maximum"),
        "exclusiveMinimum": (lambda value, bound: value <= bound, "not more than"),
        "exclusiveMaximum": (lambda value, bound: value >= bound, "not less than"),
    }

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        for keyword, bound in bounds:
            test, words = fails[keyword]
            if test(value, bound):
                raise Invalid(f"{shown(value)} is {words} {shown(bound)}")

    return check


def _same(value: Any, other: Any) -> bool:
    """JSON equality: true is not 1, and 1 is 1.0."""
    if isinstance(value, bool) or isinstance(other, bool):
        return isinstance(value, bool) and isinstance(other, bool) and value == other
    return bool(value == other)


def _accept(value: Any) -> None:
    return None


def _reject(value: Any) -> None:
    raise Invalid("is not allowed here")
