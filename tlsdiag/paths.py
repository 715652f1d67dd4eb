"""Where the grammars and the package's own files live, in a wheel and in a source checkout.

A wheel carries ``grammars/`` inside the package (``tlsdiag/grammars``); a source checkout or an
editable install keeps it at the top of the repository. Both layouts resolve here, so that no other
module guesses paths. The knowledge base has its own door, :mod:`tlsdiag.knowledge`, which finds
its root the same way.
"""

from __future__ import annotations

import os
from functools import cache

# Plain strings and os.path rather than pathlib: this module is on the start-up path of every
# command, and pathlib's import costs more than everything ``tlsdiag explain`` computes.
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


@cache
def data_dir(name: str) -> str:
    """Return the data directory ``name`` (``grammars``) shipped with the package."""
    for candidate in (os.path.join(_PACKAGE, name), os.path.join(os.path.dirname(_PACKAGE), name)):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(f"tlsdiag data directory {name!r} is missing from this installation")


def package_path(*parts: str) -> str:
    return os.path.join(_PACKAGE, *parts)
