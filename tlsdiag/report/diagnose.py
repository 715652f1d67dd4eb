"""The diagnose report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlsdiag.analysis.outcome import verdict
from tlsdiag.analysis.pipeline import Analysis
from tlsdiag.report import Format, envelope, render_report


def diagnose_document(analysis: Analysis, findings: Sequence[Any] = ()) -> dict[str, Any]:
    attempt = analysis.primary_attempt
    handshake: dict[str, Any] = {
        "role": None,
        "last_step": None,
        "reached": [],
        "client_hello": None,
        "server_hello": None,
        "certificates": [],
        "alerts": [],
        "verify_flags": [],
    }
    if attempt is not None:
        handshake = attempt.handshake_json()
    errors = []
    for view in analysis.attempts:
        for item in view.errors:
            entry = item.to_json()
            if item is view.final:
                entry["final"] = True
            errors.append(entry)
    failed = [item for item in analysis.sessions if item.failed]
    return envelope(
        verdict=verdict(analysis.sessions, analysis.primary, findings),
        attempts={"seen": len(analysis.sessions) + analysis.builder.dropped_sessions, "failed": len(failed)},
        input={
            "name": analysis.name,
            "lines": analysis.lines,
            "recognized_lines": analysis.recognized_lines,
            "dialects": sorted(analysis.dialects, key=lambda name: -analysis.dialects[name]),
            "sessions": len(analysis.sessions) + analysis.builder.dropped_sessions,
            "notes": list(analysis.stats.notes),
        },
        context=analysis.context.to_json(),
        errors=errors,
        handshake=handshake,
        findings=[finding.to_json() for finding in findings],
    )


def render_diagnose(
    analysis: Analysis, findings: Sequence[Any], fmt: Format, color: bool = False, redact: bool = True
) -> str:
    """The report in ``fmt``; markdown and html, the formats made to be shared, mask secrets unless told not to."""
    return render_report(diagnose_document(analysis, findings), findings, fmt, "diagnose", color, redact)
