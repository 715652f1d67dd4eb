"""Where the data directories live, in a wheel and in a source checkout.

A wheel carries ``knowledge/`` and ``grammars/`` inside the package (``tlsdiag/knowledge``); a source
checkout or an editable install keeps them at the top of the repository. Both layouts resolve here,
and nowhere else, so that no other module guesses paths.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the directory ``name`` (``knowledge`` or ``grammars``) shipped with the package."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tlsdiag data directory {name!r} is missing from this installation")


def knowledge_path(*parts: str) -> Path:
    return data_dir("knowledge").joinpath(*parts)


def package_path(*parts: str) -> Path:
    return _PACKAGE.joinpath(*parts)
