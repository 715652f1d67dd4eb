"""The parse stage: every dialect's lines become the right typed events, with their line numbers."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from tlsdiag.analysis import events
from tlsdiag.analysis.parse import Parser

LOGS = FIXTURES / "logs"
CORPUS = FIXTURES.parent.parent.parent / "shared" / "corpus"


def parse_file(path):
    from tlsdiag.analysis.read import open_input

    parser = Parser(keep_trace=True)
    with open_input(path) as log:
        return parser, list(parser.events(log))


def returns(evs):
    return [(e.env.line, e.function, e.value) for e in evs if type(e) is events.ReturnValue]


def test_esp_idf_esp_tls_return_and_misleading_verified_line():
    _, evs = parse_file(LOGS / "esp-idf-azure-7500.log")
    assert (34, "mbedtls_ssl_handshake", -0x7500) in returns(evs)
    verified = [e for e in evs if type(e) is events.Context and e.kind == "cert-verified"]
    assert [e.env.line for e in verified] == [35]
    assert verified[0].env.tag == "esp-tls" and verified[0].env.timestamp_ms == 10770
    clock = [e for e in evs if type(e) is events.Context and e.kind == "clock"]
    assert any(e.value == 1970 for e in clock)


def test_esp_idf_debug_bridge_lines_are_mbedtls_debug_records():
    _, evs = parse_file(LOGS / "esp-idf-debug-bridge.log")
    received = [e for e in evs if type(e) is events.Measure and e.name == "f_recv_returned"]
    assert [(e.env.line, e.value) for e in received] == [(8, 5), (14, 0)]
    assert received[0].env.source_file == "ssl_tls.c" and received[0].env.source_line == 2722
    assert (15, "mbedtls_ssl_fetch_input", -0x7280) in returns(evs)
    fetch = [e for e in evs if type(e) is events.Measure and e.name == "in_left"]
    assert [(e.value, e.limit) for e in fetch] == [(0, 5), (0, 5)]


def test_arduino_esp32_both_envelopes_decimal_codes():
    _, evs = parse_file(LOGS / "arduino-esp32.log")
    found = returns(evs)
    assert (4, "start_ssl_client", -29312) in found
    assert (7, "start_ssl_client", -9984) in found
    line7 = next(e for e in evs if e.env.line == 7)
    assert line7.env.dialect == "arduino-esp32" and line7.env.timestamp_ms == 2546
    assert line7.text.startswith("X509 - Certificate verification failed")


def test_zephyr_hex_with_and_without_0x():
    _, evs = parse_file(LOGS / "zephyr.log")
    found = returns(evs)
    assert (4, "mbedtls_ssl_handshake", -0x7200) in found
    assert (6, "mbedtls_ssl_handshake", -0x4290) in found  # older Zephyr prints "-%x"
    assert any(type(e) is events.VersionInfo and e.product == "zephyr" and e.version == "3.5.0" for e in evs)


def test_micropython_tuple_and_bare_number():
    _, evs = parse_file(LOGS / "micropython.log")
    found = [(e.env.line, e.value, e.text) for e in evs if type(e) is events.ReturnValue]
    assert (7, -29312, "MBEDTLS_ERR_SSL_CONN_EOF") in found
    # "-2880": as decimal (-0x0B40) no code; as hex without 0x, X509_ALLOC_FAILED. The defined reading
    # ranks first and the other stays visible.
    bare = next(e for e in evs if type(e) is events.ReturnValue and e.env.line == 9)
    readings = [(reading.value, reading.how) for reading in bare.readings]
    assert readings == [(-0x2880, "hex without 0x"), (-2880, "decimal")]


def test_mbed_os_trace_and_nsapi_value():
    _, evs = parse_file(LOGS / "mbed-os.log")
    found = returns(evs)
    assert (4, "mbedtls_ssl_handshake", -0x7200) in found
    assert (5, "socket->connect", -3011) in found


def test_espruino_numbers_and_text_results():
    _, evs = parse_file(LOGS / "espruino-pico.log")
    values = {value for _, _, value in returns(evs)}
    assert {-0x4290, -0x3B10} <= values
    texts = [e for e in evs if type(e) is events.ErrorText]
    assert any(e.function == "mbedtls_ssl_handshake" and e.text == "Not enough memory" for e in texts)
    setup = list(Parser().events([(1, "ERROR: Failed! mbedtls_ssl_setup: Not enough memory")]))
    assert setup[0].function == "mbedtls_ssl_setup" and setup[0].text == "Not enough memory"


def test_stm32_full_path_debug_lines():
    _, evs = parse_file(LOGS / "stm32-cube.log")
    bad = next(e for e in evs if e.env.line == 2)
    assert bad.env.source_file == "ssl_tls.c" and bad.env.source_line == 4094
    assert type(bad) is events.Trace  # no level printed: plain trace
    assert (4, "mbedtls_ssl_handshake", -0x7080) in returns(evs)


def test_watchdog_and_crash_context():
    _, evs = parse_file(LOGS / "esp-idf-arduino-ota-watchdog.log")
    kinds = {e.kind for e in evs if type(e) is events.Context}
    assert {"watchdog", "crash"} <= kinds
    assert any(value == -0x2700 for _, _, value in returns(evs))


def test_glued_console_step_and_debug_record():
    parser = Parser()
    line = "  . Performing the SSL/TLS handshake...ssl_tls.c:5804: |2| 0x7ffc4dc7cdc0: => handshake"
    evs = list(parser.events([(7, line)]))
    assert [type(e) for e in evs] == [events.ConsoleStep, events.Step]
    assert evs[1].env.context == "0x7ffc4dc7cdc0" and evs[1].name == "handshake"
    assert parser.stats.recognized_lines == 1


def test_dump_lines_become_bytes():
    parser = Parser()
    lines = [
        (1, "ssl_msg.c:2031: |4| dumping 'input record header' (5 bytes)"),
        (2, "ssl_msg.c:2031: |4| 0000:  16 03 03 00 4a                                   ....J"),
    ]
    header, dump = parser.events(lines)
    assert header.label == "input record header" and header.length == 5
    assert dump.offset == 0 and dump.data == bytes.fromhex("160303004a")


@pytest.mark.parametrize(
    ("line", "kind", "fields"),
    [
        ("ssl_cli.c:4272: |2| 0x7ffd5e2a1c40: client state: 4", events.HandshakeState, {"number": 4, "role": "client"}),
        (
            "ssl_tls.c:4589: |2| client state: MBEDTLS_SSL_CLIENT_HELLO",
            events.HandshakeState,
            {"name": "MBEDTLS_SSL_CLIENT_HELLO"},
        ),
        (
            "ssl_msg.c:4875: |2| got an alert message, type: [2:40]",
            events.Alert,
            {"direction": "in", "description": 40},
        ),
        ("ssl_tls.c:2221: |1| certificate too large, 22628 > 16384", events.Measure, {"value": 22628, "limit": 16384}),
        (
            "ssl_cli.c:1180: |3| client hello, add ciphersuite: 0xc02b (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256)",
            events.Offered,
            {"kind": "ciphersuite", "number": 0xC02B},
        ),
        (
            "ssl_cli.c:0837: |3| client hello, adding server name extension: example.com",
            events.Offered,
            {"kind": "server-name", "value": "example.com"},
        ),
        (
            "ssl_tls.c:4554: |1| x509_verify_cert() returned -9984 (-0x2700)",
            events.ReturnValue,
            {"function": "x509_verify_cert", "value": -0x2700},
        ),
        (
            "build version: Mbed TLS 3.6.6 (build 50726400)",
            events.VersionInfo,
            {"product": "mbedtls", "version": "3.6.6"},
        ),
        ("  ! mbedtls_ssl_handshake returned -0x7780", events.ReturnValue, {"value": -0x7780}),
        (
            "Last error was: -0x7780 - SSL - A fatal alert message was received from our peer",
            events.ReturnValue,
            {"value": -0x7780},
        ),
        ("E (123) MQTT_CLIENT: Last mbedtls failure: 0x7280", events.ReturnValue, {"value": -0x7280}),
        (
            "I (5) esp-tls-mbedtls: (FFFF8880): SSL - A fatal alert message was received from our peer",
            events.ReturnValue,
            {"value": -0x7780},
        ),
        (
            "E (10) esp-tls: couldn't get hostname for :example.com: getaddrinfo() returns 202, addrinfo=0x0",
            events.Context,
            {"kind": "dns-failed", "detail": "example.com"},
        ),
        (
            "E (9) esp-tls: Failed to connnect to host (errno 113)",
            events.Context,
            {"kind": "connect-failed", "value": 113},
        ),
        ("W (8) Dynamic Impl: alloc(16717 bytes) failed", events.Context, {"kind": "alloc-failed", "value": 16717}),
        (
            "I (29) boot: ESP-IDF v4.0-beta2 2nd stage bootloader",
            events.VersionInfo,
            {"product": "esp-idf", "version": "4.0-beta2"},
        ),
        ("Free heap: 23456", events.Context, {"kind": "heap-free", "value": 23456}),
        (
            "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.",
            events.Context,
            {"kind": "crash"},
        ),
        ("  ! The certificate is not correctly signed by the trusted CA", events.ErrorText, {}),
        ("I am getting an error 0x7200 from mbedtls_ssl_handshake", events.ReturnValue, {"value": -0x7200}),
    ],
)
def test_single_lines(line, kind, fields):
    (event,) = [e for e in Parser().events([(1, line)]) if type(e) is not events.Unrecognized]
    assert type(event) is kind
    for name, value in fields.items():
        assert getattr(event, name) == value, name


def test_source_code_in_a_post_is_not_an_error():
    lines = [
        (1, '    sprintf(buf2, "mbedtls_ssl_handshake returned -0x%x", -ret);'),
        (2, "while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {"),
    ]
    evs = list(Parser().events(lines))
    assert not [e for e in evs if type(e) in (events.ReturnValue, events.CodeMention)]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not available")
def test_every_error_code_printed_in_the_corpus_is_captured():
    import re

    printed = re.compile(r"(?:returned|failure|was):? (-?0x[0-9a-fA-F]{2,4})\b|returned (-\d+) \(")
    missing = []
    for path in sorted(CORPUS.glob("*/*.log")):
        _, evs = parse_file(path)
        captured = {(e.env.line, e.value) for e in evs if type(e) is events.ReturnValue}
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                for match in printed.finditer(text):
                    raw = match.group(1) or match.group(2)
                    value = int(raw, 16) if "x" in raw else int(raw)
                    value = -abs(value)
                    if value and (number, value) not in captured:
                        missing.append(f"{path.parent.name}/{path.name}:{number}: {text.strip()[:100]}")
    assert not missing, "\n".join(missing[:20])
