"""Server profiles from saved scanner reports: sslyze's ``--json_out`` and testssl.sh's ``--jsonfile``.

A profile scanned on one machine (the one that can reach the server) is checked on another. sslyze's
report is read through its published JSON shape (``server_scan_results[].scan_result``); testssl.sh's flat
list of ``{"id", "finding"}`` entries through the ids its documentation and output use. A report
``tlsdiag probe --save-scan`` wrote is sslyze's report with our own handshake observations added under
``tlsdiag``; sslyze ignores that key and we read it back.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from tlsdiag.errors import InputError
from tlsdiag.probe.profile import (
    Handshake,
    ServerCertificate,
    ServerProfile,
    SniBehaviour,
    certificates_from_pem,
)

_SSLYZE_VERSIONS = {
    "ssl_2_0_cipher_suites": "SSL2.0",
    "ssl_3_0_cipher_suites": "SSL3.0",
    "tls_1_0_cipher_suites": "TLS1.0",
    "tls_1_1_cipher_suites": "TLS1.1",
    "tls_1_2_cipher_suites": "TLS1.2",
    "tls_1_3_cipher_suites": "TLS1.3",
}
_CLIENT_AUTH = {"DISABLED": "none", "OPTIONAL": "optional", "REQUIRED": "required"}
_GROUP_NAMES = {"prime256v1": "secp256r1", "X25519": "x25519", "X448": "x448"}


def read_report(path: str) -> ServerProfile:
    """Read a saved report, whichever scanner wrote it; unusable input raises :class:`InputError`."""
    from tlsdiag.config.source import read_lines

    lines, _ = read_lines(path, what="server report")
    try:
        document = json.loads("\n".join(lines))
    except ValueError as error:
        raise InputError(f"{path} is not JSON: {error}") from None
    if isinstance(document, dict) and "server_scan_results" in document:
        return from_sslyze(document, path)
    if isinstance(document, list) or (isinstance(document, dict) and "scanResult" in document):
        return from_testssl(document, path)
    raise InputError(f"{path} is neither an sslyze --json_out nor a testssl.sh --jsonfile report")


# --- sslyze ---------------------------------------------------------------------------------------------


def from_sslyze(document: dict[str, Any], origin: str = "scan", source: str = "sslyze-json") -> ServerProfile:
    results = [item for item in document.get("server_scan_results") or () if isinstance(item, dict)]
    if not results:
        raise InputError(f"{origin}: the sslyze report holds no server")
    result = results[0]
    location = result.get("server_location") or {}
    network = result.get("network_configuration") or {}
    if result.get("connectivity_status") == "ERROR":
        trace = str(result.get("connectivity_error_trace") or "the server could not be reached").strip()
        raise InputError(f"{origin}: sslyze could not connect to the server: {trace.splitlines()[-1]}")
    profile = ServerProfile(
        host=str(location.get("hostname") or location.get("ip_address") or "unknown"),
        port=int(location.get("port") or 443),
        server_name=network.get("tls_server_name_indication"),
        source=source,
        scanned_at=document.get("date_scans_completed"),
    )
    scans = result.get("scan_result") or {}
    for key, version in _SSLYZE_VERSIONS.items():
        outcome = _completed(scans.get(key))
        if outcome is None:
            continue
        accepted = [
            _suite_value(entry.get("cipher_suite") or {}) for entry in outcome.get("accepted_cipher_suites") or ()
        ]
        values = [value for value in accepted if value is not None]
        if outcome.get("is_tls_version_supported") and values:
            profile.versions.append(version)
            profile.suites[version] = values
    curves = _completed(scans.get("elliptic_curves"))
    if curves is not None:
        profile.groups = [_group(entry.get("name", "")) for entry in curves.get("supported_curves") or ()]
    certificate_info = _completed(scans.get("certificate_info"))
    if certificate_info is not None:
        deployments = certificate_info.get("certificate_deployments") or ()
        if deployments:
            profile.certificates = _sslyze_chain(deployments[0])
        without_sni = certificate_info.get("certificate_deployment_with_sni_disabled")
        if isinstance(without_sni, dict) and profile.certificates:
            chain = _sslyze_chain(without_sni)
            if chain and chain[0].der != profile.certificates[0].der:
                profile.sni = SniBehaviour(True, "a different certificate", chain[0].subject)
    connectivity = result.get("connectivity_result") or {}
    profile.client_auth = _CLIENT_AUTH.get(str(connectivity.get("client_auth_requirement")))
    resumption = _completed(scans.get("session_resumption"))
    if resumption is not None:
        ticket = resumption.get("tls_ticket_resumption_result")
        profile.session_tickets = (
            None if ticket is None else str(ticket).endswith("SUPPORTED") and "NOT" not in str(ticket)
        )
    _own_observations(document.get("tlsdiag"), profile)
    if not profile.versions:
        profile.notes.append("the report lists no accepted protocol version")
    return profile


def _completed(scan: Any) -> dict[str, Any] | None:
    if not isinstance(scan, dict) or scan.get("status") != "COMPLETED":
        return None
    result = scan.get("result")
    return result if isinstance(result, dict) else None


def _suite_value(suite: dict[str, Any]) -> int | None:
    return suite_values().get(str(suite.get("name") or ""))


@cache
def suite_values() -> dict[str, int]:
    """IANA ciphersuite names (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``) to their values, from the suite table."""
    from tlsdiag.config.data import load

    table = load().ciphersuites["ciphersuite"]
    return {entry["macro"].removeprefix("MBEDTLS_").replace("TLS1_3_", "TLS_"): int(entry["value"]) for entry in table}


def _group(name: str) -> str:
    return _GROUP_NAMES.get(name, name)


def _sslyze_chain(deployment: dict[str, Any]) -> list[ServerCertificate]:
    chain: list[ServerCertificate] = []
    for entry in deployment.get("received_certificate_chain") or ():
        pem = entry.get("as_pem") if isinstance(entry, dict) else None
        if isinstance(pem, str):
            chain.extend(certificates_from_pem(pem))
    return chain


def _own_observations(data: Any, profile: ServerProfile) -> None:
    """The handshake probes and SNI test ``tlsdiag probe`` adds to the report it saves."""
    if not isinstance(data, dict):
        return
    profile.handshakes = [Handshake.from_json(item) for item in data.get("handshakes") or () if isinstance(item, dict)]
    asked = [handshake for handshake in profile.handshakes if handshake.requested_mfl and not handshake.alert]
    if asked and asked[0].mfl_accepted is not None:
        profile.mfl = asked[0].mfl_accepted
    if any(handshake.certificate_request for handshake in profile.handshakes) and profile.client_auth is None:
        profile.client_auth = "optional"
    if profile.session_tickets is None:
        tickets = [handshake.session_ticket for handshake in profile.handshakes if handshake.session_ticket is not None]
        profile.session_tickets = any(tickets) if tickets else None
    sni = data.get("sni")
    if isinstance(sni, dict):
        profile.sni = SniBehaviour(sni.get("required"), str(sni.get("behaviour") or ""), sni.get("certificate"))
    profile.notes.extend(str(note) for note in data.get("notes") or ())


# --- testssl.sh -----------------------------------------------------------------------------------------

_TESTSSL_VERSIONS = {"SSLv2": "SSL2.0", "SSLv3": "SSL3.0", "TLS1": "TLS1.0", "TLS1_1": "TLS1.1", "TLS1_2": "TLS1.2"}
_TESTSSL_VERSIONS |= {"TLS1_3": "TLS1.3"}
_TESTSSL_SUITE = re.compile(r"^cipher-(tls1(?:_[0-3])?|ssl[23])_x([0-9a-f]{2,6})$", re.IGNORECASE)
_SUITE_VERSION = {"tls1": "TLS1.0", "tls1_1": "TLS1.1", "tls1_2": "TLS1.2", "tls1_3": "TLS1.3", "ssl3": "SSL3.0"}
_TESTSSL_GROUPS = {"prime256v1": "secp256r1", "X25519": "x25519", "X448": "x448"}


def from_testssl(document: Any, origin: str = "report") -> ServerProfile:
    entries = _testssl_entries(document)
    if not entries:
        raise InputError(f"{origin}: the testssl.sh report holds no finding")
    by_id: dict[str, str] = {}
    for entry in entries:
        by_id.setdefault(str(entry.get("id")), str(entry.get("finding") or ""))
    first = entries[0]
    host = str(first.get("ip") or "unknown").split("/")[0]
    port = int(str(first.get("port") or "443") or 443)
    profile = ServerProfile(host=host, port=port, server_name=None, source="testssl-json")
    for key, version in _TESTSSL_VERSIONS.items():
        if by_id.get(key, "").startswith("offered"):
            profile.versions.append(version)
    for entry in entries:
        match = _TESTSSL_SUITE.match(str(entry.get("id")))
        if match:
            suite_version = _SUITE_VERSION.get(match.group(1).lower())
            if suite_version is not None:
                profile.suites.setdefault(suite_version, []).append(int(match.group(2), 16))
    profile.versions = [version for version in profile.versions if profile.suites.get(version) or version == "TLS1.3"]
    curves = by_id.get("PFS_ECDHE_curves") or by_id.get("FS_ECDHE_curves")
    if curves is not None:
        profile.groups = [_TESTSSL_GROUPS.get(name, name) for name in curves.split()]
    pems = [
        entry
        for entry in entries
        if re.fullmatch(r"cert(?: <#\d+>)?|intermediate_cert(?: <#\d+>)?", str(entry.get("id")))
    ]
    leaf = [entry for entry in pems if str(entry.get("id")).startswith("cert")]
    chain = [entry for entry in pems if str(entry.get("id")).startswith("intermediate_cert")]
    for entry in [*leaf[:1], *chain]:
        profile.certificates.extend(certificates_from_pem(str(entry.get("finding") or "")))
    extensions = by_id.get("TLS_extensions", "")
    if extensions:
        profile.mfl = "max fragment length" in extensions
    client_auth = by_id.get("clientAuth")
    if client_auth is not None:
        lowered = client_auth.lower()
        profile.client_auth = "required" if "required" in lowered else "optional" if "optional" in lowered else "none"
    else:
        profile.client_auth = None
    ticket = by_id.get("sessionresumption_ticket")
    if ticket is not None:
        profile.session_tickets = ticket.startswith("supported")
    without_sni = by_id.get("cert_commonName_wo_SNI")
    with_sni = by_id.get("cert_commonName")
    if without_sni is not None and with_sni is not None:
        if "no certificate" in without_sni.lower() or without_sni.strip() == "":
            profile.sni = SniBehaviour(True, "no certificate without SNI")
        elif without_sni != with_sni:
            profile.sni = SniBehaviour(True, "a different certificate", f"CN={without_sni}")
        else:
            profile.sni = SniBehaviour(False, "the same certificate")
    profile.notes.append(
        "testssl.sh does not record record sizes: the Certificate message size is computed from the chain"
    )
    return profile


def _testssl_entries(document: Any) -> list[dict[str, Any]]:
    """testssl.sh's flat list (``--jsonfile``), or the findings of its ``--jsonfile-pretty`` form."""
    if isinstance(document, list):
        return [entry for entry in document if isinstance(entry, dict) and "id" in entry]
    found: list[dict[str, Any]] = []
    for scan in document.get("scanResult") or ():
        if not isinstance(scan, dict):
            continue
        for key, value in scan.items():
            if isinstance(value, list):
                for entry in value:
                    if isinstance(entry, dict) and "id" in entry:
                        found.append({"ip": scan.get("ip"), "port": scan.get("port"), **entry})
            elif key in ("ip", "port"):
                continue
    return found
