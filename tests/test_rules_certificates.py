"""Certificate, client-authentication, key and PSK rules: what the data cases cannot say.

The cases in tests/fixtures/rules/cases-certificates.toml check the top finding of each failing log. Here:
the working runs of the same corpus folders, and the failing runs of other families, must not produce any
finding of these rules; the predicates behave on their edge cases; the misleading esp-tls line never
outranks the real cause.
"""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS, FIXTURES, ROOT, SEEDS, fixture_files
from tlsdiag.analysis import events
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.analysis.sessions import Session
from tlsdiag.analysis.summary import summarise
from tlsdiag.rules import diagnose, load_rules, subject_for
from tlsdiag.rules.predicates import PREDICATES, Subject, load_predicate_modules

FAMILY_FILES = ("certificates.toml", "authentication.toml")
FOLDERS = [
    "01-unknown-ca-v2.28",
    "01-unknown-ca-v3.6",
    "02-hostname-mismatch-v2.28",
    "03-expired-cert-v2.28",
    "03-expired-cert-v3.6",
    "04-clock-1970-not-yet-valid-v2.28",
    "05-client-cert-required-v2.28",
    "05-client-cert-required-v3.6",
    "12-authmode-optional-untrusted-v2.28",
    "14-client-key-mismatch-v2.28",
    "17-psk-mismatch-v2.28",
    "17-psk-mismatch-v3.6",
    "21-sha1-signed-cert-v2.28",
    "22-rsa1024-server-key-v2.28",
    "23-ca-file-missing-v2.28",
    "24-no-ca-chain-v2.28",
    "29-tls13-client-cert-required-openssl-v3.6",
]
GOOD_LOGS = [path for folder in FOLDERS for path in fixture_files(CORPUS / folder, "good*.log")]


def _family_ids() -> set[str]:
    import tomllib

    ids = set()
    for name in FAMILY_FILES:
        ids.update(rule["id"] for rule in tomllib.loads((ROOT / "knowledge" / "rules" / name).read_text())["rule"])
    return ids


def _findings(path):
    return diagnose(analyse(str(path)))


def _subject(path) -> Subject:
    analysis = analyse(str(path))
    return subject_for(analysis.primary_attempt, analysis.context)


def _check(name, subject, argument):
    load_predicate_modules()
    return PREDICATES[name](subject, argument)


@pytest.mark.parametrize("path", GOOD_LOGS, ids=[f"{p.parent.name}/{p.name}" for p in GOOD_LOGS])
def test_working_runs_raise_no_finding_of_these_rules(path):
    ours = _family_ids()
    assert not [finding.rule for finding in _findings(path) if finding.rule in ours]


OTHER_FAMILIES = [path for path in fixture_files(CORPUS, "*/*.log") if path.parent.name not in FOLDERS]


@pytest.mark.parametrize("path", OTHER_FAMILIES, ids=[f"{p.parent.name}/{p.name}" for p in OTHER_FAMILIES])
def test_other_failures_are_not_claimed_by_these_rules(path):
    ours = _family_ids()
    assert not [finding.rule for finding in _findings(path) if finding.rule in ours]


def test_every_family_rule_is_loaded():
    assert _family_ids() <= {rule["id"] for rule in load_rules()}


def test_family_predicates_are_not_overridden_by_another_module():
    load_predicate_modules()
    for name in (
        "peer_certificate",
        "flagged_certificate",
        "hello_time_before",
        "clock_unset",
        "handshake_failed",
        "error_from",
        "certificate_request",
        "own_certificate",
        "alert_received_after",
        "psk",
        "requested_host",
        "given_ca",
    ):
        assert PREDICATES[name].__module__ == "tlsdiag.rules.predicates_certificates", name


# --- ranking -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["esp-idf-azure-7500.log", "esp-idf-azure-7280.log"])
def test_certificate_verified_line_never_outranks_the_real_cause(name):
    findings = _findings(FIXTURES / "logs" / name)
    rules = [finding.rule for finding in findings]
    assert "TLS-TRUST-007" in rules
    assert rules[0] != "TLS-TRUST-007"
    assert findings[rules.index("TLS-TRUST-007")].severity == "info"


