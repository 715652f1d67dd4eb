"""Names for TLS numbers come from the knowledge tables and agree with what mbedTLS prints in the corpus."""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema
import pytest

from tests.conftest import ROOT
from tests.tls_logs import corpus_logs, debug_lines
from tlsdiag.knowledge import load
from tlsdiag.tls import names

KNOWLEDGE = ROOT / "knowledge"
HAND_WRITTEN = [
    ("tls/extensions-iana.toml", "extensions-iana.schema.json"),
    ("tls/signature-tls12.toml", "signature-tls12.schema.json"),
    ("tls/scsv.toml", "scsv.schema.json"),
]


@pytest.mark.parametrize(("path", "schema"), HAND_WRITTEN)
def test_hand_written_tables_match_their_schema(path, schema):
    document = tomllib.loads((KNOWLEDGE / path).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads((KNOWLEDGE / "schema" / schema).read_text())).validate(document)


def test_iana_names_fill_gaps_only():
    """The hand-written IANA list names what mbedTLS does not; it never contradicts a name mbedTLS prints."""
    knowledge = load()
    for value, row in knowledge.tls_extensions_iana.items():
        mbedtls = knowledge.tls_extensions.get(value, {})
        assert not mbedtls.get("name"), f"{value} is already named {mbedtls.get('name')!r} by mbedTLS"
        assert names.extension(value) == row["name"]


def test_ciphersuite_table():
    suite = names.ciphersuite_info(0xC02B)
    assert suite is not None
    assert suite["name"] == "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"
    assert suite["key_exchange"] == "ECDHE_ECDSA"
    assert suite["key_exchange_macro"] == "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED"
    assert suite["versions"] == ["2.16", "2.28", "3.6", "4.1"]
    assert suite["by_version"]["2.28"]["guards"] == ["MBEDTLS_AES_C", "MBEDTLS_SHA256_C", "MBEDTLS_GCM_C"]
    assert suite["by_version"]["4.1"]["guards"] == ["PSA_WANT_KEY_TYPE_AES", "PSA_WANT_ALG_SHA_256", "PSA_WANT_ALG_GCM"]
    assert (suite["by_version"]["3.6"]["min_tls"], suite["by_version"]["3.6"]["max_tls"]) == ("TLS 1.2", "TLS 1.2")
    tls13 = names.ciphersuite_info(0x1301)
    assert tls13 is not None and tls13["key_exchange"] == "NONE" and "key_exchange_macro" not in tls13
    assert tls13["by_version"]["3.6"]["min_tls"] == "TLS 1.3"
    assert names.key_exchange(0xCCA8) == "ECDHE_RSA" and names.key_exchange(0x1234) is None


def test_names_and_fallbacks():
    assert names.ciphersuite(0x00FF) == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert names.ciphersuite(0x5600) == "TLS_FALLBACK_SCSV"
    assert names.ciphersuite(0x1234) == "unknown (0x1234)"
    assert names.ciphersuite(0x3A3A) == "GREASE" and names.extension(0xCACA) == "GREASE"
    assert names.extension(0) == "server_name" and names.extension(43) == "supported_versions"
    assert names.extension(65281) == "renegotiation_info" and names.extension(54) == "connection_id"
    assert names.extension(256) == "ecjpake_kkpp"  # mbedTLS macro, no IANA assignment
    assert names.extension(0x4469) == "unknown (0x4469)"
    assert names.group(0x001D) == "x25519" and names.group(0x0001) == "unknown (0x0001)"
    assert names.signature_algorithm(0x0804) == "rsa_pss_rsae_sha256"
    assert names.signature_algorithm(0x0303) == "ecdsa_sha224"  # a TLS 1.2-only pair
    assert names.signature_algorithm(0x0402) == "dsa_sha256"
    assert names.signature_algorithm(0x081A) == "unknown (0x081a)"
    assert names.handshake_type(11) == "Certificate" and names.handshake_type(14) == "ServerHelloDone"
    assert names.handshake_type(99) == "unknown (0x63)" and names.handshake_type(-2) == "HelloRetryRequest"
    assert names.content_type(23) == "application_data" and names.content_type(72) == "unknown (0x48)"
    assert names.alert_level(1) == "warning" and names.alert(40) == "handshake_failure"
    assert names.alert(250) == "unknown (0xfa)"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0x0300, "SSL 3.0"), (0x0301, "TLS 1.0"), (0x0303, "TLS 1.2"), (0x0304, "TLS 1.3"), (0xFEFD, "DTLS 1.2"),
     (0x7F1C, "unknown (0x7f1c)"), (0x1A1A, "GREASE")],
)  # fmt: skip
def test_version_names(value, text):
    assert names.version(value) == text


def _logged(pattern: str, base: int = 16) -> set[tuple[int, str]]:
    """(number, name) pairs from every corpus line matching ``pattern`` (groups ``id`` and ``name``)."""
    regex = re.compile(pattern)
    return {
        (int(match["id"], base), match["name"])
        for log in corpus_logs()
        for line in debug_lines(log)
        if (match := regex.search(line.message))
    }


def test_suite_names_are_those_mbedtls_prints():
    # 2.28 prints "add ciphersuite: 0xcca8 (TLS-ECDHE-...)", 3.6 "add ciphersuite: cca8, TLS-ECDHE-..."
    printed = _logged(r"add ciphersuite: (?:0x)?(?P<id>[0-9a-f]+),? \(?(?P<name>[A-Z0-9-]+)")
    assert len(printed) > 150
    wrong = [(hex(value), name) for value, name in printed if names.ciphersuite(value) != name]
    assert not wrong


def test_group_signature_and_extension_names_are_those_mbedtls_prints():
    groups = _logged(r"NamedGroup: (?P<name>\w+) \( (?P<id>[0-9a-f]+) \)")
    schemes = _logged(r"signature scheme \[(?P<id>[0-9a-f]+)\] (?P<name>\w+)")
    extensions = _logged(r"^\w+: (?P<name>\w+)\((?P<id>\d+)\) extension", base=10)
    assert groups and schemes and len(extensions) > 25
    assert all(names.group(value) == name for value, name in groups)
    assert all(names.signature_algorithm(value) == name for value, name in schemes)
    # mbedTLS prints "unrecognized(255)" for its own catch-all slot, not for an extension numbered 255
    assert all(names.extension(value) == name for value, name in extensions if name != "unrecognized")
