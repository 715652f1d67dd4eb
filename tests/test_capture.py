"""tlsdiag capture: the program's output passes through unchanged, each failed attempt is diagnosed when
the output pauses, and the reports stay off standard output.

The program here replays real logs (tests/fixtures/logs, tests/fixtures/corpus) with a pause between them,
the way a device retries; tests/test_realtls36.py runs capture around the real mbedTLS client as well. The
analysis behind it (tlsdiag.analysis.incremental) is also driven directly, with the output cut into pieces
and pauses exactly where a test wants them.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import CORPUS, FIXTURES, ROOT, fixture_files, run_cli
from tlsdiag import core
from tlsdiag.analysis.incremental import PAUSE, LiveAnalysis
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.analysis.sessions import MAX_SESSIONS, Session

LOGS = FIXTURES / "logs"
FIRST = LOGS / "esp-idf-azure-7280.log"  # the server closes after the ClientHello
SECOND = LOGS / "esp-idf-small-in-buffer-7200.log"  # the input buffer is too small


def _replay(*parts: object) -> list[str]:
    """A program that prints each file and sleeps for each number, flushing as a serial monitor does."""
    script = (
        "import sys, time\n"
        "for part in sys.argv[1:]:\n"
        "    if part.replace('.', '').isdigit():\n"
        "        time.sleep(float(part))\n"
        "    else:\n"
        "        sys.stdout.buffer.write(open(part, 'rb').read()); sys.stdout.flush()\n"
    )
    return [sys.executable, "-c", script, *(str(part) for part in parts)]


def test_each_failed_attempt_is_reported_when_the_output_pauses(schema_validator):
    result = run_cli("capture", "--settle", "0.2", "--format", "json", "--", *_replay(FIRST, 1.0, SECOND))
    assert result.returncode == 1, result.stderr
    assert result.stdout == FIRST.read_text() + SECOND.read_text()  # passed through unchanged
    reports = [json.loads(line) for line in result.stderr.splitlines()]
    for report in reports:
        schema_validator(report, "diagnose.schema.json")
    assert [report["findings"][0]["rule"] for report in reports] == ["TLS-CLOSE-001", "TLS-BUF-005"]
    first_lines = FIRST.read_text().count("\n")
    program = os.path.basename(sys.executable)
    assert reports[0]["input"]["name"] == f"output of {program}, lines 1-{first_lines}"
    assert reports[1]["input"]["name"].startswith(f"output of {program}, lines {first_lines + 1}-")


def test_output_without_a_pause_is_diagnosed_when_the_program_ends(tmp_path):
    report = tmp_path / "report.txt"
    saved = tmp_path / "device.log"
    result = run_cli("capture", "--no-color", "-o", str(report), "--save", str(saved), "--", *_replay(SECOND))
    assert result.returncode == 1
    assert result.stderr == ""
    assert saved.read_bytes() == SECOND.read_bytes()
    text = report.read_text()
    assert "TLS-BUF-005" in text and "record-buffer-size" in text


def test_a_run_without_tls_gets_one_report_and_exit_0(tmp_path):
    quiet = tmp_path / "boot.log"
    quiet.write_text("I (31) boot: ESP-IDF v4.4.8 2nd stage bootloader\nI (35) boot: compile time 10:12:01\n")
    result = run_cli("capture", "--format", "json", "--", *_replay(quiet))
    assert result.returncode == 0
    assert result.stdout == quiet.read_text()
    report = json.loads(result.stderr)
    assert report["findings"] == [] and report["input"]["lines"] == 2


def test_usage_errors_are_one_line():
    missing = run_cli("capture", "--", "/nonexistent/tlsdiag-test-program")
    assert missing.returncode == 2
    assert missing.stderr == "tlsdiag: error: cannot run /nonexistent/tlsdiag-test-program: No such file or directory\n"
    no_command = run_cli("capture")
    assert no_command.returncode == 2 and len(no_command.stderr.splitlines()) == 1
    html = run_cli("capture", "--format", "html", "--", "true")
    assert html.returncode == 2 and "text, markdown or json" in html.stderr


# --- the incremental analysis: each line read once, each failed attempt reported once it is over -----------

UNKNOWN_CA = CORPUS / "01-unknown-ca-v2.28" / "bad.level1.log"  # ssl_client2: the server's CA is not trusted
WORKING = CORPUS / "01-unknown-ca-v2.28" / "good.level2.log"  # the same client, trusting the right CA


class Device:
    """The live analysis of one program's output, with the reports it made so far (diagnosed)."""

    def __init__(self) -> None:
        self.reports: list[core.Diagnosed] = []
        self.live = LiveAnalysis("output of device", self._report)

    def _report(self, analysis) -> None:
        self.reports.append(core.diagnose(analysis))

    def run(self, chunks) -> list[core.Diagnosed]:
        self.live.run(chunks)
        return self.reports


