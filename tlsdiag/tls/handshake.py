"""Handshake message bodies and alert records, decoded from bytes into numbers.

One decoder per message a diagnosis reads: ClientHello, ServerHello/HelloRetryRequest and
EncryptedExtensions (in :mod:`~tlsdiag.tls.hello`, re-exported here), Certificate (the chain and its
size), CertificateRequest (which client certificate the server wants), ServerKeyExchange (the curve
or the DH prime) and NewSessionTicket; any other type (Finished, ServerHelloDone ...) stays a
:class:`~tlsdiag.tls.records.HandshakeMessage`, known by its type and length. Every decoder takes
untrusted bytes and returns an object: when the bytes end or contradict themselves, the fields decoded
so far are kept and ``error`` says where it stopped.

Values stay numbers (IANA code points); ``to_json`` adds the names from :mod:`tlsdiag.tls.names`. The
TLS 1.2 and 1.3 layouts of Certificate, CertificateRequest and NewSessionTicket differ: a decoder is
told which one it reads (``tls13``) or, when the caller does not know, picks the layout whose length
fields agree with the bytes. TLS only: DTLS handshake headers (with their fragment fields) are not
decoded here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from tlsdiag.tls import names
from tlsdiag.tls.extensions import (
    CERTIFICATE_ENTRY,
    CERTIFICATE_REQUEST,
    NEW_SESSION_TICKET,
    Extension,
    extensions_json,
    read_extensions,
)
from tlsdiag.tls.hello import (
    HELLO_RETRY_REQUEST_RANDOM,
    HS_CLIENT_HELLO,
    HS_ENCRYPTED_EXTENSIONS,
    HS_SERVER_HELLO,
    ClientHello,
    EncryptedExtensions,
    ServerHello,
    decode_client_hello,
    decode_encrypted_extensions,
    decode_server_hello,
)
from tlsdiag.tls.records import HandshakeMessage
from tlsdiag.tls.wire import DecodeError, Reader, decode_into, uint_list

if TYPE_CHECKING:
    from tlsdiag.tls.certificates import CertificateInfo

HS_NEW_SESSION_TICKET = 4
HS_CERTIFICATE = 11
HS_SERVER_KEY_EXCHANGE = 12
HS_CERTIFICATE_REQUEST = 13


@dataclass(frozen=True)
class CertificateEntry:
    """One certificate of a Certificate message: the size it declares and the DER bytes present."""

    length: int
    der: bytes
    extensions: tuple[Extension, ...] = ()  # TLS 1.3 per-certificate extensions

    @property
    def truncated(self) -> bool:
        return len(self.der) < self.length

    @cached_property
    def info(self) -> CertificateInfo | None:
        """The parsed certificate; None while its bytes are incomplete."""
        if self.truncated:
            return None
        from tlsdiag.tls.certificates import parse_certificate  # deferred: cryptography is a heavy import

        return parse_certificate(self.der)

    def to_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "length": self.length,
            "present": len(self.der),
            "truncated": self.truncated,
            "certificate": None if info is None else info.to_json(),
        }


@dataclass(frozen=True)
class CertificateMessage:
    """A Certificate message: the chain as DER certificates with their sizes, and the message size."""

    MSG_TYPE: ClassVar[int] = HS_CERTIFICATE

    tls13: bool | None = None
    length: int = 0  # declared body length
    context: bytes = b""  # TLS 1.3 certificate_request_context
    list_length: int | None = None  # declared length of the certificate list
    entries: tuple[CertificateEntry, ...] = ()
    error: str | None = None

    @property
    def size(self) -> int:
        """Bytes of the whole message with its 4-byte header (mbedTLS's ``hslen``)."""
        return self.length + 4

    @property
    def certificate_sizes(self) -> tuple[int, ...]:
        return tuple(entry.length for entry in self.entries)

    @property
    def truncated(self) -> bool:
        return any(entry.truncated for entry in self.entries) or self.error is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "tls13": self.tls13,
            "size": self.size,
            "list_length": self.list_length,
            "certificates": [entry.to_json() for entry in self.entries],
        }
        if self.error:
            data["error"] = self.error
        return data


