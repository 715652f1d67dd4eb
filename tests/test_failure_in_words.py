"""Failures reported in words: a wrapper's error line with no code still fails the attempt, and what it says
(a timeout, a refused connection, a failed verification, an errno name) moves the diagnosis.

The lines follow the formats of ESP-IDF's esp-tls, tcp_transport and certificate bundle (tests/fixtures/reference/
esp-tls-log-messages.tsv), MicroPython's ``OSError: [Errno N] NAME`` and plain application text.
"""

from __future__ import annotations

import pytest

from tlsdiag import core


def _diagnosed(tmp_path, text: str):
    path = tmp_path / "paste.log"
    path.write_text(text + "\n", encoding="utf-8")
    return core.diagnose(core.analyse_input(str(path))).diagnosis


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("E (5123) esp-tls: [sock=54] select() timeout", "network-io"),
        ("E (5123) esp-tls: Failed to open new connection in specified timeout", "network-io"),
        ("TLS connect failed: connection refused", "network-io"),
        ("E (4567) esp-tls: [sock=54] connect() error: Host is unreachable", "network-io"),
        (
            '[ 5123][E][ssl_client.cpp:129] start_ssl_client(): connect on fd 48, errno: 113, "Software caused '
            'connection abort"',
            "network-io",
        ),
        ("E (8123) esp-x509-crt-bundle: Failed to verify certificate", "certificate-trust"),
        ("E (1234) esp-tls-mbedtls: Failed to verify peer certificate!", "certificate-trust"),
    ],
)
def test_an_error_line_without_a_code_fails_the_attempt_and_says_what_failed(tmp_path, line, category):
    diagnosis = _diagnosed(tmp_path, line)
    assert diagnosis.verdict.startswith("failed-")
    assert diagnosis.findings[0].category == category


def test_a_warning_about_a_poll_timeout_is_no_failure(tmp_path):
    line = "W (1234) TRANSPORT_BASE: Poll timeout or error, errno=Success, fd=54, timeout_ms=10000"
    assert _diagnosed(tmp_path, line).verdict == "ok"


def test_a_refused_connection_fails_at_any_severity(tmp_path):
    # arduino-esp32's HTTPClient logs its errors at warning level
    line = "[ 34548][W][HTTPClient.cpp:1437] returnError(): error(-1): connection refused"
    diagnosis = _diagnosed(tmp_path, line)
    assert diagnosis.verdict == "failed-explained"
    assert diagnosis.findings[0].category == "network-io"


def test_a_timeout_outside_any_connection_is_not_tls(tmp_path):
    assert _diagnosed(tmp_path, "I (1234) wifi: connection timed out, retrying").verdict == "no-tls"


def test_a_failure_in_words_is_no_failure_once_the_handshake_completed(tmp_path):
    log = "\n".join(
        [
            "ssl_tls.c:6700: |2| => handshake",
            "ssl_tls.c:6750: |2| => handshake wrapup",
            "ssl_tls.c:6751: |2| <= handshake wrapup",
            "ssl_tls.c:6752: |2| <= handshake",
            "E (9000) esp-tls: [sock=54] select() timeout",
        ]
    )
    assert not _diagnosed(tmp_path, log).verdict.startswith("failed-")


def test_a_code_on_a_line_that_reports_a_failed_connection_is_read(tmp_path):
    diagnosis = _diagnosed(tmp_path, "Connection failed, status -29184")
    assert diagnosis.verdict.startswith("failed-")
    assert diagnosis.failures[0].error == "-29184"


def test_a_timeout_in_words_does_not_outweigh_the_code_it_spells(tmp_path):
    # the strerror of MBEDTLS_ERR_NET_CONN_RESET is itself "connection reset": the code decides, not the words
    line = (
        "[ERROR] [TlsTransport] [tlsHandshake:573] Failed to perform TLS handshake: "
        "mbedTLSError= <No-High-Level-Code> : NET - Connection was reset by peer."
    )
    assert _diagnosed(tmp_path, line).findings[0].category == "peer-closed"


@pytest.mark.parametrize(
    ("line", "category"),
    [("OSError: [Errno 12] ENOMEM", "memory"), ("OSError: [Errno 104] ECONNRESET", "network-io")],
)
def test_an_errno_name_printed_with_its_number_decides_its_meaning(tmp_path, line, category):
    assert _diagnosed(tmp_path, line).findings[0].category == category


def test_an_errno_name_numbered_otherwise_by_linux_keeps_the_printed_number(tmp_path):
    # ECONNABORTED is 113 in lwIP's and newlib's errno, 103 on Linux: the value is what the device printed
    path = tmp_path / "paste.log"
    path.write_text("OSError: [Errno 113] ECONNABORTED\n", encoding="utf-8")
    final = core.analyse_input(str(path)).primary_attempt.final
    assert final is not None and final.value == -113


def test_words_in_the_log_pick_the_reading_of_an_ambiguous_wrapper_code(tmp_path):
    # 0x8006 is ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT from ESP-IDF 4.4 and ESP_ERR_MBEDTLS_CERT_PARTLY_OK in 4.0
    log = "\n".join(
        [
            "E (25121) esp-tls: [sock=54] select() timeout",
            "E (25121) esp-tls: Failed to open new connection in specified timeout",
            "E (25131) TRANSPORT_BASE: Failed to open a new connection: 32774",
            "E (25131) HTTP_CLIENT: Connection failed, sock < 0",
        ]
    )
    top = _diagnosed(tmp_path, log).findings[0]
    assert top.category == "network-io" and top.confidence >= 0.7


@pytest.mark.parametrize("form", ["json", "text"])
def test_a_name_printed_with_a_code_pins_its_versions_and_parse_lists_them_in_order(form):
    from tests.conftest import run_cli

    # the strerror text is 3.x's MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER; in 2.x -0x6600 was another code
    line = "(-26112) SSL - A field in a message was incorrect or inconsistent with other fields\n"
    result = run_cli("parse", "-", "--format", form, stdin=line)
    assert result.returncode == 0
    assert "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER" in result.stdout
    assert "frozenset" not in result.stdout and "None" not in result.stdout
    assert "3.0, 3.3" in result.stdout.replace('"', "")
    assert "2.28" not in result.stdout


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("Attempting MQTT connection...failed, rc=-2 try again in 5 seconds", "network-io"),
        ("MQTT connect failed, state: -4", "network-io"),
    ],
)
def test_pubsubclient_states_read_as_the_mqtt_client_s_own_values(tmp_path, line, category):
    # knolleary/pubsubclient: client.state() after a failed connect(), as its examples print it
    diagnosis = _diagnosed(tmp_path, line)
    assert diagnosis.verdict.startswith("failed-")
    top = diagnosis.findings[0]
    assert top.category == category
    assert any("MQTT_CONNECT" in clue or "MQTT_CONNECTION" in clue for clue in top.clues)


def test_a_wrapper_value_says_how_to_see_the_tls_reason(tmp_path):
    diagnosis = _diagnosed(tmp_path, "Attempting MQTT connection...failed, rc=-2 try again in 5 seconds")
    assert any("lastError" in step for step in diagnosis.findings[0].next_steps)


def test_a_percentage_is_not_wrapped_away_from_its_number():
    from tlsdiag.report import wrap

    lines = wrap("a" * 97 + " 50 % of them", width=100).splitlines()
    assert lines == ["a" * 97, "50 % of them"]
