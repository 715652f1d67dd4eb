"""Conditions of the handshake family: who stopped answering, what the hellos offered, what the wire carried.

These predicates read the attempt's typed view only (milestones, decoded messages, records, sizes and
decoded error values); they never look at log text. Each one is registered under its name for
``[rule.when]`` / ``[[rule.any]]`` / ``[rule.unless]`` tables in ``knowledge/rules/*.toml``.
"""

from __future__ import annotations

from typing import Any

from tlsdiag.analysis.views import Milestone
from tlsdiag.knowledge import load
from tlsdiag.rules.predicates import Match, Subject, as_list, predicate, size_facts

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


def _closes(subject: Subject) -> list[Any]:
    """Where the peer hung up: a zero-byte read, or an EOF / reset error value."""
    found: list[Any] = [item for item in subject.attempt.sizes if item.name == "f_recv_returned" and item.value == 0]
    found += [item for item in subject.values() if item.value < 0 and item.names & _CLOSE_NAMES]
    return sorted(found, key=lambda item: item.line)


def _incoming_decoded(subject: Subject, name: str, before: int) -> bool:
    return any(m.direction == "in" and m.name == name and m.line < before for m in subject.attempt.messages)


def completed_milestones(subject: Subject, before: int) -> list[Milestone]:
    """Milestones reached before line ``before``, without a server message the client was still waiting for.

    mbedTLS enters ``parse server hello`` (and the other ``parse`` steps) before any byte of that
    message has arrived, so a trailing server milestone only counts when its bytes were decoded, or
    when a later line implies it arrived."""
    seen = [item for item in subject.reached if item.line < before]
    last = seen[-1] if seen else None
    waiting = last is not None and last.name in SERVER_MESSAGES and not last.implied
    if waiting and last is not None and not _incoming_decoded(subject, last.name, before):
        seen.pop()
    return seen


def _incoming_before(subject: Subject, start: int, end: int) -> list[Any]:
    """Records, decoded messages and alerts that came from the peer between two lines."""
    attempt = subject.attempt
    found: list[Any] = [item for item in attempt.records if item.direction == "in" and start < item.line < end]
    found += [item for item in attempt.messages if item.direction == "in" and start < item.line < end]
    found += [item for item in attempt.alerts if item.direction == "in" and start < item.line < end]
    return found


def _own_message(subject: Subject, name: str) -> Any:
    return subject.attempt.message(name, "out")


def _hello_facts(subject: Subject) -> dict[str, Any]:
    """What our ClientHello offered, as facts for texts and fixes (empty when it was not logged)."""
    hello = subject.attempt.client_hello
    if hello is None:
        return {}
    facts: dict[str, Any] = {}
    if hello.server_name:
        facts["sni_sent"] = hello.server_name
    elif hello.source == "wire":
        facts["sni_missing"] = "yes"
    names = [name for name in hello.ciphersuite_names if "SCSV" not in name]
    suites = [code for code in hello.ciphersuites if code not in (0x00FF, 0x5600)]
    if suites:
        facts["offered_suite_count"] = len(suites)
        if names and len(names) <= 4:
            facts["offered_suites"] = ", ".join(names)
    if hello.supported_groups:
        facts["offered_groups"] = ", ".join(hello.supported_groups)
    if hello.signature_algorithms:
        facts["offered_sigalgs"] = ", ".join(hello.signature_algorithms)
    versions = hello.supported_versions or ((hello.version,) if hello.version else ())
    facts["offered_versions"] = ", ".join(str(item) for item in versions if item)
    return facts


# --- predicates ------------------------------------------------------------------------------------------------