def decode_certificate(body: bytes, *, length: int | None = None, tls13: bool | None = None) -> CertificateMessage:
    """``length``: the body length the message header declares (defaults to ``len(body)``)."""
    declared = len(body) if length is None else length
    layout = _certificate_layout(body, declared) if tls13 is None else tls13

    def run(found: dict[str, Any]) -> None:
        found["tls13"], found["length"] = layout, declared
        reader = Reader(body)
        if layout:
            found["context"] = reader.vector(1, "certificate request context")
        chain, found["list_length"] = reader.vector_prefix(3, "certificate list")
        entries: list[CertificateEntry] = []
        try:
            _read_certificate_entries(Reader(chain), layout, entries)
        finally:
            found["entries"] = tuple(entries)
        if len(chain) < found["list_length"]:
            raise DecodeError(f"certificate list: {len(chain)} of {found['list_length']} bytes present")
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the certificate list")

    return decode_into(CertificateMessage, run)


def _read_certificate_entries(reader: Reader, tls13: bool, entries: list[CertificateEntry]) -> None:
    while reader.remaining:
        der, size = reader.vector_prefix(3, "certificate")
        if len(der) < size:
            entries.append(CertificateEntry(size, der))
            raise DecodeError(f"certificate #{len(entries)}: {len(der)} of {size} bytes present")
        extensions: dict[str, Any] = {}
        if tls13:
            if reader.remaining < 2:
                entries.append(CertificateEntry(size, der))
                raise DecodeError(f"certificate #{len(entries)}: extensions missing")
            try:
                read_extensions(reader, extensions, CERTIFICATE_ENTRY)
            finally:
                entries.append(CertificateEntry(size, der, extensions.get("extensions", ())))
        else:
            entries.append(CertificateEntry(size, der))


def _certificate_layout(body: bytes, declared: int) -> bool:
    """True when the lengths fit TLS 1.3's layout (context, then list) and not TLS 1.2's (list only)."""
    if len(body) >= 3 and int.from_bytes(body[0:3], "big") + 3 == declared:
        return False
    if body:
        context = body[0]
        head = body[1 + context : 4 + context]
        if len(head) == 3 and int.from_bytes(head, "big") + 4 + context == declared:
            return True
    return False


@dataclass(frozen=True)
class CertificateRequest:
    """What client certificate the server asks for: certificate types, signature algorithms, CA names."""

    MSG_TYPE: ClassVar[int] = HS_CERTIFICATE_REQUEST

    tls13: bool | None = None
    certificate_types: tuple[int, ...] = ()  # TLS 1.2 only
    signature_algorithms: tuple[int, ...] = ()
    signature_algorithms_cert: tuple[int, ...] = ()
    ca_names_der: tuple[bytes, ...] = ()
    context: bytes = b""  # TLS 1.3 certificate_request_context
    extensions: tuple[Extension, ...] = ()  # TLS 1.3
    extension_errors: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ca_names_count(self) -> int:
        return len(self.ca_names_der)

    @property
    def ca_names(self) -> tuple[str | None, ...]:
        """The CA distinguished names in mbedTLS's form; None for a name that is not valid DER."""
        from tlsdiag.tls.certificates import format_der_name

        return tuple(format_der_name(name) for name in self.ca_names_der)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "tls13": self.tls13,
            "certificate_types": list(self.certificate_types),
            "signature_algorithms": names.many(self.signature_algorithms, names.signature_algorithm),
            "ca_names_count": self.ca_names_count,
            "ca_names": list(self.ca_names),
        }
        if self.tls13:
            extensions_json(data, self.extensions, self.extension_errors)
        if self.error:
            data["error"] = self.error
        return data


