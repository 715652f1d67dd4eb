"""Kconfig files (ESP-IDF ``sdkconfig``/``sdkconfig.defaults``, Zephyr ``prj.conf``) resolved to mbedTLS macros.

Reading is line by line: ``CONFIG_X=value``, ``# CONFIG_X is not set``, and the old ESP-IDF 3.x form
``CONFIG_X=`` (empty: not set). Resolution follows Kconfig for the symbols of the examined ESP-IDF
release: a symbol without a prompt ignores what the file says and takes its default or what selects
it; a choice keeps its default unless one member is set to ``y`` (setting a member to ``n`` changes
nothing); a symbol whose dependencies are not met stays off. What the file says but Kconfig ignores
becomes an issue the linter reports.

The resolved symbols then run through the platform's header, as data: ESP-IDF's ``esp_config.h``
(``platforms/esp-idf-kconfig.json``) or Zephyr's ``config-tls-generic.h`` (``config/zephyr.toml``),
one directive at a time with the condition it sits under, which gives the mbedTLS macros of the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tlsdiag.config.data import Directive, EspIdfRelease, Symbol
from tlsdiag.config.expr import evaluate, operand, parse, truth
from tlsdiag.config.model import Assignment, Issue, Setting

_ASSIGNMENT = re.compile(r"^\s*(CONFIG_[A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")
_NOT_SET = re.compile(r"^\s*#\s*(CONFIG_[A-Za-z0-9_]+)\s+is not set\s*$")
_IDF_HEADER = re.compile(r"Espressif IoT Development Framework \(ESP-IDF\)\s+v?(\d+\.\d+(?:\.\d+)?)")
MAX_ROUNDS = 12


def read_assignments(lines: list[str]) -> dict[str, Assignment]:
    """Every ``CONFIG_`` line of a Kconfig file; a later line for the same symbol wins."""
    found: dict[str, Assignment] = {}
    for number, line in enumerate(lines, start=1):
        match = _ASSIGNMENT.match(line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found[match.group(1)] = Assignment(match.group(1), value if value != "" else "n", number, line.strip())
            continue
        match = _NOT_SET.match(line)
        if match:
            found[match.group(1)] = Assignment(match.group(1), "n", number, line.strip())
    return found


def esp_idf_version_in_header(lines: list[str]) -> str | None:
    for line in lines[:10]:
        match = _IDF_HEADER.search(line)
        if match:
            return match.group(1)
    return None


class _SymbolEnvironment:
    """Kconfig expressions: a bare name is a symbol (``y`` is 1, ``n`` is 0), unknown symbols are unknown."""

    def __init__(self, values: Mapping[str, str], known: Iterable[str]) -> None:
        self.values = values
        self.known = set(known)

    def _lookup(self, name: str) -> str | None:
        if name in ("y", "n"):
            return name
        key = "CONFIG_" + name
        if key in self.values:
            return self.values[key]
        return "n" if key in self.known else None

    def defined(self, name: str) -> bool | None:
        value = self._lookup(name)
        return None if value is None else value not in ("n", "")

    def value(self, name: str) -> int | None:
        value = self._lookup(name)
        if value is None:
            return None
        if value in ("y", "n"):
            return int(value == "y")
        try:
            return int(value, 0)
        except ValueError:
            return None


def _defaults(symbol: Symbol) -> list[tuple[str, str]]:
    """``a if X | b`` -> [(a, X), (b, "")]."""
    result = []
    for part in symbol.default.split(" | ") if symbol.default else []:
        value, _, condition = part.partition(" if ")
        result.append((value.strip().strip('"'), condition.strip()))
    return result


class Resolution:
    """The symbols of one ESP-IDF release after Kconfig, and what the file said that Kconfig ignored."""

    def __init__(
        self, release: EspIdfRelease, assignments: Mapping[str, Assignment], hand_written: bool = True
    ) -> None:
        self.release = release
        self.assignments = dict(assignments)
        self.hand_written = hand_written  # a generated sdkconfig writes every symbol: nothing to remark on
        self.values: dict[str, str] = {}
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self._resolve()

    def _resolve(self) -> None:
        release = self.release
        for old, new in release.renames.items():
            if old in self.assignments and new not in self.assignments:
                self.assignments[new] = self.assignments[old]._replace(name=new)
                self.notes.append(f"{old} is read as {new} (renamed in ESP-IDF {release.series})")
        symbols = release.symbols
        # symbols of other components (wifi, freertos, soc capabilities) keep the file's values
        values = {name: item.value for name, item in self.assignments.items() if name not in symbols}
        members: dict[str, list[Symbol]] = {}
        for symbol in symbols.values():
            if symbol.choice:
                members.setdefault(symbol.choice, []).append(symbol)
        known = {name for name in symbols if name.startswith("CONFIG_")}
        for _ in range(MAX_ROUNDS):
            environment = _SymbolEnvironment(values, known)
            updated = dict(values)
            selected = self._selected(values)
            for name, symbol in symbols.items():
                if name.startswith("choice ") or symbol.choice:
                    continue
                updated[name] = self._value(symbol, environment, selected)
            for choice_name, choice_members in members.items():
                chosen = self._chosen(choice_name, choice_members, environment)
                for member in choice_members:
                    updated[member.name] = "y" if member.name == chosen else "n"
            if updated == values:
                break
            values = updated
        self.values = {name: value for name, value in values.items() if value is not None}
        if self.hand_written:
            self._report()

    def _selected(self, values: Mapping[str, str]) -> set[str]:
        found: set[str] = set()
        for name, symbol in self.release.symbols.items():
            if symbol.select and values.get(name) == "y":
                found.update("CONFIG_" + target for target in symbol.select)
        return found

    def _value(self, symbol: Symbol, environment: _SymbolEnvironment, selected: set[str]) -> str:
        if symbol.name in selected:
            return "y"
        if symbol.depends_on and truth(evaluate(symbol.depends_on, environment)) is False:
            return "n" if symbol.type == "bool" else ""
        assigned = self.assignments.get(symbol.name)
        if assigned is not None and symbol.prompt:
            return assigned.value
        for value, condition in _defaults(symbol):
            if not condition or truth(evaluate(condition, environment)) is not False:
                return value
        return "n" if symbol.type == "bool" else ""

    def _chosen(self, choice: str, members: list[Symbol], environment: _SymbolEnvironment) -> str | None:
        header = self.release.symbols.get("choice " + choice)
        if header is not None and header.depends_on and truth(evaluate(header.depends_on, environment)) is False:
            return None
        usable = [
            member
            for member in members
            if not member.depends_on or truth(evaluate(member.depends_on, environment)) is not False
        ]
        for member in usable:
            assigned = self.assignments.get(member.name)
            if assigned is not None and assigned.value == "y":
                return member.name
        default = header.default if header is not None else ""
        for value, condition in _defaults(header) if header is not None else []:
            if not condition or truth(evaluate(condition, environment)) is not False:
                default = value
                break
        wanted = "CONFIG_" + default if default else None
        if wanted and any(member.name == wanted for member in usable):
            return wanted
        return usable[0].name if usable else None

    def _report(self) -> None:
        """Issues: lines Kconfig ignores (no prompt, a choice member set to n, unmet dependencies, range)."""
        symbols = self.release.symbols
        environment = _SymbolEnvironment(self.values, symbols)
        for name, assigned in sorted(self.assignments.items(), key=lambda item: item[1].line):
            symbol = symbols.get(name)
            if symbol is None:
                continue
            resolved = self.values.get(name, "n" if symbol.type == "bool" else "")
            facts: dict[str, object] = {"symbol": name, "value": assigned.value, "esp_idf": self.release.series}
            if symbol.type == "int" and symbol.range and assigned.value not in ("", "n"):
                low, _, high = symbol.range.partition(" ")
                try:
                    number, minimum, maximum = int(assigned.value, 0), int(low, 0), int(high, 0)
                except ValueError:
                    number = minimum = maximum = 0
                if not minimum <= number <= maximum:
                    facts["range"] = f"{minimum}..{maximum}"
                    self.issues.append(Issue("out_of_range", facts, assigned.line, assigned.text))
                    continue
            if _same(resolved, assigned.value):
                continue
            if symbol.choice and assigned.value == "n":
                facts["reason"] = f"a choice member cannot be switched off ({symbol.choice} keeps {_short(resolved)})"
                chosen = next(
                    (
                        member
                        for member, value in self.values.items()
                        if value == "y" and _member(symbols, member, symbol)
                    ),
                    None,
                )
                facts["detail"] = (
                    f"{name} belongs to the choice {symbol.choice}; a choice changes only when another member is "
                    f"set to y. {chosen or 'Its default'} stays selected, so this line changes nothing."
                )
                self.issues.append(Issue("no_effect", facts, assigned.line, assigned.text))
            elif not symbol.prompt:
                selectors = [other.name for other in symbols.values() if symbol.bare in other.select]
                facts["reason"] = "the symbol has no prompt: its value follows other options"
                facts["detail"] = (
                    f"{name} cannot be set in a configuration file: Kconfig derives it"
                    + (f" (it is selected by {', '.join(selectors)})" if selectors else "")
                    + f", and it stays {_short(resolved)}."
                )
                self.issues.append(Issue("no_effect", facts, assigned.line, assigned.text))
            elif symbol.depends_on and truth(evaluate(symbol.depends_on, environment)) is False:
                facts["depends"] = _unmet(symbol.depends_on, environment)
                self.issues.append(Issue("unmet_dependency", facts, assigned.line, assigned.text))


def _same(resolved: str, assigned: str) -> bool:
    if resolved == assigned:
        return True
    return {resolved, assigned} <= {"n", ""}


def _short(value: str) -> str:
    return {"y": "on", "n": "off", "": "unset"}.get(value, value)


def _member(symbols: Mapping[str, Symbol], name: str, like: Symbol) -> bool:
    other = symbols.get(name)
    return other is not None and other.choice == like.choice


def _unmet(expression: str, environment: _SymbolEnvironment) -> str:
    """The parts of a dependency that are false: ``MBEDTLS_ECP_C`` for ``(MBEDTLS_ECP_C)``."""
    tree = parse(expression)
    parts: list[tuple[object, ...]] = []

    def conjuncts(node: tuple[object, ...]) -> None:
        if node[0] == "binary" and node[1] == "&&":
            conjuncts(operand(node, 2))
            conjuncts(operand(node, 3))
        else:
            parts.append(node)

    conjuncts(tree)
    unmet = []
    for part in parts:
        text = _render(part)
        if truth(evaluate(text, environment)) is False:
            unmet.append(text)
    return " and ".join(unmet) or expression.strip("()")


def _render(node: tuple[object, ...]) -> str:
    kind = node[0]
    if kind == "name":
        return str(node[1])
    if kind == "number":
        return str(node[1])
    if kind == "defined":
        return f"defined({node[1]})"
    if kind == "unary":
        return f"!{_render(operand(node, 2))}"
    if kind == "binary":
        return f"({_render(operand(node, 2))} {node[1]} {_render(operand(node, 3))})"
    return "?"


def depends_on_symbols(expression: str) -> tuple[list[str], list[str]]:
    """Symbols a dependency needs on and off, when it is a plain conjunction (``A && !B``)."""
    tree = parse(expression)
    wanted_on: list[str] = []
    wanted_off: list[str] = []

    def walk(node: tuple[object, ...]) -> bool:
        if node[0] == "binary" and node[1] == "&&":
            return walk(operand(node, 2)) and walk(operand(node, 3))
        if node[0] == "name":
            wanted_on.append("CONFIG_" + str(node[1]))
            return True
        if node[0] == "unary" and node[1] == "!" and operand(node, 2)[0] == "name":
            wanted_off.append("CONFIG_" + str(operand(node, 2)[1]))
            return True
        return False

    if not walk(tree):
        return [], []
    return wanted_on, wanted_off


class _DirectiveEnvironment:
    """esp_config.h / config-tls-generic.h conditions: CONFIG_ symbols, and the macros defined so far."""

    def __init__(self, symbols: Mapping[str, str], complete: bool, macros: Mapping[str, Setting]) -> None:
        self.symbols = symbols
        self.complete = complete
        self.macros = macros

    def defined(self, name: str) -> bool | None:
        if name.startswith("CONFIG_"):
            if name in self.symbols:
                return self.symbols[name] not in ("n", "")
            return False if self.complete else None
        setting = self.macros.get(name)
        if setting is not None:
            return {"on": True, "off": False}.get(setting.state)
        return False if name.startswith("MBEDTLS_") else None

    def value(self, name: str) -> int | None:
        if name.startswith("CONFIG_"):
            text = self.symbols.get(name)
            if text is None:
                return 0 if self.complete else None
            if text in ("y", "n"):
                return int(text == "y")
            try:
                return int(text, 0)
            except ValueError:
                return None
        setting = self.macros.get(name)
        if setting is None:
            return 0 if name.startswith("MBEDTLS_") else None
        if setting.state != "on":
            return None
        try:
            return int(setting.value or "1", 0)
        except ValueError:
            return None


def run_directives(
    directives: Iterable[Directive],
    symbols: Mapping[str, str],
    assignments: Mapping[str, Assignment],
    complete: bool,
    origin_file: str,
) -> tuple[dict[str, Setting], int]:
    """The mbedTLS macros a platform header produces from these symbols, and how many stay undecided.

    ``complete``: every symbol of the platform's Kconfig is in ``symbols`` (ESP-IDF after resolution);
    otherwise a symbol the file does not set is unknown (Zephyr, whose Kconfig defaults are not modelled).
    """
    macros: dict[str, Setting] = {}
    undecided = 0
    environment = _DirectiveEnvironment(symbols, complete, macros)
    for directive in directives:
        decided = truth(evaluate(directive.condition, environment)) if directive.condition else True
        if decided is False:
            continue
        value = directive.value or None
        if value and value.startswith("CONFIG_"):
            value = symbols.get(value, value if not complete else None)
            if value is not None and value.startswith("CONFIG_"):
                decided = None if decided else decided
        source = next((assignments[name] for name in directive.configs if name in assignments), None)
        line = source.line if source is not None else None
        text = source.text if source is not None else ""
        origin = ", ".join(directive.configs) or origin_file
        if decided is None:
            undecided += 1
            previous = macros.get(directive.macro)
            if previous is not None and previous.state == "on" and directive.action == "define":
                continue
            macros[directive.macro] = Setting(directive.macro, "maybe", value, line, text, origin)
            continue
        state = "on" if directive.action == "define" else "off"
        macros[directive.macro] = Setting(directive.macro, state, value if state == "on" else None, line, text, origin)
    return macros, undecided


_SINGLE = re.compile(r"^(!?)\(?(?:defined\(?)?(CONFIG_[A-Za-z0-9_]+)\)?\)?$")


def symbols_for_macro(directives: Iterable[Directive], macro: str, want_on: bool) -> list[tuple[str, str]]:
    """Kconfig symbols (with the value to give them) that turn ``macro`` on (or off) through the header.

    Only directives under a single ``defined(CONFIG_X)`` (or its negation) are used; a value directive
    (``#define MBEDTLS_X CONFIG_Y``) gives ``(CONFIG_Y, "value")``.
    """
    found: list[tuple[str, str]] = []
    for directive in directives:
        if directive.macro != macro:
            continue
        if directive.value.startswith("CONFIG_"):
            if want_on and (directive.value, "value") not in found:
                found.append((directive.value, "value"))
            continue
        match = _SINGLE.match(directive.condition.replace(" ", ""))
        if match is None:
            continue
        positive = match.group(1) == ""
        need_true = (directive.action == "define") == want_on
        item = (match.group(2), "y" if positive == need_true else "n")
        if item not in found:
            found.append(item)
    return found
