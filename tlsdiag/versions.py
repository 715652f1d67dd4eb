"""mbedTLS and ESP-IDF version handling: which examined code table answers for a given version.

The knowledge base holds the error tables of a fixed set of mbedTLS releases (one per series: 2.7,
2.16, 2.28, 3.0, 3.3, 3.5, 3.6, 4.0, 4.1). A user's version is mapped to the newest examined series
at or below it within the same major version, and the mapping is reported when it is not exact.
"""

# No ``from __future__ import annotations`` here: the named tuples below would carry their field types
# as strings, and typing compiles each string when the class is made, a cost every start of tlsdiag pays.
import re
from functools import cache
from typing import NamedTuple


@cache
def _version_pattern() -> re.Pattern[str]:
    """A version number, compiled on first use: ``tlsdiag explain`` without a version never needs it.

    At most nine digits a part: no release number is longer, and int() refuses very long digit strings.
    """
    return re.compile(
        r"^\s*v?(\d{1,9})(?!\d)(?:\.(\d{1,9})(?!\d))?(?:\.(\d{1,9})(?!\d))?(?:[-.+~\w]*)\s*$", re.IGNORECASE
    )


class VersionError(ValueError):
    """A version string that cannot be mapped onto any examined release."""


def parse_version(text: str) -> tuple[int, ...]:
    match = _version_pattern().match(text)
    if not match:
        raise VersionError(f"{text!r} is not a version number (expected e.g. 2.28, 3.6.2, v4.4)")
    return tuple(int(group) for group in match.groups() if group is not None)


def series_key(series: str) -> tuple[int, int]:
    major, minor = series.split(".")
    return int(major), int(minor)


class VersionSelection(NamedTuple):
    """The examined series that answer for what the user asked, with a note when approximate."""

    requested: str | None
    series: tuple[str, ...]
    note: str | None = None


def select_mbedtls(requested: str | None, known: tuple[str, ...]) -> VersionSelection:
    """Map ``requested`` (``"2.28"``, ``"3.4.1"``, ``"3"``) onto the examined series ``known``."""
    if requested is None:
        return VersionSelection(None, known)
    parts = parse_version(requested)
    same_major = [series for series in known if series_key(series)[0] == parts[0]]
    if not same_major:
        span = f"{known[0]} to {known[-1]}"
        raise VersionError(f"mbedTLS {requested} is outside the versions tlsdiag knows ({span})")
    if len(parts) == 1:
        return VersionSelection(requested, tuple(same_major))
    wanted = parts[:2]
    exact = [series for series in same_major if series_key(series) == wanted]
    if exact:
        return VersionSelection(requested, tuple(exact))
    below = [series for series in same_major if series_key(series) <= wanted]
    chosen = below[-1] if below else same_major[0]
    relation = "the nearest examined release below it" if below else "the oldest examined release of that series"
    note = f"mbedTLS {requested} is read with the {chosen} tables ({relation}); codes rarely change within a series"
    return VersionSelection(requested, (chosen,), note)


def series_of_release(version: str, known: tuple[str, ...]) -> str | None:
    """The examined series that stands for a full release number such as ``2.16.11`` (or None)."""
    try:
        return select_mbedtls(version, known).series[0]
    except VersionError:
        return None


def select_by_esp_idf(requested: str, releases: list[dict[str, str]], known: tuple[str, ...]) -> VersionSelection:
    """Map an ESP-IDF version (``4.0``, ``v4.4.8``) to the series of the mbedTLS it bundles."""
    parts = parse_version(requested)
    if len(parts) < 2:
        raise VersionError(f"ESP-IDF {requested}: give at least major.minor (e.g. 4.4)")
    matching = [
        release
        for release in releases
        if parse_version(release["tag"])[: len(parts)] == parts and _is_plain_release(release["tag"])
    ]
    if not matching:
        raise VersionError(f"ESP-IDF {requested} is not a release tlsdiag knows")
    found: list[str] = []
    for release in matching:
        series = series_of_release(release["mbedtls"], known)
        if series and series not in found:
            found.append(series)
    found.sort(key=series_key)
    bundled = sorted({release["mbedtls"] for release in matching}, key=parse_version)
    note = f"ESP-IDF {requested} bundles mbedTLS {', '.join(bundled)}"
    return VersionSelection(f"ESP-IDF {requested}", tuple(found), note)


def _is_plain_release(tag: str) -> bool:
    return re.fullmatch(r"v\d+\.\d+(\.\d+)?", tag) is not None


def esp_idf_series(requested: str) -> str:
    """``v4.4.8`` -> ``4.4``: the ESP-IDF series used to pick esp-tls code values."""
    parts = parse_version(requested)
    if len(parts) < 2:
        raise VersionError(f"ESP-IDF {requested}: give at least major.minor (e.g. 4.4)")
    return f"{parts[0]}.{parts[1]}"
