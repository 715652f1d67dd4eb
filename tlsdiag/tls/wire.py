"""A bounds-checked cursor over bytes, and the one place where decoding errors are caught.

Every length on the TLS wire is a claim made by bytes that may be cut, corrupted or not TLS at all.
The reader therefore only ever slices what is present: it never allocates what a length field
announces, and running out of bytes raises :class:`DecodeError`, which the decoders catch with
:func:`guarded` and turn into an ``error`` field next to whatever they had decoded so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_T = TypeVar("_T", bound="DataclassInstance")


class DecodeError(Exception):
    """The bytes end early or contradict themselves; raised inside decoders, never out of them."""


class Reader:
    """Reads big-endian integers and length-prefixed vectors from ``data``."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def uint(self, size: int, what: str) -> int:
        """An unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.take(size, what), "big")

    def u8(self, what: str) -> int:
        return self.uint(1, what)

    def u16(self, what: str) -> int:
        return self.uint(2, what)

    def u24(self, what: str) -> int:
        return self.uint(3, what)

    def u32(self, what: str) -> int:
        return self.uint(4, what)

    def take(self, count: int, what: str) -> bytes:
        """Exactly ``count`` bytes, or :class:`DecodeError` naming ``what`` was cut."""
        if count > self.remaining:
            raise DecodeError(f"{what}: needs {count} bytes, {self.remaining} left")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def vector(self, length_size: int, what: str) -> bytes:
        """A vector with a ``length_size``-byte length prefix; :class:`DecodeError` if it is cut."""
        data, declared = self.vector_prefix(length_size, what)
        if len(data) < declared:
            raise DecodeError(f"{what}: declares {declared} bytes, {len(data)} present")
        return data

    def vector_prefix(self, length_size: int, what: str) -> tuple[bytes, int]:
        """A length-prefixed vector, or as much of it as is present, and the length it declares.

        Lists (cipher suites, certificates) are worth reporting even when the message was cut in the
        middle; the caller decides what a partial list means.
        """
        declared = self.uint(length_size, f"{what} length")
        available = min(declared, self.remaining)
        chunk = self.data[self.pos : self.pos + available]
        self.pos += available
        return chunk, declared

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


def uint_list(data: bytes, size: int) -> tuple[int, ...]:
    """Split ``data`` into big-endian integers of ``size`` bytes; a trailing odd byte is ignored."""
    return tuple(int.from_bytes(data[i : i + size], "big") for i in range(0, len(data) - size + 1, size))


def guarded(decode: Callable[[dict[str, Any]], None], found: dict[str, Any]) -> str | None:
    """Run ``decode(found)`` and return why it stopped early, or None when it finished.

    ``decode`` fills ``found`` as it goes, so a message cut in the middle still yields the fields
    before the cut. The catch-all is deliberate: decoding runs on untrusted bytes inside a diagnosis,
    where a bug in one decoder must cost one field, not the whole report. The property tests feed
    random bytes to every decoder and fail on any ``internal error`` text, so such bugs still surface.
    """
    try:
        decode(found)
    except DecodeError as error:
        return str(error)
    except Exception as error:  # see the docstring
        return f"internal error while decoding: {error!r}"
    return None


def decode_into(cls: type[_T], decode: Callable[[dict[str, Any]], None]) -> _T:
    """Run ``decode`` under :func:`guarded` and build ``cls`` from what it found, plus ``error``.

    Values ``cls`` has no field for are dropped: extension decoders report whatever the bytes hold,
    and a ServerHello that (wrongly, or because it is noise) carries a ClientHello-only extension
    keeps it in its ``extensions`` list without a field for its value.
    """
    found: dict[str, Any] = {}
    error = guarded(decode, found)
    wanted = {item.name for item in fields(cls)}
    # every decoded message has an error field, a constraint on a dataclass's fields the checker cannot express
    return cls(**{key: value for key, value in found.items() if key in wanted}, error=error)  # type: ignore[call-arg]


def hex16(value: int) -> str:
    """``0xc02b``: how the contract writes 16-bit code points (cipher suites, extensions, groups)."""
    return f"0x{value:04x}"


def maybe_hex16(value: int | None) -> str | None:
    return None if value is None else hex16(value)
