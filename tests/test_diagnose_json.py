"""diagnose --format json follows the contract for every real log, and captures every printed error."""

from __future__ import annotations

import json
import re

import markdown_it
import pytest

from tests.conftest import CORPUS, FIXTURES, SEEDS, fixture_files, run_cli

LOGS = fixture_files(CORPUS, "*/*.log") + fixture_files(SEEDS, "*.txt") + fixture_files(FIXTURES / "logs", "*.log")


def _diagnose(path):
    from tlsdiag import core
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.report.diagnose import diagnose_document

    return diagnose_document(core.diagnose(analyse(str(path))))


@pytest.mark.parametrize("path", LOGS, ids=[f"{path.parent.name}/{path.name}" for path in LOGS])
def test_document_matches_the_schema(path, schema_validator):
    schema_validator(_diagnose(path), "diagnose.schema.json")


_PRINTED = re.compile(r"(?:returned|failure|was|error)[:]? (-?0x[0-9a-fA-F]{2,4})\b(?!\s*[%x])|returned (-\d{2,}) \(")


@pytest.mark.parametrize("path", LOGS, ids=[f"{path.parent.name}/{path.name}" for path in LOGS])
def test_every_printed_error_is_in_errors_with_its_line(path):
    document = _diagnose(path)
    captured = {(error["line"], error["value"]) for error in document["errors"]}
    from tlsdiag.analysis.read import open_input

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
    failing = CORPUS / "01-unknown-ca-v2.28" / "bad.log"
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


def test_markdown_report_renders_to_html():
    result = run_cli("diagnose", str(FIXTURES / "logs" / "esp-idf-azure-7500.log"), "--format", "markdown")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(result.stdout)
    assert "<h3>1. The client certificate chain does not fit the outgoing TLS buffer</h3>" in html
    assert "<code>CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192</code>" in html
    assert '<pre><code class="language-ini">CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192' in html
    assert '<pre><code class="language-text">' in html and "mbedtls_ssl_handshake returned -0x7500" in html


def test_html_report_is_self_contained_and_escaped(tmp_path):
    hostile = tmp_path / "hostile.log"
    hostile.write_text(
        "E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7500 <script>alert(1)</script>\n"
        "E (10771) esp-tls: <img src=x onerror=alert(2)> javascript:alert(3)\n"
    )
    html = run_cli("diagnose", str(hostile), "--format", "html").stdout
    assert "Content-Security-Policy" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert re.search(r"(src|href)\s*=\s*[\"']?https?:", html) is None


def test_seed_002_text_report_reads_like_an_answer():
    out = run_cli("diagnose", str(FIXTURES / "logs" / "esp-idf-azure-7500.log"), "--no-color").stdout
    first = out.split("\n2. ")[0]
    for expected in (
        "client certificate chain does not fit the outgoing TLS buffer",
        "ESP-IDF 4.0 turned asymmetric buffers on by default",
        "sdkconfig.defaults:  CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192",
        "CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN",
        "34 | E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7500",
    ):
        assert expected in first, expected
    assert "Certificate verified." in out  # explained as misleading, after the real cause
