"""Conditions of ``#if`` lines and of Kconfig ``depends on``, evaluated with three values: true, false, unknown.

A configuration never tells us everything: ``check_config.h`` tests compiler macros (``_WIN32``,
``__GNUC__``), headers derive macros we may not model, Zephyr headers depend on the application's
Kconfig. A condition that mentions such a macro is *unknown* unless the known part decides it
(``defined(A) && X`` with ``A`` undefined is false whatever ``X`` is). Linting only reports what the
known part decides, so an unknown never becomes a finding.

Values are ``int`` (truth is non-zero) or ``None`` for unknown. The same grammar serves Kconfig
expressions (``A && !B``, ``SOC_RSA_MAX_BIT_LEN <= 3072``, ``A = y``), where a bare symbol is read
through ``value`` and ``=`` compares.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

_TOKEN = re.compile(
    r"\s*(?:(?P<number>0[xX][0-9a-fA-F]+|\d+)[uUlL]*|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>\"[^\"]*\")|(?P<op>&&|\|\||==|!=|<=|>=|<<|>>|[!()<>+\-*/%=~&|^]))"
)

Value = int | None
Node = tuple[object, ...]


class Environment(Protocol):
    """What a condition can ask: is a name defined, and what is its value (``None``: unknown)."""

    def defined(self, name: str) -> bool | None: ...

    def value(self, name: str) -> int | None: ...


class ExpressionError(ValueError):
    """A condition the grammar cannot read (it is then treated as unknown)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r}")
        position = match.end()
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
    return tokens


_BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!=", "="), ("<", ">", "<=", ">="), ("<<", ">>")]
_BINARY += [("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of condition")
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        _, value = self.take()
        if value != text:
            raise ExpressionError(f"expected {text!r}, found {value!r}")

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in _BINARY[level]:
            self.take()
            node = ("binary", token[1], node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        token = self.take()
        kind, text = token
        if kind == "op" and text in ("!", "-", "+", "~"):
            return ("unary", text, self.unary())
        if kind == "op" and text == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if kind == "number":
            return ("number", int(text, 0))
        if kind == "string":
            return ("string", text[1:-1])
        if kind == "name" and text == "defined":
            following = self.take()
            if following == ("op", "("):
                name = self.take()
                self.expect(")")
            else:
                name = following
            if name[0] != "name":
                raise ExpressionError("defined needs a name")
            return ("defined", name[1])
        if kind == "name":
            if self.peek() == ("op", "("):  # a function-like macro call: unknown
                depth = 0
                while (inner := self.take()) is not None:
                    depth += {"(": 1, ")": -1}.get(inner[1], 0) if inner[0] == "op" else 0
                    if depth == 0:
                        break
                return ("unknown",)
            return ("name", text)
        raise ExpressionError(f"unexpected {text!r}")


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """The syntax tree of a condition; unreadable text gives a node that evaluates to unknown."""
    try:
        return _Parser(_tokens(text)).parse()
    except (ExpressionError, RecursionError):
        return ("unknown",)


def evaluate(text: str, environment: Environment) -> Value:
    """Evaluate ``text`` (``#if`` syntax, or Kconfig syntax) in ``environment``: 1, 0 or None (unknown)."""
    return _evaluate(parse(text), environment)


def truth(value: Value) -> bool | None:
    return None if value is None else value != 0


def operand(node: Node, index: int) -> Node:
    """The sub-expression at ``index`` of a unary or binary node (the parser builds it as a node; anything
    else reads as unknown)."""
    child = node[index]
    return child if isinstance(child, tuple) else ("unknown",)


def _evaluate(node: Node, environment: Environment) -> Value:
    kind = node[0]
    if kind == "number":
        number = node[1]
        return number if isinstance(number, int) else None
    if kind == "string":
        return None
    if kind == "unknown":
        return None
    if kind == "defined":
        known = environment.defined(str(node[1]))
        return None if known is None else int(known)
    if kind == "name":
        return environment.value(str(node[1]))
    if kind == "unary":
        value = _evaluate(operand(node, 2), environment)
        if value is None:
            return None
        return {"!": int(not value), "-": -value, "+": value, "~": ~value}[str(node[1])]
    operator, left_node, right_node = str(node[1]), operand(node, 2), operand(node, 3)
    left = _evaluate(left_node, environment)
    if operator == "&&":
        if left == 0:
            return 0
        right = _evaluate(right_node, environment)
        if right == 0:
            return 0
        return None if left is None or right is None else 1
    if operator == "||":
        if left is not None and left != 0:
            return 1
        right = _evaluate(right_node, environment)
        if right is not None and right != 0:
            return 1
        return None if left is None or right is None else 0
    right = _evaluate(right_node, environment)
    if left is None or right is None:
        return None
    return _arithmetic(operator, left, right)


def _arithmetic(operator: str, left: int, right: int) -> Value:
    if operator in ("==", "="):
        return int(left == right)
    if operator == "!=":
        return int(left != right)
    if operator in ("<", ">", "<=", ">="):
        return int({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator])
    if operator in ("/", "%") and right == 0:
        return None
    table = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: int(left / right),
        "%": lambda: left % right,
        "<<": lambda: left << right if 0 <= right < 64 else None,
        ">>": lambda: left >> right if 0 <= right < 64 else None,
        "&": lambda: left & right,
        "|": lambda: left | right,
        "^": lambda: left ^ right,
    }
    return table[operator]()


def names(text: str) -> set[str]:
    """Every macro or symbol name a condition mentions."""
    found: set[str] = set()

    def walk(node: Node) -> None:
        if node[0] in ("defined", "name"):
            found.add(str(node[1]))
        for child in node[1:]:
            if isinstance(child, tuple):
                walk(child)

    walk(parse(text))
    return found
