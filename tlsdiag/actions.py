"""What each command does once its arguments are known, independent of how they were parsed.

Both the typer command line (``cli.py``) and the fast ``explain`` path (``entry.py``) call these, so a
command behaves the same whichever parser read its arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from tlsdiag.errors import EXIT_OK, InputError
from tlsdiag.report import Format, use_color


def explain(
    codes: Sequence[str],
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
) -> int:
    """Decode ``codes`` and write the report; unknown or malformed codes raise :class:`InputError`."""
    from tlsdiag import codes as decoding
    from tlsdiag.forms import CodeSyntaxError
    from tlsdiag.knowledge import load
    from tlsdiag.report.explain import render_explain
    from tlsdiag.versions import VersionError

    knowledge = load()
    try:
        scope = decoding.default_scope(knowledge, mbedtls_version, esp_idf_version)
        decoded = [item for text in codes for item in decoding.explain(text, scope, knowledge)]
    except (CodeSyntaxError, VersionError) as error:
        raise InputError(str(error)) from None
    emit(lambda color: render_explain(decoded, fmt, knowledge.mbedtls.series, color), output, no_color)
    unknown = [item for item in decoded if not item.defined]
    if unknown:
        reason = next((note for note in unknown[0].notes if "is not defined by" in note), "no table defines it")
        raise InputError(f"{unknown[0].input}: {reason}")
    return EXIT_OK


def emit(build: Callable[[bool], str], output: str | os.PathLike[str] | None, no_color: bool) -> None:
    """Render once for the destination (colour only on a terminal) and write it."""
    if output is None:
        sys.stdout.write(build(use_color(sys.stdout, no_color)))
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(build(False))
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None
