"""Device x server pairs: each server on loopback has one property a device trips over; for each, a device
that must fail for that one known reason and one that must connect.

Three layers, each against the same table:
- the saved scan of the server (tests/fixtures/probe/scans, sslyze's JSON with our handshakes) gives the
  expected verdict and blocker offline;
- a live scan of the server started on 127.0.0.1 gives the same (needs openssl and sslyze);
- where the device is the build the system's mbedTLS 2.28 was compiled with (Debian's config.h), the
  harness's real client connects with that device's runtime options and must connect, or fail with the
  error the verdict predicted. The other devices need a client built from their own configuration.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.harness import build
from tests.probe_servers import PKI, SCANS, SERVER_NAME, SERVERS, running
from tlsdiag.probe.device import Device, from_config, from_preset
from tlsdiag.probe.match import match
from tlsdiag.probe.reports import read_report
from tlsdiag.probe.trust import check, read_roots

DEVICES = Path(__file__).parent / "fixtures" / "probe" / "devices"
SYSTEM = "debian-libmbedtls-2.28.3-config.h"


class Pair(NamedTuple):
    device: str  # a file in DEVICES, or preset:NAME
    server: str
    verdict: str
    blocker: str | None  # the failure expected first
    error: str | None  # the error the device is predicted to return
    ca: str = "ca.crt"
    code: str | None = None
    option: str | None = None  # the option the fix must name

    @property
    def id(self) -> str:
        return f"{self.device.removesuffix('.h')}-x-{self.server}"


PAIRS = [
    Pair(SYSTEM, "tls13-only", "fails", "PROBE-VERSION-001", "-0x7780"),
    Pair("preset:mbedtls-3.6", "tls13-only", "connects", None, None),
    Pair("preset:esp-idf-5.5", "tls13-only", "fails", "PROBE-VERSION-001", "-0x7780",
         option="CONFIG_MBEDTLS_SSL_PROTO_TLS1_3"),
    Pair("user-no-rsa-key-exchange.h", "rsa-kx-only", "fails", "PROBE-SUITE-001", "-0x7780",
         option="MBEDTLS_KEY_EXCHANGE_RSA_ENABLED"),
    Pair(SYSTEM, "rsa-kx-only", "connects", None, None),
    Pair("user-p256-only.h", "p384-only", "fails", "PROBE-GROUP-001", "-0x7780",
         option="MBEDTLS_ECP_DP_SECP384R1_ENABLED"),
    Pair(SYSTEM, "p384-only", "connects", None, None),
    Pair("user-in-4096.h", "big-chain", "fails", "PROBE-BUF-001", "-0x7200", ca="big-root.crt",
         option="MBEDTLS_SSL_IN_CONTENT_LEN"),
    Pair(SYSTEM, "big-chain", "connects", None, None, ca="big-root.crt"),
    Pair(SYSTEM, "client-auth", "fails", "PROBE-AUTH-001", "-0x7780", code="client-without-certificate.c"),
    Pair(SYSTEM, "client-auth", "connects", None, None, code="client-with-certificate.c"),
    Pair("user-no-sni.h", "sni-vhost", "fails", "PROBE-SNI-001", "-0x2700",
         option="MBEDTLS_SSL_SERVER_NAME_INDICATION"),
    Pair(SYSTEM, "sni-vhost", "connects", None, None),
    Pair("user-no-sha384.h", "ecdsa-p384-sha384", "fails", "PROBE-SIG-001", "-0x2700", ca="p384-ca.crt",
         option="MBEDTLS_SHA512_C"),
    Pair(SYSTEM, "ecdsa-p384-sha384", "connects", None, None, ca="p384-ca.crt"),
    Pair(SYSTEM, "rsa-tls12-13", "fails", "PROBE-TRUST-001", "-0x2700", ca="rogue-ca.crt"),
    Pair(SYSTEM, "rsa-tls12-13", "connects", None, None),
    Pair(SYSTEM, "expired", "fails", "PROBE-TIME-001", "-0x2700"),
]  # fmt: skip


def device_for(pair: Pair) -> Device:
    if pair.device.startswith("preset:"):
        return from_preset(pair.device.removeprefix("preset:"))
    code = [str(DEVICES / pair.code)] if pair.code else []
    return from_config(str(DEVICES / pair.device), mbedtls_version="2.28", code_paths=code)


def judge(pair: Pair, profile):
    roots = read_roots(str(PKI / pair.ca))
    return match(profile, device_for(pair), check(profile.certificates, roots), pair.ca)


def assert_verdict(pair: Pair, verdict) -> None:
    failures = [finding for finding in verdict.findings if finding.severity == "failure"]
    assert verdict.verdict == pair.verdict, [(f.rule, f.title) for f in failures]
    if pair.blocker is None:
        assert not failures
        return
    assert failures[0].rule == pair.blocker, [(f.rule, f.title) for f in failures]
    assert failures[0].error == pair.error
    assert [item for item in failures[0].evidence if item.side == "server"], "evidence from the server's side"
    if pair.option:
        assert pair.option in [fix.option for fix in failures[0].fixes]


def test_at_least_ten_pairs_with_both_outcomes():
    assert len(PAIRS) >= 10
    servers_failing = {pair.server for pair in PAIRS if pair.verdict == "fails"}
    servers_connecting = {pair.server for pair in PAIRS if pair.verdict == "connects"}
    assert len(servers_failing & servers_connecting) >= 8


@pytest.mark.parametrize("pair", PAIRS, ids=[pair.id for pair in PAIRS])
def test_saved_scan_gives_the_expected_verdict(pair):
    profile = read_report(str(SCANS / f"{pair.server}.sslyze.json"))
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
    for pair in [pair for pair in PAIRS if pair.server == server]:
        assert_verdict(pair, judge(pair, profile))
    saved = read_report(str(SCANS / f"{server}.sslyze.json"))
    assert profile.versions == saved.versions
    assert profile.suites == saved.suites
    assert profile.groups == saved.groups
    assert profile.certificate_message_bytes == saved.certificate_message_bytes
    assert profile.client_auth == saved.client_auth
    assert profile.mfl == saved.mfl


CONFIRMABLE = [pair for pair in PAIRS if pair.device == SYSTEM]


@pytest.mark.realtls
@pytest.mark.parametrize("pair", CONFIRMABLE, ids=[pair.id for pair in CONFIRMABLE])
def test_system_client_confirms_the_verdict(tools, pair):
    """The real client, linked with the system mbedTLS whose config.h this device is, does what was predicted."""
    if tools.client is None:
        _unavailable(tools.reason)
    options = {"server_name": SERVER_NAME, "ca_file": str(PKI / pair.ca), "auth_mode": "required", "timeout": "20"}
    if pair.code and "with-certificate" in pair.code:
        options |= {"crt_file": str(PKI / "client.crt"), "key_file": str(PKI / "client.key")}
    with running(SERVERS[pair.server], tools.openssl) as port:
        arguments = [
            f"{key}={value}" for key, value in {"server_addr": "127.0.0.1", "server_port": port, **options}.items()
        ]
        result = subprocess.run(
            [str(tools.client), *arguments], capture_output=True, text=True, timeout=60, check=False
        )
    output = result.stdout + result.stderr
    if pair.verdict == "connects":
        assert result.returncode == 0, output[-2000:]
        return
    assert result.returncode == 1, output[-2000:]
    returned = re.findall(r"returned -0x([0-9a-fA-F]+)", output)
    assert returned, output[-2000:]
    assert f"-0x{int(returned[0], 16):04x}" == pair.error.lower(), output[-2000:]
