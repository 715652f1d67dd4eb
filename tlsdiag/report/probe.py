"""The probe report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from typing import Any

from tlsdiag.probe.device import Device
from tlsdiag.probe.match import Verdict
from tlsdiag.probe.profile import ServerProfile
from tlsdiag.report import Format, envelope, render, to_json


def probe_document(profile: ServerProfile, device: Device, verdict: Verdict) -> dict[str, Any]:
    return envelope(
        command="probe",
        server=profile.to_json(),
        device=device.to_json(),
        verdict=verdict.verdict,
        negotiated={"version": verdict.version, "ciphersuite": verdict.suite},
        findings=[finding.to_json() for finding in verdict.findings],
    )


def render_probe(profile: ServerProfile, device: Device, verdict: Verdict, fmt: Format, color: bool) -> str:
    document = probe_document(profile, device, verdict)
    if fmt is Format.json:
        return to_json(document)
    template = {Format.text: "probe.txt.j2", Format.markdown: "probe.md.j2", Format.html: "probe.html.j2"}[fmt]
    return render(template, color=color, doc=document)
