"""The diagnose report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

from tlsdiag.documents.base import JsonValue, plain_object
from tlsdiag.report import Format, render_report

if TYPE_CHECKING:
    from tlsdiag.core import Diagnosed
    from tlsdiag.documents.diagnose import DiagnoseDocument, ErrorJson, HandshakeJson


def _no_handshake() -> HandshakeJson:
    """The handshake block of a log with no attempt in it."""
    from tlsdiag.documents.diagnose import HandshakeJson

    return HandshakeJson(
        role=None,
        last_step=None,
        reached=(),
        client_hello=None,
        server_hello=None,
        certificates=(),
        alerts=(),
        verify_flags=(),
    )


def diagnose_model(diagnosed: Diagnosed) -> DiagnoseDocument:
    """The document of one diagnosed log.

    ``findings`` are about the latest failure (the contract's ranked list); ``failures`` lists every
    distinct failure of the log, the latest first, each with its own findings, so that a paste with
    two problems (one fixed, then the next) is answered for both.
    """
    from tlsdiag.documents.diagnose import AttemptsJson, DiagnosedInputJson, DiagnoseDocument, Verdict

    analysis, diagnosis = diagnosed.analysis, diagnosed.diagnosis
    attempt = analysis.primary_attempt
    errors: list[ErrorJson] = []
    for view in analysis.attempts:
        for item in view.errors:
            entry = item.to_json()
            errors.append(replace(entry, final=True) if item is view.final else entry)
    return DiagnoseDocument(
        verdict=cast(Verdict, diagnosis.verdict),  # one of VERDICTS: Diagnosis checks it
        thin=diagnosis.thin,
        attempts=AttemptsJson(seen=diagnosis.attempts_seen, failed=diagnosis.attempts_failed),
        input=DiagnosedInputJson(
            name=analysis.name,
            lines=analysis.lines,
            recognized_lines=analysis.recognized_lines,
            dialects=tuple(sorted(analysis.dialects, key=lambda name: -analysis.dialects[name])),
            sessions=diagnosis.attempts_seen,
            notes=tuple(analysis.stats.notes),
        ),
        context=analysis.context.to_json(),
        errors=tuple(errors),
        handshake=_no_handshake() if attempt is None else attempt.handshake_json(),
        findings=tuple(finding.to_json() for finding in diagnosis.findings),
        failures=tuple(failure.to_json() for failure in diagnosis.failures),
    )


def diagnose_document(diagnosed: Diagnosed) -> dict[str, JsonValue]:
    """The JSON document of one diagnosed log, as plain values."""
    return plain_object(diagnose_model(diagnosed))


def render_diagnose(diagnosed: Diagnosed, fmt: Format, color: bool = False, redact: bool = True) -> str:
    """The report in ``fmt``; markdown and html, the formats made to be shared, mask secrets unless told not to."""
    document = diagnose_model(diagnosed)
    return render_report(document, diagnosed.diagnosis.findings, fmt, "diagnose", color, redact)
