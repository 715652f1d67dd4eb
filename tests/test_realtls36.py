"""End to end against a real mbedTLS 3.6 with TLS 1.3: fresh logs from real handshakes, diagnosed and compared.

mbedTLS 3.6 is built from the source ``TLSDIAG_MBEDTLS_SRC`` names (a release tarball or a checkout)
in the configurations of ``tests/harness/scenarios36.py`` and cached outside the repository
(``tests/harness/source_build.py``). For every scenario and for debug levels 1 and 4 the suite runs
the client against a server that makes it fail and against one that works, checks that the library
printed what the scenario records, then what tlsdiag says: the printed code decoded, the right
category first, and ``tlsdiag diff good bad`` naming the step where the runs part. A few scenarios
also go through ``tlsdiag capture`` in ESP-IDF v5 framing.

Without ``TLSDIAG_MBEDTLS_SRC`` the tests skip and name it; CI sets it and
``TLSDIAG_REQUIRE_MBEDTLS_SRC=1``, which turns any reason to skip into a failure.

:data:`KNOWN_GAPS` is the one table of what tlsdiag gets wrong today, each stated precisely. Its
entries mark exactly those cases ``xfail(strict=True)``, here and in ``tests/test_realtls36_fixtures.py``
(the same runs, saved): a fix turns the case red until its entry is removed.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import run_cli
from tests.harness import pki, scenarios36, source_build
from tests.harness.scenarios36 import BY_NAME, CONFIGURATIONS, SCENARIOS, Capture, Scenario

pytestmark = pytest.mark.realtls

LEVELS = (1, 4)

# --- what tlsdiag gets wrong today ------------------------------------------------------------------------

LEVEL1_NO_STEPS = (
    "level 1 of mbedTLS 3.6 prints no handshake step names, and diff names no step (first_divergence.step is "
    "null); the runs could still be placed by the lines level 1 does print ('Switch to handshake keys for "
    "inbound traffic' = ServerHello processed, the function that failed)"
)
TLS13_CERTIFICATE_STEP = (
    "diff names CertificateRequest, the TLS 1.3 client state that reads the server's optional "
    "CertificateRequest before its Certificate, instead of the Certificate in which x509_verify_cert failed"
)

# (check, scenario, debug level) -> the precise gap. check: "category" (top finding of diagnose), "step"
# (diff's first divergence), "decode" (the printed code among the decoded errors).
KNOWN_GAPS: dict[tuple[str, str, int], str] = {
    **{("step", scenario.name, 1): LEVEL1_NO_STEPS for scenario in SCENARIOS},
    ("step", "unknown-ca", 4): TLS13_CERTIFICATE_STEP,
    ("step", "hostname-mismatch", 4): TLS13_CERTIFICATE_STEP,
    ("step", "expired", 4): TLS13_CERTIFICATE_STEP,
    ("step", "heap-too-small", 4): (
        "the failure is inside the ClientHello writer (psa_export_public_key -0x7f00 before 'ClientHello out'); "
        "diff places no step instead of ClientHello"
    ),
    ("step", "resumption-no-tickets", 4): (
        "the runs part when the working run receives NewSessionTicket after its Finished; diff names no step "
        "(it aligns the working run's ticket with the failing run's second ClientHello)"
    ),
    ("category", "no-common-group", 1): (
        "at level 1 only alert handshake_failure (40) after the ClientHello is shown: a group missing from the "
        "offer cannot be told from a suite mismatch, and tlsdiag ranks no-shared-suite (ciphersuite-mismatch) first"
    ),
    ("category", "sig-alg-not-offered", 1): (
        "at level 1 only alert handshake_failure (40) after the ClientHello is shown: a signature algorithm missing "
        "from the offer cannot be told from a suite mismatch; tlsdiag ranks no-shared-suite (ciphersuite-mismatch)"
    ),
    ("category", "no-psa-crypto-init", 1): (
        "a missing psa_crypto_init() with MBEDTLS_USE_PSA_CRYPTO surfaces as -0x2700 with BADCERT_NOT_TRUSTED; "
        "tlsdiag says certificate-trust and never mentions psa_crypto_init as the other cause of that pair"
    ),
    ("category", "no-psa-crypto-init", 4): (
        "a missing psa_crypto_init() with MBEDTLS_USE_PSA_CRYPTO surfaces as -0x2700 with BADCERT_NOT_TRUSTED; "
        "tlsdiag says certificate-trust and never mentions psa_crypto_init as the other cause of that pair"
    ),
    ("category", "psk-identity-unknown", 1): (
        "alert handshake_failure (40) in reply to a PSK-only ClientHello is read as a ciphersuite mismatch "
        "(TLS-SUITE-001) instead of a PSK identity the server does not know"
    ),
    ("category", "resumption-no-tickets", 1): (
        "no finding: a TLS 1.3 session saved without a ticket (no NewSessionTicket, 0-byte ticket) and a "
        "reconnection that is a full handshake are not reported"
    ),
    ("category", "resumption-no-tickets", 4): (
        "no finding: no NewSessionTicket after the handshake, a saved session without a ticket and a second "
        "ClientHello without pre_shared_key are not reported"
    ),
}


def known_gap(check: str, name: str, level: int) -> list[pytest.MarkDecorator]:
    reason = KNOWN_GAPS.get((check, name, level))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def cases(check: str, scenarios: tuple[Scenario, ...] = SCENARIOS) -> list:
    return [
        pytest.param(
            scenario.name, level, id=f"{scenario.name}-level{level}", marks=known_gap(check, scenario.name, level)
        )
        for scenario in scenarios
        for level in LEVELS
    ]


# --- the build and the runs -------------------------------------------------------------------------------


class Mbedtls36(NamedTuple):
    tools: scenarios36.Tools
    directory: Path
    captures: dict[tuple[str, str, int, str], Capture]


@pytest.fixture(scope="session")
def mbedtls36(tmp_path_factory: pytest.TempPathFactory) -> Mbedtls36:
    reason = source_build.unavailable_reason()
    openssl = shutil.which("openssl")
    if reason is None and openssl is None:
        reason = "no openssl command on PATH (the servers are openssl s_server)"
    if reason is not None:
        _unavailable(reason)
    clients = _Clients()
    directory = tmp_path_factory.mktemp("realtls36")
    tools = scenarios36.Tools(clients, pki.generate(directory / "certs"), openssl or "openssl")
    return Mbedtls36(tools, directory, {})


class _Clients(dict):
    """Configuration name -> client, each configuration built (or taken from the cache) when first asked for."""

    def __missing__(self, name: str) -> Path:
        built = source_build.build(CONFIGURATIONS[name])
        if built.client is None:
            _unavailable(f"cannot build mbedTLS configuration {name}: {built.reason}")
        self[name] = built.client
        return built.client


def _unavailable(reason: str) -> None:
    if os.environ.get(source_build.REQUIRE_ENV) == "1":
        pytest.fail(f"mbedTLS 3.6 tests required ({source_build.REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"mbedTLS 3.6 tests unavailable: {reason}")


def capture(mbedtls36: Mbedtls36, scenario: Scenario, which: str, level: int, framing: str = "plain") -> Capture:
    """The log of one run, made once per test session."""
    key = (scenario.name, which, level, framing)
    if key not in mbedtls36.captures:
        log = mbedtls36.directory / f"{scenario.name}.{framing}.{which}.level{level}.log"
        options = {"debug_level": str(level), "framing": framing}
        mbedtls36.captures[key] = scenarios36.run(getattr(scenario, which), mbedtls36.tools, log, options)
    return mbedtls36.captures[key]


def _explain(scenario: Scenario, run: Capture) -> str:
    tail = run.text.splitlines()[-25:]
    return "\n".join(
        [f"{scenario.name}: {scenario.differs}", "--- client (tail) ---", *tail, "--- server ---", *run.server]
    )


def _runs(mbedtls36: Mbedtls36, scenario: Scenario, level: int) -> tuple[Capture, Capture]:
    """Both runs happened as the scenario records: the working one worked, the failing one failed as recorded."""
    good = capture(mbedtls36, scenario, "good", level)
    bad = capture(mbedtls36, scenario, "bad", level)
    assert good.exit_code == 0 and good.call is None, _explain(scenario, good)
    assert bad.exit_code == (1 if scenario.call else 0), _explain(scenario, bad)
    assert (bad.call, bad.returned) == (scenario.call, scenario.code), _explain(scenario, bad)
    return good, bad


@functools.lru_cache(maxsize=256)
def diagnose(log: Path) -> tuple[int, dict]:
    """``tlsdiag diagnose --format json`` of a log, once per log and test session (callers only read it)."""
    result = run_cli("diagnose", str(log), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def diff(good: Path, bad: Path) -> dict:
    result = run_cli("diff", str(good), str(bad), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def decoded_names(document: dict, code: str) -> set[str]:
    return {
        part["name"]
        for error in document["errors"]
        if error["raw"].lower() == code
        for interpretation in error["interpretations"]
        for part in interpretation["parts"]
    }


def top_category(document: dict) -> str | None:
    findings = document["findings"]
    return findings[0]["category"] if findings else None


def first_step(document: dict) -> str | None:
    step = (document.get("first_divergence") or {}).get("step")
    return step.split()[0] if step else None


# --- the checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "level"), cases("run"))
def test_the_library_prints_what_the_scenario_records(mbedtls36, name, level):
    scenario = BY_NAME[name]
    _, bad = _runs(mbedtls36, scenario, level)
    deepest = "|4|" in bad.text or "|3|" in bad.text or "|2|" in bad.text
    assert deepest == (level == 4), _explain(scenario, bad)  # level 1 prints level-1 lines only


@pytest.mark.parametrize(("name", "level"), cases("decode", tuple(s for s in SCENARIOS if s.code)))
def test_the_printed_code_is_decoded_for_3_6(mbedtls36, name, level):
    scenario = BY_NAME[name]
    _, bad = _runs(mbedtls36, scenario, level)
    exit_code, document = diagnose(bad.log)
    assert exit_code == 1
    assert "3.6" in (document["context"]["mbedtls_series"] or []), document["context"]
    assert scenario.code_name in decoded_names(document, scenario.code or ""), document["errors"]


@pytest.mark.parametrize(("name", "level"), cases("category"))
def test_the_top_finding_has_the_right_category(mbedtls36, name, level):
    scenario = BY_NAME[name]
    _, bad = _runs(mbedtls36, scenario, level)
    _, document = diagnose(bad.log)
    assert top_category(document) == scenario.category, [(f["rule"], f["category"]) for f in document["findings"]]


@pytest.mark.parametrize(("name", "level"), cases("step"))
def test_diff_names_the_step_where_the_runs_part(mbedtls36, name, level):
    scenario = BY_NAME[name]
    good, bad = _runs(mbedtls36, scenario, level)
    document = diff(good.log, bad.log)
    assert first_step(document) == scenario.step, document["first_divergence"]


# --- ESP-IDF v5 framing through tlsdiag capture ------------------------------------------------------------

CAPTURED = ("unknown-ca", "client-cert-required", "small-in-buffer", "heap-too-small")


@pytest.mark.parametrize("name", CAPTURED)
def test_capture_diagnoses_an_esp_idf_v5_device(mbedtls36, name):
    scenario = BY_NAME[name]
    options = {"framing": "esp-idf", "debug_level": "1", "log_colors": "1"}
    with scenarios36.server(scenario.bad, mbedtls36.tools) as running:
        command = scenarios36.client_command(scenario.bad, mbedtls36.tools, running.port, options)
        result = run_cli("capture", "--format", "json", "--settle", "0.3", "--", *command)
    assert result.returncode == 1, result.stderr
    call = "read error :" if scenario.call == scenarios36.READ else f"{scenario.call} returned "
    assert f"esp-tls-mbedtls: {call}{(scenario.code or '').upper().replace('X', 'x')}" in result.stdout
    report = json.loads(result.stderr.splitlines()[-1])
    assert report["context"]["stack"] == "esp-idf"
    assert report["findings"][0]["category"] == scenario.category, report["findings"]
