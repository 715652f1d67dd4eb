"""Degraded versions of a real log, as users paste them: each function is a pure transformation of text.

Users rarely paste what the device printed. They paste the console without debug output, the last
screenful, the one line that looks like the error, the same run as ESP-IDF prints it, or a copy that a
terminal or a forum wrapped at 80 columns. tlsdiag must give the same root cause (or an honest
differential) on each. The transformations decide from the printed forms that mbedTLS, its sample
programs and ESP-IDF produce (``tests/fixtures/reference/debug-format.md``, ``debug-messages.tsv``,
the strerror texts of ``mbedtls-errors-by-version.tsv``), never from what tlsdiag reads.

Every function takes the log text and returns the new text, lines joined with ``\\n``; a variant that
cannot change a log (no debug records to remove or re-frame, a log already short enough) returns it
with its lines unchanged, which the callers use to mark the variant "not applicable".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from functools import cache

from tests.measure import REFERENCE, code_readings, is_mbedtls_code, strerror_pattern

WRAP_WIDTH = 80
TAIL_LINES = 25

# Source files that emit debug lines: every file of debug-messages.tsv (2.16 ... 4.1), plus the helpers
# 2.7 and 2.16 also logged from (debug-format.md, section 5).
_OLDER_DEBUG_SOURCES = ("ssl_cache.c", "ssl_cookie.c", "ssl_ticket.c", "ssl_ciphersuites.c")


@cache
def _debug_sources() -> str:
    with (REFERENCE / "debug-messages.tsv").open(encoding="utf-8", newline="") as handle:
        names = {row["file"].rsplit("/", 1)[-1] for row in csv.DictReader(handle, delimiter="\t")}
    return "|".join(sorted(re.escape(name) for name in names | set(_OLDER_DEBUG_SOURCES)))


@cache
def _sample_record() -> re.Pattern[str]:
    """A record as mbedTLS's sample callbacks print it: ``[path]file.c:NNNN: [|L| ][0xCTX: ]message``.

    ssl_client2 prints the basename and the level (``%s:%04d: |%d| %s``); ssl_client1 and most
    applications' callbacks print the full ``__FILE__`` and no level; with MBEDTLS_THREADING_C the
    message starts with the context pointer.
    """
    return re.compile(
        rf"(?<!\w)(?P<path>(?:[A-Za-z]:)?[\w./\\:-]*?[/\\])?(?P<file>{_debug_sources()}):(?P<line>\d+): "
        r"(?:\|(?P<level>\d)\| )?(?:0x[0-9a-fA-F]+: )?(?P<message>.*)"
    )


@cache
def _esp_idf_record() -> re.Pattern[str]:
    """A record as ESP-IDF's debug bridge prints it: ``L (ms) mbedtls: file.c:NNN message`` (4.x-5.x)."""
    return re.compile(rf"(?:[EWIDV] )?(?:\([\d:.]+\) )?mbedtls ?: (?:[\w./\\:-]*[/\\])?(?:{_debug_sources()}):\d+ ")


_MARKUP = " \t>`_*"  # quote prefixes and markdown markers a forum leaves around a pasted line


def _lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def _is_debug_line(line: str) -> bool:
    """A line that is a debug record, maybe behind a quote or markdown marker, with no console text before it."""
    start = _record_start(line)
    return start is not None and not line[: start[0]].strip(_MARKUP)


def _record_start(line: str) -> tuple[int, bool] | None:
    """Where a debug record starts in ``line`` (it may be glued after console text), and if it is ESP-IDF's."""
    esp = _esp_idf_record().search(line)
    sample = _sample_record().search(line)
    if esp and (not sample or esp.start() <= sample.start()):
        return esp.start(), True
    if sample:
        return sample.start(), False
    return None


def console_only(text: str) -> str:
    """The log without mbedTLS debug records: what the same run prints at debug level 0.

    Console and application lines stay, including the part of a line that precedes a debug record
    glued onto it. The empty line ESP-IDF's bridge prints after each record goes with the record.
    """
    kept: list[str] = []
    after_esp_record = False
    for line in _lines(text):
        if after_esp_record and not line.strip():
            continue
        start = _record_start(line)
        after_esp_record = False
        if start is None:
            kept.append(line)
            continue
        position, is_esp = start
        prefix = line[:position]
        if prefix.strip(_MARKUP):
            kept.append(prefix.rstrip())
        after_esp_record = is_esp
    return _text(kept)


def last_lines(text: str, count: int = TAIL_LINES) -> str:
    """The last screenful: the final ``count`` lines."""
    return _text(_lines(text)[-count:])


