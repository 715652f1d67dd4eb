"""tlsdiag capture: the program's output passes through unchanged, each failed attempt is diagnosed when
the output pauses, and the reports stay off standard output.

The program here replays real logs (tests/fixtures/logs) with a pause between them, the way a device
retries; tests/test_realtls.py runs capture around the real mbedTLS client as well.
"""

from __future__ import annotations

import json
import os
import sys

from tests.conftest import FIXTURES, run_cli

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
