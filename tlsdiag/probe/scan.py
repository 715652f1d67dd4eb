"""Scan a live server: sslyze as a library, then our own TLS 1.2 handshakes and an SNI test.

sslyze is an optional extra (``pip install 'tlsdiag[probe]'``) and is imported here only, so that no
other command pays for it. Its result is turned into the document ``sslyze --json_out`` writes, and that
document is read by the same code as a saved report: a live scan and an offline one cannot disagree.
What sslyze does not record (max_fragment_length, record sizes, the Certificate message on the wire, the
server's answer without SNI) is added to the document under ``tlsdiag``.

Before any of that, one plain TCP connection tells an unreachable host, a refused port, a timeout and a
name that does not resolve apart, each as one line.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import warnings
from collections.abc import Callable
from typing import Any

from tlsdiag.documents.base import plain
from tlsdiag.errors import InputError
from tlsdiag.probe import handshake
from tlsdiag.probe.profile import ServerProfile

Progress = Callable[[str], None]
CONNECT_TIMEOUT = 10.0
PROBE_MFL = 4096


class ScanUnavailable(InputError):
    """sslyze is not installed: the message says how to get it."""


def parse_target(target: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or ``https://host[:port][/path]``."""
    text = target.strip()
    for scheme, port in (("https://", 443), ("mqtts://", 8883), ("tls://", 443)):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :].split("/", 1)[0]
            if ":" not in text.rsplit("]", 1)[-1]:
                text = f"{text}:{port}"
    host, port_text = text, "443"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":") or "443"
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise InputError(f"{target}: no host name")
    try:
        port = int(port_text)
    except ValueError:
        raise InputError(f"{target}: the port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise InputError(f"{target}: the port {port} is out of range")
    return host, port


def reach(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> str:
    """Resolve and connect once; returns the address, or raises InputError with the reason in one line."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InputError(f"{host}: the name does not resolve ({error.strerror})") from None
    except UnicodeError:
        raise InputError(f"{host}: not a valid host name") from None
    last = ""
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as connection:
            connection.settimeout(timeout)
            try:
                connection.connect(address)
                return str(address[0])
            except ConnectionRefusedError:
                last = f"{host}:{port}: connection refused (nothing listens on that port)"
            except TimeoutError:
                last = f"{host}:{port}: no answer within {timeout:g} seconds (a firewall, or the wrong port)"
            except OSError as error:
                last = f"{host}:{port}: unreachable ({error.strerror or error})"
    raise InputError(last or f"{host}: the name resolves to no address")


def sni_behaviour(host: str, port: int, server_name: str, timeout: float = CONNECT_TIMEOUT) -> dict[str, Any]:
    """Connect with and without server_name and compare what the server does."""

    def attempt(name: str | None) -> tuple[bytes | None, str | None]:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with (
                socket.create_connection((host, port), timeout=timeout) as raw,
                context.wrap_socket(raw, server_hostname=name) as wrapped,
            ):
                return wrapped.getpeercert(binary_form=True), None
        except ssl.SSLError as error:
            return None, (error.reason or str(error)).lower().replace("_", " ")
        except OSError as error:
            return None, error.strerror or type(error).__name__

    named, named_error = attempt(server_name)
    bare, bare_error = attempt(None)
    if named is None:
        return {"required": None, "behaviour": f"the handshake with SNI failed too ({named_error})"}
    if bare is None:
        return {"required": True, "behaviour": f"a failed handshake ({bare_error})"}
    if bare != named:
        from tlsdiag.probe.profile import certificate_from_der

        return {
            "required": True,
            "behaviour": "a different certificate",
            "certificate": certificate_from_der(bare).subject,
        }
    return {"required": False, "behaviour": "the same certificate"}


def scan(
    host: str, port: int, server_name: str | None = None, progress: Progress | None = None
) -> tuple[ServerProfile, dict[str, Any]]:
    """Scan ``host:port``; returns the profile and the report document (sslyze's, with ours added)."""
    say = progress or (lambda _message: None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its trust store warns about certificates cryptography dislikes
            import sslyze
    except ImportError:
        raise ScanUnavailable(
            "scanning a server needs sslyze: pip install 'tlsdiag[probe]' "
            "(or read a saved report with --server-profile)"
        ) from None
    say(f"connecting to {host}:{port}")
    address = reach(host, port)
    name = server_name or (None if _is_address(host) else host)
    started = datetime.datetime.now(datetime.UTC)
    location = sslyze.ServerNetworkLocation(hostname=host, port=port, ip_address=address)
    configuration = sslyze.ServerNetworkConfiguration(
        tls_server_name_indication=name or host, network_timeout=int(CONNECT_TIMEOUT), network_max_retries=1
    )
    commands = {
        sslyze.ScanCommand.CERTIFICATE_INFO,
        sslyze.ScanCommand.SSL_2_0_CIPHER_SUITES,
        sslyze.ScanCommand.SSL_3_0_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_0_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_1_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_2_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_3_CIPHER_SUITES,
        sslyze.ScanCommand.ELLIPTIC_CURVES,
        sslyze.ScanCommand.SESSION_RESUMPTION,
    }
    request = sslyze.ServerScanRequest(
        server_location=location, network_configuration=configuration, scan_commands=commands
    )
    scanner = sslyze.Scanner(per_server_concurrent_connections_limit=2)
    say("scanning versions, ciphersuites, groups and the certificate chain (sslyze)")
    scanner.queue_scans([request])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = list(scanner.get_results())
    document = sslyze.SslyzeOutputAsJson(
        server_scan_results=[sslyze.ServerScanResultAsJson.model_validate(result) for result in results],
        invalid_server_strings=[],
        date_scans_started=started,
        date_scans_completed=datetime.datetime.now(datetime.UTC),
    ).model_dump(mode="json")
    say("probing records, max_fragment_length and client authentication (TLS 1.2 handshakes)")
    handshakes = [
        handshake.exchange(address, port, name, PROBE_MFL),
        handshake.exchange(address, port, name, None),
    ]
    own: dict[str, Any] = {"handshakes": [plain(item.to_json()) for item in handshakes], "notes": []}
    if all(item.alert or item.error for item in handshakes):
        reason = handshakes[-1].alert or handshakes[-1].error
        own["notes"].append(f"a TLS 1.2 handshake did not get past the ServerHello ({reason}): record sizes not seen")
    if name:
        say("comparing the handshake with and without SNI")
        own["sni"] = sni_behaviour(address, port, name)
    document["tlsdiag"] = own
    from tlsdiag.probe.reports import from_sslyze

    profile = from_sslyze(document, f"{host}:{port}", source="scan")
    profile.host, profile.port, profile.server_name = host, port, name
    return profile, document


def _is_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
