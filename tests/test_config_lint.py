"""tlsdiag config lint: check_config.h, the silent problems, buffers, the RAM estimate, the reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli
from tlsdiag.config import lint, read_config
from tlsdiag.report import Format
from tlsdiag.report.config import lint_document, render_lint

CONFIGS = FIXTURES / "config"
SEED = CONFIGS / "seed-003-nucleo-f401re-sim800.txt"
DEBIAN_CONFIG = Path("/usr/include/mbedtls/config.h")


def _lint(path, **options):
    return lint(read_config(str(path), **options))


def _rules(result, severity=None):
    return {finding.rule for finding in result.findings if severity is None or finding.severity == severity}


# --- the seed ---------------------------------------------------------------------------------------------


def test_seed_003_reports_what_made_it_fail():
    result = _lint(SEED)
    failures = _rules(result, "failure")
    assert "CFG-KX-001" in failures  # no key exchange enabled
    assert "CFG-ROLE-001" in failures  # no MBEDTLS_SSL_CLI_C
    assert "CFG-RNG-001" in failures  # the code seeds CTR_DRBG, the configuration has only HMAC_DRBG
    assert "CFG-ENT-001" in failures  # MBEDTLS_TEST_NULL_ENTROPY
    assert "CFG-PROTO-001" in _rules(result)  # SSL 3.0 enabled
    assert "CFG-VERIFY-001" in _rules(result)  # MBEDTLS_SSL_VERIFY_OPTIONAL in the code of the thread
    assert result.failed
    by_rule = {finding.rule: finding for finding in result.findings}
    assert (151, "#define MBEDTLS_TEST_NULL_ENTROPY") in by_rule["CFG-ENT-001"].evidence
    assert (157, "#define MBEDTLS_SSL_PROTO_SSL3") in by_rule["CFG-PROTO-001"].evidence
    assert any("mbedtls_ctr_drbg_seed" in text for _, text in by_rule["CFG-RNG-001"].evidence)
    assert "MBEDTLS_SSL_CLI_C" in {fix.option for fix in by_rule["CFG-ROLE-001"].fixes}


def test_seed_003_change_set_closes_under_check_config():
    result = _lint(SEED)
    changes = {change.option: change.after for change in result.changes}
    assert changes["MBEDTLS_SSL_CLI_C"] == "defined"
    assert changes["MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED"] == "defined"
    assert changes["MBEDTLS_ECDH_C"] == "defined"  # ECDHE needs it: added by the check_config.h closure
    assert changes["MBEDTLS_CTR_DRBG_C"] == "defined"
    assert changes["MBEDTLS_TEST_NULL_ENTROPY"] == "undefined"
    assert changes["MBEDTLS_SSL_PROTO_SSL3"] == "undefined"
    assert not result.unresolved
    assert all(change.finding.startswith("CFG-") and change.why for change in result.changes)


def test_seed_003_ram_estimate_states_its_basis():
    estimate = _lint(SEED).estimate
    # CBC suites with SHA-512 compiled in: 16384 + 13 header + 16 IV + 48 MAC + 256 padding
    assert estimate.in_buffer == estimate.out_buffer == 16384 + 333
    assert estimate.peak > 2 * 16717
    assert any("record buffers" in line for line in estimate.basis)
    assert any("rough" in line for line in estimate.basis)
    assert all(basis for _, _, basis in estimate.allowances)


# --- real configurations with notes -------------------------------------------------------------------------

# what the notes next to each file (<file>.json, expected_problems) say, as rule ids
EXPECTED = {
    "arduino-esp32-v1_0-tools-sdk.sdkconfig": {"CFG-PROTO-002"},
    "esp-idf-mqtt-publish_connect_test-ci-default.sdkconfig.defaults": {"CFG-VERIFY-003"},
    "mbedtls-config-ccm-psk-tls1_2.h": {"CFG-BUF-001", "CFG-BUF-002"},
    "mbedtls-config-suite-b.h": {"CFG-BUF-001", "CFG-BUF-002"},
    "mbedtls-config-no-entropy.h": {"CFG-ENT-004", "CFG-TLS-001"},
}
# warnings the notes call acceptable for a working file
TOLERATED = {"amazon-freertos-esp32-aws_demos.sdkconfig.defaults": {"CFG-BUF-001"}}
# what today's servers require, which these working files do not give (tests/test_config_server_requirements.py)
SERVER_REQUIREMENTS = {
    "mbedtls-config-suite-b.h": {"CFG-SNI-001"},
    "pico-examples-mbedtls_config_examples_common.h": {"CFG-SIG-001"},
}
REAL = sorted(path.name.removesuffix(".json") for path in CONFIGS.glob("*.json") if "constructed" not in path.name)


@pytest.mark.parametrize("name", REAL)
def test_real_configuration_matches_its_notes(name):
    notes = json.loads((CONFIGS / f"{name}.json").read_text())
    result = _lint(CONFIGS / name)
    expected = EXPECTED.get(name, set())
    assert expected <= _rules(result), sorted(_rules(result))
    assert bool(notes["expected_problems"]) == bool(expected)
    if notes["works"] is True:
        assert not _rules(result, "failure"), [finding.title for finding in result.findings]
        unexpected = _rules(result, "warning") - expected - TOLERATED.get(name, set())
        unexpected -= SERVER_REQUIREMENTS.get(name, set())
        assert not unexpected, unexpected


def test_https_request_ci_fragment_is_judged_alone():
    # works=null: AES_C=n leaves CTR_DRBG (which esp_config.h always defines) without its prerequisite
    result = _lint(CONFIGS / "esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults")
    assert "CFG-CHECK-CTR_DRBG_C" in _rules(result, "failure")
    assert {change.option: change.after for change in result.changes} == {"CONFIG_MBEDTLS_AES_C": "y"}
    traps = [finding for finding in result.findings if finding.rule == "CFG-KCONFIG-002"]
    assert {finding.severity for finding in traps} == {"info"}
    assert any("CONFIG_MBEDTLS_TLS_CLIENT=n" in finding.title for finding in traps)


def test_platform_defaults_are_softer_than_lines_of_the_file():
    # ESP-IDF 4.0 enables TLS 1.0/1.1 by default: the esp-at defaults file never asked for it
    defaults = _lint(CONFIGS / "esp-at-v2_0-module_esp32_default.sdkconfig.defaults")
    assert {finding.severity for finding in defaults.findings if finding.rule == "CFG-PROTO-002"} == {"info"}
    written = _lint(CONFIGS / "arduino-esp32-v1_0-tools-sdk.sdkconfig")
    assert {finding.severity for finding in written.findings if finding.rule == "CFG-PROTO-002"} == {"warning"}
    assert {change.option for change in written.changes} == {
        "CONFIG_MBEDTLS_SSL_PROTO_TLS1",
        "CONFIG_MBEDTLS_SSL_PROTO_TLS1_1",
    }


def test_esp_idf_4_0_default_output_buffer_with_a_client_certificate(tmp_path):
    code = tmp_path / "provisioning.c"
    code.write_text("mbedtls_ssl_conf_own_cert(&conf, &client_cert, &client_key);\n")
    result = _lint(CONFIGS / "esp-idf-v4.0-azure-provisioning.sdkconfig", code_paths=[str(code)])
    finding = next(finding for finding in result.findings if finding.rule == "CFG-BUF-003")
    assert "4096" in finding.title
    assert any(text.startswith("provisioning.c:") for _, text in finding.evidence)


def test_zephyr_prj_conf_small_buffers_and_zephyr_options():
    result = _lint(CONFIGS / "constructed-zephyr-http-client.prj.conf")
    assert {"CFG-BUF-001", "CFG-BUF-002"} <= _rules(result, "warning")
    assert "CFG-ENT-002" not in _rules(result)  # Zephyr seeds its DRBG outside the entropy module
    buffer = next(finding for finding in result.findings if finding.rule == "CFG-BUF-001")
    assert buffer.fixes[0].target == "zephyr-kconfig"
    assert buffer.fixes[0].option == "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN"
    assert buffer.evidence == ((15, "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500"),)


def test_check_config_violation_and_its_repair(tmp_path):
    header = tmp_path / "config.h"
    header.write_text(
        "\n".join(
            [
                "#define MBEDTLS_SSL_TLS_C",
                "#define MBEDTLS_SSL_CLI_C",
                "#define MBEDTLS_SSL_PROTO_TLS1_2",
                "#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
                "#define MBEDTLS_AES_C",
                "#define MBEDTLS_GCM_C",
                "#define MBEDTLS_CIPHER_C",
                "#define MBEDTLS_MD_C",
                "#define MBEDTLS_SHA256_C",
                "#define MBEDTLS_CTR_DRBG_C",
                "#define MBEDTLS_ENTROPY_C",
                "#define MBEDTLS_HAVE_TIME_DATE",
                "#define MBEDTLS_HAVE_TIME",
                '#include "mbedtls/check_config.h"',
            ]
        )
        + "\n"
    )
    result = _lint(header, mbedtls_version="2.28")
    check = next(finding for finding in result.findings if finding.rule.startswith("CFG-CHECK-KEY_EXCHANGE_ECDHE"))
    assert check.severity == "failure"
    assert "not all prerequisites" in check.title
    assert check.evidence == ((4, "#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED"),)
    changed = {change.option for change in result.changes}
    assert {"MBEDTLS_ECDH_C", "MBEDTLS_ECDSA_C", "MBEDTLS_X509_CRT_PARSE_C"} <= changed
    assert not result.unresolved


def test_no_buildable_suite_names_what_is_missing(tmp_path):
    header = tmp_path / "config.h"
    header.write_text(
        "#define MBEDTLS_SSL_TLS_C\n#define MBEDTLS_SSL_CLI_C\n#define MBEDTLS_SSL_PROTO_TLS1_2\n"
        "#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED\n#define MBEDTLS_AES_C\n#define MBEDTLS_CIPHER_C\n"
        "#define MBEDTLS_MD_C\n#define MBEDTLS_SHA256_C\n#define MBEDTLS_CTR_DRBG_C\n#define MBEDTLS_ENTROPY_C\n"
    )
    result = _lint(header, mbedtls_version="2.28")
    finding = next(finding for finding in result.findings if finding.rule == "CFG-SUITE-001")
    assert finding.severity == "failure"
    assert "TLS-PSK-WITH-AES" in finding.explanation
    assert {change.option for change in result.changes} & {"MBEDTLS_GCM_C", "MBEDTLS_CCM_C", "MBEDTLS_CIPHER_MODE_CBC"}


def test_debian_mbedtls_2_28_default_config_h():
    if not DEBIAN_CONFIG.is_file():
        if os.environ.get("TLSDIAG_REQUIRE_REALTLS"):
            pytest.fail(f"{DEBIAN_CONFIG} is missing although .ci/run installed libmbedtls-dev")
        pytest.skip(f"{DEBIAN_CONFIG} is absent: Debian's libmbedtls-dev is not installed (apt-get install it)")
    result = _lint(DEBIAN_CONFIG)
    config = result.config
    assert config.series == "2.28" and config.version_evidence == ["every option it names exists in mbedTLS 2.28"]
    assert len(config.commented) > 150  # the //#define lines of the full default config.h
    assert not _rules(result, "failure")
    assert "CFG-PROTO-002" in _rules(result, "warning")  # 2.28 still enables TLS 1.0 and 1.1 by default
    assert len(result.built) > 100
    assert result.estimate.in_buffer == 16384 + 333
    completed = run_cli("config", "lint", str(DEBIAN_CONFIG), "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["config"]["mbedtls_series"] == "2.28"


# --- reports and the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "seed-003-nucleo-f401re-sim800.txt",
        "esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults",
        "constructed-zephyr-http-client.prj.conf",
        "zephyr-config-tls-generic.h",
        "mbedtls-config-no-entropy.h",
    ],
)
def test_lint_json_follows_the_schema(name, schema_validator):
    document = lint_document(_lint(CONFIGS / name))
    schema_validator(document, "config.schema.json")
    assert document["command"] == "lint"


@pytest.mark.parametrize("fmt", [Format.text, Format.markdown, Format.html])
def test_lint_reports_render(fmt):
    text = render_lint(_lint(SEED), fmt)
    assert "MBEDTLS_TEST_NULL_ENTROPY" in text and "RAM" in text
    if fmt is Format.html:
        assert text.startswith("<!DOCTYPE html>") and "<script" not in text


def test_cli_lint_exit_codes_and_json(tmp_path, schema_validator):
    failing = run_cli("config", "lint", str(SEED), "--format", "json")
    assert failing.returncode == 1, failing.stderr
    document = json.loads(failing.stdout)
    schema_validator(document, "config.schema.json")
    assert {"CFG-KX-001", "CFG-ROLE-001"} <= {finding["rule"] for finding in document["findings"]}
    assert document["ram"]["peak_bytes"] > 0 and document["ram"]["basis"]
    clean = run_cli("config", "lint", str(CONFIGS / "pico-examples-mbedtls_config_examples_common.h"), "--no-color")
    assert clean.returncode == 0, clean.stderr
    assert "\x1b[" not in clean.stdout
    output = tmp_path / "report.md"
    written = run_cli("config", "lint", str(SEED), "--format", "markdown", "--output", str(output))
    assert written.returncode == 1 and written.stdout == ""
    assert output.read_text().startswith("## tlsdiag config lint")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["config", "lint", "missing.h"], "does not exist"),
        (["config", "lint", "."], "is a directory"),
        (["config", "lint", str(SEED), "--mbedtls-version", "9.1"], "outside the versions"),
        (["config", "lint", str(CONFIGS / "esp-rainmaker-switch.sdkconfig.defaults"), "--esp-idf-version", "x"], ""),
    ],
)
def test_cli_lint_usage_errors_are_one_line(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and completed.stderr.startswith("tlsdiag: error: ")
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_config_help_and_missing_subcommand():
    completed = run_cli("config")
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    helped = run_cli("config", "--help")
    assert helped.returncode == 0 and "lint" in helped.stdout and "recommend" in helped.stdout


def test_no_color_environment_is_honoured():
    completed = run_cli("config", "lint", str(SEED), env={"NO_COLOR": "1", **os.environ})
    assert "\x1b[" not in completed.stdout
