"""Record framing and handshake reassembly, on records taken from the corpus logs."""

from __future__ import annotations

import json

import pytest

from tests.tls_logs import CORPUS, debug_lines, read_fixture
from tlsdiag.tls import decode_stream
from tlsdiag.tls.handshake import CertificateMessage, ServerHello, decode_certificate
from tlsdiag.tls.records import (
    HANDSHAKE,
    Record,
    reassemble,
    split_handshake,
    split_records,
)

# The five records openssl s_server sent in corpus 05-client-cert-required-v2.28/bad.log.
SERVER_FLIGHT = [
    "certificate-tls12.hex",
    "server-key-exchange-ecdhe.hex",
    "certificate-request-tls12.hex",
    "server-hello-done.hex",
]


def _records(data: bytes, size: int, content_type: int = HANDSHAKE) -> bytes:
    """``data`` as records of at most ``size`` bytes: how a peer fragments a long message."""
    out = bytearray()
    for start in range(0, len(data), size):
        chunk = data[start : start + size]
        out += bytes([content_type, 3, 3]) + len(chunk).to_bytes(2, "big") + chunk
    return bytes(out)


def test_one_record_header_fields():
    split = split_records(read_fixture("client-hello-2.28.hex"))
    assert split.error is None
    (record,) = split.records
    # the log: "output record: msgtype = 22, version = [3:1], msglen = 295"
    assert (record.content_type, record.version, record.length) == (22, 0x0301, 295)
    assert not record.truncated and record.size == 300


def test_a_stream_of_records_is_split_at_each_header():
    parts = [read_fixture(name) for name in SERVER_FLIGHT]
    split = split_records(b"".join(parts))
    assert split.error is None
    assert [record.offset for record in split.records] == [0, 1782, 1782 + 406, 1782 + 406 + 115]
    assert [record.length for record in split.records] == [len(part) - 5 for part in parts]
    handshake = reassemble(split.records)
    assert [message.msg_type for message in handshake.messages] == [11, 12, 13, 14]
    assert [message.size for message in handshake.messages] == [1777, 401, 110, 4]  # the log's hslen values


def test_a_truncated_last_record_keeps_its_declared_length():
    # corpus 10-server-cert-over-16k-v2.28: the record declares 16384 bytes, the dump shows 4096 - 5 of them
    split = split_records(read_fixture("certificate-over-16k-first-record.hex"))
    (record,) = split.records
    assert record.truncated and split.truncated
    assert record.length == 16384 and len(record.fragment) == 4091
    assert split.to_json()["records"][0] == {
        "offset": 0,
        "content_type": 22,
        "content_type_name": "handshake",
        "version": "0x0303",
        "version_name": "TLS 1.2",
        "length": 16384,
        "present": 4091,
        "truncated": True,
    }


def test_the_certificate_larger_than_a_record_reports_its_full_size():
    flight = decode_stream(read_fixture("certificate-over-16k-first-record.hex"))
    (message,) = flight.handshake.messages
    # the log: "handshake message: msglen = 16384, type = 11, hslen = 22627"
    assert message.msg_type == 11 and message.size == 22627 and message.truncated
    (certificate,) = flight.messages
    assert isinstance(certificate, CertificateMessage)
    assert certificate.size == 22627 and certificate.certificate_sizes == (22617,)
    assert certificate.entries[0].truncated and certificate.entries[0].info is None
    assert "4081 of 22617" in (certificate.error or "")


def test_a_cut_header_is_reported():
    data = read_fixture("server-hello-done.hex") + b"\x16\x03"
    split = split_records(data)
    assert len(split.records) == 1
    assert split.truncated and split.error is not None and split.error.startswith("incomplete record header")
    assert split.unparsed_offset == 9 and split.unparsed_length == 2


def test_plain_http_is_not_a_record_and_is_shown_as_text():
    # corpus 09-plain-http-on-tls-port: mbedTLS logs "unknown record type 72" for an HTTP answer
    answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    split = split_records(answer)
    assert split.records == ()
    assert "unknown content type 72 ('H')" in (split.error or "")
    assert split.preview.startswith("HTTP/1.1 400 Bad Request")


