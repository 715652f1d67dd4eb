"""The diagnose report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tlsdiag.report import Format, envelope, render_report

if TYPE_CHECKING:
    from tlsdiag.core import Diagnosed

_NO_HANDSHAKE: dict[str, Any] = {
    "role": None,
    "last_step": None,
    "reached": [],
    "client_hello": None,
    "server_hello": None,
    "certificates": [],
    "alerts": [],
    "verify_flags": [],
}


def diagnose_document(diagnosed: Diagnosed) -> dict[str, Any]:
    """The JSON document of one diagnosed log.

    ``findings`` are about the latest failure (the contract's ranked list); ``failures`` lists every
    distinct failure of the log, the latest first, each with its own findings, so that a paste with
    two problems (one fixed, then the next) is answered for both.
    """
    analysis, diagnosis = diagnosed.analysis, diagnosed.diagnosis
    attempt = analysis.primary_attempt
    handshake = dict(_NO_HANDSHAKE) if attempt is None else attempt.handshake_json()
    errors = []
    for view in analysis.attempts:
        for item in view.errors:
            entry = item.to_json()
            if item is view.final:
                entry["final"] = True
            errors.append(entry)
    return envelope(
        verdict=diagnosis.verdict,
        thin=diagnosis.thin,
        attempts={"seen": diagnosis.attempts_seen, "failed": diagnosis.attempts_failed},
        input={
            "name": analysis.name,
            "lines": analysis.lines,
            "recognized_lines": analysis.recognized_lines,
            "dialects": sorted(analysis.dialects, key=lambda name: -analysis.dialects[name]),
            "sessions": diagnosis.attempts_seen,
            "notes": list(analysis.stats.notes),
        },
        context=analysis.context.to_json(),
        errors=errors,
        handshake=handshake,
        findings=[finding.to_json() for finding in diagnosis.findings],
        failures=[failure.to_json() for failure in diagnosis.failures],
    )


def render_diagnose(diagnosed: Diagnosed, fmt: Format, color: bool = False, redact: bool = True) -> str:
    """The report in ``fmt``; markdown and html, the formats made to be shared, mask secrets unless told not to."""
    document = diagnose_document(diagnosed)
    return render_report(document, diagnosed.diagnosis.findings, fmt, "diagnose", color, redact)
