"""The handshake family: its predicates, its rules on the working runs, and its fixes' option names."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from tests.conftest import CORPUS, FIXTURES, REFERENCE
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.rules import diagnose, load_rules, subject_for
from tlsdiag.rules.predicates import PREDICATES, Subject, load_predicate_modules

FAMILY = ("TLS-CLOSE-", "TLS-VER-", "TLS-SUITE-", "TLS-CFG-")
BUFFER_RULES = {"TLS-BUF-002", "TLS-BUF-003", "TLS-BUF-004", "TLS-BUF-005"}
CASES = tomllib.loads((FIXTURES / "rules" / "cases-handshake.toml").read_text())["case"]


def _mine(rule_id: str) -> bool:
    return rule_id.startswith(FAMILY) or rule_id in BUFFER_RULES


def _corpus(name: str) -> Path:
    path = CORPUS / name
    assert path.is_file(), f"{path} is missing from the repository"
    return path


def _subject(path: Path | str) -> Subject:
    analysis = analyse(str(path))
    assert analysis.primary is not None
    return subject_for(analysis.primary_attempt, analysis.context)


def _check(name: str, subject: Subject, argument: object):
    load_predicate_modules()
    return PREDICATES[name](subject, argument)


def _log(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.log"
    path.write_text(text)
    return path


# --- the working run of every corpus folder a case uses stays quiet -----------------------------------------


def _good_logs() -> list[str]:
    folders = sorted({case["log"].split("/")[1] for case in CASES if case["log"].startswith("corpus/")})
    assert folders, "no case of this family names a corpus log"
    return [f"{folder}/good.log" for folder in folders]


@pytest.mark.parametrize("name", _good_logs())
def test_good_runs_have_no_failure_of_this_family(name):
    findings = diagnose(analyse(str(_corpus(name))))
    assert not [f.rule for f in findings if _mine(f.rule) and f.severity == "failure"]


# --- predicates ----------------------------------------------------------------------------------------------


def test_closed_before_reply_after_client_hello():
    subject = _subject(_corpus("08-peer-closed-after-hello-v2.28/bad.log"))
    match = _check("closed_before_reply", subject, {"after": "ClientHello"})
    assert match is not None
    assert match.facts["closed_after"] == "ClientHello" and match.facts["close_kind"] == "eof"
    assert match.facts["sni_sent"] == "localhost"
    assert _check("closed_before_reply", subject, {"after": "Certificate (own)"}) is None


def test_closed_before_reply_sees_a_reset():
    subject = _subject(_corpus("27-peer-reset-after-hello-v2.28/bad.log"))
    match = _check("closed_before_reply", subject, {"after": "ClientHello"})
    assert match is not None and match.facts["close_kind"] == "reset"


def test_closed_before_reply_after_our_certificate_counts_it():
    subject = _subject(_corpus("05-client-cert-required-v3.6/bad.tls12.log"))
    assert _check("closed_before_reply", subject, {"after": "ClientHello"}) is None  # the server did answer it
    match = _check("closed_before_reply", subject, {"after": "Certificate (own)"})
    assert match is not None
    assert match.facts["own_certificates"] == 0 and match.facts["own_certificate_empty"] == "yes"


def test_closed_before_reply_without_milestones_needs_allow_unseen():
    subject = _subject(FIXTURES / "logs" / "esp-idf-debug-bridge.log")
    assert _check("closed_before_reply", subject, {"after": "ClientHello"}) is None
    match = _check("closed_before_reply", subject, {"after": "ClientHello", "allow_unseen": True})
    assert match is not None and match.facts["closed_after"] == "unknown" and "closed_when" in match.facts


def test_a_close_after_the_server_answered_is_not_a_silent_close():
    """Alert 40 after the ClientHello: the server answered, nothing closed silently."""
    subject = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.log"))
    assert _check("closed_before_reply", subject, {"after": "ClientHello", "allow_unseen": True}) is None


def test_completed_milestones_drop_the_server_message_still_awaited():
    from tlsdiag.rules.predicates_handshake import completed_milestones

    subject = _subject(_corpus("08-peer-closed-after-hello-v2.28/bad.log"))
    assert [item.name for item in completed_milestones(subject, subject.attempt.last_line + 1)] == ["ClientHello"]
    answered = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.log"))
    alert = min(item.line for item in answered.attempt.alerts)
    assert [item.name for item in completed_milestones(answered, alert)] == ["ClientHello"]


def test_server_answered():
    no_hello = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.log"))
    match = _check("server_answered", no_hello, False)
    assert match is not None
    assert match.facts["offered_suite_count"] == 1
    assert match.facts["offered_suites"] == "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"
    assert _check("server_answered", no_hello, True) is None
    answered = _subject(_corpus("13-ec-p384-cert-sigalg-not-offered-v3.6/bad.log"))
    assert _check("server_answered", answered, True) is not None


def test_hello_lacks():
    subject = _subject(_corpus("13-ec-curve-not-enabled-v2.28/bad.log"))
    match = _check("hello_lacks", subject, {"groups": ["secp384r1"]})
    assert match is not None and match.facts["missing_group"] == "secp384r1"
    assert match.facts["offered_groups"] == "secp256r1"
    assert _check("hello_lacks", subject, {"signature_algorithms": ["ecdsa_secp384r1_sha384"]}) is None
    full = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.log"))
    assert _check("hello_lacks", full, {"groups": ["secp384r1"]}) is None


def test_hello_lacks_needs_a_decoded_hello():
    subject = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.level2.log"))
    assert _check("hello_lacks", subject, {"groups": ["secp384r1"]}) is None


def test_record_type_finds_a_foreign_record():
    """An incoming record whose type byte is 72, the 'H' of 'HTTP/1.1' (built directly: the fold stage only
    emits records for dumps that split into TLS records)."""
    from tlsdiag.analysis import events
    from tlsdiag.analysis.sessions import Session

    base = _subject(_corpus("09-plain-http-on-tls-port-v2.28/bad.log"))
    session = Session(index=0, first_line=1)
    env = events.Envelope(line=3, dialect="mbedtls-debug", text="dumping 'input record header' (5 bytes)")
    session.records.append(events.TlsRecord(env, "in", 72, 21536, 5))
    subject = Subject(session, base.stack, base.series, base.scope, [])
    match = _check("record_type", subject, {"not_tls": True})
    assert match is not None and match.facts["record_type"] == 72 and match.facts["record_type_char"] == "H"
    session.records[0] = events.TlsRecord(env, "in", 22, 85, 85)
    assert _check("record_type", subject, {"not_tls": True}) is None


def test_record_type_ignores_tls_records():
    subject = _subject(_corpus("06-no-shared-ciphersuite-v2.28/bad.log"))
    assert _check("record_type", subject, {"not_tls": True}) is None


def test_nothing_on_wire():
    assert _check("nothing_on_wire", _subject(FIXTURES / "logs" / "stm32-nucleo-feature-unavailable.log"), True)
    level1 = _subject(_corpus("10-server-cert-over-16k-v2.28/bad.level1.log"))
    assert _check("nothing_on_wire", level1, True) is None  # the record layer failed: a record was read
    assert _check("nothing_on_wire", level1, False) is not None


def test_record_cut_short(tmp_path):
    legal = _subject(FIXTURES / "logs" / "esp-idf-small-in-buffer-7200.log")
    match = _check("record_cut_short", legal, {"legal": True})
    assert match is not None and match.facts["input_record"] == 5236
    assert _check("record_cut_short", legal, {"legal": False}) is None
    text = (
        "ssl_tls.c:4333: |3| input record: msgtype = 72, version = [84:84], msglen = 20512\n"
        "  ! mbedtls_ssl_handshake returned -0x7200\n"
    )
    foreign = _subject(_log(tmp_path, text))
    assert _check("record_cut_short", foreign, {"legal": False}) is not None
    complete = _subject(_corpus("10-server-cert-over-16k-v2.28/bad.log"))
    assert _check("record_cut_short", complete, {}) is None  # the 16384-byte record did arrive


def test_tls13_attempted():
    assert _check("tls13_attempted", _subject(FIXTURES / "logs" / "esp-idf-tls13-no-psa-init.log"), True)
    assert _check("tls13_attempted", _subject(_corpus("13-ec-p384-cert-sigalg-not-offered-v3.6/bad.log")), True)
    tls12 = _subject(_corpus("07-protocol-version-tls13-only-v3.6/bad.log"))
    assert _check("tls13_attempted", tls12, True) is None


def test_call_failed():
    subject = _subject(FIXTURES / "logs" / "esp-idf-tls13-no-psa-init.log")
    match = _check("call_failed", subject, {"functions": ["psa_generate_key"]})
    assert match is not None and match.facts["failed_call"] == "psa_generate_key"
    assert _check("call_failed", subject, {"functions": ["psa_generate_key"], "names": ["PSA_ERROR_BAD_STATE"]}) is None


# --- rules ---------------------------------------------------------------------------------------------------


def test_the_mfl_rule_is_not_read_into_a_2x_log():
    """-0x7500 is CERTIFICATE_TOO_LARGE in 2.x: the TLS 1.3 max_fragment_length rule must not fire there."""
    findings = diagnose(analyse(str(_corpus("11-client-cert-too-large-v2.28/bad.log"))))
    assert "TLS-BUF-004" not in {f.rule for f in findings}
    assert findings[0].rule == "TLS-BUF-001"


def test_a_protocol_version_alert_with_tls13_offered_is_not_blamed_on_missing_tls13(tmp_path):
    """Alert 70 although TLS 1.3 was offered: TLS-VER-001's "enable TLS 1.3" would be wrong advice."""
    log = (FIXTURES / "logs" / "mfl-tls13-7500-v3.6.log").read_text()
    log = log.replace(
        "ssl_tls13_client.c:2197: |2| => parse encrypted extensions\n",
        "ssl_msg.c:5274: |2| got an alert message, type: [2:70]\n",
    )
    findings = diagnose(analyse(str(_log(tmp_path, log))))
    assert "TLS-VER-001" not in {f.rule for f in findings}


