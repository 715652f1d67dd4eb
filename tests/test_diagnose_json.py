"""diagnose --format json follows the contract for every real log, and captures every printed error."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import FIXTURES, ROOT, run_cli

SHARED = ROOT.parent / "shared"
LOGS = sorted((SHARED / "corpus").glob("*/*.log")) + sorted((SHARED / "seeds").glob("*.txt"))
LOGS += sorted((FIXTURES / "logs").glob("*.log"))


def _diagnose(path):
    from tlsdiag.pipeline import analyse
    from tlsdiag.report.diagnose import diagnose_document
    from tlsdiag.rules import diagnose

    analysis = analyse(str(path))
    return diagnose_document(analysis, diagnose(analysis))


@pytest.mark.parametrize("path", LOGS, ids=[f"{path.parent.name}/{path.name}" for path in LOGS])
def test_document_matches_the_schema(path, schema_validator):
    schema_validator(_diagnose(path), "diagnose.schema.json")


_PRINTED = re.compile(r"(?:returned|failure|was|error)[:]? (-?0x[0-9a-fA-F]{2,4})\b(?!\s*[%x])|returned (-\d{2,}) \(")


@pytest.mark.parametrize("path", LOGS, ids=[f"{path.parent.name}/{path.name}" for path in LOGS])
def test_every_printed_error_is_in_errors_with_its_line(path):
    document = _diagnose(path)
    captured = {(error["line"], error["value"]) for error in document["errors"]}
    from tlsdiag.read import open_input

    missing = []
    with open_input(str(path)) as log:
        for number, text in log:
            for match in _PRINTED.finditer(text):
                raw = match.group(1) or match.group(2)
                value = -abs(int(raw, 16) if "x" in raw.lower() else int(raw))
                if value and (number, value) not in captured:
                    missing.append(f"{number}: {text.strip()[:100]}")
    assert not missing, "\n".join(missing[:10])


def test_cli_json_and_exit_codes(tmp_path):
    failing = SHARED / "corpus" / "01-unknown-ca-v2.28" / "bad.log"
    if not failing.exists():
        pytest.skip("corpus not available")
    result = run_cli("diagnose", str(failing), "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["findings"] and document["findings"][0]["severity"] == "failure"
    working = run_cli("diagnose", str(failing.with_name("good.log")), "--format", "json")
    assert working.returncode == 0, working.stdout[-2000:]
    plain = tmp_path / "notes.txt"
    plain.write_text("just some notes\nnothing about TLS here\n")
    result = run_cli("diagnose", str(plain))
    assert result.returncode == 0 and "Nothing TLS-related" in result.stdout


@pytest.mark.parametrize("content", [b"", b"\x00" * 4096, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64])
def test_unusable_input_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "input.log"
    path.write_bytes(content)
    result = run_cli("diagnose", str(path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_stdin_is_read(tmp_path):
    result = run_cli(
        "diagnose", "-", "--format", "json", stdin="E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7280\n"
    )
    document = json.loads(result.stdout)
    assert document["errors"][0]["value"] == -0x7280
    assert document["context"]["stack"] == "esp-idf"
