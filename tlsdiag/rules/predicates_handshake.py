"""Conditions of the handshake family: who stopped answering, what the hellos offered, what the wire carried.

These predicates read the session model only (milestones, decoded messages, records, measures and
decoded error values); they never look at log text. Each one is registered under its name for
``[rule.when]`` / ``[[rule.any]]`` / ``[rule.unless]`` tables in ``knowledge/rules/*.toml``.
"""

from __future__ import annotations

from typing import Any

from tlsdiag.analysis import events, summary
from tlsdiag.analysis.outcome import FINAL_CALLS
from tlsdiag.rules.predicates import Match, Subject, _as_list, predicate

#: handshake messages a server sends to a client (milestone names of ``knowledge/tls/steps.toml``)
SERVER_MESSAGES = frozenset(
    {
        "ServerHello",
        "HelloRetryRequest",
        "HelloVerifyRequest",
        "EncryptedExtensions",
        "Certificate",
        "ServerKeyExchange",
        "CertificateRequest",
        "ServerHelloDone",
        "CertificateVerify",
        "ChangeCipherSpec",
        "Finished",
        "NewSessionTicket",
    }
)

#: record content types TLS defines: change_cipher_spec, alert, handshake, application_data, heartbeat, tls12_cid
TLS_CONTENT_TYPES = frozenset({20, 21, 22, 23, 24, 25})

_CLOSE_NAMES = frozenset({"MBEDTLS_ERR_SSL_CONN_EOF", "MBEDTLS_ERR_NET_CONN_RESET"})
_RESET_NAMES = frozenset({"MBEDTLS_ERR_NET_CONN_RESET"})
#: sizes printed only when bytes moved through the transport callbacks or the record layer
_WIRE_MEASURES = frozenset(
    {"f_send_returned", "f_recv_returned", "in_left", "message_length", "input_record", "output_record"}
)
#: calls that move application data: an EOF there is not a handshake close
_DATA_CALLS = frozenset({"mbedtls_ssl_read", "mbedtls_ssl_write"})
_TLS13_FILES = frozenset({"ssl_tls13_client.c", "ssl_tls13_generic.c", "ssl_tls13_keys.c", "ssl_tls13_server.c"})


# --- helpers ---------------------------------------------------------------------------------------------------


def _closes(subject: Subject) -> list[events.Event]:
    """Where the peer hung up: a zero-byte read, or an EOF / reset error value."""
    found: list[events.Event] = [
        item for item in subject.session.measures if item.name == "f_recv_returned" and item.value == 0
    ]
    found += [
        item
        for item in subject.session.errors
        if type(item) in (events.ReturnValue, events.CodeMention)
        and item.value < 0  # type: ignore[union-attr]
        and subject.names_of(item.value) & _CLOSE_NAMES  # type: ignore[union-attr]
    ]
    return sorted(found, key=lambda item: item.env.line)


def _incoming_decoded(subject: Subject, name: str, before: int) -> bool:
    return any(m.direction == "in" and m.name == name and m.env.line < before for m in subject.session.messages)


def completed_milestones(subject: Subject, before: int) -> list[tuple[int, str]]:
    """Milestones reached before line ``before``, without a server message the client was still waiting for.

    mbedTLS enters ``parse server hello`` (and the other ``parse`` steps) before any byte of that
    message has arrived, so a trailing server milestone only counts when its bytes were decoded."""
    seen = [(line, name) for line, name in subject.reached if line < before]
    if seen and seen[-1][1] in SERVER_MESSAGES and not _incoming_decoded(subject, seen[-1][1], before):
        seen.pop()
    return seen


def _incoming_before(subject: Subject, start: int, end: int) -> list[events.Event]:
    """Records, decoded messages and alerts that came from the peer between two lines."""
    found: list[events.Event] = [
        item for item in subject.session.records if item.direction == "in" and start < item.env.line < end
    ]
    found += [item for item in subject.session.messages if item.direction == "in" and start < item.env.line < end]
    found += [item for item in subject.session.alerts if item.direction == "in" and start < item.env.line < end]
    return found