def test_the_peer_closed_title_does_not_claim_a_client_hello_it_did_not_see():
    findings = diagnose(analyse(str(FIXTURES / "logs" / "esp-idf-debug-bridge.log")))
    top = findings[0]
    assert top.rule == "TLS-CLOSE-001" and "ClientHello" not in top.title


def test_sdkconfig_fixes_are_only_shown_to_esp_idf_logs():
    findings = diagnose(analyse(str(_corpus("13-ec-curve-not-enabled-v2.28/bad.log"))))
    top = next(f for f in findings if f.rule == "TLS-SUITE-002")
    assert {fix.target for fix in top.fixes} >= {"mbedtls-config", "code"}
    assert "sdkconfig" not in {fix.target for fix in top.fixes}


def test_synthetic_fixtures_say_so():
    written = [case["log"] for case in CASES if case["log"].startswith("logs/") and "debug-bridge" not in case["log"]]
    for name in written:
        assert (FIXTURES / name).read_text().startswith("#"), name
    synthetic = {name for name in written if "SYNTHETIC" in (FIXTURES / name).read_text().split("\n", 1)[0]}
    assert synthetic == {
        "logs/esp-idf-tls13-no-psa-init.log",
        "logs/esp-idf-small-in-buffer-7200.log",
        "logs/mfl-tls13-7500-v3.6.log",
    }


