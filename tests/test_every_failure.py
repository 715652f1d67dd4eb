"""A paste with several failures gets each diagnosed, the latest first; a thin paste says it is thin.

Seeds 002 and 003 are forum threads where a user fixed one problem and met the next: each shows two
different failures, and a maintainer answered both.
"""

from __future__ import annotations

import json

from tests.conftest import SEEDS, run_cli
from tlsdiag import core
from tlsdiag.analysis.pipeline import analyse

SEED_002 = SEEDS / "002_98bfb7978636bd9e.txt"  # ESP-IDF 4.0: -0x7500 (output buffer), then -0x7280 and more
SEED_003 = SEEDS / "003_8f02ce558de304ef.txt"  # a custom config.h: -0x7080 (no key exchange), then -0x34


def _failures(path):
    return core.diagnose(analyse(str(path))).diagnosis.failures


def _categories(failure) -> list[str]:
    return [finding.category for finding in failure.findings if finding.severity == "failure"]


def test_seed_002_diagnoses_the_buffer_failure_and_the_close_after_it():
    failures = _failures(SEED_002)
    assert len(failures) >= 2
    by_error = {failure.error: failure for failure in failures}
    assert by_error["-0x7500"].findings[0].category == "record-buffer-size"
    assert "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN" in {fix.option for fix in by_error["-0x7500"].findings[0].fixes}
    closes = [failure for failure in failures if failure.error == "-0x7280"]
    assert closes and _categories(closes[0])[0] == "peer-closed"
    # the latest comes first: the -0x7500 of the first posts is the oldest failure
    assert failures[-1].error == "-0x7500"
    assert [failure.last_line for failure in failures] == sorted((f.last_line for f in failures), reverse=True)


def test_seed_003_diagnoses_the_missing_key_exchange_and_the_entropy_source():
    failures = _failures(SEED_003)
    tops = {failure.findings[0].category for failure in failures}
    assert {"config-missing-feature", "entropy-rng"} <= tops
    # the config.h quoted in the thread is what tells -0x7080 apart: it has no client role and no key exchange
    (feature,) = [failure for failure in failures if failure.error == "-0x7080"]
    top = feature.findings[0]
    assert top.cause == "no-key-exchange-config" and top.confidence >= 0.7
    assert any("configuration pasted into the log" in clue for clue in top.clues)
    assert "MBEDTLS_SSL_CLI_C" in {fix.option for fix in top.fixes}


def test_a_macro_quoted_in_prose_is_no_configuration(tmp_path):
    from tlsdiag.analysis.pipeline import analyse

    log = tmp_path / "prose.log"
    log.write_text(
        "It builds, but when it runs, I get error\n#define MBEDTLS_ERR_SSL_ALLOC_FAILED -0x7F00\n"
        "I have #define MBEDTLS_SSL_CLI_C and #define MBEDTLS_DEBUG_C in my config\n"
    )
    assert analyse(str(log)).context.pasted_config == ()


def test_the_json_keeps_every_failure_and_the_text_lists_the_earlier_ones():
    result = run_cli("diagnose", str(SEED_002), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["attempts"]["failed"] >= len(document["failures"]) >= 2
    assert document["failures"][0]["findings"] == document["findings"]
    text = run_cli("diagnose", str(SEED_002), "--no-color").stdout
    assert "Earlier failures in this log" in text and "-0x7500" in text.split("Earlier failures in this log")[1]


def test_retries_that_fail_the_same_way_are_one_failure(tmp_path):
    log = tmp_path / "retries.log"
    log.write_text(
        "".join(
            f"E ({1000 * n}) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7280\n"
            f"E ({1000 * n + 5}) esp-tls: Failed to open new connection\n"
            for n in range(1, 6)
        )
    )
    document = json.loads(run_cli("diagnose", str(log), "--format", "json").stdout)
    assert len(document["failures"]) == 1
    assert len(document["failures"][0]["attempts"]) == 5


def test_a_one_line_paste_is_answered_with_a_differential_that_says_so(tmp_path):
    log = tmp_path / "one.log"
    log.write_text("mbedtls_ssl_handshake returned -0x2700\n")
    document = json.loads(run_cli("diagnose", str(log), "--format", "json").stdout)
    assert document["thin"] is True
    causes = [finding.get("cause") for finding in document["findings"]]
    assert causes[:1] == ["trust-anchor-missing"] and {"clock-not-set", "hostname-mismatch"} <= set(causes)
    assert all(finding["confidence"] < 0.6 for finding in document["findings"])
    assert all(finding.get("next_steps") for finding in document["findings"])
    text = run_cli("diagnose", str(log), "--no-color").stdout
    assert "The log shows little besides the error -0x2700" in text and "next:" in text


def test_a_log_with_the_evidence_is_not_called_thin():
    document = json.loads(
        run_cli("diagnose", str(SEEDS.parent / "corpus" / "01-unknown-ca-v2.28" / "bad.log"), "--format", "json").stdout
    )
    assert document["thin"] is False and document["findings"][0]["basis"] == "rule"
