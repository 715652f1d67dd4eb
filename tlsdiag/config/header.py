"""Reading mbedTLS configuration headers: ``config.h`` (2.x), ``mbedtls_config.h`` (3.x/4.x), user overrides.

The header is run through a small preprocessor: comments and line continuations are removed,
``#if``/``#ifdef``/``#elif``/``#else``/``#endif`` are followed with three-valued conditions, ``#define``
and ``#undef`` set or clear macros, and ``#include`` pulls in headers found next to the file (a
``MBEDTLS_USER_CONFIG_FILE`` in particular, which mbedTLS includes after the configuration). A define
under a condition the file alone does not decide (Zephyr's ``#if defined(CONFIG_...)``) is kept as
*maybe*. Lines that comment an option out (``//#define MBEDTLS_X``) are remembered: they say which
mbedTLS version the file was copied from.

Configurations pasted into a forum post or an issue come with prose and code around them; the
longest run of preprocessor lines is taken as the configuration and the rest as code to scan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tlsdiag.config.expr import evaluate, truth
from tlsdiag.config.model import Setting
from tlsdiag.errors import InputError

_DIRECTIVE = re.compile(r"^\s*#\s*([a-z_]+)\b\s*(.*)$")
_DEFINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?\s*(.*)$")
_COMMENTED_DEFINE = re.compile(r"^\s*(?://+|/\*+)\s*#\s*define\s+(MBEDTLS_[A-Za-z0-9_]+)")
_INCLUDE = re.compile(r"^[\"“”<]([^\"“”>]+)[\"“”>]|^([A-Za-z_][A-Za-z0-9_]*)$")
_CONFIG_LINE = ("#", "//", "/*", "*", "*/")
MAX_INCLUDE_DEPTH = 4


@dataclass
class HeaderState:
    """What preprocessing a header (and what it includes) produced."""

    settings: dict[str, Setting] = field(default_factory=dict)
    commented: dict[str, int] = field(default_factory=dict)
    includes_check_config: bool = False
    included: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conditional: int = 0
    undefs: int = 0
    guard: bool = False  # the file is guarded like a full configuration (MBEDTLS_CONFIG_H)


class _Environment:
    """Conditions inside a header see the macros defined so far, and Kconfig symbols when known."""

    def __init__(self, state: HeaderState, symbols: Mapping[str, str] | None) -> None:
        self.state = state
        self.symbols = symbols

    def defined(self, name: str) -> bool | None:
        setting = self.state.settings.get(name)
        if setting is not None:
            return {"on": True, "off": False}.get(setting.state)
        if name.startswith("CONFIG_"):
            if self.symbols is None or name not in self.symbols:
                return None
            return self.symbols[name] not in ("n", "")
        if name.startswith(("MBEDTLS_", "PSA_")):
            return False
        return None

    def value(self, name: str) -> int | None:
        setting = self.state.settings.get(name)
        if setting is not None:
            if setting.state != "on":
                return None if setting.state == "maybe" else 0
            return evaluate(setting.value or "1", _Shallow(self))
        if name.startswith("CONFIG_"):
            if self.symbols is None or name not in self.symbols:
                return None
            text = self.symbols[name]
            if text in ("y", "n"):
                return int(text == "y")
            try:
                return int(text, 0)
            except ValueError:
                return None
        return 0 if name.startswith(("MBEDTLS_", "PSA_")) else None


class _Shallow:
    """A value that names another macro is read one level deep (enough for configuration headers)."""

    def __init__(self, outer: _Environment) -> None:
        self.outer = outer

    def defined(self, name: str) -> bool | None:
        return self.outer.defined(name)

    def value(self, name: str) -> int | None:
        if name.startswith("CONFIG_"):
            return self.outer.value(name)
        setting = self.outer.state.settings.get(name)
        if setting is not None and setting.state == "on" and setting.value and setting.value.strip().isdigit():
            return int(setting.value)
        return None


def _and(values: list[bool | None]) -> bool | None:
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


@dataclass
class _Frame:
    branch: bool | None
    taken: bool | None


def strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The code of one line without comments, and whether a block comment is still open at its end."""
    out: list[str] = []
    index = 0
    while index < len(line):
        if in_comment:
            end = line.find("*/", index)
            if end < 0:
                return "".join(out), True
            index = end + 2
            in_comment = False
            out.append(" ")
            continue
        char = line[index]
        if char == '"':
            end = index + 1
            while end < len(line) and line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            out.append(line[index : end + 1])
            index = end + 1
            continue
        if line.startswith("/*", index):
            in_comment = True
            index += 2
            continue
        if line.startswith("//", index):
            break
        out.append(char)
        index += 1
    return "".join(out), in_comment


