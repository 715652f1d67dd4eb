"""The probe report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from tlsdiag.probe.device import Device
from tlsdiag.probe.match import Verdict
from tlsdiag.probe.profile import ServerProfile
from tlsdiag.report import Format, render, template_document, to_json

if TYPE_CHECKING:
    from tlsdiag.documents.probe import ProbeDocument


def probe_model(profile: ServerProfile, device: Device, verdict: Verdict) -> ProbeDocument:
    """The document of a server profile held against a device."""
    from tlsdiag.documents import probe as documents

    return documents.ProbeDocument(
        command="probe",
        server=profile.to_json(),
        device=device.to_json(),
        verdict=cast(documents.ProbeVerdict, verdict.verdict),
        negotiated=documents.NegotiatedJson(version=verdict.version, ciphersuite=verdict.suite),
        findings=tuple(finding.to_json() for finding in verdict.findings),
    )


def render_probe(profile: ServerProfile, device: Device, verdict: Verdict, fmt: Format, color: bool) -> str:
    document = probe_model(profile, device, verdict)
    if fmt is Format.json:
        return to_json(document)
    template = {Format.text: "probe.txt.j2", Format.markdown: "probe.md.j2", Format.html: "probe.html.j2"}[fmt]
    return render(template, color=color, doc=template_document(document))
