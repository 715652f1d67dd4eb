"""The mbedTLS build a configuration describes, as conditions see it: defined, undefined or unknown.

A macro the configuration sets is what the file says; a macro mbedTLS derives (``MBEDTLS_SSL_HAVE_AES``)
follows its condition in ``derived.toml``; an option the file does not mention is off in a complete
configuration, at the library default when the file only amends it, and unknown when a platform's
header (ESP-IDF's esp_config.h) does not touch it. Anything else (compiler and
platform macros, PSA internals we do not model) is unknown, so that a check depending on it is never
reported as violated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tlsdiag.config.data import ConfigKnowledge
from tlsdiag.config.expr import evaluate, truth
from tlsdiag.config.model import Setting


class Effective:
    """Answers ``defined(X)`` and ``X``'s value for one configuration, in one mbedTLS series."""

    def __init__(
        self,
        settings: Mapping[str, Setting],
        series: str,
        knowledge: ConfigKnowledge,
        base: str = "complete",
        symbols: Mapping[str, str] | None = None,
        touched: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = dict(settings)
        self.touched = touched  # macros the platform's header defines or undefines (base "platform")
        self.series = series
        self.knowledge = knowledge
        self.base = base
        self.symbols = dict(symbols or {})
        self._derived = knowledge.derived_macros.get(series, {})
        self._values = knowledge.derived_values.get(series, {})
        self._options = knowledge.options
        self._unknown_prefixes = tuple(knowledge.derived.get("unknown_prefixes", ()))
        if series.split(".")[0] in ("2", "3"):
            self._unknown_prefixes += tuple(knowledge.derived.get("unknown_before_4", ()))
        self._busy: set[str] = set()

    # -- the Environment protocol of expr ---------------------------------------------------------------

    def defined(self, name: str) -> bool | None:
        setting = self.settings.get(name)
        if setting is not None:
            return {"on": True, "off": False}.get(setting.state)
        if name.startswith("CONFIG_"):
            return self._symbol_defined(name)
        if name in self._derived and name not in self._busy:
            self._busy.add(name)
            try:
                return truth(evaluate(self._derived[name], self))
            finally:
                self._busy.discard(name)
        if name.startswith(self._unknown_prefixes):
            return None
        option = self._options.get(name)
        if option is not None and option.exists_in(self.series):
            if self.base == "defaults":
                return {"on": True, "off": False}.get(option.state[self.series])
            if self.base == "platform" and name not in self.touched:
                return None  # the platform's header does not touch it: set elsewhere, or not at all
            return False
        if option is not None or name in self._values or name.startswith(("MBEDTLS_", "HAVE_")):
            return False
        return None

    def value(self, name: str) -> int | None:
        if name.startswith("CONFIG_"):
            return _number(self.symbols.get(name))
        text = self.text_value(name)
        if text is None:
            return None
        if text == "" and self.defined(name):
            return 1  # a flag defined without a value reads as 1 in #if
        if name in self._busy:
            return None
        self._busy.add(name)
        try:
            return evaluate(text, self)
        finally:
            self._busy.discard(name)

    # -- values -----------------------------------------------------------------------------------------

    def text_value(self, name: str) -> str | None:
        """The value text of a value option: as set, else its default (possibly another option's value)."""
        setting = self.settings.get(name)
        if setting is not None:
            if setting.state == "on":
                return setting.value or ""
            if setting.state == "maybe":
                return None
        rule = self._values.get(name)
        if rule is not None:
            source = rule["default_from"]
            if self.settings.get(source) is not None or source in self._options:
                return self.text_value(source)
        option = self._options.get(name)
        if option is not None:
            if self.base == "defaults" and option.state.get(self.series) == "on" and option.value.get(self.series):
                return option.value[self.series]
            if option.exists_in(self.series) and self.series in option.value:
                return option.value[self.series]
        return None

    def setting_for_value(self, name: str) -> str:
        """The option a change of ``name`` must go through (2.7 sizes both buffers with MAX_CONTENT_LEN)."""
        rule = self._values.get(name)
        if rule is not None and rule.get("set_through"):
            return str(rule["set_through"])
        return name

    def on(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if self.defined(name) is True]

    def with_settings(self, changes: Mapping[str, Setting]) -> Effective:
        merged = {**self.settings, **changes}
        return Effective(merged, self.series, self.knowledge, self.base, self.symbols, self.touched)

    def _symbol_defined(self, name: str) -> bool | None:
        if name not in self.symbols:
            return None
        return self.symbols[name] not in ("n", "")


def _number(text: str | None) -> int | None:
    if text is None:
        return None
    if text == "y":
        return 1
    try:
        return int(text, 0)
    except ValueError:
        return None


def number(text: str | None) -> int | None:
    """A value text read as a number (``4096``, ``0x1000``), or None."""
    return _number(text)
