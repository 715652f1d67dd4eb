"""What the measurement tests and benchmarks share: diagnose in process, the real-world and corpus sets,
the reference error tables, and how one diagnosis is scored against a known category.

The expected answers never come from tlsdiag: names and values come from the reference tables copied
from the mbedTLS sources (``tests/fixtures/reference``), categories from the confirmed causes of the
real-world cases and the corpus. Only the answer being scored comes from tlsdiag, through the same
entry point the ``tlsdiag`` command runs (``tlsdiag.entry.main``), in this process for speed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
REALWORLD = FIXTURES / "realworld"
CORPUS = FIXTURES / "corpus"
PASTES = FIXTURES / "pastes"
REFERENCE = FIXTURES / "reference"

# The versions whose tables stand for a series: the last 2.x LTS and the 3.x LTS.
SERIES_VERSION = {"2": "2.28.10", "3": "3.6.6"}

_SCRATCH = tempfile.TemporaryDirectory(prefix="tlsdiag-measure-")


# --- diagnose, in process -------------------------------------------------------------------------


def diagnose_file(path: Path | str) -> dict[str, Any] | None:
    """The document ``tlsdiag diagnose PATH --format json`` writes, or None when tlsdiag refuses the input."""
    from tlsdiag.entry import main

    output = Path(_SCRATCH.name) / "report.json"
    output.unlink(missing_ok=True)
    code = main(["diagnose", str(path), "--format", "json", "--output", str(output)])
    if code == 2 or not output.exists():
        return None
    return json.loads(output.read_text(encoding="utf-8"))


@cache
def diagnose_text(text: str) -> dict[str, Any] | None:
    """``diagnose_file`` of a log given as text; the same text is diagnosed once per run."""
    source = Path(_SCRATCH.name) / "input.log"
    source.write_text(text, encoding="utf-8")
    return diagnose_file(source)


def read_log(path: Path) -> str:
    """A fixture log as text, byte for byte (no newline translation)."""
    return path.read_bytes().decode("utf-8", errors="replace")


# --- scoring one diagnosis --------------------------------------------------------------------------

RIGHT_FIRST = "right first"
HONEST_DIFFERENTIAL = "honest differential"
WRONG_BELOW_07 = "wrong first below 0.7"
WRONG_AT_07 = "wrong first at 0.7 or more"
NOTHING = "nothing at all"
OUTCOMES = (RIGHT_FIRST, HONEST_DIFFERENTIAL, WRONG_BELOW_07, WRONG_AT_07, NOTHING)
ACCEPTABLE = (RIGHT_FIRST, HONEST_DIFFERENTIAL)

HONEST_CONFIDENCE = 0.6  # a differential is honest when its wrong first answer stays below this
CONFIDENT_WRONG = 0.7  # a wrong first answer at or above this is the failure the issue names


def outcome(document: dict[str, Any] | None, expected: str) -> str:
    """Which of ``OUTCOMES`` a diagnosis is, for a log whose true category is ``expected``."""
    findings = (document or {}).get("findings") or []
    if not findings:
        return NOTHING
    top = findings[0]
    if top["category"] == expected:
        return RIGHT_FIRST
    confidence = float(top["confidence"])
    if confidence < HONEST_CONFIDENCE and any(finding["category"] == expected for finding in findings):
        return HONEST_DIFFERENTIAL
    return WRONG_AT_07 if confidence >= CONFIDENT_WRONG else WRONG_BELOW_07


def top_categories(document: dict[str, Any] | None, count: int = 3) -> list[tuple[str, float]]:
    """The first ``count`` distinct categories of the findings, each with its best confidence."""
    seen: dict[str, float] = {}
    for finding in (document or {}).get("findings") or []:
        if finding["category"] not in seen:
            seen[finding["category"]] = float(finding["confidence"])
        if len(seen) == count:
            break
    return list(seen.items())


# --- the reference error tables (from the mbedTLS sources, not from tlsdiag) ------------------------


@dataclass(frozen=True)
class ReferenceErrors:
    """mbedTLS error names and strerror texts per version, as the reference tables give them."""

    names: dict[tuple[str, int], tuple[str, ...]]
    texts: dict[tuple[str, int], str]
    values: dict[str, int]

    def parts(self, value: int) -> tuple[int, int]:
        """A negative code split the way mbedtls_strerror splits it: high (0x7F80 bits) and low part."""
        magnitude = -value
        return -(magnitude & 0xFF80), -(magnitude & 0x7F)

    def reading(self, value: int, series: str) -> tuple[str, ...]:
        """The macro names a code means in ``series`` ("2" or "3"), a composite as its two names."""
        version = SERIES_VERSION[series]
        if (version, value) in self.names:
            return self.names[(version, value)][:1]
        high, low = self.parts(value)
        names: tuple[str, ...] = ()
        for part in (high, low):
            if part:
                if (version, part) not in self.names:
                    return ()
                names += self.names[(version, part)][:1]
        return names

    def strerror(self, value: int, series: str) -> str:
        """What mbedtls_strerror prints for ``value`` in ``series`` (high part, then `` : `` low part)."""
        version = SERIES_VERSION[series]
        high, low = self.parts(value)
        texts = []
        if high:
            texts.append(self.texts.get((version, high), f"UNKNOWN ERROR CODE ({-high:04X})"))
        if low and high != -0x7780:
            texts.append(self.texts.get((version, low), f"UNKNOWN ERROR CODE ({-low:04X})"))
        return " : ".join(texts)


@cache
def reference_errors() -> ReferenceErrors:
    names: dict[tuple[str, int], tuple[str, ...]] = {}
    texts: dict[tuple[str, int], str] = {}
    values: dict[str, int] = {}
    with (REFERENCE / "mbedtls-errors-by-version.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            value = int(row["value_dec"])
            key = (row["version"], value)
            names[key] = (*names.get(key, ()), row["name"])
            if row["strerror"]:
                texts[key] = row["strerror"]
            values.setdefault(row["name"], value)
    return ReferenceErrors(names=names, texts=texts, values=values)


def is_mbedtls_code(value: int) -> bool:
    """A value some mbedTLS 2.x or 3.x release defines, alone or as a high + low composite."""
    if not -0x7FFF <= value < 0:
        return False
    tables = reference_errors()
    return any(tables.reading(value, series) for series in SERIES_VERSION)


def code_readings(token: str) -> list[int]:
    """Every code a printed number can denote.

    mbedTLS codes are negative, so a value printed without its sign (``error=29312``, ``0x7f00``) and
    one printed with it denote the same code; digits alone may be decimal or hex printed without
    ``0x`` (Zephyr's and MicroPython's ``-%x``); eight hex digits may be a negative int printed unsigned.
    """
    digits = token.strip("()").lstrip("-")
    if digits.lower().startswith("0x"):
        numbers = [int(digits[2:], 16)]
    elif digits.isdigit():
        numbers = [int(digits), int(digits, 16)]
    else:
        numbers = [int(digits, 16)]
    readings = []
    for number in numbers:
        if number >= 0x80000000:
            readings.append(number - 0x100000000)
        readings.append(-number)
    return readings


@cache
def strerror_pattern() -> re.Pattern[str]:
    """Any text mbedtls_strerror prints in any version, the placeholder for an unknown part, or a macro name."""
    texts = set(reference_errors().texts.values())
    alternatives = sorted((re.escape(text) for text in texts), key=len, reverse=True)
    return re.compile("|".join(alternatives) + r"|UNKNOWN ERROR CODE \(([0-9A-F]{4})\)|\bMBEDTLS_ERR_[A-Z0-9_]+")


@cache
def esp_error_values() -> dict[str, int]:
    """ESP-IDF ``esp_err_t`` names and values (esp-tls, esp_http_client ...) from the reference table."""
    values: dict[str, int] = {}
    with (REFERENCE / "esp-idf-error-codes.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            values[row["name"]] = int(row["value_dec"])
    return values


# --- the sets being measured ------------------------------------------------------------------------


@dataclass(frozen=True)
class RealCase:
    """One real-world paste: its log and its curated record (``<id>.json``)."""

    id: str
    log: Path
    record: dict[str, Any]

    @property
    def category(self) -> str | None:
        return self.record.get("category")


def realworld(kind: str) -> list[RealCase]:
    """The real-world ``cases`` (with a confirmed cause) or ``formats`` (kept for how they print codes)."""
    folder = REALWORLD / kind
    return [
        RealCase(path.stem, path.with_suffix(".log"), json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    ]


@dataclass(frozen=True)
class CorpusLog:
    """One failing log of the corpus, at the debug level its file name says."""

    id: str
    path: Path
    category: str


def corpus_failing_logs() -> list[CorpusLog]:
    """Every corpus run that failed (its case lists the codes it printed), at each debug level kept."""
    logs = []
    for case in sorted(CORPUS.glob("*/case.json")):
        record = json.loads(case.read_text(encoding="utf-8"))
        if not record.get("expected_error_codes"):
            continue  # a run that succeeded (session resumption): nothing to diagnose
        for name in ("bad.log", "bad.level1.log", "bad.level2.log"):
            path = case.parent / name
            if path.exists():
                logs.append(CorpusLog(f"{case.parent.name}/{name}", path, record["category"]))
    return logs


def log_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines the way a user counts them (1-based; CRLF, CR and LF all end a line)."""
    yield from enumerate(re.split(r"\r\n|\r|\n", text), start=1)


