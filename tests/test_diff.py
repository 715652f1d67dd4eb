"""tlsdiag diff: alignment on milestones, the first divergence, semantic differences and findings."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import CORPUS, FIXTURES, ROOT, fixture_files, run_cli
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.diff import compare
from tlsdiag.rules import diagnose

PAIRS = [path.parent for path in fixture_files(CORPUS, "*/good.log")]
DIFF = FIXTURES / "diff"


def _compare(good, bad):
    comparison = compare(analyse(str(good)), analyse(str(bad)))
    return comparison, diagnose(comparison.bad, comparison)


def test_esp_idf_upgrade_pair_finds_what_the_user_found_by_hand():
    comparison, findings = _compare(DIFF / "esp-idf-v3.3-working.log", DIFF / "esp-idf-v4.0-failing.log")
    first = comparison.first_divergence
    assert first.step == "ClientHello"
    assert "read returned 5" in first.description and "read returned 0" in first.description
    assert first.good_line == first.bad_line == 148
    assert comparison.identical_client_hello is True
    assert findings[0].rule == "TLS-DIFF-001" and findings[0].category == "peer-closed"
    # the log alone says the same (the server closed): one finding for the cause, the other rule named in it
    assert any(clue.startswith("TLS-CLOSE-001 ") for clue in findings[0].clues)
    assert [finding.cause for finding in findings].count("server-rejects-silently") == 1
    kinds = {item.kind for item in comparison.differences}
    assert "server-hello" in kinds and "error" in kinds


@pytest.mark.parametrize("pair", PAIRS, ids=[pair.name for pair in PAIRS])
def test_corpus_pairs(pair):
    case = json.loads((pair / "case.json").read_text())
    comparison, findings = _compare(pair / "good.log", pair / "bad.log")
    assert comparison.same_connection
    failing = comparison.bad.primary.final_error
    if failing is None:
        return  # a run that did not fail (session resumption, authmode optional): nothing to rank
    assert comparison.first_divergence is not None
    bad_line = comparison.first_divergence.bad_line
    assert bad_line is None or bad_line <= failing.env.line
    assert findings and findings[0].category == case["category"], [(f.rule, f.category) for f in findings]


def test_certificate_too_large_only_in_failing_run():
    pair = CORPUS / "11-client-cert-too-large-v2.28"
    _, findings = _compare(pair / "good.log", pair / "bad.log")
    assert "TLS-DIFF-002" in {finding.rule for finding in findings}


def test_changed_offer_is_reported():
    pair = CORPUS / "06-no-shared-ciphersuite-v2.28"
    comparison, findings = _compare(pair / "good.log", pair / "bad.log")
    assert comparison.identical_client_hello is False
    suites = next(item for item in comparison.differences if item.kind == "client-hello:ciphersuites")
    assert suites.good  # suites only the working run offered
    assert "TLS-DIFF-003" in {finding.rule for finding in findings}


def test_server_certificate_change_is_reported(tmp_path):
    pair = CORPUS / "01-unknown-ca-v2.28"
    other = CORPUS / "22-rsa1024-server-key-v2.28"
    comparison, findings = _compare(pair / "good.log", other / "bad.log")
    assert findings
    assert "certificate:server-leaf" in {item.kind for item in comparison.differences}
    assert "TLS-DIFF-004" in {finding.rule for finding in findings}


def test_a_log_against_a_copy_of_itself_has_no_difference(tmp_path):
    source = DIFF / "esp-idf-v4.0-failing.log"
    copy = tmp_path / "copy.log"
    shutil.copy(source, copy)
    comparison, _ = _compare(source, copy)
    assert comparison.first_divergence is None
    assert not comparison.differences
    assert comparison.same_connection


def test_unrelated_logs_are_not_the_same_connection():
    comparison, _ = _compare(DIFF / "esp-idf-v3.3-working.log", FIXTURES / "logs" / "zephyr.log")
    assert not comparison.same_connection
    assert (
        "not the same connection"
        in run_cli("diff", str(DIFF / "esp-idf-v3.3-working.log"), str(FIXTURES / "logs" / "zephyr.log")).stdout
    )


def test_cli_formats_and_exit_codes(schema_validator, tmp_path):
    good, bad = str(DIFF / "esp-idf-v3.3-working.log"), str(DIFF / "esp-idf-v4.0-failing.log")
    result = run_cli("diff", good, bad, "--format", "json")
    assert result.returncode == 1
    schema_validator(json.loads(result.stdout), "diff.schema.json")
    html = run_cli("diff", good, bad, "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html and "<script" not in html
    markdown = run_cli("diff", good, bad, "--format", "markdown").stdout
    assert "| | working | failing |" in markdown
    same = run_cli("diff", good, good)
    assert same.returncode == 2 and "same file" in same.stderr


def test_every_diff_rule_is_exercised_here():
    from tests.test_rules import _diff_only
    from tlsdiag.rules import load_rules

    source = (ROOT / "tests" / "test_diff.py").read_text()
    missing = [rule["id"] for rule in load_rules() if _diff_only(rule) and rule["id"] not in source]
    assert not missing
