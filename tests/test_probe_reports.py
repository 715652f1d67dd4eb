"""tlsdiag probe offline: saved testssl.sh and sslyze reports, the JSON schema, the formats, the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS, run_cli
from tlsdiag.probe.device import from_preset
from tlsdiag.probe.match import match
from tlsdiag.probe.reports import read_report

PROBE = Path(__file__).parent / "fixtures" / "probe"
SCANS = PROBE / "scans"
TESTSSL = PROBE / "testssl"


def test_testssl_and_sslyze_reports_of_one_server_agree():
    for name in ("rsa-tls12-13", "big-chain", "tls13-only"):
        testssl = read_report(str(TESTSSL / f"{name}.testssl.json"))
        sslyze = read_report(str(SCANS / f"{name}.sslyze.json"))
        assert testssl.source == "testssl-json"
        assert testssl.versions == sslyze.versions
        assert {version: sorted(values) for version, values in testssl.suites.items()} == {
            version: sorted(values) for version, values in sslyze.suites.items()
        }
        assert testssl.leaf is not None and testssl.leaf.der == sslyze.leaf.der


def test_testssl_report_gives_the_verdict():
    profile = read_report(str(TESTSSL / "tls13-only.testssl.json"))
    assert match(profile, from_preset("mbedtls-2.28")).verdict == "fails"
    assert match(profile, from_preset("mbedtls-3.6")).verdict == "connects"


def test_max_fragment_length_ignored_or_honoured(tmp_path):
    profile = read_report(str(SCANS / "big-chain.sslyze.json"))
    config = tmp_path / "user_config.h"
    config.write_text("#undef MBEDTLS_SSL_IN_CONTENT_LEN\n#define MBEDTLS_SSL_IN_CONTENT_LEN 8192\n")
    code = tmp_path / "main.c"
    code.write_text("mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_4096);\n")
    from tlsdiag.probe.device import from_config

    device = from_config(str(config), "2.28", code_paths=[str(code)])
    assert device.mfl() == 4096
    profile.mfl = False  # a server that does not implement RFC 6066: records up to 16 KB
    verdict = match(profile, device)
    assert verdict.verdict == "connects"  # its handshake records (about 5 KB) still fit the 8 KB buffer
    assert "PROBE-MFL-002" in [finding.rule for finding in verdict.findings if finding.severity == "warning"]
    profile.handshakes[-1].records.append(12000)  # ... until one of them does not
    assert [finding.rule for finding in match(profile, device).blockers] == ["PROBE-MFL-001"]
    profile.mfl = True  # honoured: the 5 KB Certificate message arrives in pieces 2.28 cannot join
    rules = [finding.rule for finding in match(profile, device).blockers]
    assert rules == ["PROBE-BUF-002"]


@pytest.mark.parametrize("name", sorted(path.name for path in SCANS.glob("*.json")))
def test_json_follows_the_schema(name, schema_validator):
    result = run_cli("probe", "--server-profile", str(SCANS / name), "--device", "esp-idf-4.4", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    schema_validator(document, "probe.schema.json")
    assert (result.returncode == 1) == (document["verdict"] == "fails")


def test_a_device_read_from_its_log(schema_validator, tmp_path):
    """--log takes the device from the ClientHello its log shows: what it offers decides the verdict."""
    log = CORPUS / "13-ec-curve-not-enabled-v2.28" / "bad.log"  # a 2.28 client that offers secp256r1 only
    verdicts = {}
    for scan in ("p384-only", "rsa-tls12-13"):
        result = run_cli(
            "probe", "--server-profile", str(SCANS / f"{scan}.sslyze.json"), "--log", str(log), "--format", "json"
        )
        assert result.returncode in (0, 1), result.stderr
        document = json.loads(result.stdout)
        schema_validator(document, "probe.schema.json")
        assert document["device"]["source"] == "log" and document["device"]["versions"] == [
            "TLS1.0",
            "TLS1.1",
            "TLS1.2",
        ]
        verdicts[scan] = (
            document["verdict"],
            [item["rule"] for item in document["findings"] if item["severity"] == "failure"],
        )
    assert verdicts == {"p384-only": ("fails", ["PROBE-GROUP-001"]), "rsa-tls12-13": ("connects", [])}
    silent = tmp_path / "boot.log"
    silent.write_text("I (312) wifi: connected\n")
    result = run_cli("probe", "--server-profile", str(SCANS / "p384-only.sslyze.json"), "--log", str(silent))
    assert result.returncode == 2 and "shows no ClientHello" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_formats_show_no_python_values(fmt):
    device = str(PROBE / "devices" / "user-in-4096.h")
    result = run_cli("probe", "--server-profile", str(SCANS / "big-chain.sslyze.json"), "--config", device,
                     "--mbedtls-version", "2.28", "--format", fmt)  # fmt: skip
    assert result.returncode == 1, result.stderr
    for word in ("None", "True", "False", "[]", "{'"):
        assert word not in result.stdout
    assert "MBEDTLS_SSL_IN_CONTENT_LEN" in result.stdout
    assert "5338" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "mbedtls-3.6"], "needs a server"),
        (["127.0.0.1:1", "--device", "no-such-preset"], "no such preset"),
        (["127.0.0.1:1"], "exactly one of"),
        (["127.0.0.1:1", "--device", "mbedtls-3.6"], "connection refused"),
        (["name.invalid", "--device", "mbedtls-3.6"], "does not resolve"),
        (["127.0.0.1:99999", "--device", "mbedtls-3.6"], "out of range"),
        (["--server-profile", str(PROBE / "devices" / "user-no-sni.h"), "--device", "mbedtls-3.6"], "not JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run_cli("probe", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
