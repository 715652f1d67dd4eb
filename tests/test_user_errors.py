"""Every user error gives one clear line on standard error and exit code 2, never a traceback.

Each command that reads a log (diagnose, parse, redact, diff on either side, config recommend --log)
or a configuration (config lint, config recommend --config) is run on each kind of unusable input;
explain on unusable codes and versions; every command on an output it cannot write.
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

GOOD_LOG = FIXTURES / "logs" / "esp-idf-azure-7500.log"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("device.log", GOOD_LOG.read_text())
    return path


#: name -> (how to make it in a directory, words the one line must contain)
BAD_INPUTS = {
    "missing": (lambda d: d / "nope.log", "does not exist"),
    "directory": (lambda d: d, "is a directory"),
    "empty": (lambda d: _write(d / "empty.log", b""), "is empty"),
    "blank": (lambda d: _write(d / "blank.log", b"\n \r\n\t\n"), "is empty"),
    "random-bytes": (lambda d: _write(d / "noise.bin", bytes(range(256)) * 64), "not a text log"),
    "nul-bytes": (lambda d: _write(d / "nul.log", b"\x00" * 5000), "not a text log"),
    "firmware": (lambda d: _write(d / "app.bin", b"\xe9\x06\x02\x20" + os.urandom(4096)), "not a text log"),
    "elf": (lambda d: _write(d / "app.elf", b"\x7fELF\x01\x01\x01" + bytes(4000)), "executable"),
    "png": (lambda d: _write(d / "shot.png", b"\x89PNG\r\n\x1a\n" + os.urandom(3000)), "PNG image"),
    "pcap": (
        lambda d: _write(d / "c.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + bytes(300)),
        "packet capture",
    ),
    "utf-32": (
        lambda d: _write(d / "u32.log", "E (1) esp-tls: mbedtls_ssl_handshake returned -0x7500\n".encode("utf-32")),
        "UTF-32",
    ),
    "zip": (lambda d: _zip(d / "logs.zip"), "zip archive"),
    "gzip-garbage": (lambda d: _write(d / "x.log.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 64), "cannot be decompressed"),
    "gzip-of-nothing": (lambda d: _write(d / "e.log.gz", gzip.compress(b"")), "is empty"),
    "bzip2-of-binary": (lambda d: _write(d / "b.log.bz2", bz2.compress(bytes(range(256)) * 40)), "not a text log"),
}

LOG_COMMANDS = {
    "diagnose": lambda path: ["diagnose", str(path)],
    "parse": lambda path: ["parse", str(path)],
    "redact": lambda path: ["redact", str(path)],
    "diff-good": lambda path: ["diff", str(path), str(GOOD_LOG)],
    "diff-bad": lambda path: ["diff", str(GOOD_LOG), str(path)],
}


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert result.stderr.startswith("tlsdiag: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize("command", sorted(LOG_COMMANDS))
@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_unusable_log(kind, command, tmp_path):
    make, words = BAD_INPUTS[kind]
    path = make(tmp_path)
    result = run_cli(*LOG_COMMANDS[command](path))
    assert_one_line_error(result, words)
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["diagnose", "parse", "redact"])
def test_empty_standard_input(command):
    assert_one_line_error(run_cli(command, "-", stdin=""), "<stdin> is empty")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_text_that_is_no_tls_log_is_not_an_error(fmt):
    result = run_cli("diagnose", "-", "-f", fmt, stdin="Dear diary,\ntoday the weather was fine.\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if fmt != "json":
        assert "Nothing TLS-related was found" in result.stdout


def test_diff_of_one_file_with_itself(tmp_path):
    log = tmp_path / "device.log"
    log.write_text(GOOD_LOG.read_text())
    link = tmp_path / "link.log"
    link.symlink_to(log)
    for good, bad in ((log, log), (log, link), (log, tmp_path / "." / "device.log")):
        assert_one_line_error(run_cli("diff", str(good), str(bad)), "same file")


def test_diff_of_standard_input_with_itself():
    assert_one_line_error(run_cli("diff", "-", "-", stdin="x\n"), "standard input")


@pytest.mark.parametrize(
    "args",
    [
        ["diagnose", str(GOOD_LOG)],
        ["diff", str(GOOD_LOG), str(FIXTURES / "logs" / "esp-idf-azure-7280.log")],
        ["parse", str(GOOD_LOG)],
        ["redact", str(GOOD_LOG)],
        ["explain", "-0x7500"],
        ["config", "lint", str(FIXTURES / "config" / "arduino-esp32-v1_0-tools-sdk.sdkconfig")],
    ],
    ids=["diagnose", "diff", "parse", "redact", "explain", "config-lint"],
)
def test_an_output_that_cannot_be_written(args, tmp_path):
    assert_one_line_error(run_cli(*args, "-o", str(tmp_path)), "cannot write")
    assert_one_line_error(run_cli(*args, "-o", str(tmp_path / "missing" / "report.txt")), "cannot write")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["explain", "banana"], "banana"),
        (["explain", "MBEDTLS_ERR_NO_SUCH_THING"], "MBEDTLS_ERR_NO_SUCH_THING"),
        (["explain", "-0x7500", "--mbedtls-version", "9.9"], "9.9"),
        (["explain", "-0x7500", "--mbedtls-version", "x" * 5000], ""),
        (["diagnose", str(GOOD_LOG), "--mbedtls-version", "banana"], "banana"),
        (["diagnose", str(GOOD_LOG), "--format", "pdf"], "pdf"),
        (["diff", str(GOOD_LOG)], "BAD"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_usage_errors(args, words):
    assert_one_line_error(run_cli(*args), words)


def test_no_command_is_a_usage_error():
    assert_one_line_error(run_cli(), "no command")


# --- config: the same care for configuration files -------------------------------------------------------

#: what the configuration reader says for each kind (it names files differently from the log reader)
CONFIG_WORDS = {"missing": "does not exist", "directory": "is a directory", "empty": "is empty", "blank": "is empty"}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_config_lint_of_an_unusable_file(kind, tmp_path):
    path = BAD_INPUTS[kind][0](tmp_path)
    result = run_cli("config", "lint", str(path))
    assert_one_line_error(result, CONFIG_WORDS.get(kind, ""))
    assert result.stdout == ""


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_config_recommend_from_an_unusable_log_or_config(kind, tmp_path):
    make, words = BAD_INPUTS[kind]
    path = make(tmp_path)
    assert_one_line_error(run_cli("config", "recommend", "--log", str(path)), words)
    assert_one_line_error(run_cli("config", "recommend", "--config", str(path)), CONFIG_WORDS.get(kind, ""))


def test_config_of_a_text_that_is_no_configuration(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Dear diary,\ntoday the weather was fine.\n")
    assert_one_line_error(run_cli("config", "lint", str(path)), "no mbedTLS options")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["config", "recommend"], "needs --log"),
        (["config", "lint"], "FILE"),
        (["config", "frobnicate"], "frobnicate"),
    ],
)
def test_config_usage_errors(args, words):
    assert_one_line_error(run_cli(*args), words)