# --- known gaps: today's failures, recorded so that the suite stays green and every change shows -------

KNOWN_GAPS = PASTES / "known-gaps.toml"


@cache
def known_gaps() -> dict[str, dict[str, str]]:
    """The measured failures of the current code, per test module: test id -> what goes wrong.

    Each listed test runs as a strict xfail: it fails the suite if it starts to pass (remove it from the
    list) and an unlisted failure fails the suite as usual (a regression).
    """
    import tomllib

    if not KNOWN_GAPS.exists():
        return {}
    return tomllib.loads(KNOWN_GAPS.read_text(encoding="utf-8"))


def measured(section: str, ids: list[str], rows: list[tuple[Any, ...]]) -> list[Any]:
    """``pytest.param`` for each row of arguments, a strict xfail where ``known-gaps.toml`` lists its id."""
    import pytest

    gaps = {} if os.environ.get("TLSDIAG_IGNORE_KNOWN_GAPS") else known_gaps().get(section, {})
    return [
        pytest.param(*row, id=test_id, marks=pytest.mark.xfail(strict=True, reason=gaps[test_id]))
        if test_id in gaps
        else pytest.param(*row, id=test_id)
        for test_id, row in zip(ids, rows, strict=True)
    ]


# --- the degradation matrix ------------------------------------------------------------------------------