# Printed forms that carry an mbedTLS code, from the examples in tests/fixtures/realworld/formats and the
# format strings of esp-tls-log-messages.tsv and debug-format.md. Functions return byte counts as positive
# numbers, so after "returned", "failed" or "code" only a negative value is an error; the forms that print
# an error without its sign are listed apart. After a bare "error" only a value of 0x40 or more counts:
# applications print their own small statuses that way ("Socket Error: -1").
_HEX = r"0x[0-9a-fA-F]+"
_NEGATIVE = rf"(-{_HEX}|-[0-9a-fA-F]*\d[0-9a-fA-F]*)"
_ANY = rf"(-?{_HEX}|-?[0-9a-fA-F]*\d[0-9a-fA-F]*)"
_STRONG_FORMS = (
    rf"returned:?\s*\(?{_NEGATIVE}",
    rf"[Ll]ast error was:?\s*{_NEGATIVE}",
    rf"failed:?\s+{_NEGATIVE}\b",
    rf"failed with error\s+{_NEGATIVE}",
    rf"[Cc]ode:?\s*\[?{_NEGATIVE}",
    rf"Reason:\s*\[{_NEGATIVE}\]",
    rf"start_ssl_client:\s*{_NEGATIVE}",
    r"OSError:\s*\(?(-\d+)",
    r"\[Errno\s+(-\d+)\]",
    r"(-0x[0-9a-fA-F]{1,4})\b",
    r"\bres=\s*([0-9A-Fa-f]{8})\b",  # an int printed with %X: a negative one shows as FFFF....
    rf"\bret\s*=\s*({_HEX})",
    rf"(?:error|Error|ERROR)(?: number)?:?\s+({_HEX})\b",  # esp-mqtt's "tls stack error" is stored as -ret
)
_WEAK_FORM = rf"(?:error|Error|ERROR)\s*[:=]?\s*:?{_ANY}\b"

# A debug line reporting the peer's close_notify is mbedTLS's account of a normal end of connection.
_GRACEFUL_CLOSE = -0x7880


def _carries_code(text: str, in_debug_record: bool = False) -> bool:
    """Whether ``text`` prints an mbedTLS error: a strerror text, a macro name, or a code in a known form."""

    def counts(value: int, floor: int = 0) -> bool:
        return is_mbedtls_code(value) and value <= -floor and not (in_debug_record and value == _GRACEFUL_CLOSE)

    if strerror_pattern().search(text):
        return True
    for form in _STRONG_FORMS:
        if any(counts(value) for match in re.finditer(form, text) for value in code_readings(match.group(1))):
            return True
    return any(
        counts(value, 0x40) for match in re.finditer(_WEAK_FORM, text) for value in code_readings(match.group(1))
    )


def _split_record(line: str) -> tuple[str, str]:
    """A line as its console part and the debug record glued after it (either may be empty)."""
    start = _record_start(line)
    return (line, "") if start is None else (line[: start[0]], line[start[0] :])


_FAILURE_WORDS = re.compile(r"\b(?:error|fail(?:ed|ure)?|abort)\b", re.IGNORECASE)


def error_line(text: str) -> str:
    """The one line that carries the final error, as a user pastes it.

    That is the last line whose console or application text prints an mbedTLS code or strerror text;
    a log whose only codes are in debug records gives the last of those; a log that prints no code at
    all gives its last line saying that something failed.
    """
    lines = _lines(text)
    console = [line for line in lines if _carries_code(_split_record(line)[0])]
    debug = [line for line in lines if _carries_code(_split_record(line)[1], in_debug_record=True)]
    chosen = console or debug or [line for line in lines if _FAILURE_WORDS.search(line)]
    return _text(chosen[-1:] or [line for line in lines if line.strip()][-1:])


_ESP_LETTER = {"1": "W", "2": "I", "3": "D", "4": "V"}
_FIRST_MILLIS = 5000


def esp_idf_reframed(text: str) -> str:
    """The same run as ESP-IDF prints it: each plain debug record becomes an ESP-IDF record.

    ``mbedtls_debug.c`` in ESP-IDF logs a record with ``ESP_LOGW/I/D/V`` for levels 1-4 as
    ``L (ms) mbedtls: file.c:line message``: the basename, the line without zero padding, and an empty
    line after it (the record's own newline plus ESP_LOG's). The default ESP-IDF build has no
    MBEDTLS_THREADING_C, so no context pointer. A record printed without a level (ssl_client1-style
    callbacks) is given level 2 (``I``). Console text glued before a record stays on its own line.
    """
    out: list[str] = []
    millis = _FIRST_MILLIS
    for line in _lines(text):
        start = _record_start(line)
        if start is None or start[1]:
            out.append(line)
            continue
        position = start[0]
        match = _sample_record().match(line, position)
        if match is None:
            out.append(line)
            continue
        if line[:position].strip():
            out.append(line[:position].rstrip())
        millis += 1
        letter = _ESP_LETTER.get(match.group("level") or "2", "I")
        out.append(f"{letter} ({millis}) mbedtls: {match.group('file')}:{int(match.group('line'))} {match['message']}")
        out.append("")
    return _text(out)


def wrapped(text: str, width: int = WRAP_WIDTH) -> str:
    """The log as a terminal or a forum shows a copy of it: every line longer than ``width`` broken."""
    out: list[str] = []
    for line in _lines(text):
        if len(line) <= width:
            out.append(line)
            continue
        out.extend(line[start : start + width] for start in range(0, len(line), width))
    return _text(out)


VARIANTS: dict[str, Callable[[str], str]] = {
    "console only": console_only,
    "last 25 lines": last_lines,
    "error line alone": error_line,
    "re-framed as ESP-IDF": esp_idf_reframed,
    "wrapped at 80 columns": wrapped,
}


def same_lines(first: str, second: str) -> bool:
    """Whether two texts hold the same lines, whatever their line endings."""
    return _lines(first) == _lines(second)


def applies(variant: str, text: str) -> bool:
    """Whether a variant changes this log at all (an unchanged copy measures nothing new)."""
    return not same_lines(VARIANTS[variant](text), text)