@predicate("closed_before_reply")
def closed_before_reply(subject: Subject, spec: Any) -> Match | None:
    """The peer closed or reset the connection after our last flight and before answering any of it.

    ``spec``: ``after`` names the milestone of ours the close followed (``ClientHello``,
    ``Certificate (own)``); without it, any flight of ours counts. ``allow_unseen = true`` also
    matches a log too terse to show any milestone, as long as nothing from the peer was logged: then
    the match assumes the close came before any answer. Facts: ``closed_after``, ``close_kind``
    (eof|reset), ``closed_line``, what the ClientHello offered (``sni_sent``/``sni_missing``...),
    ``own_certificates`` (and ``own_certificate_empty``)."""
    spec = spec if isinstance(spec, dict) else {}
    closes = _closes(subject)
    attempt = subject.attempt
    if not closes or attempt.role == "server":
        return None
    close_line = closes[0].line
    done = completed_milestones(subject, close_line)
    facts: dict[str, Any] = {
        "closed_line": close_line,
        "close_kind": "reset" if any(getattr(item, "names", frozenset()) & _RESET_NAMES for item in closes) else "eof",
        **_hello_facts(subject),
    }
    if not done:
        if not spec.get("allow_unseen") or _incoming_before(subject, 0, close_line):
            return None
        final = attempt.final
        if final is not None and final.function in _DATA_CALLS:
            return None  # a terse log of a close after the handshake: nothing says it happened during it
        facts["closed_after"] = "unknown"
        facts["closed_when"] = "during the handshake (the log shows nothing the server sent before it)"
        assumptions = []
        if not attempt.visibility.shows_steps:
            assumptions.append("the log shows no handshake steps: the close may have come later in the handshake")
        return Match(closes[:2], facts, assumptions)
    wanted = spec.get("after")
    own = [item for item in done if item.name not in SERVER_MESSAGES]
    anchor = next((item for item in done if item.name == wanted), None) if wanted else (own[-1] if own else None)
    if anchor is None:
        return None
    if any(item.name in SERVER_MESSAGES for item in done if item.line > anchor.line):
        return None
    if _incoming_before(subject, anchor.line, close_line):
        return None
    facts["closed_after"] = anchor.name
    certificate = _own_message(subject, "Certificate")
    if certificate is not None:
        count = len(getattr(certificate.decoded, "certificates", None) or ())
        facts["own_certificates"] = count
        if count == 0:
            facts["own_certificate_empty"] = "yes"
    evidence: list[Any] = list(closes[:2])
    hello = attempt.message("ClientHello")
    if anchor.name == "ClientHello" and hello is not None:
        evidence.insert(0, hello)
    elif certificate is not None and anchor.name == "Certificate (own)":
        evidence.insert(0, certificate)
    return Match(evidence, facts)


@predicate("client_offered")
def client_offered(subject: Subject, expected: bool) -> Match | None:
    """Whether the log shows what our ClientHello offered (decoded bytes or the library's hello lines);
    facts: ``offered_versions``, ``offered_suites``, ``offered_suite_count``, ``offered_groups``,
    ``offered_sigalgs``, ``sni_sent`` / ``sni_missing``."""
    facts = _hello_facts(subject)
    if bool(facts) != bool(expected):
        return None
    return Match([], facts)


def _answered(subject: Subject, before: int) -> bool:
    attempt = subject.attempt
    if any(item.name in SERVER_MESSAGES for item in completed_milestones(subject, before)):
        return True
    return any(item.kind == "chosen-ciphersuite" and item.line < before for item in attempt.offers)


@predicate("server_answered")
def server_answered(subject: Subject, expected: bool) -> Match | None:
    """Whether the server answered our ClientHello (a ServerHello or any later server message, printed or
    implied by a verify block or a chosen suite) before the first alert it sent.

    ``false`` is a claim about absence: in a log that prints neither handshake steps nor decoded
    messages it cannot be checked, and the match says it assumes it. Facts say what the ClientHello
    offered (``offered_suites``, ``offered_suite_count``, ``offered_groups``, ``offered_sigalgs``,
    ``offered_versions``) and ``chosen_suite``."""
    attempt = subject.attempt
    alerts = [item.line for item in attempt.alerts if item.direction == "in"]
    before = min(alerts) if alerts else attempt.last_line + 1
    answered = _answered(subject, before)
    if answered != bool(expected):
        return None
    facts = _hello_facts(subject)
    hello = attempt.server_hello
    if hello is not None and hello.ciphersuite_names:
        facts["chosen_suite"] = hello.ciphersuite_names[0]
    assumptions = []
    if not answered and not attempt.visibility.shows_steps:
        assumptions.append("the log shows no handshake steps, so it cannot show whether the server answered")
    return Match([], facts, assumptions)


@predicate("hello_lacks")
def hello_lacks(subject: Subject, spec: Any) -> Match | None:
    """Our decoded ClientHello carried the list and none of the given names is in it.

    ``spec`` keys: ``groups`` (supported_groups names such as ``secp384r1``) and
    ``signature_algorithms`` (``ecdsa_secp384r1_sha384`` ...); every key given must hold.
    Facts: ``missing_group`` / ``missing_sigalg`` (the first name asked for) and the offered lists."""
    hello = subject.attempt.client_hello
    if hello is None or hello.source != "wire":
        return None
    facts = _hello_facts(subject)
    for key, offered, fact in (
        ("groups", hello.supported_groups, "missing_group"),
        ("signature_algorithms", hello.signature_algorithms, "missing_sigalg"),
    ):
        if key not in spec:
            continue
        wanted = as_list(spec[key])
        if not offered or any(name in offered for name in wanted):
            return None
        facts[fact] = wanted[0]
    return Match([hello], facts)


