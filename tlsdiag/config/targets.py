"""Turning changes of mbedTLS macros into changes a user can apply: config.h, sdkconfig or prj.conf lines.

The linter and the diagnosis speak mbedTLS (``MBEDTLS_SSL_CLI_C`` on, ``MBEDTLS_SSL_OUT_CONTENT_LEN``
8192). For a config.h that is the change itself. ESP-IDF and Zephyr builds set those macros from Kconfig
through a header, so the change becomes the Kconfig symbols that produce it: the candidates come from
the header's directives, each candidate is tried by resolving Kconfig and running the header again,
and the first one that yields the macro (without shrinking a record buffer) is kept, together with
the symbols its dependencies need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product
from typing import NamedTuple

from tlsdiag.config.data import ConfigKnowledge, Directive, EspIdfRelease
from tlsdiag.config.effective import Effective, number
from tlsdiag.config.expr import operand, parse
from tlsdiag.config.kconfig import Resolution, depends_on_symbols, run_directives
from tlsdiag.config.model import Assignment, Change, Config, Setting

TARGETS = ("config.h", "sdkconfig", "prj.conf")
FIX_TARGET = {"config.h": "mbedtls-config", "sdkconfig": "sdkconfig", "prj.conf": "zephyr-kconfig"}
_BUFFERS = ("MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN")


class MacroChange(NamedTuple):
    """A change in mbedTLS terms: ``to`` is ``on``, ``off`` or a value."""

    macro: str
    to: str
    finding: str
    why: str


class SymbolChange(NamedTuple):
    """A change of a Kconfig symbol that is not about an mbedTLS macro (esp-tls options)."""

    symbol: str
    to: str
    finding: str
    why: str


def target_for_kind(kind: str) -> str:
    return {"mbedtls-config": "config.h", "sdkconfig": "sdkconfig", "zephyr-kconfig": "prj.conf"}[kind]


def macro_state(effective: Effective, macro: str) -> str | None:
    """``defined``/``undefined`` for a flag, the value for a value option, None when unknown."""
    if effective.knowledge.options.get(macro) is not None and _is_value_option(effective, macro):
        return effective.text_value(macro)
    state = effective.defined(macro)
    return None if state is None else ("defined" if state else "undefined")


def _is_value_option(effective: Effective, macro: str) -> bool:
    option = effective.knowledge.options.get(macro)
    return bool(option and option.value) or macro in effective.knowledge.derived_values.get(effective.series, {})


def wanted(change: MacroChange) -> str:
    return {"on": "defined", "off": "undefined"}.get(change.to, change.to)


def satisfied(effective: Effective, change: MacroChange) -> bool:
    """Does the configuration already do what the change asks? A record buffer size is a minimum."""
    if change.to == "on":
        return effective.defined(change.macro) is True
    if change.to == "off":
        return effective.defined(change.macro) is False
    have, want = number(effective.text_value(change.macro)), number(change.to)
    if have is None or want is None:
        return effective.text_value(change.macro) == change.to
    return have >= want if change.macro in _BUFFERS else have == want


def apply_to_effective(effective: Effective, changes: Sequence[MacroChange]) -> Effective:
    settings: dict[str, Setting] = {}
    for change in changes:
        macro = effective.setting_for_value(change.macro) if change.to not in ("on", "off") else change.macro
        if change.to == "on":
            settings[macro] = Setting(macro, "on", None, None, "", "change")
        elif change.to == "off":
            settings[macro] = Setting(macro, "off", None, None, "", "change")
        else:
            settings[macro] = Setting(macro, "on", change.to, None, "", "change")
    return effective.with_settings(settings)


class Translator:
    """Translates macro changes for one target, against the current state of one configuration."""

    def __init__(
        self,
        config: Config | None,
        effective: Effective,
        knowledge: ConfigKnowledge,
        target: str,
        release: EspIdfRelease | None = None,
        force: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self.force = force  # findings whose changes stand even when the assumed state already satisfies them
        self.effective = effective
        self.knowledge = knowledge
        self.target = target
        self.release = release
        self.notes: list[str] = []
        own = config is not None and target_for_kind(config.kind) == target
        self.assignments: dict[str, Assignment] = dict(config.assignments) if own and config else {}
        self.base_symbols: dict[str, str] = dict(config.symbols) if own and config else {}
        if target == "sdkconfig" and release is not None and not self.base_symbols:
            self.base_symbols = Resolution(release, {}).values

    def translate(self, macro_changes: Sequence[MacroChange], symbol_changes: Sequence[SymbolChange]) -> list[Change]:
        if self.target == "config.h":
            return self._header_changes(macro_changes)
        return self._kconfig_changes(macro_changes, symbol_changes)

    # -- config.h ---------------------------------------------------------------------------------------

    def _header_changes(self, macro_changes: Sequence[MacroChange]) -> list[Change]:
        changes: list[Change] = []
        effective = self.effective
        for change in macro_changes:
            if satisfied(effective, change) and change.finding not in self.force:
                continue
            option = change.macro if change.to in ("on", "off") else effective.setting_for_value(change.macro)
            before = macro_state(effective, option)
            changes.append(Change(option, before, wanted(change), change.why, change.finding, change.macro))
            effective = apply_to_effective(effective, [change])
        return _merge(changes)

    # -- Kconfig ----------------------------------------------------------------------------------------

    def _directives(self) -> Sequence[Directive]:
        if self.target == "sdkconfig":
            return self.release.directives if self.release is not None else ()
        return self.knowledge.zephyr_directives

    def _simulate(self, assigned: Mapping[str, str]) -> tuple[dict[str, str], dict[str, Setting]]:
        if self.target == "sdkconfig" and self.release is not None:
            items = {name: Assignment(name, value, 0, f"{name}={value}") for name, value in assigned.items()}
            resolution = Resolution(self.release, items)
            macros, _ = run_directives(self.release.directives, resolution.values, resolution.assignments, True, "")
            return resolution.values, macros
        items = {name: Assignment(name, value, 0, "") for name, value in assigned.items()}
        macros, _ = run_directives(self.knowledge.zephyr_directives, dict(assigned), items, False, "")
        return dict(assigned), macros

    def _kconfig_changes(
        self, macro_changes: Sequence[MacroChange], symbol_changes: Sequence[SymbolChange]
    ) -> list[Change]:
        assigned = {name: item.value for name, item in self.assignments.items()}
        symbols, macros = self._simulate(assigned)
        current = self.effective.with_settings({})
        current.settings = dict(macros) if assigned or self.target == "sdkconfig" else dict(self.effective.settings)
        current.symbols = symbols
        changes: list[Change] = []
        for change in macro_changes:
            if satisfied(current, change) and change.finding not in self.force:
                continue
            route = self._route(change, assigned, current)
            if route is None:
                where = "ESP-IDF sets it in esp_config.h" if self.target == "sdkconfig" else "no Kconfig symbol sets it"
                self.notes.append(f"{change.macro} cannot be changed from {self.target} ({where})")
                continue
            for symbol, value in route.items():
                before = symbols.get(symbol, assigned.get(symbol))
                if _same_value(before, value):
                    continue
                changes.append(Change(symbol, before, value, change.why, change.finding, change.macro))
            assigned.update(route)
            symbols, macros = self._simulate(assigned)
            current = current.with_settings({})
            current.settings, current.symbols = dict(macros), symbols
        for symbol_change in symbol_changes:
            if self.target != "sdkconfig":
                continue
            symbol = symbol_change.symbol
            before = symbols.get(symbol, assigned.get(symbol))
            if _same_value(before, symbol_change.to) or (self.release and symbol not in self.release.symbols):
                continue
            changes.append(Change(symbol, before, symbol_change.to, symbol_change.why, symbol_change.finding))
            assigned[symbol] = symbol_change.to
        return _merge(changes)

    def _route(self, change: MacroChange, assigned: dict[str, str], current: Effective) -> dict[str, str] | None:
        for candidate in self._candidates(change):
            proposal = dict(assigned)
            proposal.update(candidate)
            proposal.update(self._dependencies(candidate, proposal))
            symbols, macros = self._simulate(proposal)
            trial = current.with_settings({})
            trial.settings, trial.symbols = dict(macros), symbols
            if not satisfied(trial, change):
                continue
            if any(
                (number(trial.text_value(name)) or 0) < (number(current.text_value(name)) or 0)
                for name in _BUFFERS
                if name != change.macro
            ):
                continue
            return {name: value for name, value in proposal.items() if assigned.get(name) != value}
        return None

    def _candidates(self, change: MacroChange) -> list[dict[str, str]]:
        want_on = change.to != "off"
        found: list[dict[str, str]] = []
        for directive in self._directives():
            if directive.macro != change.macro:
                continue
            groups: list[dict[str, str]] | None
            if change.to not in ("on", "off"):
                if directive.action != "define" or not directive.value.startswith("CONFIG_"):
                    continue
                base = {directive.value: change.to}
                conditions = _alternatives(directive.condition, True) if directive.condition else [{}]
                groups = [{**base, **group} for group in conditions or [{}]]
            else:
                need = (directive.action == "define") == want_on
                groups = _alternatives(directive.condition, need) if directive.condition else None
            for group in groups or ():
                group = self._promptable(group)
                if group and group not in found:
                    found.append(group)
        return found

    def _promptable(self, group: dict[str, str]) -> dict[str, str]:
        """A symbol without a prompt is set through the choice member (or option) that selects it."""
        if self.target != "sdkconfig" or self.release is None:
            return group
        symbols = self.release.symbols
        result: dict[str, str] = {}
        for name, value in group.items():
            symbol = symbols.get(name)
            if symbol is None or symbol.prompt or value != "y":
                result[name] = value
                continue
            selectors = [other for other in symbols.values() if symbol.bare in other.select and other.prompt]
            if not selectors:
                result[name] = value
                continue
            on_now = {item for item, state in self.base_symbols.items() if state == "y"}
            selectors.sort(key=lambda other: -sum(("CONFIG_" + item) in on_now for item in other.select))
            result[selectors[0].name] = "y"
        return result

    def _dependencies(self, group: Mapping[str, str], proposal: Mapping[str, str]) -> dict[str, str]:
        """Symbols a Kconfig ``depends on`` needs so that the group's values are not ignored."""
        if self.target != "sdkconfig" or self.release is None:
            return {}
        needed: dict[str, str] = {}
        pending = [name for name, value in group.items() if value not in ("n", "")]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            symbol = self.release.symbols.get(name)
            if symbol is None or not symbol.depends_on:
                continue
            wanted_on, wanted_off = depends_on_symbols(symbol.depends_on)
            for other in wanted_on:
                if other in self.release.symbols and proposal.get(other) != "y":
                    needed[other] = "y"
                    pending.append(other)
            for other in wanted_off:
                if other in self.release.symbols and proposal.get(other, "n") != "n":
                    needed[other] = "n"
        return needed


