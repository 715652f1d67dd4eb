"""HTML reports are inert: every log string is escaped, a strict Content-Security-Policy, no script.

Two layers: a static check of every html template and of reports made from hostile logs (only the
tags and attributes the templates write may appear), and a real headless Chromium that opens such
reports and must run nothing and fetch nothing (tests/test_html_browser.py).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, diagnosed_with, run_cli

TEMPLATES = ROOT / "tlsdiag" / "report" / "templates"
HTML_TEMPLATES = sorted(TEMPLATES.glob("*.html.j2"))
REQUIRED_CSP = ("default-src 'none'", "script-src 'none'", "img-src 'none'", "form-action 'none'", "base-uri 'none'")

#: what the templates themselves write; anything else in a report came from a log and was not escaped
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "section", "pre", "ul", "ol",
    "li", "strong", "code", "em", "table", "tr", "td", "th",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "class"}

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<a href=\"javascript:window.__pwned='link'\">open</a>",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    '"><script>window.__pwned="attribute"</script>',
    "</pre></section><iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>",
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=\'meta\'">',
    "<style>@import url(//127.0.0.1:9/style);</style>",
    "<base href=\"javascript:window.__pwned='base'//\">",
    "{{ 7*7 }} {% raw %}",
]


#: real logs; the payloads are appended to the lines their reports cite
CARRIERS = sorted(path.name for path in (FIXTURES / "logs").glob("*.log"))


def fetching_payloads(url: str) -> list[str]:
    """Markup that would make a browser fetch ``url`` if it were not escaped (or if the policy allowed it)."""
    return [
        f'<img src="{url}/img">',
        f'<link rel="stylesheet" href="{url}/css">',
        f'<script src="{url}/script"></script>',
        f'<iframe src="{url}/frame"></iframe>',
        f"<p style=\"background:url('{url}/background')\">x</p>",
        f'<object data="{url}/object"></object>',
        f'<video poster="{url}/poster"></video>',
        f'<meta http-equiv="refresh" content="0;url={url}/refresh">',
    ]


def hostile_logs(url: str = "http://127.0.0.1:9") -> list[str]:
    """Real failing logs with a payload appended to every line their reports cite, until all are placed."""
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.rules import diagnose

    def cited(text: str) -> set[int]:
        analysis = analyse(None, stdin=io.BytesIO(text.encode()))
        return {line for finding in diagnose(analysis) for line, _ in finding.evidence}

    queue = PAYLOADS + fetching_payloads(url)
    logs = []
    for name in CARRIERS:
        original = (FIXTURES / "logs" / name).read_text().splitlines()
        lines = list(original)
        placed = {number: queue.pop(0) for number in sorted(cited("\n".join(lines))) if queue}
        for number, payload in placed.items():
            lines[number - 1] += " " + payload
        still = cited("\n".join(lines))
        for number, payload in placed.items():
            if number not in still:  # the payload changed how the line reads: try it elsewhere
                lines[number - 1] = original[number - 1]
                queue.append(payload)
        logs.append("\n".join(lines) + "\n")
        if not queue:
            return logs
    raise AssertionError(f"{len(queue)} payloads found no cited line")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def assert_inert(html: str) -> None:
    page = parse_html(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, (tag, attrs)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (tag, name, value)
            assert "javascript:" not in (value or ""), (tag, name, value)
    metas = [dict(attrs) for tag, attrs in page.tags if tag == "meta"]
    csp = [meta.get("content", "") for meta in metas if meta.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1, metas
    for directive in REQUIRED_CSP:
        assert directive in csp[0], csp[0]
    refresh = [meta for meta in metas if (meta.get("http-equiv") or "").lower() == "refresh"]
    assert not refresh


@pytest.mark.parametrize("template", HTML_TEMPLATES, ids=[path.name for path in HTML_TEMPLATES])
def test_every_html_template_has_a_strict_policy_and_no_script(template: Path):
    text = template.read_text()
    assert "<script" not in text.lower()
    assert re.search(r"\bon[a-z]+\s*=", text) is None  # no event handler attributes
    assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text and "Markup" not in text
    assert 'http-equiv="Content-Security-Policy"' in text
    for directive in REQUIRED_CSP:
        assert directive in text, (template.name, directive)


def test_autoescape_is_on_for_every_html_template_and_only_there():
    from tlsdiag.report import _environment

    environment = _environment(False)
    for template in sorted(TEMPLATES.glob("*.j2")):
        assert environment.is_async is False
        assert bool(environment.autoescape(template.name)) is template.name.endswith(".html.j2"), template.name


@pytest.fixture
def hostile(tmp_path: Path) -> list[Path]:
    paths = []
    for index, text in enumerate(hostile_logs()):
        path = tmp_path / f"<img src=x onerror=alert({index})>.log"  # the file name reaches the title too
        path.write_text(text)
        paths.append(path)
    return paths


def _escaped(payload: str) -> str:
    return payload[:20].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def test_diagnose_reports_of_hostile_logs_are_inert(hostile: list[Path]):
    pages = []
    for path in hostile:
        result = run_cli("diagnose", str(path), "-f", "html", "--no-redact")
        assert result.returncode == 1, result.stderr
        assert_inert(result.stdout)
        pages.append(result.stdout)
    every_page = "".join(pages)
    for payload in PAYLOADS + fetching_payloads("http://127.0.0.1:9"):
        assert _escaped(payload).replace("&#34;", "&#34;") in every_page.replace("&#39;", "'"), payload
    text = "".join(parse_html(every_page).text)
    assert "<script>window.__pwned = 'script'</script>" in text


def test_a_diff_report_of_hostile_logs_is_inert(hostile: list[Path]):
    result = run_cli("diff", str(hostile[0]), str(hostile[1]), "-f", "html", "--no-redact")
    assert result.returncode in (0, 1), result.stderr
    assert "&lt;img src=x onerror=alert(0)&gt;" in result.stdout
    assert_inert(result.stdout)


def test_an_explain_report_is_inert():
    result = run_cli("explain", "-0x7500", "-0x4290", "-f", "html")
    assert result.returncode == 0, result.stderr
    assert_inert(result.stdout)


def test_reporters_escape_every_field_a_finding_has(hostile: list[Path]):
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.model import Finding, Fix
    from tlsdiag.report import Format
    from tlsdiag.report.diagnose import render_diagnose

    payload = PAYLOADS[1]
    finding = Finding(
        rule=payload,
        name=payload,
        title=payload,
        category=payload,
        severity="failure",
        confidence=0.5,
        evidence=((1, payload), (2, PAYLOADS[0])),
        explanation=payload,
        fixes=(Fix(payload, payload, payload, payload, payload),),
        references=(payload,),
    )
    html = render_diagnose(diagnosed_with(analyse(str(hostile[0])), [finding]), Format.html, redact=False)
    assert_inert(html)
    assert html.count("&lt;img src=x onerror=") >= 6
