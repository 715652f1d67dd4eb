"""Each log variant does what it says, on small excerpts of real logs from tests/fixtures."""

from __future__ import annotations

from tests.measure import CORPUS, REALWORLD, read_log
from tests.variants import (
    applies,
    console_only,
    error_line,
    esp_idf_reframed,
    last_lines,
    wrapped,
)

# corpus/01-unknown-ca-v3.6/bad.level1.log: ssl_client2 console with a debug record glued after console text
SSL_CLIENT2 = """\
  . Setting up the SSL/TLS structure... ok
  . Performing the SSL/TLS handshake...ssl_tls13_generic.c:1552: |1| Perform PSA-based ECDH/FFDH computation.
ssl_tls13_client.c:1950: |1| Switch to handshake keys for inbound traffic

Verify requested for (Depth 0):
  ! The certificate is not correctly signed by the trusted CA

ssl_tls.c:9954: |1| x509_verify_cert() returned -9984 (-0x2700)
 failed
  ! mbedtls_ssl_handshake returned -0x2700

Last error was: -0x2700 - X509 - Certificate verification failed, e.g. CRL, CA or signature check failed
"""

# realworld/cases/esp-idf-18674.log: ESP-IDF debug bridge, an empty line after every record
ESP_IDF = """\
I (16920) mbedtls: ssl_msg.c:2027 ssl->f_recv(_timeout)() returned 2512 (-0xfffff630)



I (18730) esp-x509-crt-bundle: No matching trusted root certificate found

E (18730) esp-x509-crt-bundle: Failed to verify certificate

W (18730) mbedtls: ssl_tls.c:8765 x509_verify_cert() returned -12288 (-0x3000)



I (18750) mbedtls: ssl_msg.c:5002 => send alert message
"""


def test_the_excerpts_are_real():
    assert SSL_CLIENT2.splitlines()[1] in read_log(CORPUS / "01-unknown-ca-v3.6" / "bad.level1.log")
    assert ESP_IDF.splitlines()[-1] in read_log(REALWORLD / "cases" / "esp-idf-18674.log")


def test_console_only_drops_debug_records_and_keeps_console_text():
    assert console_only(SSL_CLIENT2).splitlines() == [
        "  . Setting up the SSL/TLS structure... ok",
        "  . Performing the SSL/TLS handshake...",
        "",
        "Verify requested for (Depth 0):",
        "  ! The certificate is not correctly signed by the trusted CA",
        "",
        " failed",
        "  ! mbedtls_ssl_handshake returned -0x2700",
        "",
        "Last error was: -0x2700 - X509 - Certificate verification failed, e.g. CRL, CA or signature check failed",
    ]


def test_console_only_drops_esp_idf_records_with_the_empty_lines_they_print():
    assert console_only(ESP_IDF).splitlines() == [
        "I (18730) esp-x509-crt-bundle: No matching trusted root certificate found",
        "",
        "E (18730) esp-x509-crt-bundle: Failed to verify certificate",
        "",
    ]


def test_console_only_drops_records_behind_a_quote_and_with_windows_paths():
    # realworld/formats/esp-idf-5374.log and formats/mbedtls-examples-7.log
    log = (
        "> (17213) mbedtls: components\\mbedtls\\mbedtls\\library\\ssl_tls.c:2779 "
        "**ssl->f_send**() returned -80 (-0x0050)\n"
        "..\\PolarSSL\\src\\ssl_tls.c:4095: is a fatal alert message (msg 40)\n"
        "  . Performing the SSL/TLS handshake...\n"
    )
    assert console_only(log) == "  . Performing the SSL/TLS handshake...\n"


def test_last_lines_keeps_the_final_lines():
    text = "".join(f"line {number}\n" for number in range(1, 41))
    assert last_lines(text).splitlines() == [f"line {number}" for number in range(16, 41)]
    assert last_lines(SSL_CLIENT2) == SSL_CLIENT2
    assert not applies("last 25 lines", SSL_CLIENT2)


