"""One-line pastes per stack: each line alone must have its code read right and get the right finding.

The table is ``tests/fixtures/pastes/one-line.toml``: for each stack and print format, a dozen lines in
that format for a dozen codes that occur on that stack, with the code's first reading for the stack's
mbedTLS series and the category a one-line paste of it should get (the file says where each answer comes
from). Two kinds of test:

- the table itself, against the reference tables and its own rules (no tlsdiag involved);
- tlsdiag on each line alone, through ``tlsdiag diagnose --format json``: the code is in ``errors``
  with line 1 and its first interpretation has the expected name(s); there is a finding; the top
  finding's category is the expected one.

``python -m tests.test_pastes`` prints how many lines of each stack pass each check.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from typing import Any

import pytest

from tests.measure import (
    PASTES,
    SERIES_VERSION,
    diagnose_text,
    measured,
    reference_errors,
    strerror_pattern,
)

TABLE = tomllib.loads((PASTES / "one-line.toml").read_text(encoding="utf-8"))
CATEGORIES = {
    "memory", "record-buffer-size", "certificate-trust", "certificate-time", "hostname-mismatch", "peer-closed",
    "ciphersuite-mismatch", "protocol-version", "entropy-rng", "config-missing-feature", "network-io",
    "client-auth", "key-mismatch", "psk", "toolchain-or-hardware", "other",
}  # fmt: skip


def _lines() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rows = []
    for stack in TABLE["stack"]:
        for number, line in enumerate(stack["line"], start=1):
            rows.append((f"{stack['id']}-{number:02d}", stack, line))
    return rows


LINES = _lines()
IDS = [row[0] for row in LINES]


def _value(line: dict[str, Any]) -> int:
    return int(line["code"], 16)


def _names(line: dict[str, Any]) -> list[str]:
    return [line["name"]] if isinstance(line["name"], str) else list(line["name"])


def _series(stack: dict[str, Any], line: dict[str, Any]) -> list[str]:
    return (line.get("series") or stack["mbedtls"]).split("|")


# --- the table itself --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", TABLE["stack"], ids=[stack["id"] for stack in TABLE["stack"]])
def test_each_stack_has_a_dozen_codes_and_says_where_its_formats_come_from(stack):
    assert len({line["code"] for line in stack["line"]}) >= 12
    assert stack["format"] and all(entry["format"] and entry["source"] for entry in stack["format"])
    assert stack["mbedtls"] in ("2", "3", "2|3")


@pytest.mark.parametrize(("test_id", "stack", "line"), LINES, ids=IDS)
def test_expected_name_is_the_reference_reading_in_the_line_series(test_id, stack, line):
    tables = reference_errors()
    readings = {series: list(tables.reading(_value(line), series)) for series in _series(stack, line)}
    assert all(names == _names(line) for names in readings.values()), readings


@pytest.mark.parametrize(("test_id", "stack", "line"), LINES, ids=IDS)
def test_expected_category_is_the_code_category(test_id, stack, line):
    assert line["category"] in CATEGORIES
    assert line["category"] == TABLE["code"][line["code"]]["category"]


@pytest.mark.parametrize(("test_id", "stack", "line"), LINES, ids=IDS)
def test_strerror_texts_on_the_line_are_those_of_its_code(test_id, stack, line):
    tables = reference_errors()
    value = _value(line)
    high, low = tables.parts(value)
    for match in strerror_pattern().finditer(line["text"]):
        if match.group(1):  # UNKNOWN ERROR CODE (XXXX): the part mbedtls_strerror had no text for
            assert -int(match.group(1), 16) in (high, low, value)
        elif match.group(0).startswith("MBEDTLS_ERR_"):
            assert match.group(0) in _names(line)
        else:
            texts = {
                tables.texts.get((SERIES_VERSION[series], part))
                for series in _series(stack, line)
                for part in (high, low)
            }
            assert match.group(0) in texts, match.group(0)


# --- tlsdiag on each line alone ------------------------------------------------------------------------


def _error_at_line_one(document: dict[str, Any] | None, value: int) -> dict[str, Any] | None:
    for error in (document or {}).get("errors") or []:
        if error.get("line") == 1 and error.get("value") == value:
            return error
    return None


def first_reading(document: dict[str, Any] | None, value: int) -> list[str] | None:
    """The names of the first interpretation of ``value`` on line 1, or None when it was not read."""
    error = _error_at_line_one(document, value)
    if error is None or not error.get("interpretations"):
        return None
    return [part["name"] for part in error["interpretations"][0].get("parts") or []]


@pytest.mark.parametrize(("stack", "line"), measured("pastes: code read", IDS, [row[1:] for row in LINES]))
def test_code_is_read_with_its_first_reading(stack, line):
    document = diagnose_text(line["text"] + "\n")
    errors = [(error.get("line"), error.get("raw"), error.get("value")) for error in (document or {}).get("errors", [])]
    assert _error_at_line_one(document, _value(line)), f"{line['code']} not in errors on line 1: {errors}"
    assert first_reading(document, _value(line)) == _names(line)


@pytest.mark.parametrize(("stack", "line"), measured("pastes: top finding", IDS, [row[1:] for row in LINES]))
def test_top_finding_has_the_expected_category(stack, line):
    document = diagnose_text(line["text"] + "\n")
    findings = (document or {}).get("findings") or []
    assert findings, "no finding"
    assert findings[0]["category"] == line["category"], [(f["rule"], f["category"], f["confidence"]) for f in findings]


def main() -> None:
    """Print, per stack, how many lines have their code read right and their top finding right."""
    read: Counter[str] = Counter()
    finding: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for _test_id, stack, line in LINES:
        document = diagnose_text(line["text"] + "\n")
        total[stack["id"]] += 1
        read[stack["id"]] += first_reading(document, _value(line)) == _names(line)
        findings = (document or {}).get("findings") or []
        finding[stack["id"]] += bool(findings) and findings[0]["category"] == line["category"]
    print(f"| {'stack':26} | lines | code read right | top category right |")
    print(f"|{'-' * 28}|-------|-----------------|--------------------|")
    for stack_id in total:
        print(f"| {stack_id:26} | {total[stack_id]:5} | {read[stack_id]:15} | {finding[stack_id]:18} |")
    lines, good_reads, good_findings = sum(total.values()), sum(read.values()), sum(finding.values())
    print(f"| {'all':26} | {lines:5} | {good_reads:15} | {good_findings:18} |")


if __name__ == "__main__":
    main()
