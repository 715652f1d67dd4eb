"""Names for the numbers on the TLS wire, from the knowledge tables.

The decoders keep numbers only; whoever shows a value asks here. Names come from what mbedTLS prints
(``knowledge/tls/*.json``, generated from the reference extraction) so that a report reads like the
log next to it, then from the hand-written IANA additions; a number nobody names is shown as
``unknown (0x....)``, never guessed. Tables load on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tlsdiag.knowledge import load

#: RFC 8701 reserves 0x?A?A values (both bytes equal, low nibble 0xA) so that peers learn to ignore them.
_GREASE_NIBBLE = 0x0A


def unknown(value: int, width: int = 4) -> str:
    """``unknown (0x1234)``: how a number no table names is shown."""
    return f"unknown (0x{value:0{width}x})" if value >= 0 else f"unknown ({value})"


def is_grease(value: int) -> bool:
    """True for the RFC 8701 GREASE code points (0x0a0a, 0x1a1a, ... 0xfafa) clients send on purpose."""
    high, low = value >> 8, value & 0xFF
    return 0 <= value <= 0xFFFF and high == low and low & 0x0F == _GREASE_NIBBLE


def version(value: int) -> str:
    """``0x0303`` -> ``TLS 1.2``. The mapping is arithmetic (minor byte = TLS 1.x + 1), not a table."""
    major, minor = value >> 8, value & 0xFF
    if is_grease(value):
        return "GREASE"
    if major == 3 and minor == 0:
        return "SSL 3.0"
    if major == 3 and 1 <= minor <= 4:
        return f"TLS 1.{minor - 1}"
    if major == 0xFE and minor in (0xFF, 0xFD, 0xFC):
        return f"DTLS 1.{ {0xFF: 0, 0xFD: 2, 0xFC: 3}[minor] }"
    return unknown(value)


def ciphersuite_info(value: int) -> dict[str, Any] | None:
    """The table row for a suite: name, key exchange, macros and, in ``by_version``, TLS range and guards."""
    return load().tls_ciphersuites.get(value)


def ciphersuite(value: int) -> str:
    """``0xc02b`` -> ``TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256`` (the name mbedTLS prints)."""
    row = ciphersuite_info(value) or load().tls_scsv.get(value)
    if row is not None:
        return str(row["name"])
    return "GREASE" if is_grease(value) else unknown(value)


def key_exchange(value: int) -> str | None:
    """``ECDHE_RSA``, ``DHE_PSK``, ``NONE`` (TLS 1.3) ... for a suite mbedTLS knows, else None."""
    row = ciphersuite_info(value)
    return None if row is None else str(row["key_exchange"])


def extension(value: int) -> str:
    """Extension type -> the name mbedTLS prints, else the IANA name, else the macro's own words."""
    knowledge = load()
    row = knowledge.tls_extensions.get(value)
    if row is not None and row.get("name"):
        return str(row["name"])
    iana = knowledge.tls_extensions_iana.get(value)
    if iana is not None:
        return str(iana["name"])
    if row is not None:
        return str(row["macros"][0]).removeprefix("MBEDTLS_TLS_EXT_").lower()
    return "GREASE" if is_grease(value) else unknown(value)


def group(value: int) -> str:
    """Named group (``supported_groups``, ``key_share``, ServerKeyExchange curve) -> ``secp256r1``, ``x25519``."""
    row = load().tls_groups_sigalgs["group"].get(value)
    if row is not None and row.get("name"):
        return str(row["name"])
    return "GREASE" if is_grease(value) else unknown(value)


def signature_algorithm(value: int) -> str:
    """SignatureScheme (TLS 1.3) or hash/signature byte pair (TLS 1.2) -> ``rsa_pss_rsae_sha256``, ``dsa_sha224``."""
    knowledge = load()
    row = knowledge.tls_groups_sigalgs["signature_scheme"].get(value)
    if row is not None and row.get("name"):
        return str(row["name"])
    hashes, signatures = knowledge.tls_signature_tls12["hash"], knowledge.tls_signature_tls12["signature"]
    hash_name, signature_name = hashes.get(value >> 8), signatures.get(value & 0xFF)
    if hash_name and signature_name:
        return f"{signature_name}_{hash_name}"
    return "GREASE" if is_grease(value) else unknown(value)


def handshake_type(value: int) -> str:
    """``11`` -> ``Certificate`` (and mbedTLS's internal ``-2`` -> ``HelloRetryRequest``, as its debug output)."""
    row = load().tls_handshake_types.get(value)
    return unknown(value, 2) if row is None else str(row["tls_name"])


def content_type(value: int) -> str:
    """Record content type ``22`` -> ``handshake``."""
    row = load().tls_record_types["content_type"].get(value)
    return unknown(value, 2) if row is None else str(row["name"])


def alert_level(value: int) -> str:
    """``2`` -> ``fatal``."""
    row = load().tls_record_types["alert_level"].get(value)
    return unknown(value, 2) if row is None else str(row["name"])


def alert(value: int) -> str:
    """Alert description ``40`` -> ``handshake_failure``."""
    row = load().tls_alerts.get(value)
    return unknown(value, 2) if row is None else str(row["tls_name"])


def many(values: Iterable[int], namer: Callable[[int], str]) -> list[str]:
    """Name each value with ``namer`` (one of the functions above)."""
    return [namer(value) for value in values]