# --- fixes name real options ---------------------------------------------------------------------------------


def _column(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}


def test_fix_options_are_real_names():
    kconfig = _column(REFERENCE / "esp-idf-mbedtls-kconfig.tsv", "name")
    macros = _column(REFERENCE / "mbedtls-config-options.tsv", "name")
    for rule in load_rules():
        if not _mine(rule["id"]):
            continue
        for fix in rule.get("fixes", ()):
            option = fix.get("option")
            if fix["target"] == "sdkconfig":
                assert option in kconfig, (rule["id"], option)
            elif fix["target"] == "mbedtls-config":
                assert option in macros, (rule["id"], option)
            elif fix["target"] == "code" and option:
                assert option.startswith(("mbedtls_", "psa_")), (rule["id"], option)


def test_every_rule_of_the_family_has_a_case_here():
    covered = {case.get("rule") for case in CASES} | {rule for case in CASES for rule in case.get("also", ())}
    mine = {rule["id"] for rule in load_rules() if _mine(rule["id"])}
    assert mine <= covered, mine - covered


def test_placeholder_fallbacks_survive_str_format():
    """A fallback with '.', ':', '[' or '!' makes str.format treat it as a field spec and leaves the whole
    text unfilled: keep fallbacks to plain words."""
    import re

    for rule in load_rules():
        if not _mine(rule["id"]):
            continue
        texts = [rule["title"], rule["explanation"]] + [fix["action"] for fix in rule.get("fixes", ())]
        for text in texts:
            for fallback in re.findall(r"\{[a-z_]+\|([^}]*)\}", text):
                assert not set(fallback) & set(".:[]!{"), (rule["id"], fallback)


def test_a_terse_eof_on_read_is_not_called_a_handshake_close(tmp_path):
    subject = _subject(_log(tmp_path, "  ! mbedtls_ssl_read returned -0x7280\n"))
    assert _check("closed_before_reply", subject, {"after": "ClientHello", "allow_unseen": True}) is None
    subject = _subject(_log(tmp_path, "  ! mbedtls_ssl_handshake returned -0x7280\n"))
    assert _check("closed_before_reply", subject, {"after": "ClientHello", "allow_unseen": True}) is not None