ORIGINAL = "original"


@dataclass(frozen=True)
class Subject:
    """A failing log whose true category is known: a corpus run at one debug level, or a real-world case."""

    id: str
    text: str
    category: str


def degradation_subjects() -> list[Subject]:
    """Every failing corpus log (each level kept), every failing run of the mbedTLS 3.6 harness at both debug
    levels (tests/fixtures/realtls36) and every real-world case."""
    subjects = [Subject(f"corpus/{log.id}", read_log(log.path), log.category) for log in corpus_failing_logs()]
    subjects += [Subject(f"realtls36/{name}", text, category) for name, text, category in harness36_failing_logs()]
    subjects += [
        Subject(f"realworld/{case.id}", read_log(case.log), case.category or "") for case in realworld("cases")
    ]
    return subjects


HARNESS36 = FIXTURES / "realtls36"


def harness36_failing_logs() -> list[tuple[str, str, str]]:
    """(id, text, category) of each recorded 3.6 scenario's failing run that printed an error, per debug level."""
    import lzma

    logs = []
    for case in sorted(HARNESS36.glob("*/case.json")):
        record = json.loads(case.read_text(encoding="utf-8"))
        if not record.get("final_return"):
            continue  # the scenario's failing run completes its handshake (a resumption that did not happen)
        for level in (1, 4):
            plain = case.parent / f"bad.level{level}.log"
            packed = plain.with_name(plain.name + ".xz")
            if plain.exists():
                text = read_log(plain)
            elif packed.exists():
                text = lzma.decompress(packed.read_bytes()).decode("utf-8", errors="replace")
            else:
                continue
            logs.append((f"{case.parent.name}/bad.level{level}.log", text, record["category"]))
    return logs


