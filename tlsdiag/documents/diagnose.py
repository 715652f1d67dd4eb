"""The ``diagnose`` document and its parts: the input, its context, the errors, the handshake, the failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from tlsdiag.documents.base import Omittable, Schema, json_model
from tlsdiag.documents.common import (
    CodeKind,
    CodePoint,
    Count,
    Envelope,
    FindingJson,
    InterpretationJson,
    LineNumber,
)

#: the software stacks tlsdiag tells apart (knowledge/versions/markers.toml), and unknown
Stack = Literal[
    "esp-idf", "arduino-esp32", "mbed-os", "zephyr", "micropython", "espruino", "stm32", "linux-app", "unknown"
]
#: how a log's primary attempt ended
Verdict = Literal["failed-explained", "failed-unexplained", "ok", "no-tls"]
Direction = Literal["in", "out"]
Role = Literal["client", "server"] | None
ErrorKind = CodeKind | Literal["unknown"]


@json_model
class LogInputJson:
    """The log that was read: its name, its size, and the dialects its lines were read in."""

    name: str
    lines: Count
    recognized_lines: Count  # lines a grammar or the open-world reader understood
    dialects: tuple[str, ...]  # the dialects recognised, the most frequent first


@json_model
class DiagnosedInputJson(LogInputJson):
    """The log that was diagnosed, with the connection attempts it holds and what reading it noticed."""

    sessions: Count  # connection attempts seen
    notes: tuple[str, ...]  # what reading it noticed: a log cut short, lines glued together...


@json_model
class ContextEvidenceJson:
    """A line the context was decided from, and what it showed."""

    line: int
    text: str
    why: str


@json_model
class ContextJson:
    """What produced the log: the software stack, the mbedTLS version, the platform version, and why."""

    stack: Stack
    mbedtls_version: str | None  # 2.28.3, or the span of examined series the log allows (3.3-4.1)
    mbedtls_series: tuple[str, ...]  # the examined series its error codes are read with
    platform_version: str | None  # ESP-IDF v4.0, Zephyr 3.5.0...
    evidence: tuple[ContextEvidenceJson, ...]


@json_model
class AttemptsJson:
    """Connection attempts the log holds, and how many of them failed."""

    seen: Count
    failed: Count


@json_model
class ReadingJson:
    """One way to read a printed number."""

    value: int
    hex: str
    how: str  # hex, decimal, unsigned 32-bit, a code printed without its sign...


@json_model
class ErrorJson:
    """An error value the log printed, read for the log's versions."""

    line: LineNumber
    function: str | None  # the call that returned it, when the line says
    raw: str  # as printed: -0x7280, -29312, SSL - The connection indicated an EOF
    value: int  # the likeliest reading
    session: int  # the attempt it belongs to
    kind: ErrorKind
    interpretations: tuple[InterpretationJson, ...]  # what the value means, per set of versions, likeliest first
    # every way to read the printed number when there is more than one, likeliest first (hex without 0x,
    # decimal, a code printed without its sign...)
    readings: Omittable[tuple[ReadingJson, ...]] = ()
    mentioned: Omittable[Literal[True] | None] = None  # named in prose around the log rather than printed by a program
    final: Omittable[Literal[True] | None] = None  # the value its attempt failed with


@json_model
class ExtensionJson:
    """One extension of a hello as framed on the wire."""

    type: int
    name: str
    length: int  # as declared
    truncated: Omittable[Literal[True] | None] = None  # the log holds fewer bytes than declared


