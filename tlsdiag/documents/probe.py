"""The ``probe`` document: a server's TLS profile held against a device's build, and the verdict."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from tlsdiag.documents.base import Schema, json_model
from tlsdiag.documents.common import Category, CodePoint, Envelope, FixJson, NonEmptyText, Severity, Share

TlsVersion = Literal["SSL2.0", "SSL3.0", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"]
#: the file a device's fixes are written for
FixFile = Literal["config.h", "sdkconfig", "prj.conf"]
ProbeVerdict = Literal["connects", "fails", "unknown"]
ClientAuth = Literal["none", "optional", "required"] | None
ProfileSource = Literal["scan", "sslyze-json", "testssl-json"]
DeviceSource = Literal["config", "log", "preset"]
Side = Literal["device", "server"]


@json_model
class ServerCertificateJson:
    """One certificate of the chain the server sends, with what a client needs to verify it."""

    json_def: ClassVar[str] = "certificate"
    subject: str
    issuer: str
    size: int  # bytes of DER
    key_type: str  # RSA, EC, Ed25519, Ed448, DSA, unknown
    key_bits: int | None
    curve: str | None  # for EC keys, as a TLS group name (secp256r1...)
    signature_algorithm: str  # sha256WithRSAEncryption, ecdsa-with-SHA384, rsassaPss, ed25519...
    signature_hash: str | None  # null for Ed25519
    not_before: str  # ISO 8601
    not_after: str
    self_signed: bool
    is_ca: bool


@json_model
class SniJson:
    """How the server treats a ClientHello without server_name, compared with one that names it."""

    required: bool | None  # null: not tested
    behaviour: str  # alert unrecognized_name (112), a different certificate, the same certificate...
    certificate_without_sni: str | None  # the subject of the certificate it sends then


@json_model
class ProbeHandshakeJson:
    """What one TLS 1.2 handshake of the probe showed of the server's flight."""

    server_name: str | None
    requested_mfl: int | None  # the max_fragment_length the probe asked for, in bytes
    mfl_accepted: bool | None  # the server echoed max_fragment_length
    records: tuple[int, ...]  # lengths of the handshake records it sent
    certificate_message: int | None  # bytes of its Certificate message, header included
    certificate_request: bool
    session_ticket: bool | None  # it echoed the session_ticket extension
    alert: str | None  # the alert it sent instead, e.g. fatal protocol_version (70)
    leaf_sha256: str | None
    error: str | None  # what stopped the probe (closed, timeout)


@json_model
class ServerJson:
    """What the server does in TLS, whatever measured it; null where that was not measured."""

    host: str
    port: Annotated[int, Schema(minimum=1, maximum=65535)]
    server_name: str | None
    versions: tuple[TlsVersion, ...]
    ciphersuites: dict[TlsVersion, tuple[CodePoint, ...]]  # per version, the suites it accepts
    groups: tuple[str, ...] | None  # TLS group names; null when not measured
    certificates: tuple[ServerCertificateJson, ...]
    certificate_message_bytes: int | None  # the TLS 1.2 Certificate message, as seen or computed from the chain
    client_auth: ClientAuth
    session_tickets: bool | None
    max_fragment_length: bool | None  # it honours max_fragment_length
    largest_record: int | None  # the longest handshake record seen when it was not asked for smaller ones
    sni: SniJson | None
    handshakes: tuple[ProbeHandshakeJson, ...]
    source: ProfileSource
    notes: tuple[str, ...]


@json_model
class DeviceJson:
    """The device's side: what its build (or its log, or a preset) offers."""

    source: DeviceSource
    name: str
    mbedtls_version: str | None
    series: str  # the mbedTLS series its build is read with
    configuration: str | None  # the kind of configuration read; null for a device known from its log
    fix_target: FixFile
    versions: tuple[str, ...]  # TLS versions it can offer
    in_content_len: int | None  # MBEDTLS_SSL_IN_CONTENT_LEN
    max_fragment_length: int | None  # what it asks for, in bytes
    notes: tuple[str, ...]


@json_model
class NegotiatedJson:
    """What the two would agree on."""

    version: str | None
    ciphersuite: str | None  # the suite the server would pick among the shared ones (its order is not known)


@json_model
class ProbeEvidenceJson:
    """A fact a probe finding rests on, from the device's side or the server's (a server-side fact has no line)."""

    side: Side
    line: int | None
    text: str


@json_model
class ProbeFindingJson:
    """The contract's finding for a probe: each evidence item says which side it comes from."""

    json_def: ClassVar[str] = "finding"
    rule: Annotated[str, Schema(pattern="^PROBE-")]
    name: str
    title: NonEmptyText
    category: Category
    severity: Severity
    confidence: Share
    evidence: tuple[ProbeEvidenceJson, ...]
    explanation: str
    fixes: tuple[FixJson, ...]
    references: tuple[str, ...]
    # the error the device's handshake would end with
    predicted_error: Annotated[str | None, Schema(pattern="^-0x[0-9A-Fa-f]{4}$")]
    # the server's handshake message the device is reading when its handshake stops (ServerHello, Certificate...),
    # where the failure has a fixed one
    predicted_step: str | None


@json_model
class ProbeDocument(Envelope):
    """``tlsdiag probe --format json``: will the device connect to the server, and what blocks it."""

    command: Literal["probe"]
    server: ServerJson
    device: DeviceJson
    verdict: ProbeVerdict
    negotiated: NegotiatedJson
    findings: tuple[ProbeFindingJson, ...]  # each blocker, with evidence on both sides and the fix