def decode_certificate_request(
    body: bytes, *, length: int | None = None, tls13: bool | None = None
) -> CertificateRequest:
    declared = len(body) if length is None else length
    layout = _request_layout(body, declared) if tls13 is None else tls13

    def run(found: dict[str, Any]) -> None:
        found["tls13"] = layout
        reader = Reader(body)
        if layout:
            found["context"] = reader.vector(1, "certificate request context")
            read_extensions(reader, found, CERTIFICATE_REQUEST)
        else:
            found["certificate_types"] = tuple(reader.vector(1, "certificate types"))
            found["signature_algorithms"] = uint_list(reader.vector(2, "signature algorithms"), 2)
            authorities, declared_cas = reader.vector_prefix(2, "certificate authorities")
            inner, names_found = Reader(authorities), []
            try:
                while inner.remaining:
                    names_found.append(inner.vector(2, "distinguished name"))
            finally:
                found["ca_names_der"] = tuple(names_found)
            if len(authorities) < declared_cas:
                raise DecodeError(f"certificate authorities: {len(authorities)} of {declared_cas} bytes present")
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the request")

    return decode_into(CertificateRequest, run)


def _request_layout(body: bytes, declared: int) -> bool:
    """True when the lengths fit TLS 1.3's CertificateRequest (context, extensions) rather than TLS 1.2's."""
    if body:
        types = body[0]
        signatures = body[1 + types : 3 + types]
        if len(signatures) == 2:
            cas_at = 3 + types + int.from_bytes(signatures, "big")
            cas = body[cas_at : cas_at + 2]
            if len(cas) == 2 and cas_at + 2 + int.from_bytes(cas, "big") == declared:
                return False
        context = body[0]
        extensions = body[1 + context : 3 + context]
        if len(extensions) == 2 and 3 + context + int.from_bytes(extensions, "big") == declared:
            return True
    return False


#: Key exchanges (as ``names.key_exchange`` spells them) -> what their ServerKeyExchange carries.
_KEY_EXCHANGE_PARAMS = {
    "ECDHE_RSA": ("ecdhe", False),
    "ECDHE_ECDSA": ("ecdhe", False),
    "ECDHE_PSK": ("ecdhe", True),
    "DHE_RSA": ("dhe", False),
    "DHE_PSK": ("dhe", True),
    "PSK": ("psk", True),
    "RSA_PSK": ("psk", True),
    "ECJPAKE": ("ecjpake", False),
}


@dataclass(frozen=True)
class ServerKeyExchange:
    """TLS 1.2 ServerKeyExchange: the ECDHE curve or the DHE prime size, the PSK hint, the signature."""

    MSG_TYPE: ClassVar[int] = HS_SERVER_KEY_EXCHANGE

    kind: str = "unknown"  # ecdhe | dhe | psk | ecjpake | unknown
    key_exchange: str | None = None  # the suite's key exchange, when the caller knew it
    psk_identity_hint: bytes | None = None
    curve_type: int | None = None  # 3 = named_curve
    named_curve: int | None = None
    public_key_length: int | None = None
    dh_prime_bits: int | None = None
    dh_prime_length: int | None = None
    signature_algorithm: int | None = None  # absent before TLS 1.2
    signature_length: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "kind": self.kind,
            "key_exchange": self.key_exchange,
            "named_curve": None if self.named_curve is None else names.group(self.named_curve),
            "public_key_length": self.public_key_length,
            "dh_prime_bits": self.dh_prime_bits,
            "psk_identity_hint_length": None if self.psk_identity_hint is None else len(self.psk_identity_hint),
            "signature_algorithm": None
            if self.signature_algorithm is None
            else names.signature_algorithm(self.signature_algorithm),
            "signature_length": self.signature_length,
        }
        if self.error:
            data["error"] = self.error
        return data


