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
    assert result.log is not None and result.log.context.stack == "esp-idf"


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


# --- the version: chosen within what the log shows, labelled fragments where it matters ----------------------

CORPUS = FIXTURES / "corpus"
SEED_002 = FIXTURES / "seeds" / "002_98bfb7978636bd9e.txt"  # ESP-IDF v3.3 named in the thread
LOG_2_28 = CORPUS / "11-client-cert-too-large-v2.28" / "bad.log"  # inferred as mbedTLS 2.28-3.0
LOG_3_6 = CORPUS / "11-small-out-buffer-client-chain-v3.6" / "bad.log"  # states Mbed TLS 3.6.6
SEED_000 = FIXTURES / "seeds" / "000_33e23ea711ce3dc8.txt"  # no version, an allocation failure


def _major(series: str) -> str:
    return series.split(".")[0]


def _variant(result, predicate):
    return [plan for plan in result.variants if predicate(plan)]


def test_review_case_an_unknown_version_is_not_read_as_the_newest(schema_validator):
    """The review's case: nothing in the log names a version, -0x7500 means one thing in 2.x and another in 3.x."""
    result = recommend(log=str(AZURE_7500))
    assert result.scope.basis == "none" and result.series is None and result.split
    assert "nothing in the log says which ESP-IDF or mbedTLS version" in result.summary
    assert any("CERTIFICATE_TOO_LARGE" in reason and "UNSUPPORTED_EXTENSION" in reason for reason in result.reasons)
    for plan in result.variants:
        majors = {_major(series) for point in plan.points for series in point.series}
        assert len(majors) == 1, "a variant never mixes 2.x and 3.x"
        rules = {finding.rule for finding in plan.findings}
        options = {change.option for change in plan.changes}
        if majors == {"2"}:
            assert "TLS-BUF-001" in rules and "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN" in options
        else:  # in 3.x -0x7500 is UNSUPPORTED_EXTENSION: no buffer fix, the 2.x rule does not hold
            assert "TLS-BUF-001" not in rules and not options
            assert any(
                "UNSUPPORTED_EXTENSION" in " ".join((finding.title, *finding.clues)) for finding in plan.findings
            )
    assert not result.changes and not result.fragment.text  # nothing holds for every version
    assert all(label.startswith("ESP-IDF ") and "(mbedTLS 2." in label for label in result.applies_to["TLS-BUF-001"])
    document = recommend_document(result)
    schema_validator(document, "config.schema.json")
    assert document["config"]["mbedtls_version"] is None and document["versions"]["depends_on_version"]
    esp_idf_4, esp_idf_5 = "ESP-IDF 4.0-4.4 (mbedTLS 2.16-2.28)", "ESP-IDF 5.0-5.5 (mbedTLS 3.0-3.6)"
    labels = [variant["label"] for variant in document["versions"]["variants"]]
    assert labels == ["ESP-IDF 3.3 (mbedTLS 2.16)", esp_idf_4, esp_idf_5]
    by_label = {variant["label"]: variant for variant in document["versions"]["variants"]}
    assert by_label[esp_idf_4]["fragment"]["text"] == "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192\n"
    assert by_label[esp_idf_5]["fragment"]["text"] == ""
    buffer_rule = next(finding for finding in document["findings"] if finding["rule"] == "TLS-BUF-001")
    assert buffer_rule["applies_to"] == ["ESP-IDF 3.3-4.4 (mbedTLS 2.16-2.28)"]


def test_review_case_text_says_the_change_depends_on_the_version():
    completed = run_cli("config", "recommend", "--log", str(AZURE_7500), "--no-color")
    assert completed.returncode == 1, completed.stderr
    text = completed.stdout
    assert "mbedTLS 3.6" not in text.split("\n")[1]  # the old answer assumed ESP-IDF 5.5 / mbedTLS 3.6
    assert "The change depends on the version" in text
    assert "only for ESP-IDF 3.3-4.4 (mbedTLS 2.16-2.28)" in text
    sections = text.split("\nFor ")[1:]
    assert [section.split("\n")[0] for section in sections] == [
        "ESP-IDF 3.3 (mbedTLS 2.16)",
        "ESP-IDF 4.0-4.4 (mbedTLS 2.16-2.28)",
        "ESP-IDF 5.0-5.5 (mbedTLS 3.0-3.6)",
    ]
    assert "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192" in sections[1]
    assert "No configuration change" in sections[2] and "CONTENT_LEN" not in sections[2]
    for stray in ("None", "[]", "True", "{'"):
        assert stray not in text


