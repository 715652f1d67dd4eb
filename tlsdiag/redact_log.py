"""``tlsdiag redact LOG``: a copy of a log that can be attached to an issue, its secrets masked.

The copy is the log as tlsdiag reads it (decompressed, decoded to UTF-8, colour codes and paste
markup removed) with the same lines in the same places, so that line numbers in a report made from
the original still point at the right lines of the copy. It is written as it is read: memory stays
flat whatever the size. A copy written to a file appears only once it is complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from typing import IO, BinaryIO

from tlsdiag.analysis.read import LogInput, open_input
from tlsdiag.errors import InputError
from tlsdiag.redact import Redactor

_BATCH = 4096  # lines written at once


def redact_log(
    source: str | os.PathLike[str] | None,
    output: str | os.PathLike[str] | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: IO[str] | None = None,
) -> Counter[str]:
    """Write the masked copy of ``source`` (None: standard input) to ``output`` (None: standard output).

    Returns how many secrets of each rule id were masked.
    """
    if output is not None and source is not None and _same_file(source, output):
        raise InputError(f"{os.fspath(output)} is the log itself: write the shareable copy to another file")
    redactor = Redactor(learned=_learn(source) if source is not None and os.fspath(source) != "-" else None)
    with open_input(source, stdin=stdin) as log:
        if output is None:
            _copy(log, redactor, stdout or sys.stdout)
            return redactor.counts
        target = os.fspath(output)
        directory = os.path.dirname(os.path.abspath(target))
        try:
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 -- renamed into place, or removed, below
                "w", encoding="utf-8", newline="\n", dir=directory, prefix=".tlsdiag-", suffix=".tmp", delete=False
            )
        except OSError as error:
            raise InputError(f"cannot write {target}: {error.strerror or error}") from None
        try:
            with handle:
                _copy(log, redactor, handle)
            os.replace(handle.name, target)
        except BaseException as error:
            os.unlink(handle.name)
            if isinstance(error, OSError):
                raise InputError(f"cannot write {target}: {error.strerror or error}") from None
            raise
    return redactor.counts


def _learn(source: str | os.PathLike[str]) -> dict[str, str]:
    """A first pass over a file: the secrets its patterns find, so that the copy masks them from line 1 on.

    (Standard input cannot be read twice: there a secret is masked from where it is first found.)
    """
    learner = Redactor()
    with open_input(source) as log:
        for line in log:
            learner.line(line.text)
    return learner.learned


def _copy(log: LogInput, redactor: Redactor, out: IO[str]) -> None:
    batch: list[str] = []
    for line in log:
        batch.append(redactor.line(line.text))
        if len(batch) >= _BATCH:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")


def _same_file(source: str | os.PathLike[str], output: str | os.PathLike[str]) -> bool:
    if os.fspath(source) == "-":
        return False
    try:
        return os.path.samefile(source, output)
    except OSError:
        return os.path.realpath(source) == os.path.realpath(output)
