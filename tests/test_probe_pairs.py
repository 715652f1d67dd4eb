"""Device x server pairs: each server on loopback has one property a device trips over; for each, a device
that must fail for that one known reason and one that must connect.

Three layers, each against the same table:
- the saved scan of the server (tests/fixtures/probe/scans, sslyze's JSON with our handshakes) gives the
  expected verdict, blocker, error and step offline;
- a live scan of the server started on 127.0.0.1 gives the same (needs openssl and sslyze);
- the harness's real client, built with the device's own configuration, connects to the same server and
  must connect, or fail with the error the verdict predicted while reading the message it predicted. The
  device that is Debian's config.h is the system's mbedTLS 2.28; every other device is mbedTLS 3.6 built
  from ``TLSDIAG_MBEDTLS_SRC`` with the very configuration file the probe read, or with a preset's options
  (tests/harness/device_build.py). Without the source those pairs skip naming the variable; CI sets
  ``TLSDIAG_REQUIRE_MBEDTLS_SRC=1``, which turns the skip into a failure.

The user configurations are written with 2.x option names. Four of them mean the same in 3.6; SHA-384 has
its own option from 3.0 on, so that device has a 3.x form (``user-no-sha384-3x.h``), and the 2.x file built
as 3.6 keeps SHA-384 and connects. :data:`TWO_X_FORMS` reads the files as 2.28, as a device on mbedTLS 2.28
would have them: no 2.28 source is built here, so those verdicts are checked against the scans only.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.harness import build, device_build, source_build
from tests.harness.scenarios36 import CONFIGURATIONS, failed_call
from tests.probe_servers import PKI, SCANS, SERVER_NAME, SERVERS, running
from tlsdiag.knowledge import document
from tlsdiag.probe.device import Device, from_config, from_preset
from tlsdiag.probe.match import Verdict, match
from tlsdiag.probe.reports import read_report
from tlsdiag.probe.trust import check, read_roots

DEVICES = Path(__file__).parent / "fixtures" / "probe" / "devices"
SYSTEM = "debian-libmbedtls-2.28.3-config.h"
PRESET = "preset:"


class Pair(NamedTuple):
    device: str  # a file in DEVICES, or preset:NAME
    server: str
    verdict: str
    blocker: str | None  # the failure expected first
    error: str | None  # the error the device is predicted to return
    ca: str = "ca.crt"
    code: str | None = None
    option: str | None = None  # the option the fix must name
    step: str | None = None  # the server's message the device is predicted to be reading when it stops
    mbedtls: str = "2.28"  # the version a configuration file is read with, and built with when it is 3.x

    @property
    def id(self) -> str:
        device = self.device.removesuffix(".h")
        if not (self.device.startswith(PRESET) or self.device == SYSTEM):
            device += f"@{self.mbedtls}"
        trusting = "" if self.ca == "ca.crt" else f"-trusting-{self.ca.removesuffix('.crt')}"
        return f"{device}-x-{self.server}{trusting}-{self.verdict}"


PAIRS = [
    Pair(SYSTEM, "tls13-only", "fails", "PROBE-VERSION-001", "-0x7780", step="ServerHello"),
    Pair("preset:mbedtls-3.6", "tls13-only", "connects", None, None),
    Pair("preset:esp-idf-5.5", "tls13-only", "fails", "PROBE-VERSION-001", "-0x7780",
         option="CONFIG_MBEDTLS_SSL_PROTO_TLS1_3", step="ServerHello"),
    Pair("preset:esp-idf-5.5", "rsa-tls12-13", "connects", None, None),
    Pair("preset:esp-idf-5.5", "expired", "connects", None, None),  # no MBEDTLS_HAVE_TIME_DATE: dates unchecked
    Pair("user-no-rsa-key-exchange.h", "rsa-kx-only", "fails", "PROBE-SUITE-001", "-0x7780",
         option="MBEDTLS_KEY_EXCHANGE_RSA_ENABLED", step="ServerHello", mbedtls="3.6"),
    Pair(SYSTEM, "rsa-kx-only", "connects", None, None),
    Pair("user-p256-only.h", "p384-only", "fails", "PROBE-GROUP-001", "-0x7780",
         option="MBEDTLS_ECP_DP_SECP384R1_ENABLED", step="ServerHello", mbedtls="3.6"),
    Pair(SYSTEM, "p384-only", "connects", None, None),
    Pair("user-in-4096.h", "big-chain", "fails", "PROBE-BUF-001", "-0x7100", ca="big-root.crt",
         option="MBEDTLS_SSL_IN_CONTENT_LEN", step="Certificate", mbedtls="3.6"),
    Pair(SYSTEM, "big-chain", "connects", None, None, ca="big-root.crt"),
    Pair(SYSTEM, "client-auth", "fails", "PROBE-AUTH-001", "-0x7780", code="client-without-certificate.c",
         step="NewSessionTicket"),
    Pair(SYSTEM, "client-auth", "connects", None, None, code="client-with-certificate.c"),
    Pair("user-no-sni.h", "sni-vhost", "fails", "PROBE-SNI-001", "-0x2700",
         option="MBEDTLS_SSL_SERVER_NAME_INDICATION", step="Certificate", mbedtls="3.6"),
    Pair(SYSTEM, "sni-vhost", "connects", None, None),
    Pair("user-no-sha384-3x.h", "ecdsa-p384-sha384", "fails", "PROBE-TRUST-004", "-0x262E", ca="p384-ca.crt",
         option="MBEDTLS_SHA384_C", mbedtls="3.6"),
    Pair("user-no-sha384-3x.h", "ecdsa-p384-sha384", "fails", "PROBE-SIG-001", "-0x2700",
         ca="rsa-and-p384-roots.crt", option="MBEDTLS_SHA384_C", step="Certificate", mbedtls="3.6"),
    Pair("user-no-sha384.h", "ecdsa-p384-sha384", "connects", None, None, ca="p384-ca.crt", mbedtls="3.6"),
    Pair(SYSTEM, "ecdsa-p384-sha384", "connects", None, None, ca="p384-ca.crt"),
    Pair(SYSTEM, "rsa-tls12-13", "fails", "PROBE-TRUST-001", "-0x2700", ca="rogue-ca.crt", step="Certificate"),
    Pair(SYSTEM, "rsa-tls12-13", "connects", None, None),
    Pair(SYSTEM, "expired", "fails", "PROBE-TIME-001", "-0x2700", step="Certificate"),
]  # fmt: skip

TWO_X_FORMS = [
    Pair("user-no-rsa-key-exchange.h", "rsa-kx-only", "fails", "PROBE-SUITE-001", "-0x7780",
         option="MBEDTLS_KEY_EXCHANGE_RSA_ENABLED", step="ServerHello"),
    Pair("user-p256-only.h", "p384-only", "fails", "PROBE-GROUP-001", "-0x7780",
         option="MBEDTLS_ECP_DP_SECP384R1_ENABLED", step="ServerHello"),
    Pair("user-in-4096.h", "big-chain", "fails", "PROBE-BUF-001", "-0x7200", ca="big-root.crt",
         option="MBEDTLS_SSL_IN_CONTENT_LEN", step="Certificate"),
    Pair("user-no-sni.h", "sni-vhost", "fails", "PROBE-SNI-001", "-0x2700",
         option="MBEDTLS_SSL_SERVER_NAME_INDICATION", step="Certificate"),
    Pair("user-no-sha384.h", "ecdsa-p384-sha384", "fails", "PROBE-TRUST-004", "-0x262E", ca="p384-ca.crt",
         option="MBEDTLS_SHA512_C"),
    Pair("user-no-sha384.h", "ecdsa-p384-sha384", "fails", "PROBE-SIG-001", "-0x2700",
         ca="rsa-and-p384-roots.crt", option="MBEDTLS_SHA512_C", step="Certificate"),
]  # fmt: skip
EVERY_FORM = PAIRS + TWO_X_FORMS


def device_for(pair: Pair) -> Device:
    if pair.device.startswith(PRESET):
        return from_preset(pair.device.removeprefix(PRESET))
    code = [str(DEVICES / pair.code)] if pair.code else []
    return from_config(str(DEVICES / pair.device), mbedtls_version=pair.mbedtls, code_paths=code)


def judge(pair: Pair, profile, device: Device | None = None) -> Verdict:
    roots = read_roots(str(PKI / pair.ca))
    return match(profile, device or device_for(pair), check(profile.certificates, roots), pair.ca)


@functools.cache
def saved_profile(server: str):
    return read_report(str(SCANS / f"{server}.sslyze.json"))


def assert_verdict(pair: Pair, verdict: Verdict) -> None:
    failures = [finding for finding in verdict.findings if finding.severity == "failure"]
    assert verdict.verdict == pair.verdict, [(f.rule, f.title) for f in failures]
    if pair.blocker is None:
        assert not failures
        return
    assert failures[0].rule == pair.blocker, [(f.rule, f.title) for f in failures]
    assert failures[0].error == pair.error
    assert failures[0].step == pair.step
    assert [item for item in failures[0].evidence if item.side == "server"], "evidence from the server's side"
    if pair.option:
        assert pair.option in [fix.option for fix in failures[0].fixes]


def test_at_least_ten_pairs_with_both_outcomes():
    assert len(PAIRS) >= 10
    assert len({pair.id for pair in EVERY_FORM}) == len(EVERY_FORM)
    servers_failing = {pair.server for pair in PAIRS if pair.verdict == "fails"}
    servers_connecting = {pair.server for pair in PAIRS if pair.verdict == "connects"}
    assert len(servers_failing & servers_connecting) >= 8


def test_every_pair_has_a_client_built_with_its_configuration():
    """The system's mbedTLS is Debian's config.h; any 3.x device is built from source; nothing else confirms."""
    for pair in PAIRS:
        assert pair.device == SYSTEM or device_for(pair).series.startswith("3."), pair.id


@pytest.mark.parametrize("pair", EVERY_FORM, ids=[pair.id for pair in EVERY_FORM])
def test_saved_scan_gives_the_expected_verdict(pair):
    profile = saved_profile(pair.server)
    assert profile.source == "sslyze-json"
    assert_verdict(pair, judge(pair, profile))


# --- live: the servers on loopback ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    """The openssl command and the harness's client built against the system's mbedTLS (or why not)."""
    toolchain = build.build(tmp_path_factory.mktemp("probe-client"))
    if toolchain.openssl is None:
        _unavailable("no openssl command (the servers are openssl s_server)")
    return toolchain


def _unavailable(reason: str) -> None:
    if os.environ.get(build.REQUIRE_ENV) == "1":
        pytest.fail(f"loopback probe tests required ({build.REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(reason)


def _source_unavailable(reason: str) -> None:
    if os.environ.get(source_build.REQUIRE_ENV) == "1":
        pytest.fail(f"mbedTLS 3.6 tests required ({source_build.REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"mbedTLS 3.6 tests unavailable: {reason}")


@pytest.mark.realtls
@pytest.mark.parametrize("server", sorted({pair.server for pair in PAIRS}))
def test_live_scan_matches_the_saved_one(tools, server):
    try:
        import sslyze  # noqa: F401
    except ImportError:
        _unavailable("sslyze is not installed (pip install 'tlsdiag[probe]')")
    from tlsdiag.probe.scan import scan

    with running(SERVERS[server], tools.openssl) as port:
        profile, _ = scan("127.0.0.1", port, SERVER_NAME)
    for pair in [pair for pair in EVERY_FORM if pair.server == server]:
        assert_verdict(pair, judge(pair, profile))
    saved = saved_profile(server)
    assert profile.versions == saved.versions
    assert profile.suites == saved.suites
    assert profile.groups == saved.groups
    assert profile.certificate_message_bytes == saved.certificate_message_bytes
    assert profile.client_auth == saved.client_auth
    assert profile.mfl == saved.mfl


# --- the real handshake of a client built with the device's configuration ----------------------------------

STEP_ENTERED = re.compile(r"\|\d\| (?:0x[0-9a-fA-F]+: )?=> (.+?)\s*$")


@functools.cache
def _milestones() -> dict[str, str]:
    """mbedTLS's step markers ("parse certificate") -> the handshake message they handle ("Certificate")."""
    return dict(document("tls/steps.toml")["step"])