def logical_lines(lines: list[str], first: int = 1, last: int | None = None) -> list[tuple[int, str, str]]:
    """(line number, code without comments, the physical text) of each logical line, continuations joined."""
    result: list[tuple[int, str, str]] = []
    in_comment = False
    pending: tuple[int, str, str] | None = None
    stop = len(lines) if last is None else min(last, len(lines))
    for number in range(first, stop + 1):
        raw = lines[number - 1]
        code, in_comment = strip_comments(raw, in_comment)
        stripped = code.rstrip()
        if pending is not None:
            start, text, physical = pending
            text += " " + stripped.removesuffix("\\")
            physical += "\n" + raw
            pending = None
        else:
            start, text, physical = number, stripped.removesuffix("\\"), raw
        if stripped.endswith("\\"):
            pending = (start, text, physical)
            continue
        result.append((start, text, physical))
    if pending is not None:
        result.append(pending)
    return result


def config_block(lines: list[str]) -> tuple[int, int] | None:
    """The 1-based line range of the configuration inside a pasted text, or None when it is all configuration.

    A run of lines that are preprocessor lines, comments or blank is a candidate; the one with the most
    ``#define``/``#undef`` of ``MBEDTLS_`` macros is the configuration (at least three of them).
    """
    prose = []
    continued = False
    for line in lines:
        prose.append(bool(line.strip()) and not continued and not line.lstrip().startswith(_CONFIG_LINE))
        continued = line.rstrip().endswith("\\")
    if not any(prose):
        return None
    best: tuple[int, int, int] | None = None
    start: int | None = None
    count = 0
    for index, is_prose in enumerate([*prose, True]):
        if not is_prose:
            if start is None:
                start, count = index, 0
            if re.match(r"^\s*#\s*(?:define|undef)\s+MBEDTLS_", lines[index]):
                count += 1
            continue
        if start is not None:
            if count >= 3 and (best is None or count > best[0]):
                best = (count, start, index - 1)
            start = None
    if best is None:
        return (1, len(lines))
    _, first, last = best
    while first < last and not lines[first].strip():
        first += 1
    while last > first and not lines[last].strip():
        last -= 1
    return first + 1, last + 1


