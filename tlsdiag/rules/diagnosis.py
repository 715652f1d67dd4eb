"""The diagnosis of a whole log: every distinct failure in it, the latest first, and the log's verdict.

A paste often holds more than one failure: a device that retries, a thread that fixes one problem
and meets the next (an ESP-IDF 4.0 client certificate too large for the output buffer, then a
server that closes the connection once it fits). Each failed attempt is diagnosed on its own;
attempts that fail the same way (the same code, the same likeliest cause) are grouped, so that a
device retrying ten times gets one answer that says it saw ten attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tlsdiag.analysis.views import VERDICTS, AttemptView
from tlsdiag.model import Finding

if TYPE_CHECKING:
    from tlsdiag.documents.diagnose import FailureJson


@dataclass(frozen=True, slots=True)
class FailureDiagnosis:
    """One way the log's attempts failed, and what explains it."""

    attempts: tuple[int, ...]  # indexes of the attempts that failed this way, latest last
    first_line: int  # where the latest of them starts and ends
    last_line: int
    error: str | None  # the value they failed with, as printed (the latest's)
    error_line: int | None
    findings: tuple[Finding, ...]
    thin: bool  # nothing but the code (and the stack) speaks for the causes: a differential

    def to_json(self) -> FailureJson:
        from tlsdiag.documents.diagnose import FailureJson

        return FailureJson(
            attempts=self.attempts,
            first_line=self.first_line,
            last_line=self.last_line,
            error=self.error,
            error_line=self.error_line,
            thin=self.thin,
            findings=tuple(finding.to_json() for finding in self.findings),
        )


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Everything tlsdiag concludes about one log."""

    verdict: str  # one of VERDICTS
    findings: tuple[Finding, ...]  # about the latest failure (or the warnings of a log that did not fail)
    failures: tuple[FailureDiagnosis, ...]  # every distinct failure, the latest first
    attempts_seen: int
    attempts_failed: int

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    @property
    def thin(self) -> bool:
        return bool(self.failures) and self.failures[0].thin

    @property
    def failed(self) -> bool:
        """At least one failure-level finding: the command's exit code is 1."""
        return any(finding.severity == "failure" for finding in self.findings)


def group_key(attempt: AttemptView, findings: tuple[Finding, ...]) -> tuple[Any, ...]:
    """Attempts that failed with the same value for the same likeliest reason are one failure."""
    final = attempt.final
    value = None if final is None else frozenset(final.names) or final.value
    top = findings[0] if findings else None
    return value, None if top is None else (top.cause or top.rule)


def is_thin(findings: tuple[Finding, ...]) -> bool:
    """A diagnosis that rests on the code's differential rather than on a rule's evidence."""
    failures = [finding for finding in findings if finding.severity == "failure"]
    return bool(failures) and all(finding.basis == "differential" for finding in failures)