@json_model
class ClientHelloJson:
    """A ClientHello decoded from the bytes the log dumped: what the client offered."""

    type: Literal[1]
    name: str
    version: str | None  # the highest version offered
    legacy_version: str | None
    supported_versions: tuple[str, ...]
    ciphersuites: tuple[CodePoint, ...]
    ciphersuite_names: tuple[str, ...]
    compression_methods: tuple[int, ...]
    server_name: str | None
    session_id_length: int | None
    supported_groups: tuple[str, ...]
    signature_algorithms: tuple[str, ...]
    key_share_groups: tuple[str, ...]
    psk_key_exchange_modes: tuple[int, ...]
    alpn: tuple[str, ...]
    max_fragment_length: int | None  # in bytes
    record_size_limit: int | None
    encrypt_then_mac: bool
    extended_master_secret: bool
    session_ticket: bool
    renegotiation_info: bool
    renegotiation_scsv: bool
    signature_algorithms_cert: Omittable[tuple[str, ...]] = ()
    extensions: tuple[ExtensionJson, ...]
    extension_errors: Omittable[tuple[str, ...]] = ()  # extensions whose contents did not decode
    error: Omittable[str | None] = None  # where the message was cut or malformed; what came before it is kept
    line: int
    source: Literal["wire"]


@json_model
class ServerHelloJson:
    """A ServerHello (or HelloRetryRequest) decoded from the bytes the log dumped: what the server chose."""

    type: Literal[2]
    name: Literal["ServerHello", "HelloRetryRequest"]
    version: str | None  # the version negotiated
    legacy_version: str | None
    ciphersuite: CodePoint | None
    ciphersuite_name: str | None
    compression_method: int | None
    session_id_length: int | None
    hello_retry_request: bool
    key_share_group: str | None
    alpn: str | None
    max_fragment_length: int | None  # in bytes
    record_size_limit: int | None
    encrypt_then_mac: bool
    extended_master_secret: bool
    session_ticket: bool
    renegotiation_info: bool
    downgrade: str | None  # the version a TLS 1.3-capable server says it fell back to (RFC 8446 marker)
    extensions: tuple[ExtensionJson, ...]
    extension_errors: Omittable[tuple[str, ...]] = ()  # extensions whose contents did not decode
    error: Omittable[str | None] = None  # where the message was cut or malformed; what came before it is kept
    line: int
    source: Literal["wire"]


@json_model
class ClientHelloLinesJson:
    """A ClientHello as the library's debug lines show it (``client hello, add ciphersuite``...), not its bytes."""

    version: str | None
    ciphersuites: tuple[CodePoint, ...]
    ciphersuite_names: tuple[str, ...]
    extensions: tuple[ExtensionJson, ...]  # debug lines do not show the extensions: always empty
    server_name: str | None
    line: int
    source: Literal["debug-lines"]


@json_model
class ServerHelloLinesJson:
    """The server's choice as the library's debug lines show it (``chosen ciphersuite``), not its bytes."""

    ciphersuite: CodePoint | None  # null when the line gives only the name
    ciphersuite_name: str
    line: int
    source: Literal["debug-lines"]


@json_model
class CertificateJson:
    """A certificate whose bytes the log carried, decoded: from a handshake message (wire) or a PEM block."""

    source: Literal["wire", "pem"]
    direction: Omittable[Direction | None] = None  # wire only: received (in) or sent (out)
    position: Omittable[int | None] = None  # wire only: 0 is the leaf, in the message's order
    line: int
    size: int | None  # bytes of DER
    subject: str | None
    issuer: str | None
    common_name: str | None
    serial: str | None  # colon-separated hex, as mbedTLS prints it
    not_before: str | None  # ISO 8601, UTC
    not_after: str | None
    key_type: str | None  # RSA, EC, Ed25519...
    key_size: int | None  # bits
    curve: str | None
    signature_algorithm: str | None
    signature_hash: str | None
    san_dns: tuple[str, ...]
    san_ips: tuple[str, ...]
    is_ca: bool | None  # null: no basicConstraints extension
    self_signed: bool | None
    der_length: int
    sha256: str
    error: Omittable[str | None] = None  # why the DER did not parse
    problems: Omittable[tuple[str, ...]] = ()  # parts that did not decode (one bad extension...)


@json_model
class UndecodedCertificateJson:
    """A certificate of a handshake message whose bytes the log holds only in part: its place and size."""

    source: Literal["wire"]
    direction: Direction | None  # received (in) or sent (out)
    position: int | None  # 0 is the leaf, in the message's order
    line: int
    size: int | None  # bytes of DER it declares


