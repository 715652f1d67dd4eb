"""The differential of a thin log: priors per code, per stack and per mbedTLS series, moved by clues.

The lines are the print formats of the stacks (arduino-esp32's `_handle_error`, ssl_client2's `!` line) and the
library's own debug messages, as the reference lists them (tests/fixtures/reference/debug-messages.tsv).
"""

from __future__ import annotations

from tests.conftest import REALWORLD
from tlsdiag import core


def _top(path, version: str | None = None):
    result = core.diagnose(core.analyse_input(str(path), version))
    failure = result.diagnosis.failures[0]
    return [finding for finding in failure.findings if finding.severity == "failure"]


def _log(tmp_path, text: str):
    path = tmp_path / "paste.log"
    path.write_text(text, encoding="utf-8")
    return path


def test_private_key_required_on_arduino_esp32_points_at_its_psk_suites_first():
    # arduino-esp32 builds enable PSK key exchanges, so the client offers PSK suites without a key
    findings = _top(REALWORLD / "cases" / "arduino-esp32-4597.log")
    assert findings[0].cause == "psk-suite-without-key"
    assert "WiFiClientSecure::setPreSharedKey" in {fix.option for fix in findings[0].fixes}
    assert "client-key-not-set" in [finding.cause for finding in findings[:3]]


def test_private_key_required_elsewhere_points_at_a_certificate_without_its_key(tmp_path):
    findings = _top(_log(tmp_path, "  ! mbedtls_ssl_handshake returned -0x7600\n"))
    assert findings[0].cause == "client-key-not-set"
    assert "psk-suite-without-key" in [finding.cause for finding in findings]


def test_the_library_says_which_key_it_lacks(tmp_path):
    psk = _top(
        _log(tmp_path, "ssl_cli.c:3292: |1| got no private key for PSK\n  ! mbedtls_ssl_handshake returned -0x7600\n")
    )
    assert psk[0].cause == "psk-suite-without-key" and psk[0].confidence >= 0.7
    assert any("no key for the PSK suite" in clue for clue in psk[0].clues)
    certificate = _top(
        _log(
            tmp_path, "ssl_cli.c:3534: |1| got no private key for certificate\nmbedtls_ssl_handshake returned -30208\n"
        )
    )
    assert certificate[0].cause == "client-key-not-set" and certificate[0].confidence >= 0.7


def test_psa_without_init_is_a_candidate_for_a_verify_failure_only_where_psa_checks_signatures(tmp_path):
    from tlsdiag.rules import differential

    path = _log(tmp_path, "mbedtls_ssl_handshake returned -0x2700\n")
    final = core.analyse_input(str(path)).primary_attempt.final
    on_228 = differential.priors(final, "unknown", series=("2.28",))
    on_36 = differential.priors(final, "unknown", series=("3.6",))
    assert "psa-not-initialised" not in on_228
    assert 0 < on_36["psa-not-initialised"] < on_36["trust-anchor-missing"]


def test_an_untrusted_chain_on_3x_mentions_psa_crypto_init_and_not_on_2x(tmp_path):
    path = _log(
        tmp_path,
        "ssl_tls.c:9954: |1| x509_verify_cert() returned -9984 (-0x2700)\n"
        "  ! mbedtls_ssl_handshake returned -0x2700\n"
        "  ! The certificate is not correctly signed by the trusted CA\n",
    )
    on_36 = _top(path, "3.6")[0]
    assert on_36.rule == "TLS-TRUST-001" and "psa_crypto_init()" in on_36.explanation
    on_228 = _top(path, "2.28")[0]
    assert on_228.rule == "TLS-TRUST-001" and "psa_crypto_init()" not in on_228.explanation
