"""Every code printed in every real-world paste is read, on its line, with the name the thread confirmed.

For each ``tests/fixtures/realworld/{cases,formats}/<id>.log``, every entry of its record's
``error_codes`` (exactly as printed) is found in the log text (its line is found here, independently
of tlsdiag), and the diagnose JSON must carry it where the contract puts it:

- an mbedTLS code: an entry of ``errors`` on that line with the code's value, every expected name
  among its interpretations (a composite as its two parts);
- an ESP-IDF error code: an entry of ``errors`` on that line naming it;
- verify flags (printed as a number or as mbedtls_x509_crt_verify_info text): ``handshake.verify_flags``;
- a TLS alert number: ``handshake.alerts``;
- another system's value (an errno, an SDK status, an HTTP client code): nothing on that line read as
  an mbedTLS code with that value.

What each printed code denotes comes from the record (``expected_code_names``, paired in order) or,
where its notes say more, from ``tests/fixtures/pastes/realworld-codes.toml``.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.measure import (
    PASTES,
    REFERENCE,
    RealCase,
    code_readings,
    diagnose_file,
    esp_error_values,
    log_lines,
    measured,
    read_log,
    realworld,
    reference_errors,
)

OVERRIDES = tomllib.loads((PASTES / "realworld-codes.toml").read_text(encoding="utf-8"))
MBEDTLS_NAME = re.compile(r"\bMBEDTLS_ERR_[A-Z0-9_]+")
ESP_NAME = re.compile(r"\bESP_ERR_[A-Z0-9_]+")
FLAG_NAME = re.compile(r"\bMBEDTLS_X509_BADCERT_[A-Z0-9_]+")
ALERT_NAME = re.compile(r"\bMBEDTLS_SSL_ALERT_MSG_[A-Z0-9_]+")


@dataclass
class Expectation:
    """One printed code of one paste, and where the diagnose JSON must carry it."""

    case: RealCase
    printed: str
    kind: str  # mbedtls | esp-err | verify-flag | alert | other
    names: list[str]
    lines: list[int] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.printed!r} on line {self.lines} as {self.kind} {self.names}"


def _kind(names: list[str]) -> str:
    text = " ".join(names)
    for kind, pattern in (("verify-flag", FLAG_NAME), ("alert", ALERT_NAME), ("mbedtls", MBEDTLS_NAME)):
        if pattern.search(text):
            return kind
    return "esp-err" if ESP_NAME.search(text) else "other"


def _tokens(kind: str, names: list[str]) -> list[str]:
    pattern = {"mbedtls": MBEDTLS_NAME, "esp-err": ESP_NAME, "verify-flag": FLAG_NAME, "alert": ALERT_NAME}.get(kind)
    return [token for name in names for token in pattern.findall(name)] if pattern else []


def _find(text: str, token: str, start: tuple[int, int]) -> tuple[int, int]:
    """The (line, end column) of the first occurrence of ``token`` at or after ``start``, as printed."""
    pattern = re.compile(r"(?<![0-9A-Za-z_])" + re.escape(token) + r"(?![0-9A-Za-z_])")
    for number, line in log_lines(text):
        if number < start[0]:
            continue
        match = pattern.search(line, start[1] if number == start[0] else 0)
        if match:
            return number, match.end()
    raise AssertionError(f"{token!r} is not in the log after line {start[0]}")


def expectations(case: RealCase) -> list[Expectation]:
    """What each printed code of ``case`` must read as, with the line it is printed on."""
    override = OVERRIDES.get(case.id)
    if override is not None:
        entries = [(entry["printed"], entry["names"], entry.get("lines")) for entry in override["codes"]]
    else:
        codes, names = case.record["error_codes"], case.record["expected_code_names"]
        assert len(codes) == len(names), f"{case.id}: the lists do not pair; say what they mean in realworld-codes.toml"
        entries = [(code, [name], None) for code, name in zip(codes, names, strict=True)]
    text = read_log(case.log)
    result = []
    position = (1, 0)
    for printed, names, lines in entries:
        position = _find(text, printed, position)
        kind = _kind(names)
        result.append(Expectation(case, printed, kind, _tokens(kind, names), lines or [position[0]]))
    for flag in (override or {}).get("flags", []):
        result.append(Expectation(case, flag["name"], "verify-flag", [flag["name"]], [flag["line"]]))
    return result


def _all() -> tuple[list[str], list[tuple[Expectation]]]:
    ids, rows = [], []
    for folder in ("cases", "formats"):
        for case in realworld(folder):
            for index, expectation in enumerate(expectations(case), start=1):
                ids.append(f"{folder}/{case.id}#{index}")
                rows.append((expectation,))
    return ids, rows


IDS, ROWS = _all()


def _alert_numbers() -> dict[str, int]:
    with (REFERENCE / "tls-alerts.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["name"]: int(row["value"]) for row in csv.DictReader(handle, delimiter="\t")}


def _errors_on(document: dict[str, Any], lines: list[int]) -> list[dict[str, Any]]:
    return [error for error in document.get("errors") or [] if error.get("line") in lines]


def _names_of(error: dict[str, Any]) -> set[str]:
    return {part["name"] for reading in error.get("interpretations") or [] for part in reading.get("parts") or []}


def _is_mbedtls(error: dict[str, Any]) -> bool:
    readings = error.get("interpretations") or [{}]
    return (error.get("kind") or readings[0].get("kind")) == "mbedtls"


def check(expectation: Expectation, document: dict[str, Any] | None) -> str | None:
    """Why the document does not carry ``expectation``, or None when it does."""
    if document is None:
        return "tlsdiag refused the input"
    found = _errors_on(document, expectation.lines)
    seen = [(error.get("line"), error.get("raw"), error.get("value")) for error in document.get("errors") or []]
    if expectation.kind == "mbedtls":
        value = sum(reference_errors().values[name] for name in set(expectation.names))
        matching = [error for error in found if error.get("value") == value]
        if not matching:
            return f"no error with value {value} on line {expectation.lines}; errors: {seen}"
        missing = set(expectation.names) - set().union(*(_names_of(error) for error in matching))
        return f"{sorted(missing)} not among the interpretations" if missing else None
    if expectation.kind == "esp-err":
        value = esp_error_values().get(expectation.names[0])
        if any(expectation.names[0] in _names_of(error) for error in found):
            return None
        return f"{expectation.names[0]} ({value}) not in errors on line {expectation.lines}; errors: {seen}"
    if expectation.kind == "verify-flag":
        flags = (document.get("handshake") or {}).get("verify_flags") or []
        if not any(
            flag.get("name") == expectation.names[0] and flag.get("line") in expectation.lines for flag in flags
        ):
            return f"{expectation.names[0]} not in handshake.verify_flags on line {expectation.lines}: {flags}"
        return _misread(expectation, found)
    if expectation.kind == "alert":
        number = _alert_numbers()[expectation.names[0]]
        alerts = (document.get("handshake") or {}).get("alerts") or []
        return None if any(alert.get("description") == number for alert in alerts) else f"no alert {number}: {alerts}"
    return _misread(expectation, found)


def _misread(expectation: Expectation, found: list[dict[str, Any]]) -> str | None:
    """A value that is not an mbedTLS error code (another system's, verify flags) read as one."""
    number = re.fullmatch(r"[^\d-]*?(-?(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*)\)?", expectation.printed)
    if number is None:
        return None  # a name or a word: nothing that could be misread as a number
    wrong = set(code_readings(number.group(1)))
    misread = [
        (error.get("raw"), error.get("value")) for error in found if _is_mbedtls(error) and error.get("value") in wrong
    ]
    return f"{expectation.printed!r} read as an mbedTLS error code: {misread}" if misread else None


@pytest.mark.parametrize("expectation", measured("realworld: codes", IDS, ROWS))
def test_printed_code_is_read_on_its_line(expectation):
    problem = check(expectation, diagnose_file(expectation.case.log))
    assert problem is None, f"{expectation.describe()}: {problem}"


def test_every_override_names_a_real_paste_and_every_record_is_covered():
    known = {case.id for folder in ("cases", "formats") for case in realworld(folder)}
    assert set(OVERRIDES) <= known
    assert len(IDS) >= sum(
        len(case.record["error_codes"]) for folder in ("cases", "formats") for case in realworld(folder)
    )
