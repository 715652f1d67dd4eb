"""Which mbedTLS (and ESP-IDF) versions a recommendation may speak for.

A fix is right only for the version it was written for: ``-0x7500`` is a certificate chain too large for
the output buffer in mbedTLS 2.x and an unsupported extension in 3.x; ESP-IDF 3.3 has no
``CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN``; 2.x keeps its options in ``config.h`` and 3.x in
``mbedtls_config.h``. So before anything is recommended the versions are settled from what the user
said (``--mbedtls-version``, a configuration's own version, ``--esp-idf-version``) and what the log
shows (the inference ``diagnose`` uses), and never widened beyond them. Each build the recommendation
may be for becomes a :class:`Point`: an mbedTLS series, or for ESP-IDF builds an examined ESP-IDF
release with the series it bundles. Points whose recommendation comes out the same are merged later.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from tlsdiag.config.data import ConfigKnowledge, EspIdfRelease
from tlsdiag.config.model import Config
from tlsdiag.errors import InputError
from tlsdiag.versions import VersionError, parse_version, select_by_esp_idf, select_mbedtls, series_key

_ESP_IDF_STATED = re.compile(r"ESP-IDF v?(\d+\.\d+(?:\.\d+)?)")


class Point(NamedTuple):
    """One build a recommendation may be for."""

    series: tuple[str, ...]  # the examined mbedTLS series it may have, oldest first
    release: EspIdfRelease | None = None  # the examined ESP-IDF release whose Kconfig stands for it
    esp_idf: tuple[str, ...] = ()  # the ESP-IDF major.minor versions that release stands for
    esp_idf_version: str | None = None  # as the user or the log gave it ("4.0", "4.4.8")

    @property
    def newest(self) -> str:
        return self.series[-1]


class VersionScope(NamedTuple):
    """The points to recommend for, and how they were decided."""

    points: tuple[Point, ...]
    basis: str  # option | configuration | esp-idf-option | log | none
    stated: str | None  # what decided, in words: "--mbedtls-version 2.28", "the configuration (config.h)", "the log"
    log_range: str | None  # the mbedTLS versions the log shows ("2.28-3.0"), None when it shows none
    notes: tuple[str, ...] = ()

    @property
    def series(self) -> tuple[str, ...]:
        """Every mbedTLS series some point may have, oldest first."""
        found = {series for point in self.points for series in point.series}
        return tuple(sorted(found, key=series_key))


def settle(
    target: str,
    config: Config | None,
    mbedtls_version: str | None,
    esp_idf_version: str | None,
    context: Any,
    knowledge: ConfigKnowledge,
) -> VersionScope:
    """The versions to recommend for; ``context`` is the log's :class:`InputContext` (or None without a log)."""
    notes: list[str] = []
    log_series = tuple(context.mbedtls_series) if context is not None and context.mbedtls_version else None
    log_range = context.mbedtls_version if log_series else None
    series, basis, stated = _stated_series(config, mbedtls_version, knowledge)
    if series is not None and log_series and not set(series) & set(log_series):
        notes.append(
            f"the log looks like mbedTLS {log_range}; the recommendation follows {stated} (mbedTLS {span(series)})"
        )
    if target == "sdkconfig":
        esp_version, esp_basis = _esp_idf_version(config, esp_idf_version, context)
        if esp_version is not None:
            point, esp_notes = _esp_idf_point(esp_version, series, log_series, knowledge)
            notes += esp_notes
            if series is None:
                basis = "esp-idf-option" if esp_basis == "option" else "log"
                stated = f"--esp-idf-version {esp_version}" if esp_basis == "option" else "the log"
            return VersionScope((point,), basis, stated, log_range, tuple(notes))
        wanted = series or log_series
        points = _esp_idf_points(wanted, knowledge)
        if not points:  # no examined ESP-IDF release bundles these series: name the options as the newest does
            newest = max(knowledge.esp_idf.values(), key=lambda release: series_key(release.series))
            notes.append(
                f"no examined ESP-IDF release bundles mbedTLS {span(wanted or ())}: "
                f"option names are those of {newest.tag}"
            )
            points = (Point(tuple(wanted or knowledge.series), newest, (newest.series,), newest.series),)
    else:
        points = tuple(Point((item,)) for item in (series or log_series or knowledge.series))
    if series is None:
        basis, stated = ("log", "the log") if log_series else ("none", None)
    return VersionScope(points, basis, stated, log_range, tuple(notes))


