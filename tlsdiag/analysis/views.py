"""Frozen, typed views of one connection attempt: what rules, diff and reports read.

The stages before this one speak in events (one per log line); what comes after needs the attempt
as a whole, in TLS terms: the value it failed with and how that value reads in the log's versions,
the milestones it reached, what the hellos offered and chose, the certificates, alerts and verify
flags, the sizes the library printed, and what the log could have shown at all (its
:class:`Visibility`). Each view item carries the line it rests on and that line's text, so any
finding can cite its evidence, and nothing after this stage needs the event types.

The views are built once per attempt (:func:`tlsdiag.analysis.summary.summarise`) and never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tlsdiag.model import CodeReading, Interpretation, hex_of

#: how a log's latest attempt ended: a failure a rule explains, a failure only the code's meaning speaks for,
#: a log whose TLS worked, and one with nothing TLS-related in it
VERDICTS = ("failed-explained", "failed-unexplained", "ok", "no-tls")


@dataclass(frozen=True, slots=True)
class PrintedValue:
    """An error value the log printed, read for the log's versions."""

    line: int
    quote: str  # the line's text, for evidence
    value: int  # the likeliest reading
    raw: str  # as printed: "-0x7280", "-29312", "SSL - The connection indicated an EOF"
    function: str | None  # the call that returned it, when the line says
    strerror: str | None  # a name or strerror text printed with it
    readings: tuple[CodeReading, ...]  # every way to read ``raw``, likeliest first
    names: frozenset[str]  # names of the likeliest reading in the log's versions (composite parts included)
    kind: str  # mbedtls | psa | esp-tls | transport | unknown
    categories: frozenset[str]  # categories its plausible readings carry
    mentioned: bool  # named in prose around the log rather than printed by a program
    top_level: bool  # printed by the application itself, not an inner call of a debug trace
    fails: bool  # fails the attempt by itself (WANT_READ and friends do not)
    in_debug_trace: bool  # printed by mbedTLS's debug callback
    interpretations: tuple[Interpretation, ...] = ()  # what the value means, per set of versions, likeliest first
    source_file: str | None = None
    attempt: int = 0

    @property
    def hex(self) -> str:
        return hex_of(self.value)

    @property
    def ambiguous(self) -> bool:
        """More than one reading of the printed number remains plausible."""
        return len({reading.value for reading in self.readings}) > 1

    def to_json(self) -> dict[str, Any]:
        """The contract's ``errors`` entry."""
        data: dict[str, Any] = {
            "line": self.line,
            "function": self.function,
            "raw": self.raw,
            "value": self.value,
            "session": self.attempt,
            "kind": self.kind,
            "interpretations": [item.to_json() for item in self.interpretations],
        }
        if self.ambiguous:
            data["readings"] = [
                {"value": reading.value, "hex": hex_of(reading.value), "how": reading.how} for reading in self.readings
            ]
        if self.mentioned:
            data["mentioned"] = True
        return data

    @property
    def reading_share(self) -> float:
        """How much of the readings' weight the chosen one carries (1.0 when the spelling is certain)."""
        total = sum(reading.prior for reading in self.readings)
        chosen = sum(reading.prior for reading in self.readings if reading.value == self.value)
        return chosen / total if total else 1.0


@dataclass(frozen=True, slots=True)
class Complaint:
    """A failure the library or application reported in words (``bad message length``, ``Not enough memory``)."""

    line: int
    quote: str
    text: str
    function: str | None = None
    message_id: str | None = None  # catalogue id of the library message, when known
    level: str | None = None  # the debug level it was printed at
    arguments: tuple[int | str, ...] = ()  # the values the library message's format printed, in order


@dataclass(frozen=True, slots=True)
class LibraryMessageSeen:
    """A catalogued library or platform message no rule of its own reads."""

    line: int
    quote: str
    id: str
    source: str


@dataclass(frozen=True, slots=True)
class Milestone:
    line: int
    name: str
    implied: bool = False  # not printed, but implied by something that was (a verify block implies a Certificate)


@dataclass(frozen=True, slots=True)
class AlertSeen:
    line: int
    quote: str
    direction: str  # in | out
    level: int | None
    description: int
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "level": self.level,
            "description": self.description,
            "name": self.name,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class VerifyFlag:
    line: int
    quote: str
    name: str  # MBEDTLS_X509_BADCERT_* / BADCRL_*

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line}


