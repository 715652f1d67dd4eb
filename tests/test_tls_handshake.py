"""Handshake decoders on real messages from the corpus (tests/fixtures/tls/*.hex), checked against the logs."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from tests.tls_logs import (
    CORPUS,
    alert_lines,
    client_hello_blocks,
    debug_lines,
    decode_fixture,
    dumps,
    fixture_source,
    read_fixture,
)
from tlsdiag.tls import decode_stream, names
from tlsdiag.tls.handshake import (
    HELLO_RETRY_REQUEST_RANDOM,
    CertificateMessage,
    CertificateRequest,
    ClientHello,
    EncryptedExtensions,
    NewSessionTicket,
    ServerHello,
    ServerKeyExchange,
    decode_alert,
    decode_message,
    decode_server_hello,
    decode_server_key_exchange,
)
from tlsdiag.tls.records import HandshakeMessage, reassemble, split_records


def only(name: str, kind: type):
    flight = decode_fixture(name)
    assert len(flight.messages) == 1, flight.messages
    message = flight.messages[0]
    assert isinstance(message, kind)
    return message


def source_lines(name: str):
    log, _ = fixture_source(name)
    return debug_lines(log)


# --- ClientHello ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["client-hello-2.28.hex", "client-hello-3.6-tls13.hex", "client-hello-3.6-psk.hex"])
def test_client_hello_suites_and_server_name_are_the_logged_ones(name):
    hello = only(name, ClientHello)
    log, line = fixture_source(name)
    (block,) = [block for block in client_hello_blocks(debug_lines(log)) if block.record and block.record.line == line]
    assert block.suites, "the log lists the suites it adds"
    assert list(hello.cipher_suites) == block.suites + ([0x00FF] if block.scsv else [])
    assert hello.server_name == block.server_name


def test_client_hello_of_mbedtls_2_28():
    hello = only("client-hello-2.28.hex", ClientHello)
    assert hello.error is None and hello.extension_errors == ()
    assert hello.legacy_version == 0x0303 and hello.max_version == 0x0303 and hello.supported_versions == ()
    assert len(hello.cipher_suites) == 80 and hello.cipher_suites[0] == 0xCCA8 and hello.renegotiation_scsv
    assert hello.server_name == "localhost"
    assert hello.extension_types == (0, 13, 10, 11, 22, 23, 35)
    assert hello.signature_algorithms == (0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301)
    assert hello.supported_groups == (25, 28, 24, 27, 23, 22, 26, 21, 20, 19, 18, 29, 30)
    assert hello.ec_point_formats == (0,)
    assert hello.encrypt_then_mac and hello.extended_master_secret and hello.session_ticket
    assert hello.session_ticket_length == 0 and not hello.renegotiation_info and hello.session_id == b""


def test_client_hello_of_mbedtls_3_6_offering_tls13():
    hello = only("client-hello-3.6-tls13.hex", ClientHello)
    assert hello.error is None
    assert hello.supported_versions == (0x0304, 0x0303) and hello.max_version == 0x0304
    assert hello.key_share_groups == (0x001D,)
    assert hello.psk_key_exchange_modes == (1, 0)  # "Adding PSK-ECDHE ..." then "Adding pure PSK ..."
    assert hello.supported_groups == (0x1D, 0x17, 0x18, 0x1E, 0x19, 0x1A, 0x1B, 0x1C, 0x100, 0x101, 0x102, 0x103, 0x104)
    assert hello.signature_algorithms == (0x403, 0x503, 0x603, 0x806, 0x805, 0x804, 0x601, 0x501, 0x401)
    assert len(hello.session_id or b"") == 32 and not hello.pre_shared_key


def test_client_hello_groups_and_signature_schemes_are_the_logged_ones():
    hello = only("client-hello-3.6-tls13.hex", ClientHello)
    lines = [line.message for line in source_lines("client-hello-3.6-tls13.hex")]
    groups = [int(m.group(1), 16) for text in lines if (m := re.match(r"got supported group\((\w+)\)", text))]
    schemes = [int(m.group(1), 16) for text in lines if (m := re.match(r"sent signature scheme \[(\w+)\]", text))]
    assert list(hello.supported_groups) == groups
    assert list(hello.signature_algorithms) == schemes
    logged_names = [text.split("NamedGroup: ")[1].split(" (")[0] for text in lines if text.startswith("NamedGroup: ")]
    assert names.many(hello.supported_groups, names.group) == logged_names


def test_client_hello_with_a_tls13_psk():
    hello = only("client-hello-3.6-psk.hex", ClientHello)
    assert hello.error is None and hello.pre_shared_key
    assert hello.extension_types[-1] == 41  # RFC 8446: pre_shared_key comes last
    assert len(hello.cipher_suites) == 171


def test_client_hello_json_follows_the_contract():
    document = only("client-hello-3.6-tls13.hex", ClientHello).to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["version"] == "TLS 1.3"
    assert document["ciphersuites"][:3] == ["0x1303", "0x1302", "0x1301"]
    assert document["ciphersuite_names"][0] == "TLS1-3-CHACHA20-POLY1305-SHA256"
    assert document["server_name"] == "localhost"
    assert {"type": 43, "name": "supported_versions", "length": 5} in document["extensions"]
    assert document["key_share_groups"] == ["x25519"]


def test_a_cut_client_hello_keeps_the_suites_before_the_cut():
    record = split_records(read_fixture("client-hello-2.28.hex")).records[0]
    cut = HandshakeMessage(1, record.length - 4, record.fragment[4:100])
    hello = decode_message(cut)
    assert isinstance(hello, ClientHello)
    # 96 body bytes: version 2 + random 32 + empty session id 1 + list length 2, then 59 bytes of suites
    assert hello.cipher_suites == only("client-hello-2.28.hex", ClientHello).cipher_suites[:29]
    assert "cipher suites: cut" in (hello.error or "")
    assert hello.server_name is None


# --- ServerHello / HelloRetryRequest ---------------------------------------------------------------------------


def test_server_hello_tls12_from_a_tls13_capable_server():
    hello = only("server-hello-2.28.hex", ServerHello)
    assert hello.error is None
    assert hello.cipher_suite == 0xCCA8 and hello.version == 0x0303 and not hello.tls13
    assert hello.downgrade == "TLS 1.2"  # the random ends in DOWNGRD\x01
    assert hello.renegotiation_info and hello.renegotiation_info_length == 0
    assert hello.extended_master_secret and hello.session_ticket and not hello.encrypt_then_mac
    assert hello.ec_point_formats == (0, 1, 2)


@pytest.mark.parametrize("name", ["server-hello-2.28.hex", "server-hello-3.6-tls13.hex"])
def test_server_hello_suite_is_the_logged_one(name):
    hello = only(name, ServerHello)
    chosen = [
        int(match.group(1), 16)
        for line in source_lines(name)
        if (match := re.match(r"server hello, chosen ciphersuite: (?:\( )?([0-9a-f]{2,4})\b", line.message))
    ]
    assert chosen[0] == hello.cipher_suite


def test_server_hello_tls13():
    hello = only("server-hello-3.6-tls13.hex", ServerHello)
    assert hello.error is None and not hello.hello_retry_request
    assert hello.legacy_version == 0x0303 and hello.selected_version == 0x0304 and hello.tls13
    assert hello.cipher_suite == 0x1303 and hello.key_share_group == 0x1D and hello.key_share_length == 32
    assert hello.downgrade is None and hello.to_json()["name"] == "ServerHello"


def test_hello_retry_request_is_recognised_by_its_random():
    assert hashlib.sha256(b"HelloRetryRequest").digest() == HELLO_RETRY_REQUEST_RANDOM
    real = split_records(read_fixture("server-hello-3.6-tls13.hex")).records[0].fragment[4:]
    session_id = real[34 : 34 + 33]  # length byte and the 32-byte echo of the client's session id
    extensions = bytes.fromhex("002b00020304003300020017")  # supported_versions, key_share (group only)
    body = real[:2] + HELLO_RETRY_REQUEST_RANDOM + session_id + real[67:70] + len(extensions).to_bytes(2, "big")
    retry = decode_server_hello(body + extensions)
    assert retry.error is None and retry.hello_retry_request
    assert retry.key_share_group == 0x0017 and retry.key_share_length is None and retry.version == 0x0304
    assert retry.to_json()["name"] == "HelloRetryRequest"


# --- Certificate -----------------------------------------------------------------------------------------------


def test_certificate_tls12_layout():
    message = only("certificate-tls12.hex", CertificateMessage)
    assert message.error is None and message.tls13 is False
    assert message.certificate_sizes == (899, 865) and message.size == 1777 and message.list_length == 1770
    assert [entry.der[:1] for entry in message.entries] == [b"\x30", b"\x30"]


def test_certificate_tls13_layout():
    message = only("certificate-tls13.hex", CertificateMessage)
    assert message.error is None and message.tls13 is True and message.context == b""
    assert message.certificate_sizes == (899, 865) and message.size == 1782
    assert all(entry.extensions == () for entry in message.entries)


@pytest.mark.parametrize("name", ["certificate-tls12.hex", "certificate-tls13.hex"])
def test_certificate_contents_match_the_logged_dump(name):
    from tests.tls_logs import peer_certificates

    message = only(name, CertificateMessage)
    _, dump_line = fixture_source(name)
    chains = [chain for line, chain in peer_certificates(source_lines(name)) if line > dump_line]
    logged = chains[0]
    assert len(logged) == len(message.entries)
    for printed, entry in zip(logged, message.entries, strict=True):
        info = entry.info
        assert info is not None and info.error is None
        assert info.subject == printed["subject name"]
        assert info.issuer == printed["issuer name"]
        assert info.serial == printed["serial number"]
        assert info.not_before is not None and info.not_before.strftime("%Y-%m-%d %H:%M:%S") == printed["issued  on"]
        assert info.not_after is not None and info.not_after.strftime("%Y-%m-%d %H:%M:%S") == printed["expires on"]
        assert f"{info.key_size} bits" == printed["RSA key size"]
        assert printed["basic constraints"] == f"CA={'true' if info.is_ca else 'false'}"
        assert list(info.san_dns) == printed["dns"]


def test_certificate_json():
    document = only("certificate-tls12.hex", CertificateMessage).to_json()
    assert json.loads(json.dumps(document)) == document
    assert [item["certificate"]["common_name"] for item in document["certificates"]] == [
        "localhost",
        "tlsdiag Test Root CA",
    ]


# --- CertificateRequest ----------------------------------------------------------------------------------------


def test_certificate_request_tls12():
    request = only("certificate-request-tls12.hex", CertificateRequest)
    assert request.error is None and request.tls13 is False
    assert request.certificate_types == (1, 2, 64)  # rsa_sign, dss_sign, ecdsa_sign
    assert len(request.signature_algorithms) == 20 and request.signature_algorithms[0] == 0x0403
    assert request.ca_names_count == 1 and request.ca_names == ("O=tlsdiag test, CN=tlsdiag Test Root CA",)


def test_certificate_request_signature_algorithms_are_the_logged_ones():
    request = only("certificate-request-tls12.hex", CertificateRequest)
    logged = [
        (int(match.group(1)) << 8) | int(match.group(2))
        for line in source_lines("certificate-request-tls12.hex")
        if (match := re.match(r"Supported Signature Algorithm found: (\d+),(\d+)", line.message))
    ]
    assert list(request.signature_algorithms) == logged


def test_certificate_request_tls13():
    request = only("certificate-request-tls13.hex", CertificateRequest)
    assert request.error is None and request.tls13 is True and request.context == b""
    assert [extension.type for extension in request.extensions] == [13, 47]
    assert request.signature_algorithms[:3] == (0x0403, 0x0503, 0x0603)
    assert request.ca_names == ("O=tlsdiag test, CN=tlsdiag Test Root CA",)


# --- ServerKeyExchange -----------------------------------------------------------------------------------------


def test_server_key_exchange_ecdhe():
    exchange = only("server-key-exchange-ecdhe.hex", ServerKeyExchange)
    assert exchange.error is None and exchange.kind == "ecdhe"
    assert exchange.curve_type == 3 and exchange.named_curve == 0x0019 and names.group(0x0019) == "secp521r1"
    assert exchange.public_key_length == 133  # uncompressed P-521 point
    assert exchange.signature_algorithm == 0x0601 and exchange.signature_length == 256
    body = split_records(read_fixture("server-key-exchange-ecdhe.hex")).records[0].fragment[4:]
    assert decode_server_key_exchange(body, key_exchange="ECDHE_RSA") == ServerKeyExchange(
        **{**exchange.__dict__, "key_exchange": "ECDHE_RSA"}
    )


def test_server_key_exchange_curve_is_the_logged_one():
    exchange = only("server-key-exchange-ecdhe.hex", ServerKeyExchange)
    logged = [line.message for line in source_lines("server-key-exchange-ecdhe.hex") if "ECDH curve:" in line.message]
    assert logged == [f"ECDH curve: {names.group(exchange.named_curve or 0)}"]


def test_server_key_exchange_dhe():
    # No corpus server chose a DHE suite; this body follows RFC 5246 7.4.3 with a 2048-bit prime.
    prime = b"\xff" * 256
    body = (
        (256).to_bytes(2, "big") + prime + b"\x00\x01\x02" + (256).to_bytes(2, "big") + b"\x05" * 256
        + b"\x08\x04" + (256).to_bytes(2, "big") + b"\x00" * 256
    )  # fmt: skip
    for hint in (None, "DHE_RSA"):
        exchange = decode_server_key_exchange(body, key_exchange=hint)
        assert exchange.error is None and exchange.kind == "dhe"
        assert exchange.dh_prime_bits == 2048 and exchange.public_key_length == 256
        assert exchange.signature_algorithm == 0x0804


def test_server_key_exchange_for_a_suite_without_one():
    exchange = decode_server_key_exchange(b"\x03\x00\x17", key_exchange="RSA")
    assert exchange.error is not None and "sends no ServerKeyExchange" in exchange.error


def test_a_server_flight_learns_the_key_exchange_from_its_server_hello():
    lines = debug_lines(CORPUS / "05-client-cert-required-v2.28" / "bad.log")
    incoming = [dump.data for dump in dumps(lines) if dump.label == "input record from network"]
    flight = decode_stream(b"".join(incoming[:5]))
    assert [type(message).__name__ for message in flight.messages] == [
        "ServerHello",
        "CertificateMessage",
        "ServerKeyExchange",
        "CertificateRequest",
        "HandshakeMessage",
    ]
    exchange = flight.messages[2]
    assert isinstance(exchange, ServerKeyExchange) and exchange.key_exchange == "ECDHE_RSA"


# --- NewSessionTicket, EncryptedExtensions, others -------------------------------------------------------------


def test_new_session_ticket_tls12():
    ticket = only("new-session-ticket-tls12.hex", NewSessionTicket)
    assert ticket.error is None and ticket.tls13 is False
    assert ticket.lifetime == 7200 and ticket.ticket_length == 176


def test_new_session_ticket_tls13():
    ticket = only("new-session-ticket-tls13.hex", NewSessionTicket)
    assert ticket.error is None and ticket.tls13 is True
    assert ticket.lifetime == 86400 and ticket.ticket_length == 89 and ticket.nonce_length == 32
    assert ticket.extensions == ()


def test_encrypted_extensions_without_extensions():
    extensions = only("encrypted-extensions-tls13.hex", EncryptedExtensions)
    assert extensions.error is None and extensions.extensions == ()


def test_other_messages_are_kept_by_type():
    done = only("server-hello-done.hex", HandshakeMessage)
    assert (done.msg_type, done.length, done.name) == (14, 0, "ServerHelloDone")
    finished = decode_message(HandshakeMessage(20, 12, b"\x00" * 12))
    assert isinstance(finished, HandshakeMessage) and finished.name == "Finished"


# --- Alerts ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alert-received-handshake-failure.hex", (2, 40, "handshake_failure")),
        ("alert-sent-unknown-ca.hex", (2, 48, "unknown_ca")),
    ],
)
def test_alert_records(name, expected):
    (alert,) = decode_fixture(name).alerts
    assert (alert.level, alert.description, names.alert(alert.description or 0)) == expected
    assert alert.fatal and alert.error is None
    assert alert.to_json() == {"level": 2, "level_name": "fatal", "description": expected[1], "name": expected[2]}


@pytest.mark.parametrize("name", ["alert-received-handshake-failure.hex", "alert-sent-unknown-ca.hex"])
def test_alert_records_are_the_logged_ones(name):
    (alert,) = decode_fixture(name).alerts
    _, line = fixture_source(name)
    direction = "in" if "received" in name else "out"
    logged = [entry for entry in alert_lines(source_lines(name)) if entry[0] == direction and abs(entry[3] - line) < 12]
    assert [(level, description) for _, level, description, _ in logged] == [(alert.level, alert.description)]


def test_encrypted_or_cut_alerts_are_not_guessed():
    assert decode_alert(bytes(26)).level is None and "not a plaintext alert" in (decode_alert(bytes(26)).error or "")
    assert decode_alert(b"\x02").error == "alert cut: 1 of 2 bytes"
    odd = decode_alert(b"\x07\x28")
    assert (odd.level, odd.description) == (7, 40) and "neither warning" in (odd.error or "")


def test_reassembly_feeds_the_decoders():
    records = split_records(b"".join(read_fixture(name) for name in ("certificate-tls12.hex", "server-hello-done.hex")))
    messages = reassemble(records.records).messages
    assert isinstance(decode_message(messages[0]), CertificateMessage)
