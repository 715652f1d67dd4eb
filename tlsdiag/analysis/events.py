"""Typed events: what one log line (or one folded group of lines) says, independent of its dialect.

The parse stage turns lines into these; the fold stage turns runs of dump lines into whole dumps,
TLS records and certificates; the session stage reads only events. Every event carries its
:class:`Envelope`, so that any finding can cite the line it came from.

Events are named tuples: a level-4 log yields millions of them, and they must be cheap to make.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tlsdiag.model import CodeReading

if TYPE_CHECKING:
    from tlsdiag.tls.certificates import CertificateInfo


class Envelope(NamedTuple):
    """Where a record came from and what framed it."""

    line: int  # 1-based line number in the input
    dialect: str  # mbedtls-debug | esp-idf | arduino-esp32 | zephyr | micropython | mbed-os | espruino | console ...
    text: str  # the cleaned text of the record, as quoted in evidence
    source_file: str | None = None  # "ssl_tls.c" (basename) when the record names one
    source_line: int | None = None
    level: str | None = None  # mbedTLS debug level "1".."4", or an ESP-IDF / Zephyr severity
    tag: str | None = None  # ESP-IDF log tag, Zephyr module, arduino file
    context: str | None = None  # ssl context pointer of threading builds (0x7ffd...), a task name
    timestamp_ms: float | None = None


#: envelope severities that mark a record as an error report (ESP-IDF ``E``, Zephyr ``<err>``, text ``ERROR``)
ERROR_LEVELS = frozenset({"E", "err", "ERR", "error", "ERROR"})


class ReturnValue(NamedTuple):
    """A function reported an error value: ``X() returned -29312 (-0x7280)`` and every dialect's variant."""

    env: Envelope
    function: str | None  # "mbedtls_ssl_handshake", "x509_verify_cert", None when the line does not say
    value: int  # the likeliest reading (readings[0] once the log's version is known)
    raw: str  # the number as printed ("-0x7280", "-29312", "0x7280")
    text: str | None = None  # a printed error text on the same line ("SSL - The connection indicated an EOF")
    readings: tuple[CodeReading, ...] = ()  # every way to read ``raw``, likeliest first (tlsdiag.readings)


class CodeMention(NamedTuple):
    """An error code named in prose around a log (a forum post, a comment): weaker than a printed result."""

    env: Envelope
    value: int
    raw: str
    readings: tuple[CodeReading, ...] = ()
    function: str | None = None  # a call the prose names, as in ReturnValue


class ErrorText(NamedTuple):
    """A failure reported as text only: ``... returned Not enough memory``, ``mbedtls_ssl_setup: Not enough memory``."""

    env: Envelope
    function: str | None
    text: str
    message_id: str | None = None  # the library message it is (knowledge/debug/messages.json), when known
    arguments: tuple[int | str, ...] = ()  # the values the message's format printed (its %d, %x, %s), in order


class LibraryMessage(NamedTuple):
    """A message of mbedTLS's debug output or of ESP-IDF's TLS stack, recognised by its text in the catalogues
    (``knowledge/debug/messages.json``, ``knowledge/platforms/esp-tls-messages.json``) where no rule of its own
    reads it: rules name it by its stable id."""

    env: Envelope
    id: str
    source: str  # mbedtls-debug | esp-idf


class Step(NamedTuple):
    """An mbedTLS step marker: ``=> write client hello`` / ``<= parse server hello``."""

    env: Envelope
    direction: str  # "enter" (=>) or "leave" (<=)
    name: str


class HandshakeState(NamedTuple):
    """``client state: 4`` (2.x numbers), ``client state: MBEDTLS_SSL_CLIENT_HELLO`` (3.x names)."""

    env: Envelope
    role: str  # client | server
    number: int | None
    name: str | None


class Alert(NamedTuple):
    """An alert received (``got an alert message, type: [2:40]``) or sent (``send alert message``)."""

    env: Envelope
    direction: str  # in | out
    level: int | None
    description: int | None


class VerifyInfo(NamedTuple):
    """One line of ``mbedtls_x509_crt_verify_info``: a verify flag by its printed text, or a flags value."""

    env: Envelope
    flag: str | None  # MBEDTLS_X509_BADCERT_* name when the text is known
    flags_value: int | None = None  # the whole bit mask when the log prints it


class DumpHeader(NamedTuple):
    """``dumping 'input record from network' (5 bytes)``: the lines that follow hold the bytes."""

    env: Envelope
    label: str
    length: int


