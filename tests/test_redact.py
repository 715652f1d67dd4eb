"""Secrets never reach a shared report or a redacted copy; public certificates and the diagnosis stay.

The patterns are data (knowledge/redact.toml) with their own examples; the fixtures under
tests/fixtures/redact are logs as people paste them, each with the secrets listed in SECRETS.
"""

from __future__ import annotations

import json
import re
import time
import tomllib

import jsonschema
import pytest

from tests.conftest import FIXTURES, ROOT, SEEDS, diagnosed_with, run_cli
from tlsdiag.model import Finding, Fix
from tlsdiag.redact import MAX_BLOCK_LINES, Redactor, redact_text, redact_value, rules

KNOWLEDGE = ROOT / "knowledge"
DATA = tomllib.loads((KNOWLEDGE / "redact.toml").read_text())
REDACT = FIXTURES / "redact"

#: every secret each fixture holds (the PEM bodies are checked line by line below)
SECRETS = {
    "esp-idf-azure-dps-secrets.log": [
        "HomeNet-5G",
        "correct-horse-battery-staple",
        "q1w2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM1234567=",
        "dGhpcyBpcyBub3QgYSByZWFsIGtleSBidXQgaXQgaXMgbG9uZw==",
        "Xn3Gk1hQ7%2BqK9vT0bZlPa8R2cYwD5eF%3D",
        "pr0v1s10n-s3cret",
        "MHcCAQEEIMco4iAyIYJjk612ISZXF75CsxrnIK8+BTsNcrG6Zk04oAoGCCqGSM49",
        "AwEHoUQDQgAEk6xn7Q/qBgUk5ZneOw+osZrZB3HZyx59R6HYgfKuJvhJ9uHCUYQj",
        "JV2AQdYcriKjFptA715ZvUE7MggI0+rnng==",
    ],
    "forum-arduino-paste.txt": [
        "Lukas WiFi",
        "s0mmer2021!",
        "AKIAZ3MPLE7XQW2R4T6Y",
        "k9Qm2/Tr8+Vb4nW1xZ7cL5pY3sD6fG0hJ2kA9eR1",
        "MIIEowIBAAKCAQEAtM6HpnQZtuRG3pLFlGYpOfFjq2w8Xb0mN5vC1eR7tY4uI9oP",
        "3kL6jH8gF2dS5aQ1wE4rT7yU0iO9pL3kJ6hG8fD2sA5zX1cV4bN7mQ0wE3rT6yU",
        "ya29.a0AfH6SMBx3f9Kq1-Zr2TqLc8vN4mW7pQ0sT",
    ],
    "psk-mismatch-level4-v2.28.log": [
        "0123456789abcdef0123456789abcdee",
        "Client_identity",
        "01 23 45 67 89 ab cd ef 01 23 45 67",  # the PSK inside the premaster secret dump
        "5f b3 dd f0 09 e9 02 61 8e a0 e4 5e aa a4 25 5b",  # master secret
        "61 6c 25 62 9a 94 75 15 74 95 b8 7b f9 a8 15 3f",  # key block
    ],
}
#: public material that must survive: certificates are evidence
KEPT = {
    "forum-arduino-paste.txt": ["MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF"],
    "psk-mismatch-level4-v2.28.log": ["16 03 03 00"],  # record dumps stay: the diagnosis decodes them
}


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


# --- the rules themselves ---------------------------------------------------------------------------------


