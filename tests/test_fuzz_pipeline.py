"""Hostile and messy input through the whole pipeline: no exception escapes, every output keeps its schema.

Each input goes read -> parse -> fold -> sessions -> rules, then into every report format (the JSON
documents are validated against tlsdiag/schemas/, the shared formats are redacted) and through
``tlsdiag parse``'s event view; diff gets pairs of them. The only acceptable failure is an
InputError with a one-line message. The generators aim at what breaks parsers of device logs:
random bytes, real logs cut and spliced, hex dumps whose headers and TLS lengths lie, lines of
10 MB, the same records repeated until every bound is reached, and all dialects glued together.

The example counts keep this file to about a minute; ``fuzz/`` has the same checks for long runs.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, FIXTURES, REALWORLD, ROOT, SEEDS, fixture_files
from tlsdiag.errors import InputError

SAMPLES = [
    *fixture_files(FIXTURES / "logs", "*.log"),
    *fixture_files(FIXTURES / "redact", "*.log"),
    *fixture_files(FIXTURES / "redact", "*.txt"),
    *fixture_files(CORPUS, "*/bad.log"),
    *fixture_files(SEEDS, "*.txt"),
    *fixture_files(REALWORLD, "*/*.log"),
]
SAMPLE_BYTES = [path.read_bytes()[:30000] for path in SAMPLES]

FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)

#: one line of each dialect tlsdiag reads, and the lines that drive its state machines
DIALECT_LINES = [
    "ssl_tls.c:5804: |2| 0x7ffc4dc7cdc0: => handshake",
    "ssl_cli.c:0833: |2| => write client hello",
    "ssl_msg.c:2031: |4| dumping 'input record from network' (16389 bytes)",
    "ssl_msg.c:2031: |4| 0000:  16 03 03 40 00 0b 00 3f fc 00 3f f9 00 05 a6 30  ....@..?..?....0",
    "ssl_msg.c:2031: |4| 0000:  16 03 03 ff ff",
    "ssl_msg.c:2710: |4| dumping 'output record sent to network' (5 bytes)",
    "ssl_msg.c:2710: |4| 0000:  15 03 03 00 02 02 28",
    "ssl_tls.c:4333: |1| mbedtls_ssl_handshake() returned -30592 (-0x7780)",
    "ssl_tls.c:2613: |1| x509_verify_cert() returned -9984 (-0x2700)",
    "ssl_msg.c:4906: |2| got an alert message, type: [2:40]",
    "ssl_tls.c:1: |3| ciphersuite = TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256",
    "D (3921) mbedtls: ssl_tls.c:4333 input record: msgtype = 22, version = [3:3], msglen = 5236",
    "E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7500",
    "E (5396) esp-tls-mbedtls: Failed to set client configurations, returned [0x8017] (ESP_ERR_MBEDTLS_SSL_SETUP_FA)",
    "E (23878) MQTT_CLIENT: Last mbedtls failure: 0x7280",
    "I (10770) esp-tls: Certificate verified.",
    "[E][ssl_client.cpp:36] _handle_error(): [start_ssl_client():199]: (-29312) SSL - The connection indicated an EOF",
    "[  2546][E][WiFiClientSecure.cpp:135] connect(): start_ssl_client: -9984",
    "OSError: (-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')",
    "OSError: -0x7200",
    "[00:00:08.217,000] <err> net_sock_tls: TLS handshake error: -4290",
    "[ERR ][TLSW]: mbedtls_ssl_handshake() failed: -0x7200 (-29184): SSL - An invalid SSL record was received",
    "    ERROR: Failed! mbedtls_ssl_handshake returned -0x7",
    "  ! mbedtls_ssl_handshake returned -0x2700",
    "Last error was: -0x2700 - X509 - Certificate verification failed",
    "  ! The certificate validity starts in the future",
    "peer certificate #1:",
    "subject name      : CN=x, O=y",
    "issuer  name      : CN=root",
    "expires on        : 2019-01-01 00:00:00",
    "Verify requested for (Depth 1):",
    "-----BEGIN CERTIFICATE-----",
    "MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF",
    "-----END CERTIFICATE-----",
    "-----BEGIN PRIVATE KEY-----",
    "\x1b[0;31mE (1) esp-tls: Failed to verify peer certificate!\x1b[0m",
    "> [code]E (1) esp-tls: mbedtls_ssl_handshake returned -0x7780[/code]",
    "```",
    "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.",
    "I (1) wifi station: connected to ap SSID:HomeNet password:hunter22",
]
DUMP_LABELS = [
    "input record from network",
    "output record sent to network",
    "input payload after decrypt",
    "before encrypt: output payload",
    "master secret",
    "client hello, random bytes",
]


def _check_document(document: dict, schema: str, validate) -> None:
    validate(document, schema)
    json.dumps(document)


def run_pipeline(data: bytes, validate) -> None:
    """Everything a user can ask of one input; only a one-line InputError may come out."""
    from tlsdiag import core
    from tlsdiag.analysis.pipeline import EventStream, analyse
    from tlsdiag.redact import Redactor
    from tlsdiag.report import Format
    from tlsdiag.report.diagnose import diagnose_document, render_diagnose
    from tlsdiag.report.events import event_line

    try:
        analysis = analyse(None, stdin=io.BytesIO(data))
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    diagnosed = core.diagnose(analysis)
    document = diagnose_document(diagnosed)
    _check_document(document, "diagnose.schema.json", validate)
    assert document["input"]["recognized_lines"] <= document["input"]["lines"]
    for fmt in Format:
        assert isinstance(render_diagnose(diagnosed, fmt), str)
    stream = EventStream(None, stdin=io.BytesIO(data))
    for event in stream:
        json.loads(event_line(event, Format.json))
    redactor = Redactor()
    for line in data.decode("utf-8", "replace").splitlines()[:2000]:
        redactor.line(line)


def run_diff(good: bytes, bad: bytes, validate) -> None:
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.diff import compare
    from tlsdiag.report import Format
    from tlsdiag.report.diff import diff_document, render_diff
    from tlsdiag.rules import diagnose

    try:
        good_analysis = analyse(None, stdin=io.BytesIO(good))
        bad_analysis = analyse(None, stdin=io.BytesIO(bad))
    except InputError:
        return
    comparison = compare(good_analysis, bad_analysis)
    findings = diagnose(bad_analysis, comparison) if comparison.same_connection else []
    _check_document(diff_document(comparison, findings), "diff.schema.json", validate)
    for fmt in Format:
        assert isinstance(render_diff(comparison, findings, fmt), str)


# --- generators ------------------------------------------------------------------------------------------


@st.composite
def mutated_log(draw) -> bytes:
    """A real log with bytes flipped, pieces cut out, duplicated, swapped in from another log."""
    data = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        length = draw(st.integers(1, 400))
        operation = draw(st.sampled_from(["flip", "cut", "repeat", "splice", "newline", "nul"]))
        if operation == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif operation == "cut":
            del data[position : position + length]
        elif operation == "repeat":
            data[position:position] = data[position : position + length] * draw(st.integers(2, 20))
        elif operation == "splice":
            other = draw(st.sampled_from(SAMPLE_BYTES))
            start = draw(st.integers(0, max(0, len(other) - 1)))
            data[position:position] = other[start : start + length]
        elif operation == "newline":
            data[position:position] = draw(st.sampled_from([b"\n", b"\r", b"\r\n", b""]))
        else:
            data[position:position] = b"\x00" * draw(st.integers(1, 8))
    return bytes(data)


def _hex_line(prefix: str, offset: int, chunk: bytes) -> str:
    return f"{prefix}{offset:04x}:  " + " ".join(f"{byte:02x}" for byte in chunk)


@st.composite
def lying_dump(draw) -> bytes:
    """A hex dump whose header, TLS record lengths and handshake lengths say anything, cut anywhere."""
    label = draw(st.sampled_from(DUMP_LABELS))
    claimed = draw(
        st.one_of(
            st.integers(0, 1 << 16),
            st.sampled_from([0xFFFFFFFF, 1 << 63, 10**30]),
            st.just(int("9" * 50)),
        )
    )
    content_type = draw(st.sampled_from([0x16, 0x15, 0x14, 0x17, 0x00, 0xFF]))
    record_length = draw(st.sampled_from([0, 1, 4, 0x4000, 0x4805, 0xFFFF]))
    handshake_type = draw(st.sampled_from([1, 2, 11, 12, 13, 14, 16, 20, 0xFF]))
    handshake_length = draw(st.sampled_from([0, 3, 0x100, 0xFFFF, 0xFFFFFF]))
    body = draw(st.binary(max_size=300))
    data = (
        bytes([content_type, 3, draw(st.integers(0, 4))])
        + record_length.to_bytes(2, "big")
        + bytes([handshake_type])
        + handshake_length.to_bytes(3, "big")
        + body
    )
    data = data[: draw(st.integers(0, len(data)))]
    prefix = draw(st.sampled_from(["ssl_msg.c:2031: |4| ", "ssl_msg.c:2031: |4| 0x7ffc4dc7cdc0: ", "D (1) mbedtls: "]))
    lines = ["ssl_tls.c:5804: |2| => handshake", f"{prefix}dumping '{label}' ({claimed} bytes)"]
    offsets = draw(st.sampled_from(["right", "wrong", "zero"]))
    for index in range(0, len(data), 16):
        offset = {"right": index, "wrong": index * 3 + 7, "zero": 0}[offsets]
        lines.append(_hex_line(prefix, offset, data[index : index + 16]))
    if draw(st.booleans()) and lines[-1]:
        lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]  # a line cut in the middle
    lines.append("ssl_tls.c:4333: |1| mbedtls_ssl_handshake() returned -29312 (-0x7280)")
    return "\n".join(lines).encode()


@st.composite
def mixed_dialects(draw) -> bytes:
    """Every dialect in one input, with the damage serial monitors and forums do to line ends."""
    lines = draw(st.lists(st.sampled_from(DIALECT_LINES), min_size=1, max_size=80))
    joiners = st.sampled_from(["\n", "\r\n", "\r", "", " ", "\n\n", "\n> "])
    out = []
    for line in lines:
        out.append(line)
        out.append(draw(joiners))
    return "".join(out).encode()


# --- property tests --------------------------------------------------------------------------------------


@FAST
@given(data=st.binary(max_size=4096))
def test_random_bytes(data, schema_validator):
    run_pipeline(data, schema_validator)


@FAST
@given(data=st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_random_text(data, schema_validator):
    run_pipeline(data, schema_validator)


@settings(FAST, max_examples=60)
@given(data=mutated_log())
def test_mutated_real_logs(data, schema_validator):
    run_pipeline(data, schema_validator)


@settings(FAST, max_examples=80)
@given(data=lying_dump())
def test_truncated_and_lying_hex_dumps(data, schema_validator):
    run_pipeline(data, schema_validator)


@settings(FAST, max_examples=60)
@given(data=mixed_dialects())
def test_every_dialect_mixed(data, schema_validator):
    run_pipeline(data, schema_validator)


@settings(FAST, max_examples=25)
@given(good=mutated_log(), bad=st.one_of(mutated_log(), mixed_dialects(), lying_dump()))
def test_diff_of_damaged_logs(good, bad, schema_validator):
    run_diff(good, bad, schema_validator)


@settings(FAST, max_examples=30)
@given(data=st.one_of(mutated_log(), mixed_dialects()), compression=st.sampled_from(["gzip", "xz", "bzip2"]))
def test_compressed_and_cut(data, compression, schema_validator):
    import bz2
    import gzip
    import lzma

    packed = {"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}[compression](data)
    cut = random.Random(len(data)).randint(0, len(packed))
    run_pipeline(packed[:cut], schema_validator)


#: inputs the fuzzers found that once raised or broke a schema, kept as regressions
FOUND = {
    "ciphersuite-wider-than-16-bits": "ssl_tls.c:1: |2| => handshake\n"
    "ssl_cli.c:1180: |3| 0x7ffe9a1de760: client hello, add ciphersuite: 0xcca8 (TLS-ECDHE-RSA-WITH-CHACHA20)\n"
    "ssl_cli.c:1180: |3| 0x7ffe9a1de760: client hello, add ciphersuite: 0xc0ecd (TLS-ECDHE-RSA-WITH-AES)\n"
    "ssl_tls.c:1: |1| mbedtls_ssl_handshake() returned -29312 (-0x7280)\n",
    "hex-error-code-wider-than-32-bits": "E (10770) esp-tls: mbedtls_ssl_handshake returned -0x" + "7" * 5000 + "\n",
    "decimal-error-code-of-5000-digits": "[00:00:08.217,000] <err> net_sock_tls: TLS handshake error: -" + "9" * 5000,
    "version-of-5000-digits": "I (1) cpu_start: ESP-IDF: v" + "9" * 5000 + ".1\nmbed TLS " + "1" * 5000 + ".2\n",
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_inputs_the_fuzzers_found(name, schema_validator):
    data = FOUND[name].encode()
    run_pipeline(data, schema_validator)
    run_diff(data, data, schema_validator)


# --- the extremes, each once --------------------------------------------------------------------------


def _cli(path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsdiag", *args, str(path)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "line",
    [
        b"A" * (10 << 20),
        b"ssl_msg.c:2031: |4| 0000:  " + b"16 03 03 " * ((10 << 20) // 9),
        b"E (1) esp-tls: mbedtls_ssl_handshake returned -0x" + b"7" * (10 << 20),
        b"-----BEGIN PRIVATE KEY-----" + b"QUJD" * ((10 << 20) // 4),
        "\u00e9\u20ac\U0001f600".encode() * ((10 << 20) // 9),
    ],
    ids=["letters", "hex-dump", "error-code", "pem", "multibyte"],
)
def test_a_line_of_10_mb(line, tmp_path, schema_validator):
    path = tmp_path / "long.log"
    path.write_bytes(b"E (1) esp-tls: mbedtls_ssl_handshake returned -0x7780\n" + line + b"\nI (2) app: done\n")
    started = time.perf_counter()
    result = _cli(path, "diagnose", "-f", "json")
    assert result.returncode in (0, 1), result.stderr
    assert time.perf_counter() - started < 60
    document = json.loads(result.stdout)
    schema_validator(document, "diagnose.schema.json")
    assert document["input"]["lines"] == 3
    assert any("longer than" in note for note in document["input"]["notes"])
    for fmt in ("markdown", "html"):
        assert _cli(path, "diagnose", "-f", fmt).returncode in (0, 1)
    redacted = _cli(path, "redact")
    assert redacted.returncode == 0 and redacted.stdout.count("\n") == 3


REPEATED = {
    "attempts": b"ssl_tls.c:1: |2| => handshake\nE (1) esp-tls: mbedtls_ssl_handshake returned -0x7280\n",
    "alerts": b"ssl_msg.c:4906: |2| got an alert message, type: [2:40]\n",
    "opened-never-closed": b"ssl_tls.c:5804: |2| => handshake\nssl_cli.c:0833: |2| => write client hello\n",
    "records": b"ssl_msg.c:2710: |4| dumping 'output record sent to network' (5 bytes)\n"
    b"ssl_msg.c:2710: |4| 0000:  16 03 03 00 00\n",
    "certificates": b"peer certificate #1:\nsubject name      : CN=x\nexpires on        : 2019-01-01 00:00:00\n",
    "pem": b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n",
    "verify": b"Verify requested for (Depth 1):\ncert. version     : 3\n",
    "codes": b"OSError: (-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')\n",
}


@pytest.mark.parametrize("name", sorted(REPEATED))
def test_deeply_repeated_records(name, tmp_path, schema_validator):
    unit = REPEATED[name]
    path = tmp_path / "repeated.log"
    path.write_bytes(unit * ((4 << 20) // len(unit)))  # 4 MB of the same records
    started = time.perf_counter()
    result = _cli(path, "diagnose", "-f", "json")
    elapsed = time.perf_counter() - started
    assert result.returncode in (0, 1), result.stderr
    assert elapsed < 120, elapsed
    document = json.loads(result.stdout)
    schema_validator(document, "diagnose.schema.json")
    assert len(json.dumps(document)) < 2_000_000  # the report stays bounded whatever the repetition
