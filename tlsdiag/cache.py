"""A small on-disk cache for parsed data files and compiled report templates.

Parsing the hand-written TOML knowledge and compiling Jinja templates costs more than the rest of a
``tlsdiag explain`` run; both results are cached under ``$XDG_CACHE_HOME/tlsdiag/<version>`` (or
``~/.cache``), keyed by the source file's path, size and modification time. A cache that cannot be
written is simply not used; ``TLSDIAG_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from tlsdiag import __version__

T = TypeVar("T")


@cache
def cache_dir() -> str | None:
    if os.environ.get("TLSDIAG_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "tlsdiag", __version__)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def load_toml(path: str) -> dict[str, Any]:
    """``tomllib.load`` of ``path``, served from the cache while the file is unchanged."""
    return memoize(path, _parse)


def memoize(path: str, build: Callable[[str], T]) -> T:
    """``build(path)``, pickled under a key made of the file's path, size and modification time.

    The knowledge tables are built from their files through this, so a warm start reads one pickle
    per table instead of parsing JSON or TOML and indexing it again.
    """
    directory = cache_dir()
    if directory is None:
        return build(path)
    stat = os.stat(path)
    stem = "".join(char if char.isalnum() else "_" for char in os.path.abspath(path))[-100:]
    name = "".join(char if char.isalnum() else "_" for char in getattr(build, "__qualname__", "build"))
    code = _code_stamp(getattr(build, "__module__", ""))
    entry = os.path.join(directory, f"{stem}-{name}-{stat.st_size}-{stat.st_mtime_ns}-{code}.pickle")
    try:
        with open(entry, "rb") as handle:
            return pickle.load(handle)  # type: ignore[no-any-return]
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        pass
    data = build(path)
    temporary = f"{entry}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, entry)
    except (OSError, pickle.PickleError, TypeError, AttributeError):
        if os.path.exists(temporary):
            os.unlink(temporary)
    return data


def _code_stamp(module: str) -> str:
    """Modification times of the code that builds and defines cached objects: a change invalidates them."""
    stamps = []
    for name in (module, "tlsdiag.model"):
        source = getattr(sys.modules.get(name), "__file__", None)
        stamps.append(str(os.stat(source).st_mtime_ns) if source else "0")
    return "-".join(stamps)


def _parse(path: str) -> dict[str, Any]:
    import tomllib  # deferred: a warm cache never needs the parser

    with open(path, "rb") as handle:
        return tomllib.load(handle)