@json_model
class PrintedCertificateJson:
    """A certificate as the log printed it in text (a certificate dump, a verify-callback block)."""

    source: Literal["text"]
    origin: str | None  # "peer certificate #1", "verify depth 0"
    line: int
    subject: str | None
    issuer: str | None
    serial: str | None
    not_before: str | None  # as printed
    not_after: str | None
    signature_algorithm: str | None
    key: str | None  # the key size line as printed
    san: str | tuple[str, ...] | None  # the subject alternative names as printed


@json_model
class AlertJson:
    """A TLS alert sent or received."""

    direction: Direction
    level: int | None
    description: int
    name: str
    line: int


@json_model
class VerifyFlagJson:
    """A certificate verification flag the log printed."""

    name: Annotated[str, Schema(pattern="^MBEDTLS_X509_BAD")]
    line: int


@json_model
class HandshakeJson:
    """The primary attempt's handshake: how far it got, what the hellos said, certificates, alerts, flags."""

    role: Role
    last_step: str | None  # the step in progress when the log ends or fails
    reached: tuple[str, ...]  # milestones reached, in order
    client_hello: ClientHelloJson | ClientHelloLinesJson | None
    server_hello: ServerHelloJson | ServerHelloLinesJson | None
    certificates: tuple[CertificateJson | UndecodedCertificateJson | PrintedCertificateJson, ...]
    alerts: tuple[AlertJson, ...]
    verify_flags: tuple[VerifyFlagJson, ...]
    session: Omittable[int | None] = None  # the attempt shown (none when the log holds no TLS)
    first_line: Omittable[int | None] = None
    last_line: Omittable[int | None] = None


@json_model
class FailureJson:
    """One way the log's attempts failed, and what explains it."""

    attempts: tuple[int, ...]  # the attempts that failed this way, latest last
    first_line: int  # where the latest of them starts and ends
    last_line: int
    error: str | None  # the value they failed with, as printed (the latest's)
    error_line: int | None
    thin: bool  # nothing but the code (and the stack) speaks for the causes: the findings are a differential
    findings: tuple[FindingJson, ...]


@json_model
class DiagnoseDocument(Envelope):
    """``tlsdiag diagnose --format json``: one log's context, errors, handshake and ranked findings."""

    # how the log's primary attempt ended: failed-explained (a rule explains the failure), failed-unexplained
    # (it failed; only the code's meaning is known), ok (TLS ran and nothing failed), no-tls (nothing TLS-related)
    verdict: Verdict
    thin: bool  # the latest failure rests on its code's differential alone, not on a rule's evidence
    attempts: AttemptsJson
    input: DiagnosedInputJson
    context: ContextJson
    errors: tuple[ErrorJson, ...]  # every error value of every attempt, in log order
    handshake: HandshakeJson
    findings: tuple[FindingJson, ...]  # about the latest failure, ranked: the most likely root cause first
    failures: tuple[FailureJson, ...]  # every distinct failure of the log, the latest first


# --- parts decoded from the bytes a log dumped --------------------------------------------------------------------

_CLIENT_HELLO = 1  # the handshake type of a ClientHello (RFC 8446 4)


def _tupled(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def decoded_hello(details: Mapping[str, Any], line: int) -> ClientHelloJson | ServerHelloJson:
    """A hello from the JSON of its decoded message (:mod:`tlsdiag.tls.hello`), placed at ``line``."""
    values = {key: _tupled(value) for key, value in details.items()}
    values["extensions"] = tuple(ExtensionJson(**item) for item in details.get("extensions") or ())
    if details.get("type") == _CLIENT_HELLO:
        return ClientHelloJson(**values, line=line, source="wire")
    return ServerHelloJson(**values, line=line, source="wire")


def decoded_certificate(
    info: Mapping[str, Any],
    source: Literal["wire", "pem"],
    line: int,
    size: int | None,
    direction: Direction | None = None,
    position: int | None = None,
) -> CertificateJson:
    """A certificate from the JSON of its parsed DER (:mod:`tlsdiag.tls.certificates`)."""
    values = {key: _tupled(value) for key, value in info.items()}
    return CertificateJson(source=source, direction=direction, position=position, line=line, size=size, **values)