@predicate("offer_narrow")
def offer_narrow(subject: Subject, spec: Any) -> Match | None:
    """Our ClientHello's offer is narrow (``true``) or ordinary (``false``) in each list ``spec`` names:
    ``suites`` (none of the mainstream suites, or very few), ``groups`` and ``signature_algorithms``
    (one that servers commonly need is missing; ``knowledge/tls/server-requirements.toml``).

    When the log does not show the ClientHello's lists, the match assumes the asked-for answer and says
    so. Facts: ``missing_group``, ``missing_sigalg`` (the first common one the offer lacks) and the offered
    lists."""
    needs = load().server_requirements
    hello = subject.attempt.client_hello
    facts = _hello_facts(subject)
    assumptions: list[str] = []
    evidence: list[Any] = []
    for key, wanted in spec.items():
        if key == "suites":
            offered = [code for code in (hello.ciphersuites if hello else ()) if code not in (0x00FF, 0x5600)]
            known = bool(offered)
            narrow = len(offered) < needs["min_suites"] or not set(offered) & set(needs["mainstream_suites"])
        elif key == "groups":
            offered_groups = hello.supported_groups if hello is not None and hello.source == "wire" else ()
            known = bool(offered_groups)
            missing = [name for name in needs["common_groups"] if name not in offered_groups]
            narrow = bool(missing)
            if missing and known:
                facts["missing_group"] = missing[0] if "secp384r1" not in missing else "secp384r1"
        else:
            offered_sigalgs = hello.signature_algorithms if hello is not None and hello.source == "wire" else ()
            known = bool(offered_sigalgs)
            missing = [name for name in needs["common_signature_algorithms"] if name not in offered_sigalgs]
            narrow = bool(missing)
            if missing and known:
                facts["missing_sigalg"] = (
                    missing[0] if "ecdsa_secp384r1_sha384" not in missing else "ecdsa_secp384r1_sha384"
                )
        if not known:
            assumptions.append(f"the log does not show the {key.replace('_', ' ')} the ClientHello offered")
            continue
        if narrow != bool(wanted):
            return None
        if hello is not None:
            evidence = [hello]
    return Match(evidence, facts, assumptions)


@predicate("record_type")
def record_type(subject: Subject, spec: Any) -> Match | None:
    """An incoming record header carried a content type; ``not_tls = true``: one that TLS does not define
    (``H`` = 72 from ``HTTP/1.1``, ``S`` = 83 from ``SSH-``). Facts: ``record_type``, ``record_type_char``."""
    spec = spec if isinstance(spec, dict) else {}
    for item in subject.attempt.records:
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
    attempt = subject.attempt
    final = attempt.final
    if final is None:
        return None
    headers = [item for item in attempt.sizes if item.name == "input_record" and item.line < final.line]
    if not headers:
        return None
    last = headers[-1]
    arrived = any(
        item.direction == "in" and item.length == last.value and item.line >= last.line for item in attempt.records
    )
    if arrived or last.value <= 0:
        return None
    legal = last.value <= MAX_RECORD_LENGTH
    if "legal" in spec and legal != bool(spec["legal"]):
        return None
    return Match([last], size_facts("input_record", last.value))


@predicate("nothing_on_wire")
def nothing_on_wire(subject: Subject, expected: bool) -> Match | None:
    """Whether the attempt failed before any byte moved: no record, message or alert, no transport size
    printed, no error from the record layer and no library complaint (only the top-level call reported
    the failure). ``true`` is a claim about absence: a log that prints no debug records at all cannot
    show bytes moving, and the match then says it assumes it."""
    attempt = subject.attempt
    moved = bool(attempt.records or attempt.messages or attempt.alerts or attempt.certificates)
    moved = moved or any(item.name in _WIRE_MEASURES for item in attempt.sizes)
    moved = moved or any(item.in_debug_trace and not item.top_level for item in attempt.errors)
    moved = moved or bool(attempt.complaints) or any(not item.implied for item in attempt.milestones[1:])
    if moved == bool(expected):
        return None
    assumptions = []
    if not moved and not attempt.visibility.debug_levels:
        assumptions.append("the log prints no mbedTLS debug lines, so it cannot show whether any byte moved")
    return Match(assumptions=assumptions)


@predicate("call_failed")
def call_failed(subject: Subject, spec: Any) -> Match | None:
    """A call named in ``spec['functions']`` returned an error (optionally one of ``spec['names']``),
    wherever it sits in the attempt; the fact ``failed_call`` names it."""
    functions = set(as_list(spec.get("functions", ())))
    names = set(as_list(spec.get("names", ())))
    for item in subject.values():
        if item.mentioned or item.value >= 0 or (item.function or "") not in functions:
            continue
        if names and not item.names & names:
            continue
        return Match([item], {"failed_call": item.function, "failed_value": item.raw})
    return None


@predicate("tls13_attempted")
def tls13_attempted(subject: Subject, expected: bool) -> Match | None:
    """Whether the client tried TLS 1.3: its ClientHello offered it, or the library's TLS 1.3 code
    (``ssl_tls13_*.c``) printed lines in this attempt."""
    attempt = subject.attempt
    offered = attempt.client_hello is not None and attempt.client_hello.offers_tls13
    hit = next((item for item in attempt.errors if (item.source_file or "") in _TLS13_FILES), None)
    attempted = offered or hit is not None or attempt.visibility.tls13_files
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
