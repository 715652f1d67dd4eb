"""The failures the real-library tests reproduce: each a failing and a working run that differ in one thing.

A scenario is data: the server each run talks to, the client's options, and what a correct
diagnosis says (the category first, the code mbedTLS 2.28 returns and its name, the step where the
working and the failing run part). Paths are written as ``{ca}``, ``{server_key}``... and filled in
from :class:`~tests.harness.pki.Pki` when a run starts.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from tests.harness import servers
from tests.harness.pki import Pki

WWW = ("-www", "-cert", "{server}", "-key", "{server_key}")
CLIENT_AUTH = (*WWW, "-Verify", "1", "-CAfile", "{client_ca}")
PSK = "6b0b7c9d2e4f5a61"
OTHER_PSK = "00112233445566ff"
PSK_SERVER = ("-www", "-nocert", "-psk", PSK, "-cipher", "PSK")
NOT_YET = "@2001-01-01 00:00:00"  # the client's clock set back, as on a device before SNTP


class Side(NamedTuple):
    """One run: the server (``openssl`` with arguments, or a ``listener`` behaviour) and the client."""

    server: tuple[str, tuple[str, ...]]
    client: tuple[tuple[str, str], ...] = ()
    faketime: str | None = None


class Scenario(NamedTuple):
    name: str
    differs: str  # the one thing the failing run changes
    bad: Side
    good: Side
    category: str  # what diagnose must rank first
    code: str  # what mbedtls_ssl_handshake returns in mbedTLS 2.28, as the client prints it
    code_name: str  # the name tlsdiag must decode that code to
    step: str  # the last handshake step both runs share, where tlsdiag diff must place the divergence
    good_next: str | None  # what the working run did next (a milestone label), None when the failing run did more
    bad_next: str | None  # what the failing run did instead, None when it stopped or skipped a step
    rule: str | None = None  # a rule expected among the findings, when one is specific to the scenario
    handshake_fails: bool = True  # False: the failing run completes the handshake and the code is a debug line


def openssl(*arguments: str) -> tuple[str, tuple[str, ...]]:
    return ("openssl", arguments)


def listen(behaviour: str) -> tuple[str, tuple[str, ...]]:
    return ("listener", (behaviour,))


TRUSTING = (("ca_file", "{ca}"),)
CLIENT_CERT = (("crt_file", "{client}"), ("key_file", "{client_key}"))

SCENARIOS = (
    Scenario(
        "unknown-ca",
        "the server's certificate is issued by a CA the client does not trust",
        bad=Side(openssl("-www", "-cert", "{server_rogue}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="certificate-trust",
        code="-0x2700",
        code_name="MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        step="Certificate",
        good_next="Certificate done",
        bad_next="x509_verify_cert -0x2700",
    ),
    Scenario(
        "hostname-mismatch",
        "the server's certificate names another host (device.example.net)",
        bad=Side(openssl("-www", "-cert", "{server_wrong_host}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="hostname-mismatch",
        code="-0x2700",
        code_name="MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        step="Certificate",
        good_next="Certificate done",
        bad_next="x509_verify_cert -0x2700",
    ),
    Scenario(
        "expired",
        "the server's certificate expired a year ago",
        bad=Side(openssl("-www", "-cert", "{server_expired}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="certificate-time",
        code="-0x2700",
        code_name="MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        step="Certificate",
        good_next="Certificate done",
        bad_next="x509_verify_cert -0x2700",
    ),
    Scenario(
        "not-yet-valid",
        "the client's clock is set back to 2001 (faketime)",
        bad=Side(openssl(*WWW), TRUSTING, faketime=NOT_YET),
        good=Side(openssl(*WWW), TRUSTING),
        category="certificate-time",
        code="-0x2700",
        code_name="MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        step="Certificate",
        good_next="Certificate done",
        bad_next="x509_verify_cert -0x2700",
    ),
    Scenario(
        "client-cert-required",
        "the server requires a client certificate and the client has none",
        bad=Side(openssl(*CLIENT_AUTH), TRUSTING),
        good=Side(openssl(*CLIENT_AUTH), TRUSTING + CLIENT_CERT),
        category="client-auth",
        code="-0x7780",
        code_name="MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        step="ClientKeyExchange",
        good_next="CertificateVerify",
        bad_next=None,
    ),
    Scenario(
        "no-shared-ciphersuite",
        "the client offers only a suite the server does not enable",
        bad=Side(
            openssl(*WWW, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
            (*TRUSTING, ("force_ciphersuite", "TLS-RSA-WITH-AES-128-CBC-SHA256")),
        ),
        good=Side(openssl(*WWW, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"), TRUSTING),
        category="ciphersuite-mismatch",
        code="-0x7780",
        code_name="MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        step="ClientHello",
        good_next="ServerHello",
        bad_next="alert handshake_failure (40)",
    ),
    Scenario(
        "tls13-only-server",
        "the server accepts TLS 1.3 only (mbedTLS 2.28 speaks TLS 1.2 at most)",
        bad=Side(openssl(*WWW, "-tls1_3"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="protocol-version",
        code="-0x7780",
        code_name="MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        step="ClientHello",
        good_next="ServerHello",
        bad_next="alert protocol_version (70)",
    ),
    Scenario(
        "peer-closed-after-hello",
        "the server closes the connection once it has read the ClientHello",
        bad=Side(listen("close"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="peer-closed",
        code="-0x7280",
        code_name="MBEDTLS_ERR_SSL_CONN_EOF",
        step="ClientHello",
        good_next="read returned 5",
        bad_next="read returned 0",
    ),
    Scenario(
        "plain-http-on-tls-port",
        "a plain HTTP server answers on the TLS port",
        bad=Side(listen("http"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        category="other",
        code="-0x7200",
        code_name="MBEDTLS_ERR_SSL_INVALID_RECORD",
        step="ClientHello",
        good_next="ServerHello",
        bad_next="-0x7200",
        rule="TLS-VER-002",
    ),
    Scenario(
        "read-timeout",
        "the server accepts and never answers; the client waits one second per read",
        bad=Side(listen("stall"), (*TRUSTING, ("read_timeout", "1000"))),
        good=Side(openssl(*WWW), (*TRUSTING, ("read_timeout", "1000"))),
        category="network-io",
        code="-0x6800",
        code_name="MBEDTLS_ERR_SSL_TIMEOUT",
        step="ClientHello",
        good_next="read returned 5",
        bad_next="-0x6800",
    ),
    Scenario(
        "key-mismatch",
        "the client's private key does not belong to its certificate",
        bad=Side(openssl(*CLIENT_AUTH), (*TRUSTING, ("crt_file", "{client}"), ("key_file", "{other_key}"))),
        good=Side(openssl(*CLIENT_AUTH), TRUSTING + CLIENT_CERT),
        category="key-mismatch",
        code="-0x7780",
        code_name="MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        step="Finished",
        good_next="NewSessionTicket",
        bad_next="alert decrypt_error (51)",
    ),
    Scenario(
        "psk-mismatch",
        "the client's pre-shared key differs from the server's",
        bad=Side(openssl(*PSK_SERVER), (("psk", OTHER_PSK),)),
        good=Side(openssl(*PSK_SERVER), (("psk", PSK),)),
        category="psk",
        code="-0x7780",
        code_name="MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        step="Finished",
        good_next="NewSessionTicket",
        bad_next="alert bad_record_mac (20)",
    ),
    Scenario(
        "authmode-optional-untrusted",
        "auth_mode=optional and the server's certificate is issued by an unknown CA",
        bad=Side(
            openssl("-www", "-cert", "{server_rogue}", "-key", "{server_key}"),
            (*TRUSTING, ("auth_mode", "optional")),
        ),
        good=Side(openssl(*WWW), (*TRUSTING, ("auth_mode", "optional"))),
        category="certificate-trust",
        code="-0x2700",
        code_name="MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        step="Certificate",
        good_next=None,
        bad_next="x509_verify_cert -0x2700",
        rule="TLS-TRUST-006",
        handshake_fails=False,
    ),
)


class Capture(NamedTuple):
    log: Path
    text: str
    exit_code: int
    server: list[str]  # the server's transcript
    returned: str | None  # what the client printed as mbedtls_ssl_handshake's return, e.g. "-0x2700"


HANDSHAKE_RETURN = re.compile(r"mbedtls_ssl_handshake returned (-0x[0-9a-fA-F]+)")


class Tools(NamedTuple):
    client: Path
    pki: Pki
    openssl: str
    faketime: str | None


def server(side: Side, tools: Tools) -> contextlib.AbstractContextManager[servers.Running]:
    """The side's server, not yet started: use it in a ``with`` block."""
    kind, arguments = side.server
    if kind == "openssl":
        return servers.openssl_server(tools.openssl, [argument.format(**_paths(tools.pki)) for argument in arguments])
    return servers.listener(arguments[0])


