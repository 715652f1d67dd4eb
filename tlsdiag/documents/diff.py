"""The ``diff`` document: two runs of one connection side by side, where they part, and what differs."""

from __future__ import annotations

from tlsdiag.documents.base import json_model
from tlsdiag.documents.common import Envelope, FindingJson
from tlsdiag.documents.diagnose import ContextJson, LogInputJson


@json_model
class DiffSideJson:
    """One of the two runs: the log and its context."""

    input: LogInputJson
    context: ContextJson


@json_model
class DivergenceJson:
    """Where the two runs first part."""

    good_line: int | None
    bad_line: int | None
    step: str | None  # the last handshake milestone both runs shared
    description: str


@json_model
class CertificateSummaryJson:
    """What a report shows of a leaf certificate that changed: who, by whom, until when, which key and signature."""

    subject: str | None
    issuer: str | None
    not_after: str | None
    key_type: str | None
    key_size: int | None
    signature_algorithm: str | None
    size: int | None


#: the value a difference had in one run: a name, a number, a list of names, a certificate, or nothing
DiffValue = str | int | float | bool | tuple[str, ...] | CertificateSummaryJson | None


@json_model
class DifferenceJson:
    """One thing that differs between the runs (a ClientHello field, the chain, a size, the error...)."""

    kind: str  # client-hello:ciphersuites, certificate:server-leaf, size:cert_too_large, error, timing...
    description: str
    good: DiffValue  # its value in the working run (for a list: what only the working run had)
    bad: DiffValue  # its value in the failing run (for a list: what only the failing run had)
    good_line: int | None
    bad_line: int | None


@json_model
class TimelineStepJson:
    """A milestone of one run."""

    line: int
    label: str


@json_model
class TimelineRowJson:
    """One row of the aligned timelines: a milestone of each run (or of one), and whether they match."""

    same: bool
    good: TimelineStepJson | None
    bad: TimelineStepJson | None


@json_model
class DiffDocument(Envelope):
    """``tlsdiag diff --format json``: a working and a failing run compared, and the failing run's findings."""

    good: DiffSideJson
    bad: DiffSideJson
    same_connection: bool  # false: unrelated connections, and the rest is left empty rather than noise
    client_hellos_equivalent: bool | None  # null when one of the runs shows no ClientHello
    first_divergence: DivergenceJson | None
    differences: tuple[DifferenceJson, ...]
    timeline: tuple[TimelineRowJson, ...]
    findings: tuple[FindingJson, ...]
