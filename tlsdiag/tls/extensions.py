"""Hello extensions: the list framing, and the values of the extensions a diagnosis needs.

The same extension number carries different shapes in different messages (``supported_versions`` is
a list in a ClientHello and one version in a ServerHello; ``key_share`` is a list of groups and keys,
one group and key, or in a HelloRetryRequest just a group), so each value decoder takes the message
it came from. A malformed extension costs only its own value: the message keeps the rest and notes
which extension did not decode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tlsdiag.tls import names
from tlsdiag.tls.wire import DecodeError, Reader, uint_list

SERVER_NAME = 0
MAX_FRAGMENT_LENGTH = 1
STATUS_REQUEST = 5
SUPPORTED_GROUPS = 10
EC_POINT_FORMATS = 11
SIGNATURE_ALGORITHMS = 13
ALPN = 16
ENCRYPT_THEN_MAC = 22
EXTENDED_MASTER_SECRET = 23
RECORD_SIZE_LIMIT = 28
SESSION_TICKET = 35
PRE_SHARED_KEY = 41
EARLY_DATA = 42
SUPPORTED_VERSIONS = 43
COOKIE = 44
PSK_KEY_EXCHANGE_MODES = 45
CERTIFICATE_AUTHORITIES = 47
SIGNATURE_ALGORITHMS_CERT = 50
KEY_SHARE = 51
RENEGOTIATION_INFO = 0xFF01

#: RFC 6066 4: max_fragment_length codes 1..4 stand for 2^9 .. 2^12 bytes.
_FRAGMENT_BYTES = {1: 512, 2: 1024, 3: 2048, 4: 4096}

CLIENT_HELLO = "client_hello"
SERVER_HELLO = "server_hello"
HELLO_RETRY_REQUEST = "hello_retry_request"
ENCRYPTED_EXTENSIONS = "encrypted_extensions"
CERTIFICATE_REQUEST = "certificate_request"
CERTIFICATE_ENTRY = "certificate_entry"  # TLS 1.3 per-certificate extensions
NEW_SESSION_TICKET = "new_session_ticket"


@dataclass(frozen=True)
class Extension:
    """One extension as framed on the wire; ``data`` holds the bytes present (fewer when cut)."""

    type: int
    length: int  # declared
    data: bytes

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.length

    @property
    def name(self) -> str:
        return names.extension(self.type)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "name": self.name, "length": self.length}
        if self.truncated:
            data["truncated"] = True
        return data


def fragment_bytes(code: int | None) -> int | None:
    """The record size a ``max_fragment_length`` code asks for (None for no or an invalid code)."""
    return None if code is None else _FRAGMENT_BYTES.get(code)


def extensions_json(data: dict[str, Any], extensions: tuple[Extension, ...], problems: tuple[str, ...]) -> None:
    """Add a message's extension list (and the extensions that did not decode) to its JSON."""
    data["extensions"] = [extension.to_json() for extension in extensions]
    if problems:
        data["extension_errors"] = list(problems)


def read_extensions(reader: Reader, found: dict[str, Any], context: str) -> None:
    """Read the 2-byte-length extension block at ``reader`` into ``found`` (``extensions`` and values).

    A block that ends early keeps the extensions before the cut; the cut itself raises
    :class:`DecodeError` so that the message reports it.
    """
    if reader.remaining == 0:
        return  # extensions are optional in TLS 1.2 hellos
    block, declared = reader.vector_prefix(2, "extensions")
    inner = Reader(block)
    extensions: list[Extension] = []
    problem = None
    while inner.remaining:
        if inner.remaining < 4:
            problem = f"extensions: {inner.remaining} stray bytes after the last extension"
            break
        ext_type = inner.u16("extension type")
        data, length = inner.vector_prefix(2, "extension data")
        extensions.append(Extension(ext_type, length, data))
        if len(data) < length:
            problem = f"extension {names.extension(ext_type)} ({ext_type}): cut after {len(data)} of {length} bytes"
    found["extensions"] = tuple(extensions)
    found.update(extension_values(extensions, context, found))
    if problem is None and len(block) < declared:
        problem = f"extensions: the block declares {declared} bytes, {len(block)} present"
    if problem:
        raise DecodeError(problem)


def extension_values(extensions: list[Extension], context: str, found: dict[str, Any]) -> dict[str, Any]:
    """The decoded values of the known extensions, as keyword arguments of the message's dataclass."""
    values: dict[str, Any] = {}
    problems = list(found.get("extension_errors", ()))
    for extension in extensions:
        decoder = _DECODERS.get(extension.type)
        if decoder is None or extension.truncated:
            continue
        try:
            values.update(decoder(Reader(extension.data), context))
        except DecodeError as error:
            problems.append(f"{extension.name} ({extension.type}): {error}")
    if problems:
        values["extension_errors"] = tuple(problems)
    return values