def _alternatives(condition: str, want_true: bool) -> list[dict[str, str]] | None:
    """Ways to make a condition true (or false) by setting CONFIG_ symbols; None when it is not that simple."""

    def walk(node: tuple[object, ...], truth_wanted: bool) -> list[dict[str, str]] | None:
        kind = node[0]
        if kind in ("defined", "name"):
            name = str(node[1])
            if name.startswith("CONFIG_"):
                return [{name: "y" if truth_wanted else "n"}]
            return [{}] if name.startswith("MBEDTLS_") else None
        if kind == "unary" and node[1] == "!":
            return walk(operand(node, 2), not truth_wanted)
        if kind == "binary" and node[1] in ("&&", "||"):
            left = walk(operand(node, 2), truth_wanted)
            right = walk(operand(node, 3), truth_wanted)
            if left is None or right is None:
                return None
            conjunction = (node[1] == "&&") == truth_wanted
            if not conjunction:
                return left + right
            combined = []
            for first, second in product(left, right):
                if any(first.get(key, value) != value for key, value in second.items()):
                    continue
                combined.append({**first, **second})
            return combined
        if kind == "number":
            return [{}] if bool(node[1]) == truth_wanted else []
        return None

    return walk(parse(condition), want_true)


def _same_value(before: str | None, after: str) -> bool:
    if before == after:
        return True
    return before in (None, "", "n") and after in ("n", "")


def _merge(changes: list[Change]) -> list[Change]:
    """One change per option: the last value wins, the reasons are kept together."""
    merged: dict[str, Change] = {}
    for change in changes:
        previous = merged.get(change.option)
        if previous is None:
            merged[change.option] = change
        else:
            merged[change.option] = previous._replace(after=change.after)
    return [change for change in merged.values() if not _same_value(change.before, change.after or "")]
