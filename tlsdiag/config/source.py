"""Reading a configuration file as text, with the one-line errors the contract promises.

Configuration files are small; they are read whole, decoded as UTF-8 (invalid bytes replaced, a BOM
dropped) and split into lines without their ends, so that a patch can be made against them.
"""

from __future__ import annotations

import os

from tlsdiag.errors import InputError

MAX_SIZE = 32 * 1024 * 1024  # no configuration is this large; past it the file is something else
BINARY_SHARE = 0.30
_BINARY = frozenset([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])


def read_lines(path: str, what: str = "configuration file") -> tuple[list[str], bool]:
    """The lines of ``path`` and whether it ends with a line break.

    A missing, unreadable, empty or binary file raises :class:`InputError`.
    """
    try:
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory, not a {what}")
        with open(path, "rb") as handle:
            data = handle.read(MAX_SIZE + 1)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except PermissionError:
        raise InputError(f"{path} cannot be read: permission denied") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"{path} cannot be read: {reason[:1].lower()}{reason[1:]}") from None
    if len(data) > MAX_SIZE:
        raise InputError(f"{path} is larger than {MAX_SIZE // (1024 * 1024)} MB: not a {what}")
    if not data.strip():
        raise InputError(f"{path} is empty")
    head = data[:65536]
    if b"\x00" in head[:4096] or sum(byte in _BINARY for byte in head) > BINARY_SHARE * len(head):
        raise InputError(f"{path} is not a text {what} (mostly binary data)")
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    final_break = lines[-1] == ""
    if final_break:
        lines.pop()
    return lines, final_break
