"""End to end against a real mbedTLS: fresh logs from real handshakes, diagnosed and compared.

For every scenario of ``tests/harness/scenarios.py`` the suite runs the client it compiled against
the system mbedTLS twice, once against a server that makes it fail and once against one that
works, then checks what ``tlsdiag diagnose`` says about the failing log (the right category first,
the right code decoded) and what ``tlsdiag diff good bad`` says about the pair (the divergence at
the right step). The logs come in two framings: mbedTLS's example programs' debug lines, and the
same lines as ESP-IDF logs them. A lower debug level shows what tlsdiag can still say when a
device logs less.

Needs a C compiler, mbedTLS's headers and libraries (Debian: libmbedtls-dev), openssl and, for the
clock scenario, faketime; without them the tests skip and say why, unless TLSDIAG_REQUIRE_REALTLS=1
(as in CI) turns the reason into a failure.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import run_cli
from tests.harness import build, pki, scenarios, servers
from tests.harness.scenarios import SCENARIOS, Capture, Scenario

pytestmark = pytest.mark.realtls
#: the Debian packages these tests need, as .ci/run installs them
SYSTEM_PACKAGES = "gcc libc6-dev libmbedtls-dev openssl faketime"


class Variant(NamedTuple):
    name: str
    options: dict[str, str]


PLAIN = Variant("plain", {"framing": "plain", "debug_level": "4"})
ESP_IDF = Variant("esp-idf", {"framing": "esp-idf", "debug_level": "4", "log_colors": "1"})
LEVEL_3 = Variant("level3", {"framing": "plain", "debug_level": "3"})
VARIANTS = {variant.name: variant for variant in (PLAIN, ESP_IDF, LEVEL_3)}
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}

# What tlsdiag gets wrong today, stated as the expectation it misses. Strict: a fix turns the test red
# until the entry is removed.
KNOWN_DIFF_STEP: dict[str, str] = {}
KNOWN_LEVEL_3: dict[str, str] = {}


class RealTls(NamedTuple):
    toolchain: build.Toolchain
    tools: scenarios.Tools
    directory: Path
    captures: dict[tuple[str, str, str], Capture]


@pytest.fixture(scope="session")
def realtls(tmp_path_factory: pytest.TempPathFactory) -> RealTls:
    directory = tmp_path_factory.mktemp("realtls")
    toolchain = build.build(directory)
    if toolchain.client is None:
        _unavailable(toolchain.reason)
    tools = scenarios.Tools(
        toolchain.client,  # type: ignore[arg-type]
        pki.generate(directory / "certs"),
        toolchain.openssl,  # type: ignore[arg-type]
        toolchain.faketime,
    )
    return RealTls(toolchain, tools, directory, {})


def _unavailable(reason: str) -> None:
    if os.environ.get(build.REQUIRE_ENV) == "1":
        pytest.fail(f"real mbedTLS tests required ({build.REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"real mbedTLS tests unavailable: {reason} (apt-get install {SYSTEM_PACKAGES})")


def capture(realtls: RealTls, scenario: Scenario, which: str, variant: Variant) -> Capture:
    """The log of one run, made once per test session."""
    key = (scenario.name, which, variant.name)
    if key not in realtls.captures:
        side = getattr(scenario, which)
        if side.faketime and realtls.toolchain.faketime is None:
            _unavailable("faketime is not installed (needed to set the client's clock back)")
        log = realtls.directory / f"{scenario.name}.{variant.name}.{which}.log"
        realtls.captures[key] = scenarios.run(side, realtls.tools, log, variant.options)
    return realtls.captures[key]


def _json(*args: str) -> tuple[int, dict]:
    result = run_cli(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def _explain(scenario: Scenario, capture_: Capture) -> str:
    tail = capture_.text.splitlines()[-25:]
    return "\n".join(
        [f"{scenario.name}: {scenario.differs}", "--- client (tail) ---", *tail, "--- server ---", *capture_.server]
    )


def _check_runs(realtls: RealTls, scenario: Scenario, variant: Variant) -> tuple[Capture, Capture]:
    """Both runs happened as the scenario says: the working one worked, the failing one failed with its code."""
    good = capture(realtls, scenario, "good", variant)
    bad = capture(realtls, scenario, "bad", variant)
    assert good.exit_code == 0, _explain(scenario, good)
    if scenario.handshake_fails:
        assert bad.exit_code == 1, _explain(scenario, bad)
        assert bad.returned == scenario.code, _explain(scenario, bad)
    else:
        assert bad.exit_code == 0 and bad.returned is None, _explain(scenario, bad)
        assert f"({scenario.code})" in bad.text, _explain(scenario, bad)
    return good, bad


DIAGNOSE_CASES = [(variant, name) for variant in ("plain", "esp-idf", "level3") for name in BY_NAME]
DIFF_CASES = [(variant, name) for variant in ("plain", "esp-idf") for name in BY_NAME]


@pytest.mark.parametrize(("variant", "name"), DIAGNOSE_CASES, ids=[f"{v}-{n}" for v, n in DIAGNOSE_CASES])
def test_diagnose_ranks_the_right_category_first_and_decodes_the_code(realtls, request, variant, name):
    scenario, settings = BY_NAME[name], VARIANTS[variant]
    if variant == "level3" and name in KNOWN_LEVEL_3:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_LEVEL_3[name], strict=True))
    _, bad = _check_runs(realtls, scenario, settings)
    exit_code, document = _json("diagnose", str(bad.log))

    assert exit_code == (1 if scenario.handshake_fails else 0)
    assert document["context"]["stack"] == ("esp-idf" if settings.options["framing"] == "esp-idf" else "linux-app")
    assert "2.28" in (document["context"]["mbedtls_series"] or [])
    decoded = {
        part["name"]
        for error in document["errors"]
        if error["raw"].lower() == scenario.code
        for interpretation in error["interpretations"]
        for part in interpretation["parts"]
    }
    assert scenario.code_name in decoded, document["errors"]
    findings = [(finding["rule"], finding["category"]) for finding in document["findings"]]
    assert findings and findings[0][1] == scenario.category, findings
    if scenario.rule and variant != "level3":
        assert scenario.rule in {rule for rule, _ in findings}, findings


@pytest.mark.parametrize(("variant", "name"), DIFF_CASES, ids=[f"{v}-{n}" for v, n in DIFF_CASES])
def test_diff_finds_where_the_runs_part(realtls, variant, name):
    scenario = BY_NAME[name]
    good, bad = _check_runs(realtls, scenario, VARIANTS[variant])
    exit_code, document = _json("diff", str(good.log), str(bad.log))

    assert exit_code == (1 if scenario.handshake_fails else 0)
    first = document["first_divergence"]
    assert first is not None and first["step"] is not None, first
    description = first["description"]
    if scenario.good_next:
        assert f"working run did {scenario.good_next}" in description or (
            f"went on to {scenario.good_next}" in description
        ), first
    else:
        assert "which the working run never did" in description, first
    if scenario.bad_next:
        assert "failing run did" in description and scenario.bad_next in description.split("failing run did", 1)[1]
    else:
        assert "the failing run did not" in description, first
    final = max(int(line) for line in _lines_of(bad.text, scenario.code))
    assert first["bad_line"] is None or first["bad_line"] <= final, (first, final)
    findings = [(finding["rule"], finding["category"]) for finding in document["findings"]]
    assert findings and findings[0][1] == scenario.category, findings


@pytest.mark.parametrize(("variant", "name"), DIFF_CASES, ids=[f"{v}-{n}" for v, n in DIFF_CASES])
def test_diff_names_the_last_shared_handshake_step(realtls, request, variant, name):
    scenario = BY_NAME[name]
    if name in KNOWN_DIFF_STEP:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_DIFF_STEP[name], strict=True))
    good, bad = _check_runs(realtls, scenario, VARIANTS[variant])
    _, document = _json("diff", str(good.log), str(bad.log))
    step = document["first_divergence"]["step"]
    assert step and step.split()[0] == scenario.step, step


def _lines_of(text: str, code: str) -> list[int]:
    """1-based numbers of the lines that print ``code``."""
    return [number for number, line in enumerate(text.splitlines(), 1) if code in line.lower()]


# --- the harness itself ---------------------------------------------------------------------------------------


def test_client_prints_debug_lines_as_the_example_programs_do(realtls):
    good = capture(realtls, BY_NAME["unknown-ca"], "good", PLAIN)
    records = [(line, DEBUG_RECORD.search(line)) for line in good.text.splitlines() if ": |" in line]
    assert records
    for line, record in records:
        assert record is not None, line
        # a console step left open ("  . Performing the SSL/TLS handshake...") is continued by the first debug line
        assert record.start() == 0 or line.startswith(("  . ", "  < ", "  > ")), line
    assert "  . Performing the SSL/TLS handshake..." in good.text and "  . Closing the connection..." in good.text


# ``ssl_tls.c:0994: |2| 0x7ffd...: text``: basename, line padded to 4 digits, level, the ssl context pointer
DEBUG_RECORD = re.compile(r"[a-z_0-9]+\.c:\d{4,}: \|[1-4]\| 0x[0-9a-f]+: ")


def test_esp_idf_framing_matches_esp_log(realtls):
    bad = capture(realtls, BY_NAME["unknown-ca"], "bad", ESP_IDF)
    lines = bad.text.splitlines()
    debug = [line for line in lines if " mbedtls: " in line]
    assert debug and all(line.lstrip("\x1b[0123456789;m")[:1] in "WIDV" for line in debug)
    assert not any("0x7f" in line.split(" mbedtls: ", 1)[1][:20] for line in debug)  # no context pointer
    assert any(line.endswith("esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\x1b[0m") for line in lines)
    index = next(number for number, line in enumerate(lines) if " mbedtls: " in line)
    # ESP_LOG's newline after the one the library ends with: an empty line, or only the colour reset
    assert lines[index + 1] in ("", "\x1b[0m")


def test_servers_are_bound_to_loopback_and_stopped(realtls):
    with servers.listener("stall", lifetime=5) as running:
        assert running.transcript[0].endswith(f"{servers.HOST}:{running.port}")
    certificates = realtls.tools.pki
    arguments = ["-www", "-cert", str(certificates.server), "-key", str(certificates.server_key)]
    with servers.openssl_server(realtls.tools.openssl, arguments) as running:
        assert f"-accept {servers.HOST}:{running.port}" in running.transcript[0]
    with socket.socket() as probe, pytest.raises(OSError):  # stopped: nothing listens any more
        probe.settimeout(2)
        probe.connect((servers.HOST, running.port))


def test_capture_diagnoses_the_client_while_it_runs(realtls):
    scenario = BY_NAME["unknown-ca"]
    with scenarios.server(scenario.bad, realtls.tools) as running:
        command = scenarios.client_command(scenario.bad, realtls.tools, running.port, ESP_IDF.options)
        result = run_cli("capture", "--format", "json", "--settle", "0.3", "--", *command)
    assert result.returncode == 1, result.stderr
    assert "esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700" in result.stdout
    report = json.loads(result.stderr)
    assert report["findings"][0]["rule"] == "TLS-TRUST-001"
    assert report["context"]["stack"] == "esp-idf"