class DumpLine(NamedTuple):
    """``0000:  16 03 03 00 4a ...``: one line of a hex dump (bytes already parsed)."""

    env: Envelope
    offset: int
    data: bytes


class Measure(NamedTuple):
    """A size or count the library printed: ``in_left: 0, nb_want: 5``, ``certificate too large, 22628 > 16384``."""

    env: Envelope
    name: str  # a stable key: in_left, nb_want, message_length, out_left, max_fragment_length, cert_too_large ...
    value: int
    limit: int | None = None  # the bound it was compared with, when the line gives one


class Offered(NamedTuple):
    """What a hello offered or chose, as the library printed it (ciphersuite, version, extension, group)."""

    env: Envelope
    kind: str  # ciphersuite | chosen-ciphersuite | max-version | version | extension | server-name | group | sigalg
    value: str
    number: int | None = None


class CertificateLine(NamedTuple):
    """A line of a certificate dump: ``peer certificate #1:`` (key ``#``) or ``subject name : CN=...``."""

    env: Envelope
    key: str
    value: str


class ConsoleStep(NamedTuple):
    """A sample program's progress line: ``  . Performing the SSL/TLS handshake... failed``."""

    env: Envelope
    step: str
    outcome: str | None  # ok | failed | None (line continues)


class VersionInfo(NamedTuple):
    """A version the log states: ``build version: Mbed TLS 3.6.6``, ``ESP-IDF v4.0-beta2``, ``arduino-esp32 1.0.5``."""

    env: Envelope
    product: str  # mbedtls | esp-idf | arduino-esp32 | zephyr | micropython | mbed-os | espruino
    version: str


class Context(NamedTuple):
    """A non-TLS line that changes the diagnosis: heap, allocation failure, watchdog, crash, clock, network."""

    env: Envelope
    kind: str  # heap-free | alloc-failed | watchdog | crash | backtrace | clock | sntp | wifi | ip | dns | connect ...
    value: int | None = None  # bytes, a year, ...
    detail: str | None = None


class Dump(NamedTuple):
    """A whole hex dump (folded): the header's label and declared length, and the bytes it showed."""

    env: Envelope  # the header line
    label: str
    length: int  # as the header declares it (mbedTLS before 4.1 shows at most 4096 bytes of it)
    data: bytes  # kept only for TLS record and plaintext dumps, capped
    shown: int  # bytes the dump lines held
    lines: int
    end_line: int


class TlsRecord(NamedTuple):
    """One TLS record seen in a record dump: direction, content type and sizes."""

    env: Envelope
    direction: str  # in | out
    content_type: int
    length: int  # declared by the record header
    present: int  # bytes the dump showed


class TlsMessage(NamedTuple):
    """A handshake message or alert decoded from dumped bytes (``message`` is a tlsdiag.tls object)."""

    env: Envelope  # where its first byte was dumped
    direction: str
    name: str  # ClientHello, ServerHello, Certificate, Alert ...
    message: object


class CertificateText(NamedTuple):
    """A certificate as the log described it in text (a certificate dump or a verify-callback block)."""

    env: Envelope
    origin: str  # "peer certificate #1", "verify depth 2"
    fields: dict[str, object]  # "subject name" -> "CN=...", "expires on" -> "2029-02-23 04:57:28" ...
    verify: tuple[object, ...]  # verify-result lines that followed a verify-callback block


class CertificateDer(NamedTuple):
    """A certificate whose bytes the log carried (a PEM block), parsed."""

    env: Envelope
    origin: str  # "pem"
    der: bytes
    info: CertificateInfo | None  # None when the block gave no bytes (cut, empty, not base64)


class Trace(NamedTuple):
    """An mbedTLS debug record with no rule of its own (the grammar's catch-all ``trace`` rule)."""

    env: Envelope


class Unrecognized(NamedTuple):
    """A line no grammar and no fold claimed; kept (with its number) so that nothing is silently lost."""

    env: Envelope


Event = (
    ReturnValue
    | CodeMention
    | ErrorText
    | LibraryMessage
    | Step
    | HandshakeState
    | Alert
    | VerifyInfo
    | DumpHeader
    | DumpLine
    | Measure
    | Offered
    | CertificateLine
    | ConsoleStep
    | VersionInfo
    | Context
    | Dump
    | TlsRecord
    | TlsMessage
    | CertificateText
    | CertificateDer
    | Trace
    | Unrecognized
)