def _own_message(subject: Subject, name: str) -> events.TlsMessage | None:
    return next((m for m in subject.session.messages if m.name == name and m.direction == "out"), None)


def _hello_facts(subject: Subject) -> dict[str, Any]:
    """What our ClientHello offered, as facts for texts and fixes (empty when it was not logged)."""
    hello = summary.client_hello(subject.session)
    if hello is None:
        return {}
    facts: dict[str, Any] = {}
    if hello.get("server_name"):
        facts["sni_sent"] = hello["server_name"]
    elif hello.get("source") == "wire":
        facts["sni_missing"] = "yes"
    names = [name for name in hello.get("ciphersuite_names") or [] if "SCSV" not in name]
    suites = [code for code in hello.get("ciphersuites") or [] if code not in ("0x00ff", "0x5600")]
    if suites:
        facts["offered_suite_count"] = len(suites)
        if names and len(names) <= 4:
            facts["offered_suites"] = ", ".join(names)
    if hello.get("supported_groups"):
        facts["offered_groups"] = ", ".join(hello["supported_groups"])
    if hello.get("signature_algorithms"):
        facts["offered_sigalgs"] = ", ".join(hello["signature_algorithms"])
    versions = hello.get("supported_versions") or [hello.get("version")]
    facts["offered_versions"] = ", ".join(str(item) for item in versions if item)
    return facts


# --- predicates ------------------------------------------------------------------------------------------------


@predicate("closed_before_reply")
def closed_before_reply(subject: Subject, spec: Any) -> Match | None:
    """The peer closed or reset the connection after our last flight and before answering any of it.

    ``spec``: ``after`` names the milestone of ours the close followed (``ClientHello``,
    ``Certificate (own)``); without it, any flight of ours counts. ``allow_unseen = true`` also
    matches a log too terse to show any milestone, as long as nothing from the peer was logged.
    Facts: ``closed_after``, ``close_kind`` (eof|reset), ``closed_line``, what the ClientHello offered
    (``sni_sent``/``sni_missing``...), ``own_certificates`` (and ``own_certificate_empty``)."""
    spec = spec if isinstance(spec, dict) else {}
    closes = _closes(subject)
    if not closes or subject.session.role == "server":
        return None
    close_line = closes[0].env.line
    done = completed_milestones(subject, close_line)
    facts: dict[str, Any] = {
        "closed_line": close_line,
        "close_kind": "reset" if _is_reset(subject, closes) else "eof",
        **_hello_facts(subject),
    }
    if not done:
        if not spec.get("allow_unseen") or _incoming_before(subject, 0, close_line):
            return None
        final = subject.session.final_error
        if final is not None and final.function in _DATA_CALLS:
            return None  # a terse log of a close after the handshake: nothing says it happened during it
        facts["closed_after"] = "unknown"
        facts["closed_when"] = "during the handshake (the log shows nothing the server sent before it)"
        return Match(closes[:2], facts)
    wanted = spec.get("after")
    own = [(line, name) for line, name in done if name not in SERVER_MESSAGES]
    anchor = (
        next(((line, name) for line, name in done if name == wanted), None) if wanted else (own[-1] if own else None)
    )
    if anchor is None:
        return None
    if any(name in SERVER_MESSAGES for line, name in done if line > anchor[0]):
        return None
    if _incoming_before(subject, anchor[0], close_line):
        return None
    facts["closed_after"] = anchor[1]
    certificate = _own_message(subject, "Certificate")
    if certificate is not None:
        count = len(getattr(certificate.message, "certificates", None) or ())
        facts["own_certificates"] = count
        if count == 0:
            facts["own_certificate_empty"] = "yes"
    evidence: list[events.Event] = list(closes[:2])
    hello = _own_message(subject, "ClientHello") or next(
        (m for m in subject.session.messages if m.name == "ClientHello"), None
    )
    if anchor[1] == "ClientHello" and hello is not None:
        evidence.insert(0, hello)
    elif certificate is not None and anchor[1] == "Certificate (own)":
        evidence.insert(0, certificate)
    return Match(evidence, facts)