def _failed_attempts(analyses) -> list[tuple[int, int | None, str | None]]:
    """Each failed attempt's index and the line and value of its final error."""
    return [
        (view.index, view.final and view.final.line, view.final and view.final.raw)
        for analysis in analyses
        for view in analysis.attempts
        if view.failed
    ]


def _lines_named(report: core.Diagnosed) -> tuple[int, int]:
    first, last = report.analysis.name.rsplit(" ", 1)[1].split("-")
    return int(first), int(last)


@pytest.mark.parametrize(
    "path",
    [*fixture_files(LOGS, "*.log"), *fixture_files(CORPUS, "0[1-9]-*/bad*.log")],
    ids=lambda path: path.name if path.parent == LOGS else f"{path.parent.name}/{path.name}",
)
def test_output_read_piece_by_piece_gives_the_attempts_the_file_gives(path):
    """Without pauses, the live analysis finds the failed attempts ``diagnose`` finds in the file, whatever the
    pieces the output arrives in (61 bytes here: lines, CRLF pairs and UTF-8 sequences cut anywhere)."""
    data = path.read_bytes()
    reports = Device().run(data[start : start + 61] for start in range(0, len(data), 61))
    assert _failed_attempts(report.analysis for report in reports) == _failed_attempts([analyse(path)])


def test_a_failure_is_reported_at_the_pause_after_it_without_waiting_for_the_next_line():
    device = Device()
    reported_before_more_output = []

    def output():
        yield FIRST.read_bytes()
        yield PAUSE
        reported_before_more_output.append(len(device.reports))
        yield SECOND.read_bytes()

    reports = device.run(output())
    assert reported_before_more_output == [1]
    assert [report.diagnosis.findings[0].rule for report in reports] == ["TLS-CLOSE-001", "TLS-BUF-005"]
    first_lines = FIRST.read_bytes().count(b"\n")
    assert [_lines_named(report) for report in reports] == [
        (1, first_lines),
        (first_lines + 1, first_lines + SECOND.read_bytes().count(b"\n")),
    ]


def test_the_report_is_written_while_the_program_is_still_quiet(tmp_path):
    report = tmp_path / "reports.jsonl"
    script = (
        "import os, sys, time\n"
        "sys.stdout.buffer.write(open(sys.argv[1], 'rb').read()); sys.stdout.flush()\n"
        "time.sleep(3)\n"
        "print('reported during the pause:', os.path.getsize(sys.argv[2]) > 0)\n"
    )
    command = [sys.executable, "-c", script, str(FIRST), str(report)]
    result = run_cli("capture", "--settle", "0.2", "--format", "json", "-o", str(report), "--", *command)
    assert result.returncode == 1, result.stderr
    assert result.stdout.endswith("reported during the pause: True\n")
    assert len(report.read_text().splitlines()) == 1


def test_what_a_program_prints_about_a_reported_failure_after_a_pause_is_not_a_second_failure():
    """ssl_client2 prints "Last error was: -0x2700 ..." after the failure: read apart from the attempt it
    closes, it would look like a failure of its own."""
    data = UNKNOWN_CA.read_bytes()
    summary = data.index(b"\nLast error was") + 1
    reports = Device().run([data[:summary], PAUSE, data[summary:], PAUSE])
    assert len(reports) == 1 and [failure.error for failure in reports[0].diagnosis.failures] == ["-0x2700"]


def test_a_failure_followed_by_a_retry_that_works_is_reported_once_when_the_retry_starts():
    device = Device()
    working = WORKING.read_bytes().splitlines(keepends=True)
    consumed = []

    def output():
        yield UNKNOWN_CA.read_bytes()
        for number, line in enumerate(working, 1):
            if device.reports and not consumed:
                consumed.append(number - 1)  # lines of the retry read when the failure was reported
            yield line

    reports = device.run(output())
    assert len(reports) == 1
    assert consumed and consumed[0] < len(working) // 2
    diagnosis = reports[0].diagnosis
    assert diagnosis.failed and [failure.error for failure in diagnosis.failures] == ["-0x2700"]
    assert diagnosis.attempts_seen == 1  # the retry, still going on, is not part of the report