def _stated_series(
    config: Config | None, requested: str | None, knowledge: ConfigKnowledge
) -> tuple[tuple[str, ...] | None, str, str | None]:
    """The series the user stated, directly or through the configuration they gave."""
    if requested:
        try:
            return select_mbedtls(requested, knowledge.series).series, "option", f"--mbedtls-version {requested}"
        except VersionError as error:
            raise InputError(str(error)) from None
    if config is not None and config.series:
        return (config.series,), "configuration", f"the configuration ({config.file_kind})"
    return None, "none", None


def _esp_idf_version(config: Config | None, requested: str | None, context: Any) -> tuple[str | None, str]:
    if config is not None and config.esp_idf_version:
        return config.esp_idf_version, "configuration"
    if requested:
        return requested.lstrip("vV"), "option"
    if context is not None and context.platform_version:
        found = _ESP_IDF_STATED.search(context.platform_version)
        if found:
            return found.group(1), "log"
    return None, "none"


def _esp_idf_point(
    version: str, series: tuple[str, ...] | None, log_series: tuple[str, ...] | None, knowledge: ConfigKnowledge
) -> tuple[Point, list[str]]:
    """The one ESP-IDF release the build is, with the series it bundles (narrowed by the log when they agree)."""
    notes: list[str] = []
    try:
        release, note = knowledge.esp_idf_release(version)
        bundled = select_by_esp_idf(version, knowledge.esp_idf_releases, knowledge.series).series
    except VersionError as error:
        raise InputError(str(error)) from None
    if note:
        notes.append(note)
    if series is None:
        narrowed = tuple(item for item in bundled if log_series is None or item in log_series)
        if log_series and not narrowed:
            notes.append(
                f"the log looks like mbedTLS {span(log_series)}, but ESP-IDF {version} bundles {span(bundled)}: "
                f"the recommendation follows ESP-IDF {version}"
            )
        series = narrowed or bundled
    parts = parse_version(version)
    return Point(tuple(series), release, (f"{parts[0]}.{parts[1] if len(parts) > 1 else 0}",), version), notes


def _esp_idf_points(wanted: tuple[str, ...] | None, knowledge: ConfigKnowledge) -> tuple[Point, ...]:
    """Every examined ESP-IDF release whose bundled mbedTLS may be one of ``wanted`` (all when None).

    A release stands for itself and the minor versions up to the next examined one (4.0 for 4.0-4.3),
    as the Kconfig lookup reads them; the series it bundles are those of every tag it stands for.
    """
    ordered = sorted(knowledge.esp_idf.values(), key=lambda release: series_key(release.series))
    points = []
    for index, release in enumerate(ordered):
        following = series_key(ordered[index + 1].series) if index + 1 < len(ordered) else None
        minors: list[str] = []
        bundled: set[str] = set()
        for entry in knowledge.esp_idf_releases:
            parts = parse_version(entry["tag"])
            minor = (parts[0], parts[1] if len(parts) > 1 else 0)
            if minor < series_key(release.series) or (following is not None and minor >= following):
                continue
            found = select_mbedtls(entry["mbedtls"], knowledge.series).series
            bundled.update(found[:1])
            label = f"{minor[0]}.{minor[1]}"
            if label not in minors:
                minors.append(label)
        series = tuple(item for item in sorted(bundled, key=series_key) if wanted is None or item in wanted)
        if series:
            points.append(Point(series, release, tuple(minors), release.series))
    return tuple(points)


def span(series: tuple[str, ...] | list[str]) -> str:
    """``("2.16", "2.28")`` -> ``2.16-2.28``; one series as it is."""
    if not series:
        return "unknown"
    return series[0] if len(series) == 1 else f"{series[0]}-{series[-1]}"