def client_command(side: Side, tools: Tools, port: int, options: Mapping[str, str]) -> list[str]:
    """The client's command line for the side, against ``port``, with ``options`` added."""
    settings = {name: value.format(**_paths(tools.pki)) for name, value in side.client}
    settings.update(options)
    command = [str(tools.client), f"server_port={port}", *(f"{key}={value}" for key, value in settings.items())]
    if side.faketime:
        if tools.faketime is None:
            raise RuntimeError("faketime is not installed")
        command = [tools.faketime, "-f", side.faketime, *command]
    return command


def run(side: Side, tools: Tools, log: Path, options: Mapping[str, str]) -> Capture:
    """Start the side's server, run the client against it with ``options`` added, keep its output in ``log``."""
    with server(side, tools) as running:
        command = client_command(side, tools, running.port, options)
        result = subprocess.run(command, capture_output=True, timeout=60, check=False, cwd=log.parent)
    text = result.stdout.decode("utf-8", "replace")
    log.write_text(text, encoding="utf-8")
    found = HANDSHAKE_RETURN.search(text)
    return Capture(log, text, result.returncode, list(running.transcript), found[1].lower() if found else None)


def _paths(pki: Pki) -> dict[str, str]:
    return {name: str(path) for name, path in pki._asdict().items()}
