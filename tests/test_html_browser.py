"""A real headless Chromium opens html reports made from hostile logs: nothing runs, nothing is fetched.

The logs carry ``<script>``, ``<img onerror>``, ``javascript:`` and every kind of markup that makes a
browser load something from a local HTTP server this test runs; the server must see no request, the
page must have set no marker, hold no element a payload would have created, and the browser's own
network log must show the report file as the only request.

Needs Debian's ``chromium`` and ``chromium-driver`` (CI installs them) and ``selenium``. Without them
the test is skipped, unless ``TLSDIAG_REQUIRE_BROWSER=1`` (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_html_safety import PAYLOADS, fetching_payloads, hostile_logs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _missing() -> str | None:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


_REASON = _missing()
if _REASON and os.environ.get("TLSDIAG_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"TLSDIAG_REQUIRE_BROWSER=1 but {_REASON}")
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 -- shared with the test through the class

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"window.__pwned = 'fetched';")

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # the browser and driver are given: never look for others
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _reports(url: str, directory: Path) -> list[Path]:
    """html reports of hostile logs: diagnose of each, and a diff of the first two."""
    logs = []
    for index, text in enumerate(hostile_logs(url)):
        log = directory / f"<img src=x{index} onerror=\"window.__pwned='name'\">.log"  # names reach the title
        log.write_text(text)
        logs.append(log)
    reports = []
    for index, log in enumerate(logs):
        report = directory / f"diagnose-{index}.html"
        result = run_cli("diagnose", str(log), "-f", "html", "--no-redact", "-o", str(report))
        assert result.returncode == 1, result.stderr
        reports.append(report)
    report = directory / "diff.html"
    assert run_cli("diff", str(logs[0]), str(logs[1]), "-f", "html", "--no-redact", "-o", str(report)).returncode < 2
    reports.append(report)
    every_page = "".join(path.read_text() for path in reports)
    assert every_page.count("&lt;") >= len(PAYLOADS + fetching_payloads(url))  # the payloads are in the pages
    return reports


_PROBE = """
const found = {
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  title: document.title,
  elements: document.querySelectorAll(
    'script, img, iframe, object, embed, video, audio, svg, link, base, form, button, a, input'
  ).length,
  handlers: [...document.querySelectorAll('*')].filter(
    element => [...element.attributes].some(attribute => attribute.name.startsWith('on'))
  ).length,
  styled: [...document.querySelectorAll('[style]')].length,
  refresh: document.querySelectorAll('meta[http-equiv="refresh" i]').length,
  text: document.body.innerText,
  resources: performance.getEntriesByType('resource').map(entry => entry.name),
};
return found;
"""


def _requests(driver: object) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_hostile_reports_run_nothing_and_fetch_nothing(browser, server, tmp_path):
    url, hits = server
    for report in _reports(url, tmp_path):
        hits.clear()
        browser.get_log("performance")  # drop what earlier pages logged
        page_url = report.as_uri()
        browser.get(page_url)
        time.sleep(0.5)  # time for anything a payload scheduled
        found = browser.execute_script(_PROBE)
        assert found["pwned"] is None, (report.name, found["pwned"])
        assert found["elements"] == 0, report.name
        assert found["handlers"] == 0, report.name
        assert found["styled"] == 0 and found["refresh"] == 0, report.name
        assert found["resources"] == [], (report.name, found["resources"])
        assert "<img src=" in found["text"] or "<script" in found["text"], report.name  # shown as text
        assert browser.current_url == page_url  # no refresh, no navigation
        requests = [request for request in _requests(browser) if request != page_url]
        assert requests == [], (report.name, requests)
        assert hits == [], (report.name, hits)


def test_the_policy_itself_blocks_what_escaping_would_let_through(browser, server, tmp_path):
    """Belt and braces: markup placed in a report on purpose is still blocked by its policy."""
    url, hits = server
    result = run_cli("explain", "-0x7500", "-f", "html")
    page = result.stdout.replace(
        "<body>",
        f"<body><script>window.__pwned='inline'</script><img src=\"{url}/img\">"
        f'<img src=x onerror="window.__pwned=\'onerror\'"><link rel=stylesheet href="{url}/css">'
        f'<iframe src="{url}/frame"></iframe>',
        1,
    )
    report = tmp_path / "tampered.html"
    report.write_text(page)
    hits.clear()
    browser.get(report.as_uri())
    time.sleep(0.5)
    assert browser.execute_script("return window.__pwned === undefined ? null : window.__pwned") is None
    assert hits == []
