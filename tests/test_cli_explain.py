"""``tlsdiag explain`` as a user runs it: formats, options, exit codes and one-line errors."""

from __future__ import annotations

import json

import markdown_it
import pytest

from tests.conftest import run_cli


def test_text_reads_like_an_answer():
    result = run_cli("explain", "-0x4290", "--no-color")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("MBEDTLS_ERR_RSA_PUBLIC_FAILED", "MBEDTLS_ERR_MPI_ALLOC_FAILED", "composite", "memory", "Fix"):
        assert expected in out
    assert "\x1b[" not in out


def test_7500_without_version_shows_2x_and_3x_meanings():
    out = run_cli("explain", "-0x7500").stdout
    assert "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE" in out and "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION" in out


def test_7500_with_version_shows_only_that_meaning():
    result = run_cli("explain", "-0x7500", "--mbedtls-version", "2.28", "--format", "json")
    interpretations = json.loads(result.stdout)["codes"][0]["interpretations"]
    assert [[part["name"] for part in item["parts"]] for item in interpretations] == [
        ["MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE"]
    ]
    assert interpretations[0]["versions"] == ["2.28"]
    text = run_cli("explain", "-0x7500", "--mbedtls-version", "2.28").stdout
    assert "in mbedTLS 2.28" in text and "in mbedTLS 3." not in text


def test_json_matches_the_schema(schema_validator):
    result = run_cli("explain", "-0x4290", "-0x7500", "0x8010", "-0x7", "-3011", "-141", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    schema_validator(document, "explain.schema.json")
    first = document["codes"][0]
    assert first["value"] == -17040 and first["hex"] == "-0x4290" and first["kind"] == "mbedtls"
    parts = first["interpretations"][0]["parts"]
    assert [(part["name"], part["level"]) for part in parts] == [
        ("MBEDTLS_ERR_RSA_PUBLIC_FAILED", "high"),
        ("MBEDTLS_ERR_MPI_ALLOC_FAILED", "low"),
    ]


def test_markdown_output_is_markdown():
    out = run_cli("explain", "-0x7280", "--format", "markdown").stdout
    assert out.startswith("## `-0x7280`")
    assert "| part | code | level | prints as |" in out


def test_markdown_renders_to_html_with_the_expected_structure():
    out = run_cli("explain", "-0x7500", "--format", "markdown").stdout
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(out)
    assert "<table>" in html and "<h2>" in html and "<h3>" in html
    assert "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE" in html


def test_html_output_is_self_contained():
    out = run_cli("explain", "-0x7280", "--format", "html").stdout
    assert out.lstrip().startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in out
    assert "<script" not in out and "http://" not in out.replace("http-equiv", "")


def test_output_file(tmp_path):
    target = tmp_path / "report.json"
    result = run_cli("explain", "-0x7280", "--format", "json", "--output", str(target))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(target.read_text())["codes"][0]["hex"] == "-0x7280"


def test_colour_is_off_when_piped_and_with_no_color():
    assert "\x1b[" not in run_cli("explain", "-0x7280").stdout
    assert "\x1b[" not in run_cli("explain", "-0x7280", env={"NO_COLOR": "1"}).stdout


@pytest.mark.parametrize(
    "args",
    [
        ("explain", "hello"),
        ("explain", "MBEDTLS_ERR_NO_SUCH_THING"),
        ("explain", "-0x7FFF"),
        ("explain", "-0x7280", "--mbedtls-version", "1.3"),
        ("explain", "-0x7280", "--format", "yaml"),
        ("explain",),
        ("no-such-command",),
    ],
)
def test_bad_input_exits_2_with_one_line(args):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tlsdiag: error: ")
    assert "Traceback" not in result.stderr


def test_unknown_value_still_explains_what_it_is_not():
    result = run_cli("explain", "-0x7FFF")
    assert result.returncode == 2
    assert "not defined" in result.stderr


def test_version_flag_and_module_entry_point():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("tlsdiag ")