class HeaderReader:
    """Preprocesses one configuration header, following the includes it can find."""

    def __init__(self, path: str, symbols: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        self.symbols = symbols
        self.state = HeaderState()
        self.environment = _Environment(self.state, symbols)

    def read(self, lines: list[str], first: int = 1, last: int | None = None) -> HeaderState:
        self._run(lines, self.path, first, last, depth=0)
        user = self.state.settings.get("MBEDTLS_USER_CONFIG_FILE")
        name = (user.value or "").strip().strip('"<>') if user is not None and user.state == "on" else ""
        if name and name not in self.state.included:
            self._include(name, depth=1, why="MBEDTLS_USER_CONFIG_FILE")
        return self.state

    def add_file(self, path: str) -> None:
        """Apply another header after this one (a user configuration given on the command line)."""
        from tlsdiag.config.source import read_lines

        lines, _ = read_lines(path)
        self._run(lines, path, 1, None, depth=1)
        self.state.included.append(path)

    def _run(self, lines: list[str], source: str, first: int, last: int | None, depth: int) -> None:
        stack: list[_Frame] = []
        main = depth == 0
        for number, raw in enumerate(lines[first - 1 : last], start=first):
            found = _COMMENTED_DEFINE.match(raw)
            if found and main:
                self.state.commented.setdefault(found.group(1), number)
        for number, code, physical in logical_lines(lines, first, last):
            match = _DIRECTIVE.match(code)
            if match is None:
                continue
            keyword, rest = match.group(1), match.group(2).strip()
            if keyword in ("if", "ifdef", "ifndef"):
                value = self._condition(keyword, rest)
                if keyword == "ifndef" and rest.split()[:1] == ["MBEDTLS_CONFIG_H"]:
                    self.state.guard = True
                stack.append(_Frame(branch=value, taken=value))
                continue
            if keyword == "elif" and stack:
                top = stack[-1]
                value = self._condition("if", rest)
                top.branch = False if top.taken is True else _and([_not(top.taken), value])
                top.taken = _or(top.taken, value)
                continue
            if keyword == "else" and stack:
                top = stack[-1]
                top.branch = _not(top.taken)
                top.taken = True
                continue
            if keyword == "endif":
                if stack:
                    stack.pop()
                continue
            active = _and([frame.branch for frame in stack])
            if active is False:
                continue
            text = physical.strip() if "\n" not in physical else " ".join(physical.split())
            line = number if main else None
            origin = "" if main else source
            if keyword == "define":
                self._define(rest, active, line, text, origin)
            elif keyword == "undef":
                name = rest.split()[0] if rest.split() else ""
                if name:
                    state = "off" if active else "maybe"
                    self.state.settings[name] = Setting(name, state, None, line, text, origin)
                    self.state.undefs += int(name.startswith("MBEDTLS_"))
            elif keyword == "include":
                self._directive_include(rest, depth)

    def _condition(self, keyword: str, rest: str) -> bool | None:
        if keyword == "if":
            return truth(evaluate(rest, self.environment))
        name = rest.split()[0] if rest.split() else ""
        known = self.environment.defined(name)
        return known if keyword == "ifdef" else _not(known)

    def _define(self, rest: str, active: bool | None, line: int | None, text: str, origin: str) -> None:
        match = _DEFINE.match(rest)
        if match is None:
            return
        name, arguments, value = match.group(1), match.group(2), " ".join(match.group(3).split())
        if arguments:
            value = ""
        if name == "MBEDTLS_CONFIG_H":
            self.state.guard = True
        state = "on" if active else "maybe"
        previous = self.state.settings.get(name)
        if state == "maybe":
            self.state.conditional += 1
            if previous is not None and previous.state == "on" and previous.value == value:
                return
        self.state.settings[name] = Setting(name, state, value or None, line, text, origin)

    def _directive_include(self, rest: str, depth: int) -> None:
        match = _INCLUDE.match(rest)
        if match is None:
            return
        target = match.group(1)
        if target is None:
            macro = match.group(2)
            setting = self.state.settings.get(macro)
            if setting is None or not setting.value:
                symbol = (self.symbols or {}).get(macro)
                if symbol:
                    self._include(symbol.strip('"'), depth + 1, why=macro)
                return
            self._include(setting.value.strip().strip('"<>'), depth + 1, why=macro)
            return
        if target.endswith("check_config.h"):
            self.state.includes_check_config = True
            return
        if rest.startswith("<") or target.startswith(("mbedtls/", "psa/")):
            return
        self._include(target, depth + 1, why=None)

    def _include(self, target: str, depth: int, why: str | None) -> None:
        self.state.included.append(target)
        candidate = target if os.path.isabs(target) else os.path.join(self.directory, target)
        if depth > MAX_INCLUDE_DEPTH:
            return
        if not os.path.isfile(candidate):
            what = f"{why} names {target}" if why else f"the configuration includes {target}"
            self.state.notes.append(f"{what}, which is not next to the configuration: its settings are not included")
            return
        from tlsdiag.config.source import read_lines

        try:
            lines, _ = read_lines(candidate)
        except InputError:  # an unreadable include is a note, not a failure of the lint
            self.state.notes.append(f"{target} could not be read: its settings are not included")
            return
        self._run(lines, candidate, 1, None, depth)
        self.state.notes.append(f"settings of {target} are included ({why or 'included by the configuration'})")