@dataclass(frozen=True)
class Cell:
    """One log through one variant: what tlsdiag answered and how that scores."""

    subject: Subject
    variant: str
    applies: bool
    outcome: str
    top: tuple[str, float] | None

    @property
    def id(self) -> str:
        return f"{self.subject.id} | {self.variant}"


@cache
def variant_text(subject: Subject, variant: str) -> str:
    """The log as ``variant`` makes it (each made once per run)."""
    from tests.variants import VARIANTS

    return subject.text if variant == ORIGINAL else VARIANTS[variant](subject.text)


def cell_applies(subject: Subject, variant: str) -> bool:
    """Whether ``variant`` changes this log (an unchanged copy measures nothing new)."""
    from tests.variants import same_lines

    return variant == ORIGINAL or not same_lines(variant_text(subject, variant), subject.text)


def cell(subject: Subject, variant: str) -> Cell:
    """Diagnose ``subject`` as ``variant`` makes it (a variant that changes nothing is not applicable)."""
    if not cell_applies(subject, variant):
        return Cell(subject, variant, False, "", None)
    document = diagnose_text(variant_text(subject, variant))
    findings = (document or {}).get("findings") or []
    top = (findings[0]["category"], float(findings[0]["confidence"])) if findings else None
    return Cell(subject, variant, True, outcome(document, subject.category), top)


def variant_names() -> list[str]:
    from tests.variants import VARIANTS

    return [ORIGINAL, *VARIANTS]


# The section of known-gaps.toml each measuring test records its failures under.
SECTIONS = {
    "test_code_is_read_with_its_first_reading": "pastes: code read",
    "test_top_finding_has_the_expected_category": "pastes: top finding",
    "test_printed_code_is_read_on_its_line": "realworld: codes",
    "test_right_category_first_or_an_honest_differential": "degradation: right answer",
    "test_wrapped_copy_keeps_the_top_category": "degradation: wrapped",
}
MEASURING_MODULES = ("tests/test_pastes.py", "tests/test_realworld_codes.py", "tests/test_degradation.py")


def write_known_gaps() -> int:
    """Run the measuring tests without the list and record what fails now (review the diff before committing)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rf", "--tb=no", "-vv", "-p", "no:cacheprovider", *MEASURING_MODULES],
        cwd=ROOT,
        env={**os.environ, "TLSDIAG_IGNORE_KNOWN_GAPS": "1", "COLUMNS": "400"},
        capture_output=True,
        text=True,
        check=False,
    )
    failed = re.compile(r"^FAILED \S+::(\w+)\[(.*?)\](?: - (?:AssertionError: )?(.*))?$")
    sections: dict[str, dict[str, str]] = {}
    for line in result.stdout.splitlines():
        match = failed.match(line)
        if match and match.group(1) in SECTIONS:
            reason = (match.group(3) or "fails").replace("\\n", " ")[:160].rstrip(" :[")
            sections.setdefault(SECTIONS[match.group(1)], {})[match.group(2)] = reason
    lines = [
        "# What the measuring tests find wrong today, one entry per test id (written by `python -m tests.measure`).",
        "# Listed tests run as strict xfails: remove an entry when its test passes;",
        "# never add one to hide a regression.",
    ]
    for section in SECTIONS.values():
        lines.append(f"\n[{json.dumps(section)}]")
        for test_id, reason in sorted(sections.get(section, {}).items()):
            lines.append(f"{json.dumps(test_id, ensure_ascii=False)} = {json.dumps(reason, ensure_ascii=False)}")
    KNOWN_GAPS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sum(len(entries) for entries in sections.values())


if __name__ == "__main__":
    print(f"{write_known_gaps()} known gaps written to {KNOWN_GAPS.relative_to(ROOT)}")
