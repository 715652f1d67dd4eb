"""What ``diagnose``, ``diff`` and ``capture`` share: analyse an input, read it for the version the
user gave, diagnose every failure in it, and the exit code that follows.

The three commands differ only in where the log comes from (a file, two files, a running program)
and how the report is written; keeping the middle here means a change to how a log is diagnosed
reaches all three at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from tlsdiag.errors import EXIT_FAILURE_FOUND, EXIT_OK, InputError

if TYPE_CHECKING:
    from tlsdiag.analysis.pipeline import Analysis
    from tlsdiag.rules.diagnosis import Diagnosis


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """One log, analysed and diagnosed."""

    analysis: Analysis
    diagnosis: Diagnosis


def analyse_input(
    source: str | os.PathLike[str] | None, mbedtls_version: str | None = None, stdin: BinaryIO | None = None
) -> Analysis:
    """The analysis of one input (a path, ``-``/None for standard input), read for ``mbedtls_version``
    when the user gave one; a version no table knows is an input error."""
    from tlsdiag.analysis.pipeline import analyse

    analysis = analyse(None if source in (None, "-") else source, stdin=stdin)
    if mbedtls_version:
        read_as(analysis, mbedtls_version)
    return analysis


def read_as(analysis: Analysis, mbedtls_version: str) -> None:
    """Read the analysis' codes with the version the user gave instead of the inferred one."""
    from tlsdiag.versions import VersionError

    try:
        analysis.override_version(mbedtls_version)
    except VersionError as error:
        raise InputError(str(error)) from None


def diagnose(analysis: Analysis, comparison: Any = None) -> Diagnosed:
    """Every distinct failure of an analysed log; ``comparison`` (a :class:`tlsdiag.diff.Comparison`
    whose failing side is ``analysis``) lets the rules that read a working run's differences match."""
    from tlsdiag.rules import diagnose_log

    return Diagnosed(analysis, diagnose_log(analysis, comparison))


def exit_code(diagnosis: Diagnosis) -> int:
    """1 when a failure-level finding was made (the contract's exit code), else 0."""
    return EXIT_FAILURE_FOUND if diagnosis.failed else EXIT_OK