def decode_server_key_exchange(body: bytes, *, key_exchange: str | None = None) -> ServerKeyExchange:
    """``key_exchange``: the chosen suite's (``names.key_exchange``); without it the layout is guessed."""

    def run(found: dict[str, Any]) -> None:
        found["key_exchange"] = key_exchange
        if key_exchange is not None and key_exchange not in _KEY_EXCHANGE_PARAMS:
            raise DecodeError(f"key exchange {key_exchange} sends no ServerKeyExchange")
        kind, hint = _KEY_EXCHANGE_PARAMS.get(key_exchange or "", (_guess_key_exchange(body), False))
        found["kind"] = kind
        reader = Reader(body)
        if hint:
            found["psk_identity_hint"] = reader.vector(2, "psk identity hint")
        if kind in ("ecdhe", "ecjpake"):
            found["curve_type"] = reader.u8("curve type")
            if found["curve_type"] != 3:
                raise DecodeError(f"curve type {found['curve_type']} is not named_curve (3)")
            found["named_curve"] = reader.u16("named curve")
            if kind == "ecjpake":
                reader.rest()  # the EC J-PAKE round-two data; nothing in it a diagnosis uses
                return
            found["public_key_length"] = len(reader.vector(1, "ECDH public key"))
        elif kind == "dhe":
            prime = reader.vector(2, "DH prime")
            found["dh_prime_length"] = len(prime.lstrip(b"\0"))
            found["dh_prime_bits"] = int.from_bytes(prime, "big").bit_length()
            reader.vector(2, "DH generator")
            found["public_key_length"] = len(reader.vector(2, "DH public value"))
        elif kind == "unknown":
            raise DecodeError("the parameters fit neither ECDHE nor DHE; the key exchange is needed to decode them")
        _read_signature(reader, found, signed=kind in ("ecdhe", "dhe") and not hint)

    return decode_into(ServerKeyExchange, run)


def _guess_key_exchange(body: bytes) -> str:
    if len(body) >= 4 and body[0] == 3 and 4 + body[3] <= len(body):
        return "ecdhe"
    reader = Reader(body)
    try:
        for what in ("DH prime", "DH generator", "DH public value"):
            reader.vector(2, what)
    except DecodeError:
        return "unknown"
    return "dhe"


def _read_signature(reader: Reader, found: dict[str, Any], *, signed: bool) -> None:
    rest = reader.remaining
    if rest == 0:
        if signed:
            raise DecodeError("signature missing")
        return
    tail = reader.data[reader.pos :]
    if rest >= 4 and 4 + int.from_bytes(tail[2:4], "big") == rest:  # TLS 1.2: algorithm, then signature
        found["signature_algorithm"] = reader.u16("signature algorithm")
        found["signature_length"] = len(reader.vector(2, "signature"))
    elif 2 + int.from_bytes(tail[0:2], "big") == rest:  # TLS 1.0/1.1: signature only
        found["signature_length"] = len(reader.vector(2, "signature"))
    else:
        raise DecodeError(f"{rest} bytes after the parameters do not form a signature")


@dataclass(frozen=True)
class NewSessionTicket:
    """A session ticket: lifetime and sizes (the ticket itself is opaque)."""

    MSG_TYPE: ClassVar[int] = HS_NEW_SESSION_TICKET

    tls13: bool | None = None
    lifetime: int | None = None  # seconds
    age_add: int | None = None  # TLS 1.3
    nonce_length: int | None = None  # TLS 1.3
    ticket_length: int | None = None
    extensions: tuple[Extension, ...] = ()
    max_early_data_size: int | None = None
    extension_errors: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "tls13": self.tls13,
            "lifetime": self.lifetime,
            "ticket_length": self.ticket_length,
        }
        if self.tls13:
            data["max_early_data_size"] = self.max_early_data_size
            extensions_json(data, self.extensions, self.extension_errors)
        if self.error:
            data["error"] = self.error
        return data


def decode_new_session_ticket(body: bytes, *, length: int | None = None, tls13: bool | None = None) -> NewSessionTicket:
    declared = len(body) if length is None else length
    layout = tls13
    if layout is None:
        layout = not (len(body) >= 6 and 6 + int.from_bytes(body[4:6], "big") == declared)

    def run(found: dict[str, Any]) -> None:
        found["tls13"] = layout
        reader = Reader(body)
        found["lifetime"] = reader.u32("ticket lifetime")
        if layout:
            found["age_add"] = reader.u32("ticket age add")
            found["nonce_length"] = len(reader.vector(1, "ticket nonce"))
            found["ticket_length"] = len(reader.vector(2, "ticket"))
            read_extensions(reader, found, NEW_SESSION_TICKET)
        else:
            found["ticket_length"] = len(reader.vector(2, "ticket"))
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the ticket")

    return decode_into(NewSessionTicket, run)