def _present(field: str) -> Callable[[Reader, str], dict[str, Any]]:
    def decode(reader: Reader, context: str) -> dict[str, Any]:
        return {field: True}

    return decode


def _server_name(reader: Reader, context: str) -> dict[str, Any]:
    if context != CLIENT_HELLO or reader.remaining == 0:
        return {"server_name_acknowledged": True}  # a server echoes an empty extension
    entries = Reader(reader.vector(2, "server name list"))
    while entries.remaining:
        name_type = entries.u8("server name type")
        name = entries.vector(2, "server name")
        if name_type == 0:  # host_name
            return {"server_name": name.decode("ascii", errors="replace")}
    return {}


def _max_fragment_length(reader: Reader, context: str) -> dict[str, Any]:
    return {"max_fragment_length": reader.u8("max_fragment_length code")}


def _u16_list(field: str, what: str) -> Callable[[Reader, str], dict[str, Any]]:
    def decode(reader: Reader, context: str) -> dict[str, Any]:
        return {field: uint_list(reader.vector(2, what), 2)}

    return decode


def _ec_point_formats(reader: Reader, context: str) -> dict[str, Any]:
    return {"ec_point_formats": tuple(reader.vector(1, "point formats"))}


def _alpn(reader: Reader, context: str) -> dict[str, Any]:
    protocols = []
    entries = Reader(reader.vector(2, "protocol name list"))
    while entries.remaining:
        protocols.append(entries.vector(1, "protocol name").decode("ascii", errors="replace"))
    return {"alpn": tuple(protocols)}


def _record_size_limit(reader: Reader, context: str) -> dict[str, Any]:
    return {"record_size_limit": reader.u16("record size limit")}


def _session_ticket(reader: Reader, context: str) -> dict[str, Any]:
    return {"session_ticket": True, "session_ticket_length": reader.remaining}


def _early_data(reader: Reader, context: str) -> dict[str, Any]:
    if context == NEW_SESSION_TICKET:
        return {"max_early_data_size": reader.u32("max_early_data_size")}
    return {"early_data": True}


def _supported_versions(reader: Reader, context: str) -> dict[str, Any]:
    if context == CLIENT_HELLO:
        return {"supported_versions": uint_list(reader.vector(1, "supported versions"), 2)}
    return {"selected_version": reader.u16("selected version")}


def _psk_modes(reader: Reader, context: str) -> dict[str, Any]:
    return {"psk_key_exchange_modes": tuple(reader.vector(1, "psk key exchange modes"))}


def _certificate_authorities(reader: Reader, context: str) -> dict[str, Any]:
    names_found = []
    entries = Reader(reader.vector(2, "certificate authorities"))
    while entries.remaining:
        names_found.append(entries.vector(2, "distinguished name"))
    return {"ca_names_der": tuple(names_found)}


def _key_share(reader: Reader, context: str) -> dict[str, Any]:
    if context == HELLO_RETRY_REQUEST:
        return {"key_share_group": reader.u16("key share group")}
    if context == SERVER_HELLO:
        group = reader.u16("key share group")
        return {"key_share_group": group, "key_share_length": len(reader.vector(2, "key exchange"))}
    groups = []
    entries = Reader(reader.vector(2, "client shares"))
    while entries.remaining:
        groups.append(entries.u16("key share group"))
        entries.vector(2, "key exchange")
    return {"key_share_groups": tuple(groups)}


def _renegotiation_info(reader: Reader, context: str) -> dict[str, Any]:
    return {"renegotiation_info": True, "renegotiation_info_length": len(reader.vector(1, "renegotiated connection"))}


_DECODERS: dict[int, Callable[[Reader, str], dict[str, Any]]] = {
    SERVER_NAME: _server_name,
    MAX_FRAGMENT_LENGTH: _max_fragment_length,
    STATUS_REQUEST: _present("status_request"),
    SUPPORTED_GROUPS: _u16_list("supported_groups", "named group list"),
    EC_POINT_FORMATS: _ec_point_formats,
    SIGNATURE_ALGORITHMS: _u16_list("signature_algorithms", "signature algorithms"),
    ALPN: _alpn,
    ENCRYPT_THEN_MAC: _present("encrypt_then_mac"),
    EXTENDED_MASTER_SECRET: _present("extended_master_secret"),
    RECORD_SIZE_LIMIT: _record_size_limit,
    SESSION_TICKET: _session_ticket,
    PRE_SHARED_KEY: _present("pre_shared_key"),
    EARLY_DATA: _early_data,
    SUPPORTED_VERSIONS: _supported_versions,
    COOKIE: _present("cookie"),
    PSK_KEY_EXCHANGE_MODES: _psk_modes,
    CERTIFICATE_AUTHORITIES: _certificate_authorities,
    SIGNATURE_ALGORITHMS_CERT: _u16_list("signature_algorithms_cert", "signature algorithms"),
    KEY_SHARE: _key_share,
    RENEGOTIATION_INFO: _renegotiation_info,
}
