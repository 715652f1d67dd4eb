"""ClientHello, ServerHello (and HelloRetryRequest) and EncryptedExtensions: what was offered and chosen.

Most TLS failures on devices are a mismatch between these two messages: no common suite, group,
signature algorithm or version, a missing server name, a maximum fragment length the server ignores.
The decoders keep the numbers as sent (GREASE values included); ``to_json`` names them. A hello cut
in the middle keeps what came before the cut, including a partial cipher suite list, and says so in
``error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tlsdiag.tls import names
from tlsdiag.tls.extensions import (
    CLIENT_HELLO,
    ENCRYPTED_EXTENSIONS,
    HELLO_RETRY_REQUEST,
    SERVER_HELLO,
    Extension,
    extensions_json,
    fragment_bytes,
    read_extensions,
)
from tlsdiag.tls.wire import DecodeError, Reader, decode_into, hex16, maybe_hex16, uint_list

HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HS_ENCRYPTED_EXTENSIONS = 8
TLS13 = 0x0304
#: RFC 8446 4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest") is a HelloRetryRequest.
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
#: RFC 8446 4.1.3: a server able to do TLS 1.3 that settles for less ends its random with one of these.
_DOWNGRADE_MARKERS = {b"DOWNGRD\x01": "TLS 1.2", b"DOWNGRD\x00": "TLS 1.1 or below"}


@dataclass(frozen=True)
class ClientHello:
    """What a client offered: versions, suites, groups, signature algorithms, server name, extensions."""

    MSG_TYPE: ClassVar[int] = HS_CLIENT_HELLO

    legacy_version: int | None = None
    random: bytes | None = None
    session_id: bytes | None = None
    cipher_suites: tuple[int, ...] = ()
    compression_methods: tuple[int, ...] = ()
    extensions: tuple[Extension, ...] = ()
    server_name: str | None = None
    supported_versions: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    signature_algorithms_cert: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    psk_key_exchange_modes: tuple[int, ...] = ()
    ec_point_formats: tuple[int, ...] = ()
    alpn: tuple[str, ...] = ()
    max_fragment_length: int | None = None  # the RFC 6066 code (1..4)
    record_size_limit: int | None = None
    encrypt_then_mac: bool = False
    extended_master_secret: bool = False
    session_ticket: bool = False
    session_ticket_length: int = 0  # 0: asks for a ticket; more: resumes with one
    renegotiation_info: bool = False
    renegotiation_info_length: int = 0
    pre_shared_key: bool = False
    early_data: bool = False
    status_request: bool = False
    cookie: bool = False
    extension_errors: tuple[str, ...] = ()
    error: str | None = None

    @property
    def extension_types(self) -> tuple[int, ...]:
        return tuple(extension.type for extension in self.extensions)

    def has_extension(self, ext_type: int) -> bool:
        return ext_type in self.extension_types

    @property
    def offered_versions(self) -> tuple[int, ...]:
        """The versions offered: ``supported_versions`` without GREASE, else the legacy version alone."""
        offered = tuple(value for value in self.supported_versions if not names.is_grease(value))
        if offered:
            return offered
        return () if self.legacy_version is None else (self.legacy_version,)

    @property
    def max_version(self) -> int | None:
        return max(self.offered_versions, default=None)

    @property
    def renegotiation_scsv(self) -> bool:
        return 0x00FF in self.cipher_suites

    @property
    def fallback_scsv(self) -> bool:
        return 0x5600 in self.cipher_suites

    @property
    def max_fragment_bytes(self) -> int | None:
        return fragment_bytes(self.max_fragment_length)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "version": None if self.max_version is None else names.version(self.max_version),
            "legacy_version": maybe_hex16(self.legacy_version),
            "supported_versions": names.many(self.supported_versions, names.version),
            "ciphersuites": [hex16(value) for value in self.cipher_suites],
            "ciphersuite_names": names.many(self.cipher_suites, names.ciphersuite),
            "compression_methods": list(self.compression_methods),
            "server_name": self.server_name,
            "session_id_length": None if self.session_id is None else len(self.session_id),
            "supported_groups": names.many(self.supported_groups, names.group),
            "signature_algorithms": names.many(self.signature_algorithms, names.signature_algorithm),
            "key_share_groups": names.many(self.key_share_groups, names.group),
            "psk_key_exchange_modes": list(self.psk_key_exchange_modes),
            "alpn": list(self.alpn),
            "max_fragment_length": self.max_fragment_bytes,
            "record_size_limit": self.record_size_limit,
            "encrypt_then_mac": self.encrypt_then_mac,
            "extended_master_secret": self.extended_master_secret,
            "session_ticket": self.session_ticket,
            "renegotiation_info": self.renegotiation_info,
            "renegotiation_scsv": self.renegotiation_scsv,
        }
        if self.signature_algorithms_cert:
            data["signature_algorithms_cert"] = names.many(self.signature_algorithms_cert, names.signature_algorithm)
        extensions_json(data, self.extensions, self.extension_errors)
        if self.error:
            data["error"] = self.error
        return data


def decode_client_hello(body: bytes) -> ClientHello:
    def run(found: dict[str, Any]) -> None:
        reader = Reader(body)
        found["legacy_version"] = reader.u16("legacy_version")
        found["random"] = reader.take(32, "random")
        found["session_id"] = reader.vector(1, "session id")
        suites, declared = reader.vector_prefix(2, "cipher suites")
        found["cipher_suites"] = uint_list(suites, 2)
        if len(suites) < declared:
            raise DecodeError(f"cipher suites: cut after {len(suites)} of {declared} bytes")
        if declared % 2:
            raise DecodeError(f"cipher suites: odd list length {declared}")
        found["compression_methods"] = tuple(reader.vector(1, "compression methods"))
        read_extensions(reader, found, CLIENT_HELLO)
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the extensions")

    return decode_into(ClientHello, run)


@dataclass(frozen=True)
class ServerHello:
    """What the server chose; a HelloRetryRequest is a ServerHello with a fixed random (``hello_retry_request``)."""

    MSG_TYPE: ClassVar[int] = HS_SERVER_HELLO

    legacy_version: int | None = None
    random: bytes | None = None
    session_id: bytes | None = None
    cipher_suite: int | None = None
    compression_method: int | None = None
    extensions: tuple[Extension, ...] = ()
    hello_retry_request: bool = False
    selected_version: int | None = None  # from supported_versions (TLS 1.3)
    key_share_group: int | None = None
    key_share_length: int | None = None
    server_name_acknowledged: bool = False
    alpn: tuple[str, ...] = ()
    max_fragment_length: int | None = None
    record_size_limit: int | None = None
    ec_point_formats: tuple[int, ...] = ()
    encrypt_then_mac: bool = False
    extended_master_secret: bool = False
    session_ticket: bool = False
    renegotiation_info: bool = False
    renegotiation_info_length: int = 0
    pre_shared_key: bool = False
    cookie: bool = False
    extension_errors: tuple[str, ...] = ()
    error: str | None = None

    @property
    def version(self) -> int | None:
        """The negotiated version: ``supported_versions`` when present (TLS 1.3), else the legacy field."""
        return self.selected_version if self.selected_version is not None else self.legacy_version

    @property
    def tls13(self) -> bool:
        return self.version == TLS13

    @property
    def downgrade(self) -> str | None:
        """The version a TLS 1.3-capable server says it fell back to (RFC 8446 downgrade marker), if any."""
        return None if self.random is None else _DOWNGRADE_MARKERS.get(self.random[-8:])

    @property
    def name(self) -> str:
        return "HelloRetryRequest" if self.hello_retry_request else names.handshake_type(self.MSG_TYPE)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": self.name,
            "version": None if self.version is None else names.version(self.version),
            "legacy_version": maybe_hex16(self.legacy_version),
            "ciphersuite": maybe_hex16(self.cipher_suite),
            "ciphersuite_name": None if self.cipher_suite is None else names.ciphersuite(self.cipher_suite),
            "compression_method": self.compression_method,
            "session_id_length": None if self.session_id is None else len(self.session_id),
            "hello_retry_request": self.hello_retry_request,
            "key_share_group": None if self.key_share_group is None else names.group(self.key_share_group),
            "alpn": self.alpn[0] if self.alpn else None,
            "max_fragment_length": fragment_bytes(self.max_fragment_length),
            "record_size_limit": self.record_size_limit,
            "encrypt_then_mac": self.encrypt_then_mac,
            "extended_master_secret": self.extended_master_secret,
            "session_ticket": self.session_ticket,
            "renegotiation_info": self.renegotiation_info,
            "downgrade": self.downgrade,
        }
        extensions_json(data, self.extensions, self.extension_errors)
        if self.error:
            data["error"] = self.error
        return data


def decode_server_hello(body: bytes) -> ServerHello:
    def run(found: dict[str, Any]) -> None:
        reader = Reader(body)
        found["legacy_version"] = reader.u16("legacy_version")
        found["random"] = random = reader.take(32, "random")
        found["hello_retry_request"] = random == HELLO_RETRY_REQUEST_RANDOM
        found["session_id"] = reader.vector(1, "session id")
        found["cipher_suite"] = reader.u16("cipher suite")
        found["compression_method"] = reader.u8("compression method")
        read_extensions(reader, found, HELLO_RETRY_REQUEST if found["hello_retry_request"] else SERVER_HELLO)
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the extensions")

    return decode_into(ServerHello, run)


@dataclass(frozen=True)
class EncryptedExtensions:
    """TLS 1.3 EncryptedExtensions: the server's answers that are not in its ServerHello."""

    MSG_TYPE: ClassVar[int] = HS_ENCRYPTED_EXTENSIONS

    extensions: tuple[Extension, ...] = ()
    server_name_acknowledged: bool = False
    alpn: tuple[str, ...] = ()
    max_fragment_length: int | None = None
    record_size_limit: int | None = None
    supported_groups: tuple[int, ...] = ()
    early_data: bool = False
    extension_errors: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.MSG_TYPE,
            "name": names.handshake_type(self.MSG_TYPE),
            "alpn": self.alpn[0] if self.alpn else None,
            "max_fragment_length": fragment_bytes(self.max_fragment_length),
            "record_size_limit": self.record_size_limit,
        }
        extensions_json(data, self.extensions, self.extension_errors)
        if self.error:
            data["error"] = self.error
        return data


def decode_encrypted_extensions(body: bytes) -> EncryptedExtensions:
    def run(found: dict[str, Any]) -> None:
        reader = Reader(body)
        if reader.remaining < 2:
            raise DecodeError("extensions length missing")
        read_extensions(reader, found, ENCRYPTED_EXTENSIONS)
        if reader.remaining:
            raise DecodeError(f"{reader.remaining} bytes after the extensions")

    return decode_into(EncryptedExtensions, run)
