"""A small on-disk cache for validated knowledge, indexed tables and compiled report templates.

Parsing and validating the knowledge files and compiling Jinja templates cost more than the rest of a
``tlsdiag explain`` run; their results are cached under ``$XDG_CACHE_HOME/tlsdiag/<version>`` (or
``~/.cache``). The caller names each entry after everything it was made from (the knowledge layer uses
the size and modification time of the files involved), so a changed source is simply a new entry. A
cache that cannot be written is not used; ``TLSDIAG_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import gc
import marshal
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from tlsdiag import __version__

T = TypeVar("T")


@cache
def cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/tlsdiag/<version>/<interpreter>``, or None when the cache is off or not writable.

    The interpreter is part of the name: marshalled data is only read back by the version that wrote it.
    """
    if os.environ.get("TLSDIAG_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "tlsdiag", __version__, sys.implementation.cache_tag or "python")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def remember(name: str, build: Callable[[], T]) -> T:
    """``build()``, kept in the cache as ``name`` and read back from there while the entry exists.

    ``name`` must change whenever what ``build`` reads changes. Plain data (tables of strings, numbers,
    bytes, lists and sets: validated documents, and the tables a short command reads) is stored with
    ``marshal``, which is built into the interpreter and reads fastest; anything else is pickled.
    Reading creates many objects that all stay alive, so the garbage collector is paused meanwhile:
    its passes would find nothing to free and cost more than the read itself.
    """
    directory = cache_dir()
    if directory is None:
        return build()
    entry = os.path.join(directory, name)
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _read(entry)
        if found is not _MISSING:
            return found
        data = build()
    finally:
        if collecting:
            gc.enable()
    _write(entry, data)
    return data


_MISSING = object()


def _read(entry: str) -> Any:
    try:
        with open(entry + ".marshal", "rb") as handle:
            return marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    try:
        with open(entry + ".pickle", "rb") as handle:
            payload = handle.read()
    except OSError:
        return _MISSING
    _, loads, pickle_error = _pickler()
    try:
        return loads(payload)
    except (pickle_error, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return _MISSING


def _write(entry: str, data: Any) -> None:
    try:
        payload, suffix = marshal.dumps(data), ".marshal"
    except ValueError:  # objects of our own classes
        dumps, _, pickle_error = _pickler()
        try:
            payload, suffix = dumps(data, protocol=5), ".pickle"
        except (pickle_error, TypeError, AttributeError):
            return
    temporary = f"{entry}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(payload)
        os.replace(temporary, entry + suffix)
    except OSError:
        if os.path.exists(temporary):
            os.unlink(temporary)


@cache
def _pickler() -> tuple[Callable[..., bytes], Callable[[bytes], Any], type[Exception]]:
    """``dumps``, ``loads`` and the error type of the C pickler, imported on first use.

    The ``pickle`` module only wraps ``_pickle`` where that exists, and importing the wrapper costs
    more than a short command spends reading its tables.
    """
    try:
        from _pickle import PickleError, dumps, loads
    except ImportError:  # an interpreter without the C pickler
        from pickle import PickleError, dumps, loads
    return dumps, loads, PickleError


def entry_name(path: str, kind: str, parts: tuple[int, ...]) -> str:
    """A file name for the entry made by ``kind`` from ``path`` and everything ``parts`` stands for.

    The readable head (the end of the path, the kind) helps whoever looks into the cache; the tail is
    a hash of ``parts``, numbers only (sizes, modification times), whose hash is the same in every
    process (a string's is salted per process).
    """
    stem = "".join(char if char.isalnum() else "_" for char in os.path.abspath(path))[-90:]
    label = "".join(char if char.isalnum() else "_" for char in kind)
    return f"{stem}-{label}-{hash(parts) & 0xFFFFFFFFFFFFFFFF:016x}"