def test_plain_http_matches_what_mbedtls_logged():
    lines = debug_lines(CORPUS / "09-plain-http-on-tls-port-v2.28" / "bad.log")
    assert any(line.message == "unknown record type 72" for line in lines)
    assert "unknown content type 72" in (split_records(b"HTTP/1.0 200 ok\r\n").error or "")


def test_a_cut_header_that_is_not_tls_is_not_called_cut():
    split = split_records(read_fixture("server-hello-done.hex") + b"HT")
    assert not split.truncated and "unknown content type 72" in (split.error or "")


def test_random_binary_is_not_previewed_as_text():
    split = split_records(bytes(range(0x80, 0xC0)))
    assert split.error is not None and split.preview == ""


def test_a_certificate_split_over_several_records_is_reassembled():
    record = split_records(read_fixture("certificate-tls12.hex")).records[0]
    whole = decode_certificate(record.fragment[4:], length=len(record.fragment) - 4)
    split = split_records(_records(record.fragment, 500))
    assert len(split.records) == 4
    handshake = reassemble(split.records)
    (message,) = handshake.messages
    assert message.records == 4 and not message.truncated
    assert message.body == record.fragment[4:]
    assert decode_certificate(message.body, length=message.length) == whole


def test_a_reassembled_message_missing_its_last_record_is_truncated():
    record = split_records(read_fixture("certificate-tls12.hex")).records[0]
    split = split_records(_records(record.fragment, 500)[: -(len(record.fragment) - 1500) - 5])
    (message,) = reassemble(split.records).messages
    assert message.records == 3 and message.truncated
    assert len(message.body) == 1500 - 4 and message.length == 1773


def test_two_messages_in_one_record():
    server_hello = split_records(read_fixture("server-hello-2.28.hex")).records[0].fragment
    done = split_records(read_fixture("server-hello-done.hex")).records[0].fragment
    flight = decode_stream(_records(server_hello + done, 16384))
    assert [message.msg_type for message in flight.handshake.messages] == [2, 14]
    assert all(message.records == 1 for message in flight.handshake.messages)
    assert isinstance(flight.messages[0], ServerHello)


def test_handshake_records_after_change_cipher_spec_are_encrypted():
    stream = (
        read_fixture("server-hello-2.28.hex")
        + bytes.fromhex("140303000101")
        + bytes.fromhex("1603030028") + bytes(range(40))  # an encrypted Finished: opaque bytes
    )  # fmt: skip
    flight = decode_stream(stream)
    assert [record.content_type for record in flight.records.records] == [22, 20, 22]
    assert [message.msg_type for message in flight.handshake.messages] == [2]
    assert flight.handshake.encrypted_records == 1


def test_decrypted_payload_is_split_without_record_headers():
    handshake = split_handshake(read_fixture("certificate-tls13.hex"))
    (message,) = handshake.messages
    assert message.msg_type == 11 and message.size == 1782 and handshake.incomplete_header == 0


def test_lengths_are_never_trusted():
    split = split_records(b"\x17\x03\x03\xff\xff" + b"abc")
    (record,) = split.records
    assert record.length == 65535 and record.fragment == b"abc" and record.oversized
    (message,) = split_handshake(b"\x0b\xff\xff\xff" + b"\x00" * 10).messages
    assert message.length == 0xFFFFFF and len(message.body) == 10


def test_json_is_plain_data():
    flight = decode_stream(b"".join(read_fixture(name) for name in SERVER_FLIGHT))
    document = flight.to_json()
    assert json.loads(json.dumps(document)) == document
    assert [message["name"] for message in document["handshake"]["messages"]] == [
        "Certificate",
        "ServerKeyExchange",
        "CertificateRequest",
        "ServerHelloDone",
    ]


def test_record_is_a_frozen_value():
    record = Record(22, 0x0303, 2, b"\x00\x00")
    with pytest.raises(AttributeError):
        record.length = 3  # type: ignore[misc]
