"""Reading lines from stacks no rule was written for: print formats, envelopes behind a monitor's
prefix, numbers that belong to another library, wrapped records, words about the clock."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tlsdiag.analysis import events
from tlsdiag.analysis.parse import Parser
from tlsdiag.readings import format_of


def _events(*lines: str) -> list:
    return [event for event in Parser().events(enumerate(lines, start=1)) if type(event) is not events.Unrecognized]


def _values(*lines: str) -> list[int]:
    return [event.value for event in _events(*lines) if type(event) in (events.ReturnValue, events.CodeMention)]


@pytest.mark.parametrize(
    ("line", "value"),
    [
        # Zephyr's sockets_tls prints -%x: the digits are hex
        ("[00:00:05.301,000] <err> net_sock_tls: TLS handshake error: -7780", -0x7780),
        # Godot prints the same words with itos(ret): decimal, known by Godot's own context
        ("ERROR: TLS handshake error: -9984", -9984),
        ("E 0:00:04.727 _do_handshake: TLS handshake error: -9984", -9984),
        # lwIP's altcp_tls_mbedtls prints %d
        ("mbedtls_ssl_handshake failed: -78", -78),
        # ESP-IDF's MQTT examples print esp_tls_stack_err (-ret) as a positive hex number
        ("E (21342) mqtts_example: Last error reported from tls stack: 0x4290", -0x4290),
    ],
)
def test_print_formats_give_the_right_base(line, value):
    assert _values(line)[:1] == [value]


def test_a_format_only_pins_lines_with_its_own_words():
    assert format_of("-78", "mbedtls_ssl_handshake failed: -78").id == "lwip-altcp-tls-mbedtls"
    assert format_of("-7200", "TLS handshake error: -7200").id == "zephyr-sockets-tls-hex"
    assert format_of("-9984", "ERROR: TLS handshake error: -9984").id == "godot-stream-peer-mbedtls"


def test_a_wrappers_own_numbering_is_read_with_its_table():
    (value,) = [
        event
        for event in _events("09:28:08.546 -> [ 34548][W][HTTPClient.cpp:1437] returnError(): error(-4): not connected")
        if type(event) is events.ReturnValue
    ]
    assert value.value == -4 and value.readings[0].table == "transport:arduino-httpclient"


@pytest.mark.parametrize(
    "line",
    [
        "I have got an error OSError: -40 when using file with axTLS",
        "wolfSSL_connect error -188 while the other board works",
    ],
)
def test_a_number_in_a_clause_naming_another_tls_library_is_not_read(line):
    assert _values(line) == []


def test_the_library_named_before_the_number_owns_it():
    assert _values("wolfSSL_connect error -188 while mbedtls_ssl_handshake returned -0x2700") == [-0x2700]


def test_an_envelope_behind_a_serial_monitors_timestamp_is_read():
    (event,) = [
        item
        for item in _events("22:29:13.532 -> E (74107) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700")
        if type(item) is events.ReturnValue
    ]
    assert event.env.dialect == "esp-idf" and event.env.timestamp_ms == 74107 and event.value == -0x2700


def test_lines_stamped_alike_are_never_joined():
    """A 78-column line followed by a line with the same monitor stamp: two records, not one wrapped."""
    first = "22:29:13.156 -> 2022/5/19 16:59:15 [INFO] MQTT event MQTT_EVENT_BEFORE_CONNECT xxxxxx"[:78]
    found = _events(first, "22:29:13.532 -> E (74107) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700")
    assert [event.env.line for event in found if type(event) is events.ReturnValue] == [2]


def test_two_complete_strerror_lines_are_not_joined():
    text = "SSL - A field in a message was incorrect or inconsistent with other fields"
    found = _events(
        f"* ssl_handshake returned: (-0x6600) {text}", f"curl: (35) ssl_handshake returned: (-0x6600) {text}"
    )
    assert sorted({event.env.line for event in found if type(event) is events.ReturnValue}) == [1, 2]


def test_a_number_cut_by_the_terminal_is_joined_even_after_a_known_message():
    head = "The Error log report “E (89095) Dynamic Impl: mbedtls_ssl_fetch_input error=2931"
    head = head.rjust(80)  # exactly one terminal width, as the wrap left it
    assert _values(head, "2”") == [-29312]


def test_strerror_text_stops_where_the_description_ends():
    (event,) = [
        item
        for item in _events("error  'SSL - A fatal alert message was received from our peer'  when using mbedTLS.")
        if type(item) is events.ReturnValue
    ]
    assert event.text == "SSL - A fatal alert message was received from our peer"


def test_words_about_a_wrong_clock_move_the_differential(tmp_path):
    log = tmp_path / "clock.log"
    log.write_text(
        "TLS handshake failed. Return code: -9984. Error: Certificate verification failed\n"
        "When checking the device time we can see a clock desync.\n"
    )
    document = json.loads(run_cli("diagnose", str(log), "--format", "json").stdout)
    assert document["findings"][0]["cause"] == "clock-not-set"
    assert any("clock" in clue for clue in document["findings"][0]["clues"])
    plain = tmp_path / "plain.log"
    plain.write_text("TLS handshake failed. Return code: -9984. Error: Certificate verification failed\n")
    assert json.loads(run_cli("diagnose", str(plain), "--format", "json").stdout)["findings"][0]["cause"] != (
        "clock-not-set"
    )


def test_the_flags_of_a_verification_that_never_ran_are_not_evidence(tmp_path):
    """esp-tls prints mbedtls_ssl_get_verify_result() even when the handshake failed before the check: the
    value is then 0xFFFFFFFF, every flag, printed in table order until its buffer is full."""
    log = tmp_path / "unset.log"
    log.write_text(
        "E (3) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7100\n"
        "I (3) esp-tls-mbedtls: Failed to verify peer certificate!\n"
        "D (3) esp-tls-mbedtls: verification info:   ! The certificate validity has expired\n"
        "  ! The certificate has been revoked (is on a CRL)\n"
        "  ! The\n"
    )
    document = json.loads(run_cli("diagnose", str(log), "--format", "json").stdout)
    assert document["handshake"]["verify_flags"] == []
    assert document["findings"][0]["category"] != "certificate-time"
    real = tmp_path / "expired.log"
    real.write_text(
        "E (3) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\n"
        "I (3) esp-tls-mbedtls: Failed to verify peer certificate!\n"
        "D (3) esp-tls-mbedtls: verification info:   ! The certificate validity has expired\n"
    )
    document = json.loads(run_cli("diagnose", str(real), "--format", "json").stdout)
    assert [flag["name"] for flag in document["handshake"]["verify_flags"]] == ["MBEDTLS_X509_BADCERT_EXPIRED"]
