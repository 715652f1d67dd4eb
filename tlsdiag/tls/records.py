"""TLS record framing: a byte stream -> records -> handshake messages.

The bytes come from hex dumps in device logs. They can be cut (mbedTLS before 4.1 dumps at most 4096
bytes of a record, and logs get truncated), spliced, or not TLS at all (a plain HTTP server answering
a TLS client shows up as record type 72, the ``H`` of ``HTTP/1.1``). So a record or handshake message
keeps the length it declares next to the bytes that are really there and says when they differ, and
splitting stops with a reason instead of raising.

Handshake messages are reassembled across records because peers split them: a Certificate message
larger than one record (16 KB) always spans several, and mbedTLS 2.x cannot reassemble it, which is
itself a diagnosis. After a ChangeCipherSpec record the handshake records of that direction are
encrypted, so reassembly stops there and only counts them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tlsdiag.tls import names

RECORD_HEADER_SIZE = 5
HANDSHAKE_HEADER_SIZE = 4
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
TLS12_CID = 25
CONTENT_TYPES = frozenset({CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA, TLS12_CID})
#: RFC 8446 5.2 / RFC 5246 6.2.3: no record may be longer than 2^14 + 2048 (TLS 1.2 ciphertext).
MAX_RECORD_LENGTH = 2**14 + 2048
_PREVIEW = 64


@dataclass(frozen=True)
class Record:
    """One record: its header fields, the length it declares and the bytes present."""

    content_type: int
    version: int
    length: int  # as declared by the header
    fragment: bytes  # the bytes present: all of them, or fewer when the input was cut
    offset: int = 0  # where the header starts in the input

    @property
    def truncated(self) -> bool:
        return len(self.fragment) < self.length

    @property
    def size(self) -> int:
        """Bytes on the wire, header included, as the header declares them."""
        return RECORD_HEADER_SIZE + self.length

    @property
    def oversized(self) -> bool:
        """Declares more than any TLS record may carry (a sign of corruption or of not-TLS bytes)."""
        return self.length > MAX_RECORD_LENGTH

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "content_type": self.content_type,
            "content_type_name": names.content_type(self.content_type),
            "version": f"0x{self.version:04x}",
            "version_name": names.version(self.version),
            "length": self.length,
            "present": len(self.fragment),
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class RecordSplit:
    """The records found in a byte stream and, when splitting stopped early, why."""

    records: tuple[Record, ...]
    error: str | None = None
    unparsed_offset: int | None = None  # where the bytes that are not records start
    unparsed_length: int = 0
    preview: str = ""  # the first unparsed bytes as text when they look like text (HTTP, a banner)
    cut_header: bool = False  # the input ends inside a record header

    @property
    def truncated(self) -> bool:
        """The last record is cut, or the input ends inside a record header."""
        return self.cut_header or (bool(self.records) and self.records[-1].truncated)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "records": [record.to_json() for record in self.records],
            "truncated": self.truncated,
        }
        if self.error:
            data.update(error=self.error, unparsed_offset=self.unparsed_offset, unparsed_length=self.unparsed_length)
            if self.preview:
                data["preview"] = self.preview
        return data


def split_records(data: bytes) -> RecordSplit:
    """Cut ``data`` into TLS records; stop, with a reason, at the first bytes that are not a record header."""
    records: list[Record] = []
    offset = 0
    while offset < len(data):
        header = data[offset : offset + RECORD_HEADER_SIZE]
        problem = _header_problem(header)
        if problem:
            reason, cut = problem
            return RecordSplit(
                records=tuple(records),
                error=f"{reason} at offset {offset}",
                unparsed_offset=offset,
                unparsed_length=len(data) - offset,
                preview=text_preview(data[offset : offset + _PREVIEW]),
                cut_header=cut,
            )
        length = int.from_bytes(header[3:5], "big")
        start = offset + RECORD_HEADER_SIZE
        fragment = data[start : start + length]
        records.append(Record(header[0], int.from_bytes(header[1:3], "big"), length, fragment, offset))
        offset = start + length
    return RecordSplit(records=tuple(records))


def _header_problem(header: bytes) -> tuple[str, bool] | None:
    """Why ``header`` does not start a record, and whether only because the input ends inside it."""
    if header[0] not in CONTENT_TYPES:
        shown = f" ({chr(header[0])!r})" if 32 < header[0] < 127 else ""
        return f"not a TLS record: unknown content type {header[0]}{shown}", False
    if len(header) >= 3 and (header[1] != 3 or header[2] > 4):
        return f"not a TLS record: version bytes {header[1]:02x} {header[2]:02x}", False
    if len(header) < RECORD_HEADER_SIZE:
        return f"incomplete record header ({len(header)} of {RECORD_HEADER_SIZE} bytes)", True
    return None


def text_preview(data: bytes) -> str:
    """``data`` as text when at least 3/4 of it is printable ASCII (a plain-text answer), else ``""``."""
    if not data:
        return ""
    printable = sum(1 for byte in data if 32 <= byte < 127 or byte in (9, 10, 13))
    if printable * 4 < len(data) * 3:
        return ""
    return "".join(chr(byte) if 32 <= byte < 127 else "." for byte in data)


@dataclass(frozen=True)
class HandshakeMessage:
    """A handshake message: type, the body length it declares and the body bytes present."""

    msg_type: int
    length: int  # declared body length (the 24-bit field)
    body: bytes  # the bytes present
    offset: int = 0  # where the header starts in the reassembled handshake stream
    records: int = 1  # how many records carried part of it

    @property
    def truncated(self) -> bool:
        return len(self.body) < self.length

    @property
    def size(self) -> int:
        """Declared size with the 4-byte header: the ``hslen`` mbedTLS prints."""
        return HANDSHAKE_HEADER_SIZE + self.length

    @property
    def name(self) -> str:
        return names.handshake_type(self.msg_type)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.msg_type,
            "name": self.name,
            "length": self.length,
            "size": self.size,
            "present": len(self.body),
            "truncated": self.truncated,
            "records": self.records,
        }


@dataclass(frozen=True)
class Handshake:
    """The plaintext handshake messages of one direction, reassembled from its records."""

    messages: tuple[HandshakeMessage, ...]
    encrypted_records: int = 0  # handshake records after ChangeCipherSpec: present but unreadable
    incomplete_header: int = 0  # bytes at the end too short for a message header

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [message.to_json() for message in self.messages],
            "encrypted_records": self.encrypted_records,
            "incomplete_header": self.incomplete_header,
        }


def reassemble(records: Iterable[Record]) -> Handshake:
    """Join the plaintext handshake records of one direction and cut the result into messages."""
    stream = bytearray()
    boundaries: list[int] = []  # end offset of each record's fragment in ``stream``
    encrypted = 0
    after_ccs = False
    for record in records:
        if record.content_type == CHANGE_CIPHER_SPEC:
            after_ccs = True
        elif record.content_type == HANDSHAKE:
            if after_ccs:
                encrypted += 1
                continue
            stream += record.fragment
            boundaries.append(len(stream))
    messages, rest = _cut_messages(bytes(stream), boundaries)
    return Handshake(messages=messages, encrypted_records=encrypted, incomplete_header=rest)


def split_handshake(data: bytes) -> Handshake:
    """Cut raw handshake bytes (no record headers, e.g. a decrypted payload dump) into messages."""
    messages, rest = _cut_messages(data, [len(data)])
    return Handshake(messages=messages, incomplete_header=rest)


def _cut_messages(stream: bytes, boundaries: list[int]) -> tuple[tuple[HandshakeMessage, ...], int]:
    messages = []
    offset = 0
    while len(stream) - offset >= HANDSHAKE_HEADER_SIZE:
        length = int.from_bytes(stream[offset + 1 : offset + 4], "big")
        start = offset + HANDSHAKE_HEADER_SIZE
        end = min(start + length, len(stream))
        spanned = _records_spanned(boundaries, offset, end)
        messages.append(HandshakeMessage(stream[offset], length, stream[start:end], offset, spanned))
        offset = start + length
    return tuple(messages), max(0, len(stream) - offset)


def _records_spanned(boundaries: list[int], start: int, end: int) -> int:
    """How many record fragments hold a byte of ``stream[start:end]`` (``boundaries``: each fragment's end)."""
    first = bisect_right(boundaries, start)
    last = bisect_right(boundaries, end - 1)
    return last - first + 1
