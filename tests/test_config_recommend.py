"""tlsdiag config recommend: change sets from a log, a configuration and a server, as ready fragments."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import FIXTURES, run_cli
from tlsdiag.config import lint, read_config, recommend
from tlsdiag.config.data import load
from tlsdiag.config.suites import read_server_suites, suites_of
from tlsdiag.errors import InputError
from tlsdiag.report import Format
from tlsdiag.report.config import recommend_document, render_recommend

CONFIGS = FIXTURES / "config"
LOGS = FIXTURES / "logs"
SEED = CONFIGS / "seed-003-nucleo-f401re-sim800.txt"
AZURE_7500 = LOGS / "esp-idf-azure-7500.log"
AZURE_7500_SIZED = CONFIGS / "constructed-esp-idf-4.0-cert-too-large-debug.log"


def apply_unified_diff(lines: list[str], diff: str) -> list[str]:
    """Apply a unified diff (as ``patch`` would) to check that the fragment is a real patch."""
    result: list[str] = []
    position = 0
    body = diff.split("\n")
    index = 0
    while index < len(body):
        header = re.match(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", body[index])
        index += 1
        if header is None:
            continue
        start = int(header.group(1)) - 1 if header.group(2) != "0" else int(header.group(1))
        result.extend(lines[position:start])
        position = start
        while index < len(body) and not body[index].startswith("@@"):
            line = body[index]
            index += 1
            if line.startswith(" "):
                assert lines[position] == line[1:]
                result.append(line[1:])
                position += 1
            elif line.startswith("-"):
                assert lines[position] == line[1:]
                position += 1
            elif line.startswith("+"):
                result.append(line[1:])
    result.extend(lines[position:])
    return result


# --- the seed: recommend yields a configuration that passes lint ----------------------------------------------


def test_seed_003_recommendation_passes_lint(tmp_path):
    result = recommend(config_path=str(SEED))
    assert result.target == "config.h" and result.fragment.format == "unified-diff"
    assert result.after is not None and not result.after.failed
    patched = apply_unified_diff(result.config.lines, result.fragment.text)
    assert patched == result.fragment.patched
    assert "//#define MBEDTLS_TEST_NULL_ENTROPY" in patched
    assert "#define MBEDTLS_SSL_CLI_C" in patched
    # the patched text, linted from scratch by the command line: no failure left
    fixed = tmp_path / "seed-003-fixed.txt"
    fixed.write_text("\n".join(patched) + "\n", encoding="utf-8")
    completed = run_cli("config", "lint", str(fixed), "--format", "json")
    assert completed.returncode == 0, completed.stdout
    document = json.loads(completed.stdout)
    assert not [finding for finding in document["findings"] if finding["severity"] == "failure"]
    assert {"CFG-KX-001", "CFG-ROLE-001", "CFG-RNG-001", "CFG-ENT-001", "CFG-PROTO-001"}.isdisjoint(
        finding["rule"] for finding in document["findings"]
    )


def test_every_change_says_why_and_links_to_its_finding():
    result = recommend(config_path=str(SEED))
    rules = {finding.rule for finding in result.findings}
    for change in result.changes:
        assert change.why and change.finding in rules


# --- the seed 002 log: ESP-IDF 4.0's outgoing buffer --------------------------------------------------------


def test_azure_7500_log_for_esp_idf_4_0_raises_the_outgoing_buffer(schema_validator):
    result = recommend(log=str(AZURE_7500), esp_idf_version="4.0")
    assert result.target == "sdkconfig" and result.series == "2.16"
    assert [(change.option, change.before, change.after) for change in result.changes] == [
        ("CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN", "4096", "8192")
    ]
    change = result.changes[0]
    assert change.finding == "TLS-BUF-001"
    assert "CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN=n" in change.alternatives
    assert "does not show the size" in change.note
    assert result.fragment.text == "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192\n"
    assert result.after_estimate.out_buffer > result.before_estimate.out_buffer
    schema_validator(recommend_document(result), "config.schema.json")


def test_certificate_size_in_the_log_decides_the_value():
    result = recommend(log=str(AZURE_7500_SIZED), esp_idf_version="4.0")
    change = result.changes[0]
    assert (change.option, change.after) == ("CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN", "6144")
    assert int(change.after) >= 5210 and "5210" in change.note


def test_log_and_configuration_together(tmp_path):
    config = CONFIGS / "esp-idf-v4.0-azure-provisioning.sdkconfig"
    result = recommend(log=str(AZURE_7500_SIZED), config_path=str(config))
    options = {change.option: (change.before, change.after) for change in result.changes}
    assert options["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"] == ("4096", "6144")
    assert result.after is not None and not result.after.failed
    assert result.after.effective.value("MBEDTLS_SSL_OUT_CONTENT_LEN") == 6144
    assert any("sdkconfig.defaults only applies" in note for note in result.notes)
    assert result.log is not None and result.log["context"]["stack"] == "esp-idf"


def test_same_log_for_a_hand_written_config_h():
    result = recommend(log=str(AZURE_7500_SIZED), target="config.h", mbedtls_version="2.16")
    assert [(change.option, change.after) for change in result.changes] == [("MBEDTLS_SSL_OUT_CONTENT_LEN", "6144")]
    assert result.fragment.text == "#define MBEDTLS_SSL_OUT_CONTENT_LEN 6144\n"


def test_esp_idf_3_3_needs_asymmetric_buffers_for_an_output_length(tmp_path):
    defaults = tmp_path / "sdkconfig.defaults"
    defaults.write_text("CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096\n")
    result = recommend(log=str(AZURE_7500_SIZED), config_path=str(defaults), esp_idf_version="3.3")
    options = {change.option: change.after for change in result.changes}
    # the fix of a log from 4.0 names ESP-IDF >= 4.0 options; on 3.3 the output length needs asymmetric buffers
    assert options.get("CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN") == "6144"
    assert options.get("CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN") == "y"
    assert result.after is not None
    effective = result.after.effective
    assert effective.value("MBEDTLS_SSL_OUT_CONTENT_LEN") == 6144
    assert effective.value("MBEDTLS_SSL_IN_CONTENT_LEN") >= 4096  # the input buffer did not shrink


def test_cli_recommend_log(schema_validator):
    completed = run_cli("config", "recommend", "--log", str(AZURE_7500), "--esp-idf-version", "4.0", "--format", "json")
    assert completed.returncode == 1, completed.stderr  # the log shows a failure
    document = json.loads(completed.stdout)
    schema_validator(document, "config.schema.json")
    assert document["changes"][0]["option"] == "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"
    assert document["changes"][0]["to"] == "8192" and document["changes"][0]["from"] == "4096"
    assert document["fragment"]["format"] == "sdkconfig.defaults"
    text = run_cli("config", "recommend", "--log", str(AZURE_7500), "--esp-idf-version", "4.0", "--no-color")
    assert "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192" in text.stdout
    assert "or: CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN=n" in text.stdout


# --- configurations alone -----------------------------------------------------------------------------------


def test_sdkconfig_defaults_recommendation_appends_lines():
    config = CONFIGS / "esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults"
    result = recommend(config_path=str(config))
    assert result.fragment.text == "CONFIG_MBEDTLS_AES_C=y\n"
    assert result.after is not None and not result.after.failed


def test_value_options_are_patched_in_place(tmp_path):
    header = tmp_path / "config.h"
    source = (CONFIGS / "mbedtls-config-suite-b.h").read_text()
    header.write_text(source)
    result = recommend(config_path=str(header), server_suites="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    patched = apply_unified_diff(result.config.lines, result.fragment.text)
    assert patched == result.fragment.patched
    assert not result.after.failed
    assert any(line.startswith("#define MBEDTLS_SSL_CIPHERSUITES") and "ECDHE_RSA" in line for line in patched)


# --- the server's suites -------------------------------------------------------------------------------------


def test_server_suites_from_testssl_and_sslyze_reports():
    suites = suites_of(load().ciphersuites, "3.6")
    testssl = read_server_suites(str(CONFIGS / "constructed-testssl-ecdhe-rsa-gcm.json"), suites)
    assert testssl[:3] == [0xC02F, 0xC030, 0xCCA8] and 0x1301 in testssl
    sslyze = read_server_suites(str(CONFIGS / "constructed-sslyze-ecdhe-ecdsa.json"), suites)
    assert sslyze == [0xC02B, 0xC02C]  # rejected suites are not taken
    listed = read_server_suites("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256, 0xc02b TLS_AES_128_GCM_SHA256", suites)
    assert listed == [0xC02F, 0xC02B, 0x1301]
    with pytest.raises(InputError):
        read_server_suites("nothing useful", suites)


def test_psk_only_configuration_against_an_ecdsa_server(schema_validator):
    result = recommend(
        config_path=str(CONFIGS / "mbedtls-config-ccm-psk-tls1_2.h"),
        server_suites=str(CONFIGS / "constructed-sslyze-ecdhe-ecdsa.json"),
    )
    assert "CFG-SUITE-002" in {finding.rule for finding in result.findings}
    options = {change.option for change in result.changes}
    assert {"MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED", "MBEDTLS_GCM_C", "MBEDTLS_SSL_CIPHERSUITES"} <= options
    assert "MBEDTLS_ECP_DP_SECP256R1_ENABLED" in options  # P-256 is kept when a curve is needed
    assert not result.after.failed
    patched = apply_unified_diff(result.config.lines, result.fragment.text)
    assert patched == result.fragment.patched
    schema_validator(recommend_document(result), "config.schema.json")


def test_zephyr_prj_conf_against_an_rsa_server():
    result = recommend(
        config_path=str(CONFIGS / "constructed-zephyr-http-client.prj.conf"),
        server_suites=str(CONFIGS / "constructed-testssl-ecdhe-rsa-gcm.json"),
    )
    assert result.target == "prj.conf"
    assert result.fragment.text == "CONFIG_MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED=y\n"
    assert not result.after.failed


def test_server_suites_without_a_configuration_use_the_platform_defaults():
    result = recommend(
        server_suites="TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", target="sdkconfig", esp_idf_version="4.4"
    )
    # ChaCha20-Poly1305 is off in ESP-IDF 4.4; its Kconfig option depends on the two primitives
    assert {change.option: change.after for change in result.changes} == {
        "CONFIG_MBEDTLS_CHACHAPOLY_C": "y",
        "CONFIG_MBEDTLS_CHACHA20_C": "y",
        "CONFIG_MBEDTLS_POLY1305_C": "y",
    }
    assert [finding.rule for finding in result.findings] == ["CFG-SUITE-002"]
    # mbedTLS 2.28's own default config.h already has the suite: nothing to change
    assert not recommend(server_suites="0xcca9", target="config.h", mbedtls_version="2.28").changes


# --- reports and errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [Format.text, Format.markdown, Format.html])
def test_recommend_reports_render(fmt):
    text = render_recommend(recommend(config_path=str(SEED)), fmt)
    assert "MBEDTLS_SSL_CLI_C" in text
    assert "passes lint" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["config", "recommend"], "needs --log"),
        (["config", "recommend", "--config", str(SEED), "--target", "Makefile"], "--target"),
        (["config", "recommend", "--log", "missing.log"], "does not exist"),
        (["config", "recommend", "--config", str(SEED), "--server-suites", "rubbish"], "no ciphersuite"),
    ],
)
def test_cli_recommend_usage_errors(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert completed.stderr.startswith("tlsdiag: error: ") and completed.stderr.count("\n") == 1
    assert message in completed.stderr


def test_lint_of_the_recommended_sdkconfig_matches_the_recommendation():
    config = CONFIGS / "esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults"
    result = recommend(config_path=str(config))
    relinted = lint(read_config(str(config), lines=result.fragment.patched))
    assert not relinted.failed
