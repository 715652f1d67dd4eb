"""A small on-disk cache for parsed data files and compiled report templates.

Parsing the hand-written TOML knowledge and compiling Jinja templates costs more than the rest of a
``tlsdiag explain`` run; both results are cached under ``$XDG_CACHE_HOME/tlsdiag/<version>`` (or
``~/.cache``), keyed by the source file's path, size and modification time. A cache that cannot be
written is simply not used; ``TLSDIAG_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import os
import pickle
import re
from functools import cache
from pathlib import Path
from typing import Any

from tlsdiag import __version__


@cache
def cache_dir() -> Path | None:
    if os.environ.get("TLSDIAG_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "tlsdiag" / __version__
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def load_toml(path: Path) -> dict[str, Any]:
    """``tomllib.load`` of ``path``, served from the cache while the file is unchanged."""
    directory = cache_dir()
    if directory is None:
        return _parse(path)
    stat = path.stat()
    stem = re.sub(r"[^A-Za-z0-9]+", "_", str(path.resolve())).strip("_")[-120:]
    entry = directory / f"{stem}-{stat.st_size}-{stat.st_mtime_ns}.pickle"
    try:
        with entry.open("rb") as handle:
            data = pickle.load(handle)
        if isinstance(data, dict):
            return data
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
        pass
    data = _parse(path)
    temporary = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, entry)
    except OSError:
        temporary.unlink(missing_ok=True)
    return data


def _parse(path: Path) -> dict[str, Any]:
    import tomllib  # deferred: a warm cache never needs the parser

    with path.open("rb") as handle:
        return tomllib.load(handle)