def _is_reset(subject: Subject, closes: list[events.Event]) -> bool:
    return any(
        type(item) in (events.ReturnValue, events.CodeMention) and subject.names_of(item.value) & _RESET_NAMES  # type: ignore[union-attr]
        for item in closes
    )


@predicate("client_offered")
def client_offered(subject: Subject, expected: bool) -> Match | None:
    """Whether the log shows what our ClientHello offered (decoded bytes or the library's hello lines);
    facts: ``offered_versions``, ``offered_suites``, ``offered_suite_count``, ``offered_groups``,
    ``offered_sigalgs``, ``sni_sent`` / ``sni_missing``."""
    facts = _hello_facts(subject)
    if bool(facts) != bool(expected):
        return None
    return Match([], facts)


@predicate("server_answered")
def server_answered(subject: Subject, expected: bool) -> Match | None:
    """Whether the server answered our ClientHello (a ServerHello or any later server message) before
    the first alert it sent; facts say what the ClientHello offered (``offered_suites``,
    ``offered_suite_count``, ``offered_groups``, ``offered_sigalgs``, ``offered_versions``)."""
    alerts = [item.env.line for item in subject.session.alerts if item.direction == "in"]
    before = min(alerts) if alerts else subject.session.last_line + 1
    answered = any(name in SERVER_MESSAGES for _, name in completed_milestones(subject, before))
    answered = answered or any(
        item.kind == "chosen-ciphersuite" and item.env.line < before for item in subject.session.offered
    )
    if answered != bool(expected):
        return None
    facts = _hello_facts(subject)
    hello = summary.server_hello(subject.session)
    if hello and hello.get("ciphersuite_name"):
        facts["chosen_suite"] = hello["ciphersuite_name"]
    return Match([], facts)


@predicate("hello_lacks")
def hello_lacks(subject: Subject, spec: Any) -> Match | None:
    """Our decoded ClientHello carried the list and none of the given names is in it.

    ``spec`` keys: ``groups`` (supported_groups names such as ``secp384r1``) and
    ``signature_algorithms`` (``ecdsa_secp384r1_sha384`` ...); every key given must hold.
    Facts: ``missing_group`` / ``missing_sigalg`` (the first name asked for) and the offered lists."""
    hello = summary.client_hello(subject.session)
    if hello is None or hello.get("source") != "wire":
        return None
    facts = _hello_facts(subject)
    for key, field, fact in (
        ("groups", "supported_groups", "missing_group"),
        ("signature_algorithms", "signature_algorithms", "missing_sigalg"),
    ):
        if key not in spec:
            continue
        offered = hello.get(field) or []
        wanted = _as_list(spec[key])
        if not offered or any(name in offered for name in wanted):
            return None
        facts[fact] = wanted[0]
    message = next((m for m in subject.session.messages if m.name == "ClientHello"), None)
    return Match([message] if message else [], facts)


@predicate("record_type")
def record_type(subject: Subject, spec: Any) -> Match | None:
    """An incoming record header carried a content type; ``not_tls = true``: one that TLS does not define
    (``H`` = 72 from ``HTTP/1.1``, ``S`` = 83 from ``SSH-``). Facts: ``record_type``, ``record_type_char``."""
    spec = spec if isinstance(spec, dict) else {}
    for item in subject.session.records:
        if item.direction != "in":
            continue
        foreign = item.content_type not in TLS_CONTENT_TYPES
        if spec.get("not_tls", True) and not foreign:
            continue
        facts: dict[str, Any] = {"record_type": item.content_type}
        if 32 <= item.content_type < 127:
            facts["record_type_char"] = chr(item.content_type)
        return Match([item], facts)
    return None


