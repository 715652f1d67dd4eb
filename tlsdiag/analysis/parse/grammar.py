"""The composed Lark grammar of every message kind, built once (LALR) and cached on disk."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from tlsdiag.analysis.parse.dispatch import start_rules
from tlsdiag.paths import data_dir


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()[:16]


@cache
def parser() -> Any:
    """The LALR parser over ``grammars/messages.lark`` with one start symbol per message kind."""
    from lark import Lark

    from tlsdiag.cache import cache_dir

    grammars = data_dir("grammars")
    directory = cache_dir()
    cache_file: str | bool = False
    if directory:  # Lark's own cache key ignores imported files, so their mtimes go into the name
        stamp = "-".join(
            str(os.stat(os.path.join(grammars, name)).st_mtime_ns)
            for name in sorted(os.listdir(grammars))
            if name.endswith(".lark")
        )
        cache_file = os.path.join(directory, f"messages-{_digest(stamp)}.lark.cache")
    return Lark.open(
        os.path.join(grammars, "messages.lark"),
        start=start_rules(),
        parser="lalr",
        lexer="contextual",
        cache=cache_file,
        maybe_placeholders=False,
    )