def test_a_2_28_to_3_0_log_stays_within_its_range(schema_validator):
    result = recommend(log=str(LOG_2_28))
    assert result.log is not None and result.log.context.mbedtls_version == "2.28-3.0"
    assert result.scope.series == ("2.28", "3.0") and result.scope.basis == "log"
    assert [plan.series for plan in result.variants] == ["2.28", "3.0"]
    first, second = result.variants
    assert "TLS-BUF-001" in {finding.rule for finding in first.findings}
    assert "TLS-BUF-001" not in {finding.rule for finding in second.findings}
    assert result.applies_to["TLS-BUF-001"] == ["mbedTLS 2.28"]
    assert any("-0x7500" in reason and "in mbedTLS 3.0" in reason for reason in result.reasons)
    document = json.loads(run_cli("config", "recommend", "--log", str(LOG_2_28), "--format", "json").stdout)
    schema_validator(document, "config.schema.json")
    assert document["config"]["mbedtls_version"] == "2.28-3.0"
    assert document["versions"]["candidates"] == ["2.28", "3.0"]
    assert "3.6" not in json.dumps(document["versions"])


def test_a_stated_version_gives_one_answer_and_leaves_out_the_other_reading():
    result = recommend(log=str(LOG_2_28), mbedtls_version="2.28")
    assert not result.split and result.series == "2.28" and result.summary is None
    failures = [finding for finding in result.log_findings if finding.severity == "failure"]
    assert failures[0].rule == "TLS-BUF-001"
    assert all(finding.basis == "differential" and finding.confidence < 0.2 for finding in failures[1:])
    assert result.log is not None and result.log.context.evidence[0].text == "--mbedtls-version 2.28"
    # the chain (22628 bytes) is over one record: no buffer helps, so no change, and the fixes say why
    assert not result.changes
    assert any("larger than one TLS record" in fix.action for fix in result.log_findings[0].fixes)
    three = recommend(log=str(LOG_2_28), mbedtls_version="3")  # a whole major: every 3.x series, one answer
    assert three.scope.series == ("3.0", "3.3", "3.5", "3.6") and not three.split
    assert "TLS-BUF-001" not in {finding.rule for finding in three.findings}
    assert "--mbedtls-version 3 allows mbedTLS 3.0-3.6" in three.summary


def test_a_log_that_states_3_6_gets_a_mbedtls_config_h_fragment(schema_validator):
    result = recommend(log=str(LOG_3_6))
    assert result.series == "3.6" and not result.split and result.summary is None
    assert [change.option for change in result.changes] == ["MBEDTLS_SSL_OUT_CONTENT_LEN"]
    document = recommend_document(result)
    schema_validator(document, "config.schema.json")
    assert document["fragment"]["header"] == "mbedtls_config.h"
    text = render_recommend(result, Format.text)
    assert "Fragment (mbedtls_config.h)" in text and "The change depends" not in text


def test_a_log_that_names_esp_idf_3_3_is_read_as_that_release():
    result = recommend(log=str(SEED_002))
    assert result.target == "sdkconfig" and result.scope.basis == "log"
    assert result.series == "2.16" and result.esp_idf_version == "3.3" and not result.split
    assert len(result.scope.points) == 1 and result.scope.points[0].release.series == "3.3"
    text = render_recommend(result, Format.text)
    assert "ESP-IDF 3.3" in text and "mbedTLS 2.16" in text
    assert "ESP-IDF 5.5" not in text and "not known" not in text


def test_option_names_and_headers_differ_across_the_versions_of_an_unversioned_log():
    """MBEDTLS_SSL_MAX_CONTENT_LEN (2.7) against OUT_CONTENT_LEN (2.16 on); config.h (2.x) against mbedtls_config.h."""
    result = recommend(log=str(SEED_000), target="config.h")
    assert result.split
    fragments = {plan.series: (plan.header, plan.fragment.text) for plan in result.variants}
    assert fragments["2.7"] == ("config.h", "#define MBEDTLS_SSL_MAX_CONTENT_LEN 4096\n")
    assert fragments["2.28"] == ("config.h", "#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096\n")
    assert fragments["3.6"][0] == "mbedtls_config.h"
    assert any(reason.startswith("the options live in config.h in mbedTLS 2.7-2.28") for reason in result.reasons)
    assert any("MBEDTLS_SSL_MAX_CONTENT_LEN for mbedTLS 2.7" in reason for reason in result.reasons)
    for plan in result.variants:  # a value option is never written without its value
        assert all(line.count(" ") == 2 for line in plan.fragment.text.splitlines())
    markdown = render_recommend(result, Format.markdown)
    assert "### For mbedTLS 2.7\n" in markdown and "mbedtls_config.h:" in markdown