def test_error_line_prefers_the_console_line_that_prints_the_code():
    assert error_line(SSL_CLIENT2).startswith("Last error was: -0x2700 - X509")


def test_error_line_falls_back_to_the_last_debug_record_with_a_code():
    assert error_line(ESP_IDF) == "W (18730) mbedtls: ssl_tls.c:8765 x509_verify_cert() returned -12288 (-0x3000)\n"


def test_error_line_ignores_application_statuses_and_byte_counts():
    # realworld/cases/mbed-os-example-tls-56.log and cases/pixelix-240.log
    mbed = (
        "mbedtls_ssl_handshake() failed: -0x2700 (-9984): X509 - Certificate verification failed, "
        "e.g. CRL, CA or signature check failed\nMBED: Socket Error: -1\n"
    )
    assert error_line(mbed).startswith("mbedtls_ssl_handshake() failed: -0x2700")
    pixelix = (
        "[21327610][E][AsyncTCP.cpp:696] _sockIsWriteable(): TLS setup failed with error -32512, closing socket...\n"
        "21342486   WARNING AsyncHttpClient.cpp:740      Error occurred: -11 - Not connected.\n"
    )
    assert "-32512" in error_line(pixelix)


def test_error_line_takes_a_peer_close_notify_record_for_the_normal_end_it_is():
    # corpus/12-authmode-optional-untrusted-v2.28/bad.level1.log: the handshake succeeded, the peer closed later
    log = read_log(CORPUS / "12-authmode-optional-untrusted-v2.28" / "bad.level1.log")
    assert "x509_verify_cert() returned -9984 (-0x2700)" in error_line(log)


def test_error_line_of_a_log_without_codes_is_its_last_failure():
    log = read_log(REALWORLD / "cases" / "circuitpython-3424.log")
    assert error_line(log) == "OSError: Failed SSL handshake\n"


def test_error_line_reads_unsigned_and_unprefixed_forms():
    assert error_line("[HTTPS:I] Connection closed\n[HTTPS:E] mbedtls_ssl_setup res=FFFF8100\n[HTTPS:I] done\n") == (
        "[HTTPS:E] mbedtls_ssl_setup res=FFFF8100\n"
    )
    assert error_line("connected\nmbedtls_ssl_handshake error: -7200\nTraceback (most recent call last):\n") == (
        "mbedtls_ssl_handshake error: -7200\n"
    )


def test_esp_idf_reframing_follows_the_debug_bridge_layout():
    out = esp_idf_reframed(SSL_CLIENT2).splitlines()
    assert out[1:5] == [
        "  . Performing the SSL/TLS handshake...",
        "W (5001) mbedtls: ssl_tls13_generic.c:1552 Perform PSA-based ECDH/FFDH computation.",
        "",
        "W (5002) mbedtls: ssl_tls13_client.c:1950 Switch to handshake keys for inbound traffic",
    ]
    assert "W (5003) mbedtls: ssl_tls.c:9954 x509_verify_cert() returned -9984 (-0x2700)" in out
    assert out[-1].startswith("Last error was: -0x2700")


def test_esp_idf_reframing_drops_the_context_pointer_and_the_zero_padding():
    # corpus/05-client-cert-required-v2.28/bad.level1.log
    record = "ssl_msg.c:0470: |2| 0x7ffff11d37a0: => flush output\n"
    assert esp_idf_reframed(record) == "I (5001) mbedtls: ssl_msg.c:470 => flush output\n\n"


def test_esp_idf_reframing_leaves_esp_idf_logs_alone():
    assert not applies("re-framed as ESP-IDF", ESP_IDF)


def test_wrapping_breaks_long_lines_at_80_columns_and_loses_nothing():
    line = SSL_CLIENT2.splitlines()[-1]  # 104 characters
    out = wrapped(line + "\nshort\n").splitlines()
    assert out == [line[:80], line[80:], "short"]
    assert all(len(part) <= 80 for part in wrapped(SSL_CLIENT2).splitlines())
    assert "".join(wrapped(SSL_CLIENT2).splitlines()) == "".join(SSL_CLIENT2.splitlines())
