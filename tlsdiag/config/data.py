"""The configuration knowledge: mbedTLS options and checks per version, ESP-IDF's Kconfig and esp_config.h,
Zephyr's generic header, derived macros, costs and lint rules, each loaded on first use.

Generated facts are JSON (``tools/gen_knowledge.py``); what we wrote ourselves is TOML. This module only
indexes them; what they mean is decided by the readers and the linter.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache, cached_property
from typing import Any, NamedTuple

from tlsdiag.knowledge import derive, document
from tlsdiag.versions import series_key


class Option(NamedTuple):
    """One option of mbedTLS's configuration header across the examined versions."""

    name: str
    state: dict[str, str]  # series -> on | off | unknown (absent series are missing)
    value: dict[str, str]  # series -> default value of a value option
    section: str = ""
    requires: str = ""
    summary: str = ""

    def exists_in(self, series: str) -> bool:
        return series in self.state


class Check(NamedTuple):
    """One ``#error`` of check_config.h: the build stops when ``condition`` holds."""

    series: str
    line: int
    error: str
    condition: str
    macros: tuple[str, ...]


class Symbol(NamedTuple):
    """One Kconfig symbol (or choice) of an examined ESP-IDF release."""

    name: str  # CONFIG_X, or "choice X"
    component: str
    type: str
    prompt: str
    default: str
    depends_on: str
    select: tuple[str, ...]
    range: str
    choice: str
    help: str

    @property
    def bare(self) -> str:
        """The name as Kconfig expressions write it (no ``CONFIG_`` prefix)."""
        return self.name.removeprefix("choice ").removeprefix("CONFIG_")


class Directive(NamedTuple):
    """One ``#define``/``#undef`` of a platform's generated header, with the whole ``#if`` it sits under."""

    line: int
    action: str  # define | undef
    macro: str
    value: str
    condition: str
    configs: tuple[str, ...]


class EspIdfRelease(NamedTuple):
    """The Kconfig symbols and esp_config.h directives of one examined ESP-IDF release."""

    series: str  # 4.0
    tag: str  # v4.0.4
    symbols: dict[str, Symbol]  # CONFIG_X / "choice X" -> symbol, in Kconfig order
    directives: tuple[Directive, ...]
    renames: dict[str, str]


class ConfigKnowledge:
    """Indexed configuration knowledge; each table is read the first time it is used."""

    @cached_property
    def options(self) -> dict[str, Option]:
        return derive(_options, "config/mbedtls-options.json")

    @cached_property
    def series(self) -> tuple[str, ...]:
        return derive(_series, "config/mbedtls-options.json")

    @cached_property
    def checks(self) -> dict[str, tuple[Check, ...]]:
        return derive(_checks, "config/mbedtls-checks.json")

    @cached_property
    def derived(self) -> dict[str, Any]:
        return document("config/derived.toml")

    @cached_property
    def derived_macros(self) -> dict[str, dict[str, str]]:
        """series -> derived macro -> its condition."""
        table: dict[str, dict[str, str]] = defaultdict(dict)
        for entry in self.derived.get("macro", ()):
            for series in entry["series"]:
                table[series][entry["name"]] = entry["condition"]
        return dict(table)

    @cached_property
    def enable_through(self) -> dict[str, str]:
        """Derived macro -> the option that turns it on in a legacy build (its condition's first term)."""
        found: dict[str, str] = {}
        for entry in self.derived.get("macro", ()):
            first = entry["condition"].split("||")[0]
            names = [part for part in first.replace("(", " ").replace(")", " ").split() if part.startswith("MBEDTLS")]
            if names:
                found.setdefault(entry["name"], names[0])
        return found

    @cached_property
    def derived_values(self) -> dict[str, dict[str, dict[str, str]]]:
        """series -> value option -> {default_from, set_through}."""
        table: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        for entry in self.derived.get("value", ()):
            for series in entry["series"]:
                table[series][entry["name"]] = entry
        return dict(table)

    @cached_property
    def costs(self) -> dict[str, Any]:
        return document("config/costs.toml")

    @cached_property
    def lint(self) -> dict[str, Any]:
        return document("config/lint.toml")

    @cached_property
    def headers(self) -> dict[str, dict[str, Any]]:
        """series -> the header its configuration lives in (``file``, ``path``, ``crypto_path`` for 4.x)."""
        table = document("config/headers.toml")
        return {series: entry for entry in table.get("header", ()) for series in entry["series"]}

    @cached_property
    def zephyr(self) -> dict[str, Any]:
        return document("config/zephyr.toml")

    @cached_property
    def zephyr_directives(self) -> tuple[Directive, ...]:
        return tuple(_directive(entry) for entry in self.zephyr.get("directive", ()))

    @cached_property
    def esp_idf(self) -> dict[str, EspIdfRelease]:
        return derive(_esp_idf_releases, "platforms/esp-idf-kconfig.json")

    @cached_property
    def esp_idf_symbols_anywhere(self) -> dict[str, list[str]]:
        """CONFIG_X -> the examined ESP-IDF series whose Kconfig has it."""
        found: dict[str, list[str]] = defaultdict(list)
        for release in self.esp_idf.values():
            for name in release.symbols:
                found[name].append(release.series)
        return dict(found)

    @cached_property
    def ciphersuites(self) -> dict[str, Any]:
        return document("tls/ciphersuites.json")

    @cached_property
    def esp_idf_releases(self) -> list[dict[str, str]]:
        return list(document("platforms/esp-idf-mbedtls.json")["release"])

    def option_names_in(self, series: str) -> frozenset[str]:
        return frozenset(name for name, option in self.options.items() if option.exists_in(series))

    def esp_idf_release(self, version: str) -> tuple[EspIdfRelease, str | None]:
        """The examined release that answers for ESP-IDF ``version`` and a note when it is not exact."""
        from tlsdiag.versions import parse_version

        parts = parse_version(version)
        wanted = parts[:2] if len(parts) > 1 else (parts[0], 0)
        ordered = sorted(self.esp_idf.values(), key=lambda release: series_key(release.series))
        exact = [release for release in ordered if series_key(release.series) == wanted]
        if exact:
            return exact[0], None
        below = [release for release in ordered if series_key(release.series) <= wanted]
        chosen = below[-1] if below else ordered[0]
        relation = "the nearest examined release below it" if below else "the oldest examined release"
        return chosen, f"ESP-IDF {version} is read with the Kconfig of {chosen.tag} ({relation})"