@dataclass(frozen=True, slots=True)
class Size:
    """A size or count the library printed (``in_left``, ``cert_too_large``, ``input_record``...)."""

    line: int
    quote: str
    name: str
    value: int
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class RecordSeen:
    line: int
    quote: str
    direction: str
    content_type: int
    length: int
    present: int


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """A handshake message decoded from dumped bytes; ``decoded`` is the :mod:`tlsdiag.tls` object."""

    line: int
    quote: str
    direction: str
    name: str
    decoded: Any


@dataclass(frozen=True, slots=True)
class Offer:
    """What a hello offered or chose as the library printed it (``add ciphersuite``, ``chosen ciphersuite``...)."""

    line: int
    quote: str
    kind: str
    value: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class ContextLine:
    """A non-TLS line that bears on the diagnosis: heap, allocation failure, clock, network, watchdog..."""

    line: int
    quote: str
    kind: str
    value: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    """A sample program's progress line (``. Performing the SSL/TLS handshake... failed``)."""

    line: int
    quote: str
    step: str
    outcome: str | None


@dataclass(frozen=True, slots=True)
class CertificateSeen:
    """A certificate the log carried: decoded from the wire, from a PEM block, or printed as text."""

    line: int
    quote: str
    source: str  # wire | pem | text
    direction: str | None = None  # in | out (wire)
    position: int | None = None  # 0 = leaf, in the message's order (wire)
    origin: str | None = None  # "peer certificate #1", "verify depth 0" (text)
    depth: int | None = None  # verify-callback depth (text)
    size: int | None = None  # bytes of DER
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    not_before: str | None = None  # as printed or ISO
    not_after: str | None = None
    signature_algorithm: str | None = None
    signature_hash: str | None = None
    key_type: str | None = None
    key_size: int | None = None
    names: tuple[str, ...] = ()  # SAN DNS names and addresses, else the CN
    self_signed: bool | None = None
    is_ca: bool | None = None
    verify_flags: tuple[str, ...] = ()  # flags printed under a verify-callback block
    details: tuple[tuple[str, Any], ...] = ()  # everything the source gave, for the report

    def to_json(self) -> dict[str, Any]:
        """The contract's ``certificates`` entry: where it came from and everything its source gave."""
        if self.source == "text":
            fields = dict(self.details)
            return {
                "source": "text",
                "origin": self.origin,
                "line": self.line,
                "subject": self.subject,
                "issuer": self.issuer,
                "serial": self.serial,
                "not_before": self.not_before,
                "not_after": self.not_after,
                "signature_algorithm": self.signature_algorithm,
                "key": fields.get("RSA key size") or fields.get("EC key size"),
                "san": fields.get("subject alt name") or fields.get("subject alt name entries"),
            }
        data: dict[str, Any] = {"source": self.source}
        if self.source == "wire":
            data.update({"direction": self.direction, "position": self.position})
        data.update({"line": self.line, "size": self.size})
        details = dict(self.details)
        info = details.get("certificate") if self.source == "wire" else details
        data.update(info or {})
        return data

    @property
    def date_before(self) -> str | None:
        return self.not_before[:10] if self.not_before else None

    @property
    def date_after(self) -> str | None:
        return self.not_after[:10] if self.not_after else None


@dataclass(frozen=True, slots=True)
class HelloView:
    """A ClientHello or ServerHello as far as the log shows it (decoded bytes, or the library's hello lines)."""

    line: int
    quote: str
    source: str  # wire | debug-lines
    version: str | None = None
    supported_versions: tuple[str, ...] = ()
    ciphersuites: tuple[int, ...] = ()
    ciphersuite_names: tuple[str, ...] = ()
    server_name: str | None = None
    supported_groups: tuple[str, ...] = ()
    signature_algorithms: tuple[str, ...] = ()
    key_share_groups: tuple[str, ...] = ()
    max_fragment_length: int | None = None
    pre_shared_key: bool = False
    hello_retry_request: bool = False
    chosen_group: str | None = None  # a ServerHello's key share
    details: tuple[tuple[str, Any], ...] = ()  # the decoded message's whole JSON, for the report

    @property
    def offers_tls13(self) -> bool:
        return "TLS 1.3" in self.supported_versions or self.version == "TLS 1.3"

    @property
    def chosen_suite(self) -> int | None:
        return self.ciphersuites[0] if len(self.ciphersuites) == 1 else None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.details)
        if not data:
            data = {
                "version": self.version,
                "ciphersuites": [f"0x{value:04x}" for value in self.ciphersuites],
                "ciphersuite_names": list(self.ciphersuite_names),
                "extensions": [],
                "server_name": self.server_name,
            }
        data["line"] = self.line
        data["source"] = self.source
        return data