def test_a_retry_that_works_leaves_the_exit_code_of_the_failure_before_it():
    result = run_cli("capture", "--format", "json", "--", *_replay(UNKNOWN_CA, WORKING))
    assert result.returncode == 1, result.stderr
    (report,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert report["verdict"].startswith("failed") and [failure["error"] for failure in report["failures"]] == [
        "-0x2700"
    ]


def test_output_that_pauses_in_the_middle_of_a_wrapped_record():
    """The pause ends the record held back for a continuation: the failure in its first part is reported at the
    pause, and the rest, printed after it, is read as a line of its own; without the pause the two lines are
    one record, as diagnose reads them."""
    lines = FIRST.read_bytes().splitlines(keepends=True)
    before = b"".join(lines[:27])
    record = b"E (23848) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700 (X509 - Certificate verification "
    record += b"failed, e.g. CRL, CA or signature check failed)"
    head, tail = record[:80] + b"\n", record[80:] + b"\nI (23858) esp-tls: Failed to open new connection\n"

    device = Device()
    reported_before_the_rest = []

    def output():
        yield before + head
        yield PAUSE
        reported_before_the_rest.append(len(device.reports))
        yield tail

    paused = device.run(output())
    assert reported_before_the_rest == [1]
    assert len(paused) == 1 and _lines_named(paused[0]) == (1, 28)
    assert [failure.error for failure in paused[0].diagnosis.failures] == ["-0x2700"]
    assert device.live.parser.stats.lines == 30 and device.live.parser.stats.rejoined == 0

    joined = Device()
    unpaused = joined.run([before + head, tail])
    assert joined.live.parser.stats.rejoined == 1
    assert [failure.error for failure in unpaused[0].diagnosis.failures] == ["-0x2700"]
    assert unpaused[0].diagnosis.findings[0].rule == paused[0].diagnosis.findings[0].rule


def _crlf_with_a_bad_byte() -> bytes:
    data = FIRST.read_bytes().replace(b"\n", b"\r\n")
    return data.replace(b"Initializing SNTP", b"Initializing \xff SNTP \xc3\xa9t\xc3\xa9", 1)


def test_crlf_and_invalid_utf8_cut_anywhere_between_pieces():
    data = _crlf_with_a_bad_byte()
    cuts = sorted({data.index(b"\r\n") + 1, data.index(b"\xc3\xa9") + 1, data.index(b"\xff"), len(data) // 2})
    pieces = [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    (report,) = Device().run([*pieces, PAUSE])
    lines = data.count(b"\r\n")
    assert _lines_named(report) == (1, lines) and report.analysis.lines == lines
    bad_line = data[: data.index(b"\xff")].count(b"\n") + 1
    assert (
        f"replaced 1 invalid UTF-8 sequences with U+FFFD, the first on line {bad_line}" in report.analysis.stats.notes
    )
    assert report.diagnosis.findings[0].rule == "TLS-CLOSE-001"


def test_crlf_and_invalid_utf8_pass_through_unchanged(tmp_path):
    log = tmp_path / "device.log"
    log.write_bytes(_crlf_with_a_bad_byte())
    command = [sys.executable, "-m", "tlsdiag", "capture", "--format", "json", "--", *_replay(log)]
    result = subprocess.run(command, capture_output=True, env=_environment(), timeout=60, check=False)
    assert result.returncode == 1
    assert result.stdout == log.read_bytes()
    (report,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert report["input"]["lines"] == log.read_bytes().count(b"\r\n")
    assert any(note.startswith("replaced 1 invalid UTF-8") for note in report["input"]["notes"])


def _environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    return {**environment, "PYTHONPATH": str(ROOT)}


def test_a_long_session_reports_each_failure_once_and_keeps_memory_bounded():
    """Hundreds of attempts, each on a connection of its own (a new ssl context address): one report per
    failure, the parts of the output they cover follow each other, and the attempts kept stay bounded."""
    repeats = 400
    failing, working = UNKNOWN_CA.read_bytes(), WORKING.read_bytes()

    def output():
        for number in range(repeats):
            address = b"0x7ffc%08x" % number
            yield failing.replace(b"0x7ffc6e6ead20", address)
            yield PAUSE
            yield working.replace(b"0x7fff66721420", address)

    reports = []  # what each report said, not the report itself: the attempts it holds would be counted

    def report(analysis) -> None:
        diagnosis = core.diagnose(analysis).diagnosis
        reports.append((analysis.name, [failure.error for failure in diagnosis.failures]))

    gc.collect()
    before = sum(isinstance(item, Session) for item in gc.get_objects())
    live = LiveAnalysis("output of device", report)
    live.run(output())
    gc.collect()
    kept = sum(isinstance(item, Session) for item in gc.get_objects()) - before
    assert len(reports) == repeats
    assert all(errors == ["-0x2700"] for _, errors in reports)
    spans = [tuple(map(int, name.rsplit(" ", 1)[1].split("-"))) for name, _ in reports]
    assert spans[0][0] == 1 and all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(spans))
    assert kept <= 4 * MAX_SESSIONS, kept  # 2 * repeats attempts were made


def test_ctrl_c_ends_the_program_and_the_capture_with_its_reports(tmp_path):
    report = tmp_path / "reports.jsonl"
    command = [sys.executable, "-m", "tlsdiag", "capture", "--settle", "0.2", "--format", "json", "-o", str(report)]
    process = subprocess.Popen(
        [*command, "--", *_replay(FIRST, 60)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
        start_new_session=True,  # its own process group, as a terminal's foreground job is
    )
    try:
        deadline = time.monotonic() + 30
        while not (report.exists() and report.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        interrupted = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert time.monotonic() - interrupted < 10
    assert process.returncode == 1, stderr
    assert stderr == b""  # no traceback of tlsdiag's own
    assert stdout.startswith(FIRST.read_bytes())  # then the replaying program's own KeyboardInterrupt
    assert len(report.read_text().splitlines()) == 1