@dataclass(frozen=True)
class Alert:
    """An alert record's two bytes; both None when the record is not a plaintext alert."""

    level: int | None = None
    description: int | None = None
    error: str | None = None

    @property
    def fatal(self) -> bool:
        return self.level == 2

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "level": self.level,
            "level_name": None if self.level is None else names.alert_level(self.level),
            "description": self.description,
            "name": None if self.description is None else names.alert(self.description),
        }
        if self.error:
            data["error"] = self.error
        return data


def decode_alert(fragment: bytes) -> Alert:
    """The alert in a record fragment (or a decrypted alert payload)."""
    if len(fragment) < 2:
        return Alert(error=f"alert cut: {len(fragment)} of 2 bytes")
    if len(fragment) > 2:
        return Alert(error=f"{len(fragment)} bytes: not a plaintext alert (an encrypted one is longer than 2 bytes)")
    level, description = fragment[0], fragment[1]
    if level not in (1, 2):
        return Alert(level, description, f"level {level} is neither warning (1) nor fatal (2)")
    return Alert(level, description)


Decoded = (
    ClientHello
    | ServerHello
    | CertificateMessage
    | CertificateRequest
    | ServerKeyExchange
    | NewSessionTicket
    | EncryptedExtensions
    | HandshakeMessage
)


def decode_message(message: HandshakeMessage, *, tls13: bool | None = None, key_exchange: str | None = None) -> Decoded:
    """Decode ``message`` by its type; a type without a decoder comes back as the message itself.

    ``tls13`` picks the TLS 1.3 layouts and ``key_exchange`` the ServerKeyExchange layout; both are
    known once the ServerHello has been read (see :func:`decode_messages`).
    """
    body, length = message.body, message.length
    if message.msg_type == HS_CLIENT_HELLO:
        return decode_client_hello(body)
    if message.msg_type == HS_SERVER_HELLO:
        return decode_server_hello(body)
    if message.msg_type == HS_NEW_SESSION_TICKET:
        return decode_new_session_ticket(body, length=length, tls13=tls13)
    if message.msg_type == HS_ENCRYPTED_EXTENSIONS:
        return decode_encrypted_extensions(body)
    if message.msg_type == HS_CERTIFICATE:
        return decode_certificate(body, length=length, tls13=tls13)
    if message.msg_type == HS_SERVER_KEY_EXCHANGE:
        return decode_server_key_exchange(body, key_exchange=key_exchange)
    if message.msg_type == HS_CERTIFICATE_REQUEST:
        return decode_certificate_request(body, length=length, tls13=tls13)
    return message


def decode_messages(
    messages: Iterable[HandshakeMessage], *, tls13: bool | None = None, key_exchange: str | None = None
) -> tuple[Decoded, ...]:
    """Decode a flight in order, learning the version and key exchange from a ServerHello on the way."""
    decoded: list[Decoded] = []
    for message in messages:
        result = decode_message(message, tls13=tls13, key_exchange=key_exchange)
        if isinstance(result, ServerHello) and not result.hello_retry_request and result.version is not None:
            tls13 = result.tls13
            if result.cipher_suite is not None:
                key_exchange = names.key_exchange(result.cipher_suite) or key_exchange
        decoded.append(result)
    return tuple(decoded)


__all__ = [
    "HELLO_RETRY_REQUEST_RANDOM",
    "Alert",
    "CertificateEntry",
    "CertificateMessage",
    "CertificateRequest",
    "ClientHello",
    "Decoded",
    "EncryptedExtensions",
    "NewSessionTicket",
    "ServerHello",
    "ServerKeyExchange",
    "decode_alert",
    "decode_certificate",
    "decode_certificate_request",
    "decode_client_hello",
    "decode_encrypted_extensions",
    "decode_message",
    "decode_messages",
    "decode_new_session_ticket",
    "decode_server_hello",
    "decode_server_key_exchange",
]
