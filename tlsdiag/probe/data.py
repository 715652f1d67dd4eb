"""The probe's knowledge: build capabilities as conditions, check texts, and device presets (all TOML)."""

from __future__ import annotations

from functools import cache
from typing import Any

from tlsdiag.knowledge import document


@cache
def capabilities() -> dict[str, Any]:
    return document("probe/capabilities.toml")


@cache
def checks() -> dict[str, Any]:
    return dict(document("probe/checks.toml")["check"])


@cache
def presets() -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in document("devices/presets.toml")["preset"]}


def major(series: str) -> str:
    """The key capability conditions are written for: "2", "3" or "4"."""
    return series.split(".")[0]


def for_major(value: Any, series: str) -> Any:
    """A value written per major version (a table keyed "2"/"3"/"4"), or the value itself."""
    if isinstance(value, dict):
        return value.get(major(series))
    return value
