"""No decoder raises, whatever the bytes: random input, every truncation of real messages, corrupted bytes.

Log bytes are cut, corrupted or not TLS at all, and one bad dump must not take a diagnosis down. Each
entry point gets random bytes (hypothesis), every prefix of every real fixture, and real fixtures with
bytes overwritten. Results must also serialise to JSON, and the decoders' last-resort catch-all
(``internal error while decoding``) must never fire: it exists for production, not to hide bugs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tls_logs import TLS_FIXTURES, read_fixture
from tlsdiag.tls import decode_stream
from tlsdiag.tls.certificates import find_pem_certificates, format_der_name, parse_certificate
from tlsdiag.tls.handshake import (
    decode_alert,
    decode_certificate,
    decode_certificate_request,
    decode_client_hello,
    decode_encrypted_extensions,
    decode_messages,
    decode_new_session_ticket,
    decode_server_hello,
    decode_server_key_exchange,
)
from tlsdiag.tls.records import reassemble, split_handshake, split_records

FIXTURES = {path.name: read_fixture(path.name) for path in sorted(TLS_FIXTURES.glob("*.hex"))}
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

BODY_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "client_hello": decode_client_hello,
    "server_hello": decode_server_hello,
    "encrypted_extensions": decode_encrypted_extensions,
    "certificate": decode_certificate,
    "certificate_tls12": lambda body: decode_certificate(body, tls13=False, length=len(body) + 100),
    "certificate_tls13": lambda body: decode_certificate(body, tls13=True),
    "certificate_request": decode_certificate_request,
    "certificate_request_tls12": lambda body: decode_certificate_request(body, tls13=False),
    "certificate_request_tls13": lambda body: decode_certificate_request(body, tls13=True),
    "server_key_exchange": decode_server_key_exchange,
    **{
        f"server_key_exchange_{kx}": (lambda body, kx=kx: decode_server_key_exchange(body, key_exchange=kx))
        for kx in ("ECDHE_RSA", "ECDHE_PSK", "DHE_RSA", "DHE_PSK", "PSK", "ECJPAKE", "RSA")
    },
    "new_session_ticket": decode_new_session_ticket,
    "new_session_ticket_tls12": lambda body: decode_new_session_ticket(body, tls13=False),
    "new_session_ticket_tls13": lambda body: decode_new_session_ticket(body, tls13=True),
    "alert": decode_alert,
}


def plain(result: Any) -> None:
    """``result.to_json()`` is JSON and carries no internal error."""
    text = json.dumps(result.to_json())
    assert "internal error" not in text, text[:400]


def everything(data: bytes) -> None:
    """Every entry point on ``data``, as a record stream, as raw handshake bytes and as a message body."""
    plain(decode_stream(data))
    split = split_records(data)
    plain(split)
    plain(reassemble(split.records))
    for record in split.records:
        assert len(record.fragment) <= min(record.length, len(data))  # sliced, never allocated
    handshake = split_handshake(data)
    plain(handshake)
    for message in handshake.messages:
        assert len(message.body) <= min(message.length, len(data))
    for tls13 in (None, False, True):
        for decoded in decode_messages(handshake.messages, tls13=tls13):
            plain(decoded)
    for decode in BODY_DECODERS.values():
        plain(decode(data))


@SETTINGS
@given(st.binary(max_size=1024))
def test_random_bytes(data):
    everything(data)


@SETTINGS
@given(st.binary(max_size=512))
def test_random_bytes_behind_a_valid_record_header(data):
    for content_type in (21, 22):
        everything(bytes([content_type, 3, 3]) + len(data).to_bytes(2, "big") + data)
    everything(b"\x16\x03\x03" + (len(data) + 4).to_bytes(2, "big") + b"\x01" + len(data).to_bytes(3, "big") + data)


@SETTINGS
@given(st.sampled_from(sorted(FIXTURES)), st.data())
def test_corrupted_real_messages(name, data):
    original = bytearray(FIXTURES[name])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    everything(bytes(original))


def test_every_truncation_of_every_real_message():
    for name, full in FIXTURES.items():
        step = 1 if len(full) <= 2000 else 7
        for end in range(0, len(full) + 1, step):
            cut = full[:end]
            plain(decode_stream(cut))
            handshake = split_handshake(cut)
            for decoded in decode_messages(handshake.messages):
                plain(decoded)
            if end < len(full):
                flight = decode_stream(cut)
                incomplete = flight.records.truncated or flight.records.error or not flight.records.records
                assert incomplete or "no record header" in (TLS_FIXTURES / name).read_text(), (name, end)


@SETTINGS
@given(st.binary(max_size=2048))
def test_certificate_parsing_never_raises(data):
    plain(parse_certificate(data))
    format_der_name(data)


@SETTINGS
@given(st.sampled_from(sorted(FIXTURES)), st.integers(0, 2000))
def test_truncated_certificates_never_raise(name, cut):
    for message in decode_stream(FIXTURES[name]).messages:
        for entry in getattr(message, "entries", ()):
            plain(parse_certificate(entry.der[:cut]))


@SETTINGS
@given(st.text(max_size=2000))
def test_pem_search_never_raises(text):
    for block in find_pem_certificates(text):
        assert block.der is None or isinstance(block.der, bytes)


PEM_PIECES = [
    "-----BEGIN CERTIFICATE-----",
    "-----END CERTIFICATE-----",
    "MIIB",
    "\\n",
    '"',
    "\n",
    "=",
    "+/",
    "\x1b[0m",
]


@SETTINGS
@given(st.lists(st.sampled_from(PEM_PIECES), max_size=40))
def test_pem_search_on_marker_soup(parts):
    find_pem_certificates("".join(parts))