def test_an_option_missing_from_the_version_is_no_change():
    """TLS 1.3 is MBEDTLS_SSL_PROTO_TLS1_3 from 3.3 on: a 2.28-3.0 build cannot turn it on."""
    result = recommend(log=str(CORPUS / "07-protocol-version-tls13-only-v2.28" / "bad.log"))
    assert result.scope.series == ("2.28", "3.0")
    assert not result.changes and not result.split
    assert any("MBEDTLS_SSL_PROTO_TLS1_3 is not an option of this mbedTLS version" in note for note in result.notes)
    assert "the change is the same for mbedTLS 2.28-3.0" in result.summary
    on_3_6 = recommend(log=str(CORPUS / "07-protocol-version-tls13-only-v2.28" / "bad.log"), mbedtls_version="3.5")
    assert [change.option for change in on_3_6.changes] == ["MBEDTLS_SSL_PROTO_TLS1_3"]


def test_a_configuration_is_read_within_the_log_range():
    config = CONFIGS / "mbedtls-config-suite-b.h"  # its options fit 3.0-3.6; the log shows 2.28-3.0
    result = recommend(log=str(LOG_2_28), config_path=str(config))
    assert result.config.series == "3.0" and result.series == "3.0"
    assert any("read as 3.0" in note for note in result.config.notes)
    assert result.scope.basis == "configuration"


def test_an_esp_idf_build_of_a_version_no_release_ships_says_so():
    result = recommend(log=str(AZURE_7500), mbedtls_version="4.0")
    assert result.target == "sdkconfig" and result.series == "4.0"
    assert any("no examined ESP-IDF release bundles mbedTLS 4.0" in note for note in result.notes)


def test_esp_idf_release_given_and_log_range_disagree():
    result = recommend(log=str(LOG_2_28), target="sdkconfig", esp_idf_version="5.5")
    assert result.series == "3.6" and not result.split
    assert any("the log looks like mbedTLS 2.28-3.0" in note for note in result.notes)


@pytest.mark.parametrize("fmt", [Format.markdown, Format.html])
def test_split_reports_render_every_variant(fmt):
    text = render_recommend(recommend(log=str(AZURE_7500)), fmt)
    for label in ("ESP-IDF 3.3", "ESP-IDF 4.0-4.4", "ESP-IDF 5.0-5.5"):
        assert label in text
    assert "The change depends on the version" in text
    assert "None" not in text.replace("NONE", "")


# --- a fix's platform, read as version bounds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "series", "esp_idf", "expected"),
    [
        ("ESP-IDF >= 4.0", ["2.16"], "3.3", False),
        ("ESP-IDF >= 4.0", ["2.16"], "4.0", True),
        ("ESP-IDF >= 4.0", ["2.16"], None, True),  # an unknown release cannot exclude the fix
        ("ESP-IDF 3.x-4.3", [], "4.4", False),
        ("ESP-IDF 3.x-4.3", [], "3.3", True),
        ("ESP-IDF < 5.1", [], "5.1", False),
        ("ESP-IDF v5.x", [], "5.5", True),
        ("ESP-IDF with PSRAM", ["2.16"], "3.3", True),  # names no version
        ("mbedTLS 2.x", ["2.28", "3.0"], None, True),  # the build may be 2.28
        ("mbedTLS 2.x", ["3.0"], None, False),
        ("mbedTLS 2.16-2.28", ["2.7"], None, False),
        ("mbedTLS 2.28.10+, 3.6.3+, 4.x", ["3.5"], None, False),
        ("mbedTLS 2.28.10+, 3.6.3+, 4.x", ["3.6"], None, True),
        ("mbedTLS 3.x with MBEDTLS_PSA_CRYPTO_CONFIG; 4.x", ["4.1"], None, True),
        ("PSA Crypto API (mbedTLS 2.28 and later)", ["2.16"], None, False),
        ("mbedTLS <= 2.16", ["2.28"], None, False),
        ("Zephyr", ["4.1"], None, True),
    ],
)
def test_fix_platform_bounds(platform, series, esp_idf, expected):
    from tlsdiag.config.bounds import fits

    assert fits(platform, series, esp_idf) is expected


def test_every_version_bound_fix_platform_in_the_knowledge_base_is_read():
    """A platform that names ESP-IDF or mbedTLS with a version number must give bounds, never be ignored."""
    from tests.conftest import ROOT
    from tlsdiag.config.bounds import bounds_of

    platforms: set[str] = set()
    for path in (ROOT / "knowledge").rglob("*.toml"):
        for match in re.finditer(r'^platform = "([^"]*)"', path.read_text(encoding="utf-8"), re.MULTILINE):
            platforms.add(match.group(1))
    assert platforms
    for platform in platforms:
        named = re.search(r"(ESP-IDF|mbedTLS)\s*(?:[<>=]=?\s*)?v?\d", platform)
        if named:
            assert bounds_of(platform), platform
