"""The versions a fix's ``platform`` names, so that a version-bound fix is offered only where it fits.

Fixes in ``knowledge/`` say in words where they apply: ``ESP-IDF >= 4.0``, ``ESP-IDF 3.x-4.3``,
``mbedTLS 2.x / 3.x``, ``mbedTLS 2.28.10+, 3.6.3+, 4.x``, ``PSA Crypto API (mbedTLS 2.28 and later)``.
These are read as bounds on the product's ``major.minor`` (the granularity of the examined tables): a
fix fits a build when every product it bounds has a version the build may be that lies within them.
Words that name no version (``ESP-IDF with PSRAM``, ``Zephyr``) bound nothing, and a fix whose
platform cannot be read is offered, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

Version = tuple[int, int]
_OPEN_LOW: Version = (0, 0)
_OPEN_HIGH: Version = (1 << 30, 1 << 30)

_PRODUCTS = {"esp-idf": "esp-idf", "mbedtls": "mbedtls", "mbed tls": "mbedtls"}
_PRODUCT = re.compile(r"\b(ESP-IDF|Mbed ?TLS)\b", re.IGNORECASE)
_TERM = re.compile(
    r"\s*(?P<op>>=|<=|==|<|>)?\s*v?(?P<major>\d+)(?:\.(?P<minor>\d+|x))?(?:\.\d+)?(?P<plus>\+)?"
    r"(?:\s*-\s*v?(?P<end_major>\d+)(?:\.(?P<end_minor>\d+|x))?(?:\.\d+)?)?"
    r"(?P<later>\s+(?:and|or)\s+later)?",
    re.IGNORECASE,
)
_FIRST_NUMBER = re.compile(r"(?<![\w.])v?\d+\.(?:\d+|x)\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:,|/|\bor\b)\s*", re.IGNORECASE)


class Bound(NamedTuple):
    """An inclusive range of ``major.minor`` versions."""

    low: Version
    high: Version

    def holds(self, version: Version) -> bool:
        return self.low <= version <= self.high


def bounds_of(platform: str | None) -> dict[str, tuple[Bound, ...]]:
    """Product (``esp-idf`` or ``mbedtls``) -> the ranges the text allows; a product not named is absent."""
    found: dict[str, tuple[Bound, ...]] = {}
    product = None
    for clause in (platform or "").split(";"):
        named = list(_PRODUCT.finditer(clause))
        for match in named:
            product = _PRODUCTS[match.group(1).lower()]
            terms = _terms(clause, match.end())
            if terms:
                found[product] = found.get(product, ()) + terms
        if not named and product is not None:  # "mbedTLS 3.x with ...; all of 4.x": the clause goes on the product
            first = _FIRST_NUMBER.search(clause)
            terms = _terms(clause, first.start()) if first else ()
            if terms:
                found[product] = found.get(product, ()) + terms
    return found


def fits(platform: str | None, series: Iterable[str], esp_idf: str | None) -> bool:
    """Does a fix written for ``platform`` apply to a build of these mbedTLS series and this ESP-IDF version?

    An unknown ESP-IDF version (None) does not exclude a fix bound to ESP-IDF: without it the fix
    cannot be checked, so it is offered.
    """
    limits = bounds_of(platform)
    if "mbedtls" in limits:
        versions = [_version(item) for item in series]
        if versions and not any(bound.holds(version) for bound in limits["mbedtls"] for version in versions):
            return False
    if "esp-idf" in limits and esp_idf is not None:
        version = _version(esp_idf)
        if not any(bound.holds(version) for bound in limits["esp-idf"]):
            return False
    return True


def _terms(text: str, start: int) -> tuple[Bound, ...]:
    """The version terms right after a product name, joined by commas, slashes or "or"."""
    terms: list[Bound] = []
    position = start
    while True:
        match = _TERM.match(text, position)
        if match is None:
            break
        terms.append(_bound(match))
        position = match.end()
        separator = _SEPARATOR.match(text, position)
        if separator is None or _TERM.match(text, separator.end()) is None:
            break
        position = separator.end()
    return tuple(terms)


def _bound(match: re.Match[str]) -> Bound:
    operator = match.group("op")
    major, minor = int(match.group("major")), match.group("minor")
    whole_major = minor is None or minor.lower() == "x"
    low: Version = (major, 0 if whole_major else int(minor))
    high: Version = (major, _OPEN_HIGH[1]) if whole_major else low
    if match.group("end_major") is not None:  # a range: "3.x-4.3", "2.16-2.28"
        end_major, end_minor = int(match.group("end_major")), match.group("end_minor")
        end_whole = end_minor is None or end_minor.lower() == "x"
        return Bound(low, (end_major, _OPEN_HIGH[1] if end_whole else int(end_minor)))
    if match.group("later"):
        return Bound(low, _OPEN_HIGH)
    if match.group("plus"):  # "2.28.10+": that release line and later within the same major
        return Bound(low, (major, _OPEN_HIGH[1]))
    return {
        None: Bound(low, high),
        "==": Bound(low, high),
        ">=": Bound(low, _OPEN_HIGH),
        ">": Bound((high[0], high[1] + 1), _OPEN_HIGH),
        "<=": Bound(_OPEN_LOW, high),
        "<": Bound(_OPEN_LOW, (low[0], low[1] - 1) if low[1] > 0 else (low[0] - 1, _OPEN_HIGH[1])),
    }[operator]


def _version(text: str) -> Version:
    parts = re.findall(r"\d+", text)
    return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0) if parts else _OPEN_LOW