def reading_step(output: str) -> str | None:
    """The handshake message the client was in when its handshake stopped: the last step it entered."""
    last = None
    for line in output.splitlines():
        if "! mbedtls_" in line:
            break
        entered = STEP_ENTERED.search(line)
        if entered and entered[1] in _milestones():
            last = _milestones()[entered[1]]
    return last


def handshake(client: Path, pair: Pair, openssl: str) -> subprocess.CompletedProcess[str]:
    """The client against the pair's server, with the device's runtime options, at debug level 2 (steps)."""
    options = {
        "server_name": SERVER_NAME,
        "ca_file": str(PKI / pair.ca),
        "auth_mode": "required",
        "timeout": "20",
        "debug_level": "2",
    }
    if pair.code and "with-certificate" in pair.code:
        options |= {"crt_file": str(PKI / "client.crt"), "key_file": str(PKI / "client.key")}
    with running(SERVERS[pair.server], openssl) as port:
        settings = {"server_addr": "127.0.0.1", "server_port": port, **options}
        command = [str(client), *(f"{key}={value}" for key, value in settings.items())]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def assert_confirmed(pair: Pair, verdict: Verdict, result: subprocess.CompletedProcess[str]) -> None:
    """The run did what the verdict predicted: connected, or failed with its error while reading its step."""
    output = result.stdout + result.stderr
    tail = "\n".join(output.splitlines()[-40:])
    if verdict.verdict == "connects":
        assert result.returncode == 0, tail
        return
    blocker = verdict.blockers[0]
    assert result.returncode == 1, tail
    _, returned = failed_call(output)
    assert returned == (blocker.error or "").lower(), tail
    if blocker.step is not None:
        assert reading_step(output) == blocker.step, tail