@dataclass(frozen=True, slots=True)
class Visibility:
    """What this log could have shown: the debug levels it carries and the kinds of lines it prints.

    A rule that rests on the absence of something asks here first: a ServerHello missing from a log
    without handshake steps says nothing about whether one arrived.
    """

    debug_levels: frozenset[int] = frozenset()  # mbedTLS debug levels seen (1..4)
    steps: bool = False  # "=> write client hello" lines (level 2)
    hello_details: bool = False  # "client hello, add ciphersuite" lines (level 3)
    dumps: bool = False  # hex dumps of records (level 4)
    messages_decoded: bool = False  # handshake messages decoded from the dumps
    console: bool = False  # a sample program's progress lines
    starts_mid_handshake: bool = False  # the first TLS line is no start of a handshake
    only_the_error: bool = False  # nothing but error values and complaints
    tls13_files: bool = False  # records of the library's TLS 1.3 code (ssl_tls13_*.c)

    @property
    def shows_steps(self) -> bool:
        """Handshake milestones would have been printed had they happened."""
        return self.steps or self.messages_decoded

    @property
    def level(self) -> int:
        return max(self.debug_levels, default=0)


@dataclass(frozen=True, slots=True)
class Gap:
    milliseconds: float
    line_before: int
    line_after: int


@dataclass(frozen=True, slots=True)
class AttemptView:
    """One connection attempt as the log shows it, in TLS terms."""

    index: int
    first_line: int
    last_line: int
    role: str | None
    started: bool
    failed: bool
    final: PrintedValue | None
    console_failed: bool
    handshake_done: int | None
    milestones: tuple[Milestone, ...]  # reached, in order (implied ones marked)
    current_step: Milestone | None  # the step in progress when the log ends or fails
    waiting_for: str | None  # the peer's message the device was waiting for when it stopped, if it never came
    steps: tuple[Milestone, ...]  # completed library steps, as printed ("write client hello")
    errors: tuple[PrintedValue, ...]
    complaints: tuple[Complaint, ...]
    library_messages: tuple[LibraryMessageSeen, ...]
    alerts: tuple[AlertSeen, ...]
    verify_flags: tuple[VerifyFlag, ...]
    sizes: tuple[Size, ...]
    records: tuple[RecordSeen, ...]
    messages: tuple[MessageSeen, ...]
    offers: tuple[Offer, ...]
    certificates: tuple[CertificateSeen, ...]
    context: tuple[ContextLine, ...]
    console: tuple[ConsoleLine, ...]
    client_hello: HelloView | None
    server_hello: HelloView | None
    dumps: int
    largest_gap: Gap | None
    visibility: Visibility = field(default_factory=Visibility)

    @property
    def reached(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.milestones)

    def reached_line(self, name: str) -> int | None:
        return next((item.line for item in self.milestones if item.name == name), None)

    def message(self, name: str, direction: str | None = None) -> MessageSeen | None:
        return next(
            (
                item
                for item in self.messages
                if item.name == name and (direction is None or item.direction == direction)
            ),
            None,
        )

    @property
    def last_milestone(self) -> str | None:
        if self.current_step is not None:
            return self.current_step.name
        return self.milestones[-1].name if self.milestones else None

    def handshake_json(self) -> dict[str, Any]:
        """The contract's ``handshake`` block."""
        return {
            "role": self.role,
            "last_step": self.last_milestone,
            "reached": list(self.reached),
            "client_hello": None if self.client_hello is None else self.client_hello.to_json(),
            "server_hello": None if self.server_hello is None else self.server_hello.to_json(),
            "certificates": [item.to_json() for item in self.certificates],
            "alerts": [item.to_json() for item in self.alerts],
            "verify_flags": [item.to_json() for item in self.verify_flags],
            "session": self.index,
            "first_line": self.first_line,
            "last_line": self.last_line,
        }