def _series(data: dict[str, Any]) -> tuple[str, ...]:
    return tuple(data["series"])


def _options(data: dict[str, Any]) -> dict[str, Option]:
    return {
        entry["name"]: Option(
            name=entry["name"],
            state=dict(entry.get("state", {})),
            value=dict(entry.get("value", {})),
            section=entry.get("section", ""),
            requires=entry.get("requires", ""),
            summary=entry.get("summary", ""),
        )
        for entry in data["option"]
    }


def regroup(condition: str) -> str:
    """Put back the grouping of nested ``#if`` lines that the extracted conditions lost.

    The reference joins the conditions of nested ``#if`` lines with `` && `` and no parentheses, so
    ``#if A || B`` inside ``#if C`` reads ``C && A || B``. Mixing ``&&`` and ``||`` without parentheses
    is something check_config.h itself never does, so such a condition is split at its top-level
    ``&&`` and each part is parenthesised again.
    """
    parts: list[str] = []
    depth = 0
    start = 0
    mixed = False
    index = 0
    while index < len(condition):
        char = condition[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and condition.startswith("&&", index):
            parts.append(condition[start:index])
            start = index + 2
            index += 1
        elif depth == 0 and condition.startswith("||", index):
            mixed = True
            index += 1
        index += 1
    parts.append(condition[start:])
    if not mixed or len(parts) < 2:
        return condition
    return " && ".join(f"({part.strip()})" for part in parts)


def _checks(data: dict[str, Any]) -> dict[str, tuple[Check, ...]]:
    table: dict[str, list[Check]] = defaultdict(list)
    for entry in data["check"]:
        table[entry["series"]].append(
            Check(
                series=entry["series"],
                line=int(entry["line"]),
                error=entry["error"],
                condition=regroup(entry["condition"]),
                macros=tuple(entry.get("macros", ())),
            )
        )
    return {series: tuple(checks) for series, checks in table.items()}


def _esp_idf_releases(data: dict[str, Any]) -> dict[str, EspIdfRelease]:
    symbols: dict[str, dict[str, Symbol]] = defaultdict(dict)
    for entry in data["symbol"]:
        symbols[entry["tag"]][entry["name"]] = Symbol(
            name=entry["name"],
            component=entry.get("component", ""),
            type=entry.get("type", ""),
            prompt=entry.get("prompt", ""),
            default=entry.get("default", ""),
            depends_on=entry.get("depends_on", ""),
            select=tuple(entry.get("select", ())),
            range=entry.get("range", ""),
            choice=entry.get("choice", ""),
            help=entry.get("help", ""),
        )
    directives: dict[str, list[Directive]] = defaultdict(list)
    for entry in data["directive"]:
        directives[entry["tag"]].append(_directive(entry))
    renames: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in data.get("rename", ()):
        renames[entry["tag"]][entry["old"]] = entry["new"]
    return {
        series: EspIdfRelease(
            series=series,
            tag=tag,
            symbols=symbols[series],
            directives=tuple(sorted(directives[series], key=lambda item: item.line)),
            renames=renames.get(series, {}),
        )
        for series, tag in data["tags"].items()
    }


@cache
def load() -> ConfigKnowledge:
    return ConfigKnowledge()


__all__ = ["Check", "ConfigKnowledge", "Directive", "EspIdfRelease", "Option", "Symbol", "load"]


def _directive(entry: dict[str, Any]) -> Directive:
    """One #define/#undef of a generated header table, as the readers use it."""
    return Directive(
        line=int(entry["line"]),
        action=entry["action"],
        macro=entry["macro"],
        value=entry.get("value", ""),
        condition=entry.get("condition", ""),
        configs=tuple(entry.get("configs", ())),
    )
