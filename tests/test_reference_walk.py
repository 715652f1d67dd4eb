"""Every name/value pair of the extracted mbedTLS error table decodes to that name in every version where it holds."""

from __future__ import annotations

import pytest

from tests.conftest import REFERENCE, read_tsv
from tlsdiag import codes
from tlsdiag.knowledge import load


def _series_columns() -> dict[str, str]:
    """Version columns of the reference table (``2.28.10``) -> the series labels the tool uses (``2.28``)."""
    with (REFERENCE / "mbedtls-errors.tsv").open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
    return {column: ".".join(column.split(".")[:2]) for column in header if column[:1].isdigit()}


SERIES = _series_columns()


def _pairs() -> list[tuple[str, str, int, str]]:
    pairs = []
    for row in read_tsv(REFERENCE / "mbedtls-errors.tsv"):
        if row["level"] == "internal":
            continue  # MPS codes of library/mps_error.h never reach an application
        for column, series in SERIES.items():
            if row[column] == "y":
                pairs.append((row["name"], row["value_hex"], int(row["value_dec"]), series))
    return pairs


PAIRS = _pairs()


def test_the_walk_covers_the_whole_table():
    names = {name for name, *_ in PAIRS}
    assert len(names) > 290 and len(PAIRS) > 1900


@pytest.mark.parametrize("series", sorted(set(SERIES.values())))
def test_every_value_decodes_to_its_name_in_each_version(series):
    knowledge = load()
    failures = []
    for name, value_hex, value, pair_series in PAIRS:
        if pair_series != series:
            continue
        scope = codes.default_scope(knowledge, mbedtls_version=series)
        for text in (value_hex, str(value)):
            readings = [item for item in codes.explain(text, scope, knowledge) if item.value == value]
            names = {
                candidate
                for decoded in readings
                for interpretation in decoded.interpretations
                if interpretation.kind in ("mbedtls", "psa") and len(interpretation.parts) == 1
                for part in interpretation.parts
                for candidate in (part.name, *part.aliases)
            }
            if name not in names:
                failures.append(f"{text} in {series}: expected {name}, got {sorted(n for n in names if n)}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("series", sorted(set(SERIES.values())))
def test_every_name_decodes_to_its_value_in_each_version(series):
    knowledge = load()
    scope = codes.default_scope(knowledge, mbedtls_version=series)
    failures = []
    for name, _, value, pair_series in PAIRS:
        if pair_series != series:
            continue
        values = {item.value for item in codes.explain(name, scope, knowledge) if item.interpretations}
        if value not in values:
            failures.append(f"{name} in {series}: expected {value}, got {sorted(values)}")
    assert not failures, "\n".join(failures[:20])


def test_values_that_changed_meaning_are_kept_apart():
    knowledge = load()
    decoded = codes.explain("-0x7500", codes.default_scope(knowledge), knowledge)[0]
    by_name = {
        part.name: interpretation.versions
        for interpretation in decoded.interpretations
        for part in interpretation.parts
    }
    assert by_name["MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE"] == ("2.7", "2.16", "2.28")
    assert by_name["MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"] == ("3.0", "3.3", "3.5", "3.6", "4.0", "4.1")