SYSTEM_PAIRS = [pair for pair in PAIRS if pair.device == SYSTEM]
SOURCE_PAIRS = [pair for pair in PAIRS if pair.device != SYSTEM]  # 3.x devices, built from source


@pytest.mark.realtls
@pytest.mark.parametrize("pair", SYSTEM_PAIRS, ids=[pair.id for pair in SYSTEM_PAIRS])
def test_system_client_confirms_the_verdict(tools, pair):
    """The real client, linked with the system mbedTLS whose config.h this device is, does what was predicted."""
    if tools.client is None:
        _unavailable(tools.reason)
    verdict = judge(pair, saved_profile(pair.server))
    assert_confirmed(pair, verdict, handshake(tools.client, pair, tools.openssl))


def configuration_for(pair: Pair) -> source_build.Configuration:
    """The 3.x build that is the pair's device: its configuration file, or its preset's options."""
    if pair.device.startswith(PRESET):
        device = device_for(pair)
        wanted = device_build.from_preset(pair.device.removeprefix(PRESET), device.series)
    else:
        wanted = device_build.from_file(DEVICES / pair.device)
    return device_build.reusing(wanted, CONFIGURATIONS)


@functools.cache
def built(configuration: source_build.Configuration) -> source_build.Built:
    return source_build.build(configuration)