def test_optional_authmode_is_a_warning_not_a_failure():
    findings = _findings(CORPUS / "12-authmode-optional-untrusted-v2.28" / "bad.log")
    # what the flags say is wrong comes first, then the authentication mode that let the handshake go on
    assert findings[0].cause == "trust-anchor-missing" and findings[0].severity == "warning"
    assert "TLS-TRUST-006" in {finding.rule for finding in findings}
    assert {finding.severity for finding in findings} <= {"warning", "info"}


def test_failed_handshake_is_not_reported_as_optional_authmode():
    findings = _findings(CORPUS / "01-unknown-ca-v2.28" / "bad.log")
    assert "TLS-TRUST-006" not in {finding.rule for finding in findings}


def test_no_ca_chain_is_not_also_reported_as_an_untrusted_chain():
    rules = [finding.rule for finding in _findings(CORPUS / "24-no-ca-chain-v2.28" / "bad.log")]
    assert rules[0] == "TLS-TRUST-002"
    assert "TLS-TRUST-001" not in rules


def test_clock_rule_replaces_the_plain_not_yet_valid_rule():
    rules = [finding.rule for finding in _findings(CORPUS / "04-clock-1970-not-yet-valid-v2.28" / "bad.log")]
    assert rules[0] == "TLS-TIME-003"
    assert "TLS-TIME-002" not in rules


def test_psk_rule_does_not_claim_a_certificate_key_mismatch():
    rules = [finding.rule for finding in _findings(CORPUS / "14-client-key-mismatch-v2.28" / "bad.log")]
    assert "TLS-PSK-001" not in rules


# --- predicates ----------------------------------------------------------------------------------------------


def test_hello_time_reads_the_clock_of_a_tls12_hello():
    match = _check("hello_time_before", _subject(CORPUS / "04-clock-1970-not-yet-valid-v2.28" / "bad.log"), 2000)
    assert match is not None and match.facts["clock_year"] == 1970
    good = _subject(CORPUS / "04-clock-1970-not-yet-valid-v2.28" / "good.log")
    assert _check("hello_time_before", good, 2000) is None


def test_hello_time_ignores_the_random_of_a_tls13_hello():
    # mbedTLS 3.6 offering TLS 1.3 fills the whole random with random bytes; its first four mean nothing
    assert _check("hello_time_before", _subject(CORPUS / "01-unknown-ca-v3.6" / "good.log"), 2100) is None


def _session_with_clock(*years):
    session = Session(index=0, first_line=1)
    for line, year in enumerate(years, start=1):
        env = events.Envelope(line=line, dialect="text", text=f"clock {year}")
        session.context_events.append(events.Context(env, "clock", year))
    subject = _subject(CORPUS / "04-clock-1970-not-yet-valid-v2.28" / "good.log")
    subject.attempt = summarise(session, subject.scope)
    return subject


def test_clock_unset_reads_the_last_clock_reading():
    assert _check("clock_unset", _session_with_clock(1970), 2000).facts["clock_year"] == 1970
    # "tm_year:70" while waiting for SNTP, then the synchronised date: the clock was set in time
    assert _check("clock_unset", _session_with_clock(1970, None), 2000) is None
    assert _check("clock_unset", _session_with_clock(1970, 2019), 2000) is None


def test_clock_set_by_sntp_before_connecting_is_not_unset():
    # seed 002: "tm_year:70" while waiting for SNTP, then "The current date/time is: ... 2019", then TLS
    subject = _subject(FIXTURES / "logs" / "esp-idf-azure-7280.log")
    assert _check("clock_unset", subject, 2000) is None  # the last reading before the failure counts


def test_flagged_certificate_finds_the_ca_flagged_as_not_yet_valid():
    subject = _subject(CORPUS / "04-clock-1970-not-yet-valid-v2.28" / "bad.level1.log")
    match = _check("flagged_certificate", subject, {"flag": ["MBEDTLS_X509_BADCERT_FUTURE"], "ca": True})
    assert match is not None and match.facts["flagged_depth"] == 1
    subject = _subject(CORPUS / "03-expired-cert-v2.28" / "bad.log")
    assert _check("flagged_certificate", subject, {"flag": ["MBEDTLS_X509_BADCERT_EXPIRED"], "ca": True}) is None
    match = _check("flagged_certificate", subject, {"flag": ["MBEDTLS_X509_BADCERT_EXPIRED"], "ca": False})
    assert match is not None and match.facts["flagged_not_after"] == "2020-12-31"