#: the largest length a TLS record header may declare: 2^14 bytes of content plus 2048 of expansion
MAX_RECORD_LENGTH = 16384 + 2048


@predicate("record_cut_short")
def record_cut_short(subject: Subject, spec: Any) -> Match | None:
    """The last incoming record header before the failure declared a length whose body never arrived.

    mbedTLS prints ``input record: ... msglen = N`` when it has read a header, then fails before the
    body is read when N does not fit its input buffer. ``spec``: ``legal = true`` keeps lengths a TLS
    record may have (at most 16384 + 2048); ``legal = false`` keeps only longer ones, which no TLS peer
    sends (bytes of another protocol read as a header). Fact: ``input_record``."""
    spec = spec if isinstance(spec, dict) else {}
    final = subject.session.final_error
    if final is None:
        return None
    headers = [
        item for item in subject.session.measures if item.name == "input_record" and item.env.line < final.env.line
    ]
    if not headers:
        return None
    last = headers[-1]
    arrived = any(
        item.direction == "in" and item.length == last.value and item.env.line >= last.env.line
        for item in subject.session.records
    )
    if arrived or last.value <= 0:
        return None
    legal = last.value <= MAX_RECORD_LENGTH
    if "legal" in spec and legal != bool(spec["legal"]):
        return None
    return Match([last], {"input_record": last.value})


@predicate("nothing_on_wire")
def nothing_on_wire(subject: Subject, expected: bool) -> Match | None:
    """Whether the attempt failed before any byte moved: no record, message or alert, no transport size
    printed, and no error from the record layer (only the top-level call reported the failure)."""
    session = subject.session
    moved = bool(session.records or session.messages or session.alerts)
    moved = moved or any(item.name in _WIRE_MEASURES for item in session.measures)
    moved = moved or any(
        type(item) is events.ReturnValue and item.function is not None and item.function not in FINAL_CALLS
        for item in session.errors
    )
    moved = moved or any(type(item) is events.ErrorText for item in session.errors)
    return Match() if moved != bool(expected) else None


@predicate("call_failed")
def call_failed(subject: Subject, spec: Any) -> Match | None:
    """A call named in ``spec['functions']`` returned an error (optionally one of ``spec['names']``),
    wherever it sits in the session; the fact ``failed_call`` names it."""
    functions = set(_as_list(spec.get("functions", ())))
    names = set(_as_list(spec.get("names", ())))
    for item in subject.session.errors:
        if type(item) is not events.ReturnValue or item.value >= 0 or (item.function or "") not in functions:
            continue
        if names and not subject.names_of(item.value) & names:
            continue
        return Match([item], {"failed_call": item.function, "failed_value": item.raw})
    return None


@predicate("tls13_attempted")
def tls13_attempted(subject: Subject, expected: bool) -> Match | None:
    """Whether the client tried TLS 1.3: its ClientHello offered it, or the library's TLS 1.3 code
    (``ssl_tls13_*.c``) printed lines in this attempt."""
    hello = summary.client_hello(subject.session)
    offered = bool(
        hello and ("TLS 1.3" in (hello.get("supported_versions") or []) or hello.get("version") == "TLS 1.3")
    )
    session = subject.session
    pool: list[Any] = [*session.errors, *session.messages, *session.records, *session.measures, *session.offered]
    hit = next((item for item in pool if (item.env.source_file or "") in _TLS13_FILES), None)
    attempted = offered or hit is not None
    if attempted != bool(expected):
        return None
    return Match([hit] if hit is not None and not offered else [], {"tls13": "yes"} if attempted else {})


__all__ = [
    "SERVER_MESSAGES",
    "TLS_CONTENT_TYPES",
    "call_failed",
    "client_offered",
    "closed_before_reply",
    "completed_milestones",
    "hello_lacks",
    "nothing_on_wire",
    "record_cut_short",
    "record_type",
    "server_answered",
    "tls13_attempted",
]