@pytest.mark.realtls
@pytest.mark.parametrize("pair", SOURCE_PAIRS, ids=[pair.id for pair in SOURCE_PAIRS])
def test_source_client_confirms_the_verdict(tools, pair, tmp_path):
    """mbedTLS 3.6 built with the device's configuration does what the probe predicted from that configuration."""
    reason = source_build.unavailable_reason()
    if reason is not None:
        _source_unavailable(reason)
    configuration = configuration_for(pair)
    result = built(configuration)
    if result.client is None:
        _source_unavailable(f"cannot build mbedTLS configuration {configuration.name}: {result.reason}")
    device = device_for(pair)
    if not (result.version or "").startswith(f"{device.series}."):
        _source_unavailable(f"{source_build.SOURCE_ENV} holds mbedTLS {result.version}, the device is {device.series}")
    verdict = judge(pair, saved_profile(pair.server), device)
    if configuration.lines:  # what the client is built with, read back by the probe, gives the same verdict
        _assert_same_verdict(pair, verdict, configuration, device.series, tmp_path / "user_config.h")
    assert_confirmed(pair, verdict, handshake(result.client, pair, tools.openssl))


def _assert_same_verdict(
    pair: Pair, verdict: Verdict, configuration: source_build.Configuration, series: str, header: Path
) -> None:
    header.write_text(configuration.header(), encoding="utf-8")
    as_built = judge(pair, saved_profile(pair.server), from_config(str(header), mbedtls_version=series))
    first = [(finding.rule, finding.error, finding.step) for finding in verdict.blockers[:1]]
    assert (as_built.verdict, [(f.rule, f.error, f.step) for f in as_built.blockers[:1]]) == (verdict.verdict, first)


def test_an_expired_certificate_is_a_warning_for_a_build_that_does_not_check_dates():
    """ESP-IDF leaves MBEDTLS_HAVE_TIME_DATE off: it connects (confirmed above), and the probe still says why."""
    pair = next(pair for pair in PAIRS if pair.device == "preset:esp-idf-5.5" and pair.server == "expired")
    warnings = [finding for finding in judge(pair, saved_profile("expired")).findings if finding.severity == "warning"]
    time = next(finding for finding in warnings if finding.rule == "PROBE-TIME-001")
    assert "does not check certificate dates" in time.title
    assert (time.error, time.step) == (None, None)
    assert any("MBEDTLS_HAVE_TIME_DATE" in item.text for item in time.evidence if item.side == "device")