def test_peer_certificate_is_the_leaf_from_the_wire_or_the_text():
    match = _check("peer_certificate", _subject(CORPUS / "01-unknown-ca-v2.28" / "bad.log"), True)
    assert match.facts["peer_issuer"] == "O=tlsdiag test, CN=Untrusted Other Root CA"
    match = _check("peer_certificate", _subject(CORPUS / "01-unknown-ca-v2.28" / "bad.level1.log"), True)
    assert match.facts["peer_subject"] == "O=tlsdiag test, CN=localhost"
    subject = _subject(CORPUS / "23-ca-file-missing-v2.28" / "bad.log")
    assert _check("peer_certificate", subject, True) is None
    assert _check("peer_certificate", subject, {"optional": True}).facts == {}


def test_own_certificate_tells_an_empty_message_from_a_sent_one():
    empty = _subject(CORPUS / "05-client-cert-required-v2.28" / "bad.log")
    sent = _subject(CORPUS / "14-client-key-mismatch-v2.28" / "bad.log")
    assert _check("own_certificate", empty, {"empty": True}) is not None
    assert _check("own_certificate", empty, {"empty": False}) is None
    match = _check("own_certificate", sent, {"empty": False})
    assert match is not None and match.facts["own_subject"] == "O=tlsdiag test, CN=device-001"


def test_certificate_request_needs_the_message_not_the_step():
    # mbedTLS 2.28 enters "parse certificate request" although this server sent none
    none_sent = _subject(CORPUS / "12-authmode-optional-untrusted-v2.28" / "bad.log")
    assert _check("certificate_request", none_sent, True) is None
    assert _check("certificate_request", _subject(CORPUS / "05-client-cert-required-v2.28" / "bad.log"), True)


def test_psk_offered_and_chosen():
    tls12 = _subject(CORPUS / "17-psk-mismatch-v2.28" / "bad.log")
    tls13 = _subject(CORPUS / "17-psk-mismatch-v3.6" / "bad.log")
    plain = _subject(CORPUS / "14-client-key-mismatch-v2.28" / "bad.log")
    assert _check("psk", tls12, {"chosen": True}).facts["psk_suite"] == "TLS-PSK-WITH-AES-128-GCM-SHA256"
    assert _check("psk", tls13, {"offered": True}) is not None
    assert _check("psk", tls13, {"chosen": True}) is None  # the server answered with an alert, no ServerHello
    assert _check("psk", plain, {"offered": True}) is None


def test_error_from_names_the_setup_call():
    match = _check(
        "error_from",
        _subject(CORPUS / "23-ca-file-missing-v2.28" / "bad.log"),
        {"names": ["MBEDTLS_ERR_PK_FILE_IO_ERROR"], "functions": ["mbedtls_x509_crt_parse_file"]},
    )
    assert match.facts["error_function"] == "mbedtls_x509_crt_parse_file"


def test_requested_host_comes_from_the_sni_or_the_esp_tls_host_line():
    match = _check("requested_host", _subject(CORPUS / "02-hostname-mismatch-v2.28" / "bad.log"), True)
    assert match.facts == {"requested_host": "api.example.com"}
    match = _check("requested_host", _subject(FIXTURES / "logs" / "esp-idf-azure-7280.log"), True)
    assert match.facts == {"requested_host": "global.azure-devices-provisioning.net"}
    subject = _subject(CORPUS / "23-ca-file-missing-v2.28" / "bad.log")
    assert _check("requested_host", subject, True) is None
    assert _check("requested_host", subject, {"optional": True}).facts == {}


def test_given_ca_is_the_pinned_certificate_not_a_dumped_chain():
    pinned = _subject(FIXTURES / "logs" / "arduino-esp32-ota-pinned-intermediate.log")
    match = _check("given_ca", pinned, {"intermediate": True})
    assert match.facts["given_subject"] == "C=US, O=Let's Encrypt, CN=R3"
    assert match.facts["given_kind"] == "an intermediate CA, not a root"
    # seed 003: ssl_client2 prints the root it trusts (Amazon Root CA 1), which is also the top of the chain
    root = _subject(SEEDS / "003_8f02ce558de304ef.txt")
    assert _check("given_ca", root, {"intermediate": True}) is None
    assert _check("given_ca", root, {"not_issuer": True}) is None
    assert _check("given_ca", root, {}).facts["given_kind"] == "a root CA"