def test_rules_match_their_schema():
    schema = json.loads((KNOWLEDGE / "schema" / "redact.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(DATA)


def test_rule_ids_are_unique_per_kind():
    for kind in ("pattern", "block", "dump"):
        ids = [entry["id"] for entry in DATA[kind]]
        assert len(ids) == len(set(ids)), kind


def _examples():
    for entry in DATA["pattern"]:
        for index, example in enumerate(entry["examples"]):
            yield pytest.param(entry["id"], example["text"], example["secrets"], id=f"{entry['id']}-{index}")


def _keeps():
    for entry in DATA["pattern"]:
        for index, text in enumerate(entry.get("keeps", ())):
            yield pytest.param(text, id=f"{entry['id']}-{index}")


@pytest.mark.parametrize(("rule_id", "text", "secrets"), list(_examples()))
def test_each_example_loses_its_secrets(rule_id, text, secrets):
    masked = redact_text(text)
    assert not _leaks(masked, secrets), masked
    assert "[REDACTED:" in masked
    assert redact_text(masked) == masked  # masking is idempotent: a mask is never masked again


@pytest.mark.parametrize("text", list(_keeps()))
def test_each_keep_is_left_alone(text):
    assert redact_text(text) == text


def test_every_hint_is_lowercase_and_occurs_in_an_example_of_its_pattern():
    for entry in DATA["pattern"]:
        texts = [example["text"].lower() for example in entry["examples"]]
        for text in texts:
            assert any(hint in text for hint in entry["hints"]), (entry["id"], text)


# --- state over lines: PEM blocks, key dumps, learned secrets ------------------------------------------


def test_pem_private_key_body_is_masked_and_certificate_kept():
    lines = (REDACT / "forum-arduino-paste.txt").read_text().splitlines()
    masked = list(Redactor().lines(lines))
    assert len(masked) == len(lines)
    text = "\n".join(masked)
    assert "-----BEGIN RSA PRIVATE KEY-----" in text and "-----END RSA PRIVATE KEY-----" in text
    assert "Zg==" not in text  # the short last line of the key body too
    assert "MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF" in text
    assert "ADA5MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRkwFwYDVQQDExBBbWF6" in text


def test_an_unterminated_key_block_ends_after_a_bound():
    lines = ["-----BEGIN PRIVATE KEY-----", *["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="] * (MAX_BLOCK_LINES + 5)]
    lines.append("E (100) esp-tls: mbedtls_ssl_handshake returned -0x7780")
    masked = list(Redactor().lines(lines))
    assert masked[1] == "[REDACTED:pem-private-key]"
    assert masked[-1] == lines[-1]


def test_key_dumps_are_masked_and_record_dumps_kept():
    lines = (REDACT / "psk-mismatch-level4-v2.28.log").read_text().splitlines()
    masked = list(Redactor().lines(lines))
    dumps = [(a, b) for a, b in zip(lines[1:], masked[1:], strict=True) if a != b]  # line 1: the command
    assert len(dumps) == 24
    for original, changed in dumps:
        assert re.fullmatch(
            r"ssl_tls\.c:\d+: \|\d\| 0x7ffc769f6750: [0-9a-f]{4}:  \[REDACTED:tls-key-material\]", changed
        )
        assert "dumping" not in original
    record = next(i for i, line in enumerate(lines) if "dumping 'input record from network'" in line)
    assert masked[record + 1] == lines[record + 1]


def test_a_secret_found_once_is_masked_everywhere():
    lines = ['const char* ssid = "Lukas WiFi";', "Connected to Lukas WiFi", "Lukas WiFi rssi -61"]
    masked = list(Redactor().lines(lines))
    assert not any("Lukas WiFi" in line for line in masked)
    assert masked[2].endswith(" rssi -61")


def test_learned_secrets_are_not_masked_inside_masks_and_are_not_trivial():
    redactor = Redactor()
    redactor.line('const char* ssid = "wifi";')  # "wifi" also occurs in rule ids
    assert redactor.line("I (1) wifi:connected with wifi, aid = 1, channel 6") == (
        "I (1) [REDACTED:credential-quoted]:connected with [REDACTED:wifi-ssid-connected], aid = 1, channel 6"
    )
    redactor.line("password: 1234")
    assert redactor.line("I (1234) boot: ok") == "I (1234) boot: ok"


def test_seed_key_written_to_flash_is_masked_and_certificates_kept():
    seed = (SEEDS / "000_33e23ea711ce3dc8.txt").read_text()
    copy = "\n".join(Redactor().lines(seed.splitlines()))
    assert 'okey = fwrite( atob("MIIEog' not in copy
    assert 'okey = fwrite( atob("[REDACTED:key-literal]' in copy
    assert 'ocert = fwrite( atob("MIIFijCC....' in copy
    assert 'oca = fwrite( atob("MIIFgDC...' in copy


def test_adversarial_long_lines_stay_fast():
    hints = sorted({hint for entry in DATA["pattern"] for hint in entry["hints"]})
    words = [
        *hints,
        *(hint.upper() for hint in hints),
        "eyJ",
        "MIIEowIBAA",
        "SSID: ",
        "api-key",
        "wifi:connected with ",
    ]
    started = time.perf_counter()
    for word in words:
        for separator in ("", " ", "=", '="', "(", ":", "'", "-"):
            unit = word + separator
            redact_text(unit * (65536 // len(unit)))
    assert time.perf_counter() - started < 60  # about 3 s here: no pattern is quadratic on a long line


# --- the command and the reports ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_redact_command_writes_a_copy_without_secrets(name, tmp_path):
    source = REDACT / name
    target = tmp_path / "shareable.log"
    result = run_cli("redact", str(source), "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"tlsdiag: masked \d+ secrets \(.+\)\n", result.stderr)
    copy = target.read_text()
    assert not _leaks(copy, SECRETS[name])
    for kept in KEPT.get(name, ()):
        assert kept in copy
    assert len(copy.splitlines()) == len(source.read_text().splitlines())  # line numbers do not move


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_the_redacted_copy_gives_the_same_diagnosis(name, tmp_path):
    target = tmp_path / "shareable.log"
    assert run_cli("redact", str(REDACT / name), "-o", str(target)).returncode == 0
    original = json.loads(run_cli("diagnose", str(REDACT / name), "-f", "json").stdout)
    copy = json.loads(run_cli("diagnose", str(target), "-f", "json").stdout)
    assert [item["rule"] for item in copy["findings"]] == [item["rule"] for item in original["findings"]]
    assert copy["errors"] == original["errors"]


def test_redact_reads_standard_input_and_writes_standard_output():
    text = (REDACT / "forum-arduino-paste.txt").read_text()
    result = run_cli("redact", stdin=text)
    assert result.returncode == 0
    assert not _leaks(result.stdout, SECRETS["forum-arduino-paste.txt"])


def test_redact_refuses_to_overwrite_the_log(tmp_path):
    log = tmp_path / "device.log"
    log.write_text("E (1) esp-tls: mbedtls_ssl_handshake returned -0x7780\n")
    result = run_cli("redact", str(log), "-o", str(log))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is the log itself" in result.stderr
    assert log.read_text().startswith("E (1)")


def test_redact_into_a_missing_directory_is_a_user_error(tmp_path):
    result = run_cli("redact", str(REDACT / "forum-arduino-paste.txt"), "-o", str(tmp_path / "no" / "copy.log"))
    assert result.returncode == 2
    assert result.stderr.startswith("tlsdiag: error: cannot write") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("fmt", ["markdown", "html"])
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_shared_reports_hold_no_secret(name, fmt):
    result = run_cli("diagnose", str(REDACT / name), "-f", fmt)
    assert result.returncode in (0, 1), result.stderr
    assert not _leaks(result.stdout, SECRETS[name])


def test_no_redact_keeps_what_the_evidence_shows():
    log = str(REDACT / "esp-idf-azure-dps-secrets.log")  # the failing line has the Wi-Fi example's line glued on
    redacted = run_cli("diagnose", log, "-f", "markdown").stdout
    kept = run_cli("diagnose", log, "-f", "markdown", "--no-redact").stdout
    assert "correct-horse-battery-staple" in kept
    assert "correct-horse-battery-staple" not in redacted
    assert "[REDACTED:wifi-esp-idf-example]" in redacted


def test_the_diagnosis_itself_is_not_redacted():
    log = str(REDACT / "esp-idf-azure-dps-secrets.log")
    plain = run_cli("diagnose", log, "-f", "json")
    unredacted = run_cli("diagnose", log, "-f", "json", "--no-redact")
    assert plain.stdout == unredacted.stdout
    assert "correct-horse-battery-staple" in plain.stdout


def _every_example_secret() -> tuple[list[str], list[str]]:
    texts, secrets = [], []
    for entry in DATA["pattern"]:
        for example in entry["examples"]:
            texts.append(example["text"])
            secrets.extend(example["secrets"])
    return texts, secrets


def _hostile_finding(texts: list[str]) -> Finding:
    return Finding(
        rule="TLS-TEST-000",
        name="every-secret",
        title=texts[0],
        category="other",
        severity="failure",
        confidence=0.5,
        evidence=tuple(enumerate(texts, start=1)),
        explanation=" ".join(texts[:5]),
        fixes=(Fix("code", texts[1], None, None, None),),
    )


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_diagnose_reporter_masks_every_string_it_prints(fmt):
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.report import Format
    from tlsdiag.report.diagnose import render_diagnose

    texts, secrets = _every_example_secret()
    analysis = analyse(str(REDACT / "forum-arduino-paste.txt"))
    diagnosed = diagnosed_with(analysis, [_hostile_finding(texts)])
    report = render_diagnose(diagnosed, Format(fmt))
    assert not _leaks(report, secrets)
    unredacted = render_diagnose(diagnosed, Format(fmt), redact=False)
    assert _leaks(unredacted, secrets)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_diff_reporter_masks_every_string_it_prints(fmt):
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.diff import compare
    from tlsdiag.report import Format
    from tlsdiag.report.diff import render_diff

    texts, secrets = _every_example_secret()
    comparison = compare(
        analyse(str(REDACT / "esp-idf-azure-dps-secrets.log")), analyse(str(REDACT / "forum-arduino-paste.txt"))
    )
    report = render_diff(comparison, [_hostile_finding(texts)], Format(fmt))
    assert not _leaks(report, secrets + SECRETS["esp-idf-azure-dps-secrets.log"])


def test_diff_reports_are_redacted_from_the_command_line(tmp_path):
    good = tmp_path / "good.log"
    good.write_text(
        "I (2702) wifi:connected with HomeNet-5G, aid = 1, channel 6, BW20, bssid = 30:b5:c2:11:22:33\n"
        "I (10238) esp-tls: host:global.azure-devices-provisioning.net: strlen 37\n"
        "I (11000) esp-tls: handshake successful\n"
    )
    bad = REDACT / "esp-idf-azure-dps-secrets.log"
    for fmt in ("markdown", "html"):
        result = run_cli("diff", str(good), str(bad), "-f", fmt)
        assert result.returncode in (0, 1), result.stderr
        assert not _leaks(result.stdout, SECRETS["esp-idf-azure-dps-secrets.log"])


def test_reports_of_logs_without_secrets_are_unchanged():
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.report import Format
    from tlsdiag.report.diagnose import render_diagnose

    for path in sorted((FIXTURES / "logs").glob("*.log")):
        diagnosed = diagnosed_with(analyse(str(path)))
        for fmt in (Format.markdown, Format.html):
            assert render_diagnose(diagnosed, fmt) == render_diagnose(diagnosed, fmt, redact=False)


def test_redact_value_keeps_shapes():
    finding = _hostile_finding(["psk=0011223344556677", "nothing"])
    masked = redact_value({"findings": [finding], "n": 3, "t": ("a", 1)})
    assert isinstance(masked["findings"][0], Finding)
    assert masked["n"] == 3 and masked["t"] == ("a", 1)
    assert masked["findings"][0].title == "psk=[REDACTED:psk-hex]"
    assert rules().masked("x") == "[REDACTED:x]"
