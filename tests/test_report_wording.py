"""Every report speaks to a person: no Python repr and no unfilled placeholder reaches the page.

Each command that writes a report (diagnose, diff, parse, explain, config lint, config recommend) runs in every
format over every fixture in the repository: through ``tlsdiag.commands`` writing to a file, as the command line
does, or, for diagnose and diff, through the same renderers from one analysis per input. A report fails when it
shows ``None``, ``True``, ``False``, a Python mapping or list (``{'``, ``['``), or a template or rule placeholder
(``{name}``, ``{{ ... }}``) that was never filled, unless that exact stretch of text is quoted from the input
itself: a log may well print ``None``, and quoting it is evidence. JSON documents are checked on their string
values (``null`` and ``true`` are JSON, not repr). Markdown must keep the code spans of our own prose.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, FIXTURES, REALWORLD, SEEDS, diagnosed_with, fixture_files
from tlsdiag import commands
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.diff import compare
from tlsdiag.errors import InputError
from tlsdiag.knowledge import load
from tlsdiag.report import Format
from tlsdiag.report.diagnose import render_diagnose
from tlsdiag.report.diff import render_diff
from tlsdiag.rules import diagnose

#: what a person never writes: Python's spelling of nothing, truth and containers, and placeholders left unfilled
LEAKS = re.compile(
    r"\bNone\b(?! of\b)|\bTrue\b|\bFalse\b|\{'|\['|\{[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)?(?::[^{}\s]*)?\}|\{\{|\}\}|\{%|%\}"
)
#: how much of the text around a leak must also be in the input for the leak to count as quoted from it
CONTEXT = 12
TEXT_FORMATS = (Format.text, Format.markdown, Format.html)
ALL_FORMATS = (*TEXT_FORMATS, Format.json)

LOGS = [
    *fixture_files(FIXTURES / "logs", "*.log"),
    *fixture_files(CORPUS, "*/*.log"),
    *fixture_files(SEEDS, "*.txt"),
    *fixture_files(REALWORLD, "*/*.log"),
    *fixture_files(FIXTURES / "redact", "*.log"),
    *fixture_files(FIXTURES / "redact", "*.txt"),
    *fixture_files(FIXTURES / "diff", "*.log"),
    *fixture_files(FIXTURES / "read", "*.log"),
    *fixture_files(FIXTURES / "config", "*.log"),
]
PAIRS = [
    *((folder / "good.log", bad) for folder in sorted({path.parent for path in fixture_files(CORPUS, "*/good.log")})
      for bad in fixture_files(folder, "bad*.log")),
    (FIXTURES / "diff" / "esp-idf-v3.3-working.log", FIXTURES / "diff" / "esp-idf-v4.0-failing.log"),
    (CORPUS / "01-unknown-ca-v2.28" / "good.log", CORPUS / "22-rsa1024-server-key-v2.28" / "bad.log"),
    (FIXTURES / "diff" / "esp-idf-v3.3-working.log", FIXTURES / "logs" / "zephyr.log"),
]  # fmt: skip
CONFIGS = [
    path
    for path in fixture_files(FIXTURES / "config", "*")
    if path.suffix not in (".json", ".md", ".py", ".log") and not path.name.startswith("README")
] + [
    FIXTURES / "config" / "constructed-user-config" / "config.h",
    FIXTURES / "config" / "pico-http-client" / "mbedtls_config.h",
]


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def _readable(report: str, fmt: Format) -> str:
    """The text a reader sees: html unescaped without its style sheet, markdown without its escapes."""
    if fmt is Format.html:
        report = html.unescape(re.sub(r"<style>.*?</style>", "", report, flags=re.S))
    if fmt is Format.markdown:
        report = re.sub(r"\\([\\`*_{}\[\]<>()#+!|~])", r"\1", report)
    return report


def _strings(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)


def leaks(report: str, fmt: Format, quoted: str = "") -> list[str]:
    """Every repr or placeholder in ``report`` that is not text quoted from the input ``quoted``."""
    texts = list(_strings(json.loads(report))) if fmt is Format.json else _readable(report, fmt).splitlines()
    found = []
    if fmt is Format.markdown and "`" not in quoted:  # our prose's code spans are kept, never escaped
        found += [
            f"{fmt}: escaped code span ...{line.strip()[:60]}..." for line in report.splitlines() if "\\`" in line
        ]
    for text in texts:
        for match in LEAKS.finditer(text):
            around = text[max(0, match.start() - CONTEXT) : match.end() + CONTEXT].strip()
            if around not in quoted:
                found.append(f"{fmt}: ...{around}...")
    return found


def _render(tmp_path: Path, call: Any, fmt: Format) -> str:
    target = tmp_path / f"report.{fmt}"
    with contextlib.suppress(InputError):  # explain reports undefined values after writing the report
        call(fmt, target)
    return target.read_text(encoding="utf-8")


def _input_text(*paths: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in paths)


def test_the_checker_catches_what_it_is_meant_to():
    assert leaks("cert too large: None -> 22628 (limit 16384)", Format.text)
    assert leaks("working only: {'subject': 'CN=x'}", Format.text)
    assert leaks("# 3 lines, 1 recognised, dialects: {'text': 1}", Format.text)
    assert leaks("The buffer holds {in_content_len} bytes", Format.markdown)
    assert leaks("<p>sent: True</p>", Format.html)
    assert leaks('{"findings": [{"title": "limit None"}]}', Format.json)
    assert not leaks('{"first_divergence": null, "same": true}', Format.json)
    assert not leaks("E (1) app: result: None", Format.text, quoted="E (1) app: result: None\n")
    assert not leaks("22628 bytes, over the 16384-byte buffer", Format.text)
    assert not leaks("SSL - None of the common ciphersuites is usable", Format.text)
    assert leaks("Pass \\`cacert\\_buf\\` to esp-tls", Format.markdown)


@pytest.mark.parametrize("log", LOGS, ids=_id)
def test_diagnose_and_parse_reports(log, tmp_path):
    quoted = _input_text(log)
    analysis = analyse(str(log))  # once: each format is rendered from the same analysis, as the command does
    diagnosed = diagnosed_with(analysis)
    found = []
    for fmt in ALL_FORMATS:
        found += leaks(render_diagnose(diagnosed, fmt, redact=False), fmt, quoted)
    report = _render(tmp_path, lambda fmt, out: commands.parse(str(log), fmt, output=out), Format.text)
    found += [f"parse {leak}" for leak in leaks(report, Format.text, quoted)]
    assert not found, "\n".join(found[:20])


@pytest.mark.parametrize(("good", "bad"), PAIRS, ids=[f"{_id(good)}..{_id(bad)}" for good, bad in PAIRS])
def test_diff_reports(good, bad):
    quoted = _input_text(good, bad)
    comparison = compare(analyse(str(good)), analyse(str(bad)))
    findings = diagnose(comparison.bad, comparison) if comparison.same_connection else []
    found = []
    for fmt in ALL_FORMATS:
        found += leaks(render_diff(comparison, findings, fmt), fmt, quoted)
    assert not found, "\n".join(found[:20])


@pytest.mark.parametrize(
    "scope", [{}, {"mbedtls_version": "2.28"}, {"mbedtls_version": "3.6"}, {"esp_idf_version": "4.0"}]
)
def test_explain_reports_of_every_known_code(scope, tmp_path):
    knowledge = load()
    forms = ["-0x4290", "-7280", "29312", "0x8010", "-0x7"]  # composite, bare hex, decimal, esp_err_t, transport
    codes = [*sorted({entry.name for entry in knowledge.mbedtls.entries}), *forms]
    found = []
    for fmt in ALL_FORMATS:
        report = _render(tmp_path, lambda fmt, out: commands.explain(codes, fmt, output=out, **scope), fmt)
        found += leaks(report, fmt)
    assert not found, "\n".join(found[:20])


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_config_lint_and_recommend_reports(config, tmp_path):
    quoted = _input_text(config)
    found = []
    for fmt in ALL_FORMATS:
        lint = _render(tmp_path, lambda fmt, out: commands.config_lint(str(config), fmt, output=out), fmt)
        found += [f"lint {leak}" for leak in leaks(lint, fmt, quoted)]
        advice = _render(
            tmp_path, lambda fmt, out: commands.config_recommend(None, str(config), None, None, fmt, output=out), fmt
        )
        found += [f"recommend {leak}" for leak in leaks(advice, fmt, quoted)]
    assert not found, "\n".join(found[:20])


@pytest.mark.parametrize("log", fixture_files(FIXTURES / "logs", "*.log") + fixture_files(CORPUS, "*/bad.log"), ids=_id)
def test_config_recommend_reports_for_a_failing_log(log, tmp_path):
    quoted = _input_text(log)
    found = []
    for fmt in ALL_FORMATS:
        report = _render(
            tmp_path, lambda fmt, out: commands.config_recommend(str(log), None, None, None, fmt, output=out), fmt
        )
        found += leaks(report, fmt, quoted)
    assert not found, "\n".join(found[:20])
