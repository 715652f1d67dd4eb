"""A TLS 1.2 ClientHello of our own, and what the server's answer shows in clear.

sslyze reports versions, suites, curves and the chain, but not what an embedded client trips over in the
record layer: whether the server honours max_fragment_length, how long its handshake records are, how
large its Certificate message is on the wire, whether it sends a CertificateRequest. A TLS 1.2 server
sends all of that before any key is agreed, so one ClientHello shaped like an mbedTLS device's, and the
records up to ServerHelloDone, are enough. Nothing is encrypted and the connection is closed right after.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import time

from tlsdiag.probe.profile import Handshake

RECORD_HEADER = 5
HANDSHAKE = 22
ALERT = 21
SERVER_HELLO, CERTIFICATE, CERTIFICATE_REQUEST, SERVER_HELLO_DONE = 2, 11, 13, 14
MAX_FLIGHT = 256 * 1024  # no server flight is this long; past it the probe stops reading
MFL_CODES = {512: 1, 1024: 2, 2048: 3, 4096: 4}

# What an mbedTLS client with a broad configuration offers: ECDHE and plain RSA key exchange, AES-GCM,
# AES-CBC, ChaCha20 and AES-CCM, so that any server that speaks TLS 1.2 picks one.
SUITES = (
    0xC02B, 0xC02C, 0xC02F, 0xC030, 0xCCA9, 0xCCA8, 0xC023, 0xC024, 0xC027, 0xC028, 0xC009, 0xC00A, 0xC013,
    0xC014, 0x009E, 0x009F, 0xC0AC, 0xC0AD, 0x009C, 0x009D, 0x003C, 0x003D, 0x002F, 0x0035, 0xC09C, 0xC09D,
)  # fmt: skip
GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001A, 0x001B, 0x001C)
SIGNATURE_ALGORITHMS = (
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
)  # fmt: skip
ALERTS = {0: "close_notify", 10: "unexpected_message", 40: "handshake_failure", 42: "bad_certificate",
          47: "illegal_parameter", 50: "decode_error", 70: "protocol_version", 71: "insufficient_security",
          80: "internal_error", 112: "unrecognized_name", 116: "certificate_required"}  # fmt: skip


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, len(body)) + body


def client_hello(server_name: str | None, mfl: int | None) -> bytes:
    """The record of a TLS 1.2 ClientHello; ``mfl`` (bytes) adds the max_fragment_length extension."""
    extensions = b""
    if server_name:
        name = server_name.encode("idna")
        extensions += _extension(0, _vector(b"\x00" + _vector(name, 2), 2))
    if mfl:
        extensions += _extension(1, bytes([MFL_CODES[mfl]]))
    extensions += _extension(10, _vector(b"".join(struct.pack(">H", group) for group in GROUPS), 2))
    extensions += _extension(11, _vector(b"\x00", 1))
    extensions += _extension(13, _vector(b"".join(struct.pack(">H", scheme) for scheme in SIGNATURE_ALGORITHMS), 2))
    extensions += _extension(23, b"")  # extended_master_secret
    extensions += _extension(35, b"")  # session_ticket: an empty one asks for a new ticket
    extensions += _extension(0xFF01, b"\x00")  # renegotiation_info
    body = (
        b"\x03\x03"
        + os.urandom(32)
        + _vector(b"", 1)
        + _vector(b"".join(struct.pack(">H", suite) for suite in SUITES), 2)
        + _vector(b"\x00", 1)
        + _vector(extensions, 2)
    )
    message = bytes([1]) + len(body).to_bytes(3, "big") + body
    return bytes([HANDSHAKE, 3, 1]) + _vector(message, 2)


def exchange(host: str, port: int, server_name: str | None, mfl: int | None = None, timeout: float = 10.0) -> Handshake:
    """Send one ClientHello and read the server's flight up to ServerHelloDone (or an alert, or the end)."""
    found = Handshake(server_name=server_name, requested_mfl=mfl)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(client_hello(server_name, mfl))
            _read_flight(connection, found, deadline)
    except TimeoutError:
        found.error = "the server stopped answering"
    except OSError as error:
        found.error = error.strerror or type(error).__name__
    return found


def _read_flight(connection: socket.socket, found: Handshake, deadline: float) -> None:
    buffer = b""
    messages = b""
    total = 0
    while total < MAX_FLIGHT:
        while len(buffer) < RECORD_HEADER or len(buffer) < RECORD_HEADER + _length(buffer):
            connection.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = connection.recv(65536)
            if not chunk:
                found.error = found.error or "the server closed the connection"
                return
            buffer += chunk
            total += len(chunk)
        kind, length = buffer[0], _length(buffer)
        payload, buffer = buffer[RECORD_HEADER : RECORD_HEADER + length], buffer[RECORD_HEADER + length :]
        if kind == ALERT and len(payload) >= 2:
            level = "fatal" if payload[0] == 2 else "warning"
            found.alert = f"{level} {ALERTS.get(payload[1], 'alert')} ({payload[1]})"
            if payload[0] == 2:
                return
            continue
        if kind != HANDSHAKE:
            return
        found.records.append(length)
        rest = _take_messages(messages + payload, found)
        if rest is None:
            return
        messages = rest


def _length(buffer: bytes) -> int:
    return int.from_bytes(buffer[3:5], "big")


def _take_messages(messages: bytes, found: Handshake) -> bytes | None:
    """Consume whole handshake messages; None once ServerHelloDone has come."""
    while len(messages) >= 4:
        kind, length = messages[0], int.from_bytes(messages[1:4], "big")
        if len(messages) < 4 + length:
            return messages
        body, messages = messages[4 : 4 + length], messages[4 + length :]
        if kind == SERVER_HELLO:
            _server_hello(body, found)
        elif kind == CERTIFICATE:
            found.certificate_message = 4 + length
            if len(body) > 6:
                first = int.from_bytes(body[3:6], "big")
                found.leaf_sha256 = hashlib.sha256(body[6 : 6 + first]).hexdigest()
        elif kind == CERTIFICATE_REQUEST:
            found.certificate_request = True
        elif kind == SERVER_HELLO_DONE:
            return None
    return messages


def _server_hello(body: bytes, found: Handshake) -> None:
    """The extensions the server echoed: max_fragment_length and session_ticket."""
    found.mfl_accepted = False
    found.session_ticket = False
    try:
        position = 2 + 32
        position += 1 + body[position]  # session id
        position += 2 + 1  # suite, compression
        if position + 2 > len(body):
            return
        end = position + 2 + int.from_bytes(body[position : position + 2], "big")
        position += 2
        while position + 4 <= min(end, len(body)):
            kind, size = struct.unpack(">HH", body[position : position + 4])
            if kind == 1:
                found.mfl_accepted = True
            elif kind == 35:
                found.session_ticket = True
            position += 4 + size
    except IndexError:
        return
