"""Predicates of the certificate, client-authentication, key and PSK rules.

They read what the session holds about certificates (the chain on the wire, the blocks a verify
callback or a certificate dump printed, the device's own Certificate message), the hellos (SNI,
PSK, the time a TLS 1.2 ClientHello carries) and the library's return values, and hand the rules
facts such as the issuer of the server's certificate, the name the device asked for, or the year
its clock showed. Like every predicate they never look at log wording.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tlsdiag.analysis import events, summary
from tlsdiag.analysis.sessions import Session
from tlsdiag.knowledge import load
from tlsdiag.rules.predicates import Match, Subject, predicate

#: certificate-dump origins that show the peer's leaf, in order of preference
_LEAF_ORIGINS = ("peer certificate #1", "verify depth 0", "certificate")
_VERIFY_PREFIX = "verify depth "


def _as_list(argument: Any) -> list[Any]:
    return list(argument) if isinstance(argument, (list, tuple)) else [argument]


def _flag_texts() -> dict[str, str]:
    """The text mbedtls_x509_crt_verify_info prints for each flag, folded, mapped to the flag's name."""
    return {text.casefold(): name for _, name, text in load().verify_flags if text}


def _flag_bits() -> list[tuple[int, str]]:
    return [(bit, name) for bit, name, _ in load().verify_flags]


def _flags_of(block: events.CertificateText) -> set[str]:
    """The verify flags printed under one verify-callback block."""
    found: set[str] = set()
    texts = _flag_texts()
    for item in block.verify:
        if type(item) is events.VerifyInfo:
            if item.flags_value:
                found.update(name for bit, name in _flag_bits() if item.flags_value & bit)
            elif item.flag:
                found.add(item.flag)
        elif type(item) is events.ErrorText:
            name = texts.get(item.text.strip().lstrip("!").strip().casefold())
            if name:
                found.add(name)
    return found


def _depth(block: events.CertificateText) -> int | None:
    if not block.origin.startswith(_VERIFY_PREFIX):
        return None
    digits = block.origin[len(_VERIFY_PREFIX) :].strip()
    return int(digits) if digits.isdigit() else None


def _names_of_text(fields: dict[str, Any]) -> list[str]:
    """DNS names and addresses of a printed certificate: its SAN entries, else its CN."""
    names: list[str] = []
    entries = fields.get("subject alt name entries")
    if isinstance(entries, list):
        for entry in entries:
            kind, _, value = str(entry).partition(":")
            if value and kind.casefold() in ("dnsname", "ipaddress"):
                names.append(value.strip())
    text = fields.get("subject alt name")
    if not names and isinstance(text, str) and text.strip():
        names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        cn = _cn(str(fields.get("subject name") or ""))
        if cn:
            names.append(cn)
    return names


def _cn(name: str) -> str | None:
    for part in name.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().upper() == "CN":
            return value.strip()
    return None


def _date(value: Any) -> str | None:
    """A printed or decoded date as ``YYYY-MM-DD``."""
    if not value:
        return None
    return str(value)[:10]


def _wire_leaf(session: Session) -> tuple[events.Event, dict[str, Any]] | None:
    for message in session.messages:
        if message.name != "Certificate" or message.direction != "in":
            continue
        entries = getattr(message.message, "entries", ()) or ()
        if entries and entries[0].info is not None:
            info = entries[0].info
            names = list(info.san_dns) + list(info.san_ips)
            if not names and info.common_name:
                names = [info.common_name]
            return message, {
                "peer_subject": info.subject,
                "peer_issuer": info.issuer,
                "peer_names": ", ".join(names) or None,
                "peer_not_before": _date(info.not_before),
                "peer_not_after": _date(info.not_after),
                "peer_signature": info.signature_algorithm,
                "peer_key": f"{info.key_type} {info.key_size} bits" if info.key_type and info.key_size else None,
                "peer_self_signed": info.self_signed,
            }
    return None


def _text_leaf(session: Session) -> tuple[events.Event, dict[str, Any]] | None:
    blocks = [item for item in session.certificates if type(item) is events.CertificateText]
    for origin in _LEAF_ORIGINS:
        for block in blocks:
            if block.origin != origin:
                continue
            fields = block.fields
            key = fields.get("RSA key size") or fields.get("EC key size")
            subject, issuer = fields.get("subject name"), fields.get("issuer name")
            return block, {
                "peer_subject": subject,
                "peer_issuer": issuer,
                "peer_names": ", ".join(_names_of_text(fields)) or None,
                "peer_not_before": _date(fields.get("issued on")),
                "peer_not_after": _date(fields.get("expires on")),
                "peer_signature": fields.get("signed using"),
                "peer_key": f"{'RSA' if fields.get('RSA key size') else 'EC'} {key}" if key else None,
                "peer_self_signed": bool(subject and subject == issuer),
            }
    return None


def leaf_certificate(session: Session) -> tuple[events.Event, dict[str, Any]] | None:
    """The server's own certificate (the leaf) and its facts, from the wire or from a printed block."""
    return _wire_leaf(session) or _text_leaf(session)


# --- the server's certificate --------------------------------------------------------------------------------


@predicate("peer_certificate")
def peer_certificate(subject: Subject, spec: Any) -> Match | None:
    """The peer's leaf certificate is known; its subject, issuer, names, dates, signature and key become facts.

    ``spec`` may be ``true`` (the certificate must be in the log) or ``{optional = true}`` (always
    holds; the facts are added only when the log shows the certificate, so that explanations can
    name the issuer where they can and fall back to general words elsewhere)."""
    optional = isinstance(spec, dict) and bool(spec.get("optional"))
    found = leaf_certificate(subject.session)
    if found is None:
        return Match() if optional else None
    event, facts = found
    return Match([] if optional else [event], {key: value for key, value in facts.items() if value is not None})


@predicate("flagged_certificate")
def flagged_certificate(subject: Subject, spec: Any) -> Match | None:
    """A certificate printed by the verify callback (``Verify requested for (Depth N)``) carries one of
    ``spec['flag']``; ``ca = true`` asks for a CA certificate (depth 1 or more), ``ca = false`` for the leaf;
    ``optional = true`` always holds and only adds the certificate's facts when the log has them.

    A CA flagged as not yet valid is the strongest sign that the device clock, not the certificate,
    is wrong: CA certificates are issued years before the servers' certificates they sign."""
    wanted = set(_as_list(spec.get("flag", ())))
    want_ca = spec.get("ca")
    optional = bool(spec.get("optional"))
    for block in subject.session.certificates:
        if type(block) is not events.CertificateText:
            continue
        depth = _depth(block)
        if depth is None:
            continue
        if want_ca is not None and (depth >= 1) != bool(want_ca):
            continue
        flags = _flags_of(block) & wanted
        if not flags:
            continue
        fields = block.fields
        facts = {
            "flagged_subject": fields.get("subject name"),
            "flagged_not_before": _date(fields.get("issued on")),
            "flagged_not_after": _date(fields.get("expires on")),
            "flagged_depth": depth,
            "flagged_flag": sorted(flags)[0],
        }
        evidence: list[events.Event] = [block, *(item for item in block.verify if type(item) is not events.VerifyInfo)]
        return Match(
            [] if optional else evidence[:2], {key: value for key, value in facts.items() if value is not None}
        )
    return Match() if optional else None


# --- the device clock ----------------------------------------------------------------------------------------


@predicate("hello_time_before")
def hello_time_before(subject: Subject, year: int) -> Match | None:
    """The time our TLS 1.2 ClientHello carries in its first four random bytes is before ``year``.

    mbedTLS built with MBEDTLS_HAVE_TIME writes ``time(NULL)`` there (the level-3 line ``client
    hello, current time:`` prints the same value). A TLS 1.3 ClientHello's random is random, so
    hellos that offer TLS 1.3 are ignored. On its own a low value could still be chance; rules use
    it only next to a date-related verify flag (which proves that the build reads the clock)."""
    message = subject.session.message("ClientHello", "out") or subject.session.message("ClientHello")
    if message is None or subject.session.role == "server":
        return None
    hello: Any = message.message
    random = getattr(hello, "random", None)
    versions = getattr(hello, "supported_versions", None) or ()
    if not random or len(random) < 4 or any(version in (0x0304, "TLS 1.3") for version in versions):
        return None
    seconds = int.from_bytes(random[:4], "big")
    moment = datetime.fromtimestamp(seconds, UTC)
    if moment.year >= int(year):
        return None
    return Match([message], {"clock_year": moment.year, "clock_time": moment.strftime("%Y-%m-%d %H:%M:%S UTC")})


@predicate("clock_unset")
def clock_unset(subject: Subject, year: int) -> Match | None:
    """The last clock reading the session printed before it failed shows a year before ``year``.

    Unlike a first reading, the last one tells the state at connection time: a log that shows
    ``tm_year:70`` while waiting for SNTP and then the synchronised date does not match."""
    failure = subject.session.final_error
    readings = [
        item
        for item in subject.session.context_events
        if item.kind == "clock" and (failure is None or item.env.line <= failure.env.line)
    ]
    if not readings:
        return None
    last = readings[-1]
    if last.value is None or last.value >= int(year):
        return None
    return Match([last], {"clock_year": last.value})


# --- outcome and errors --------------------------------------------------------------------------------------


@predicate("handshake_failed")
def handshake_failed(subject: Subject, expected: bool) -> Match | None:
    """Whether the connection failed: an error reached the application, or the program reported its
    handshake step as failed. A failed *verification* step alone does not count: with the
    authentication mode 'optional' a program may print "Verifying peer X.509 certificate... failed"
    after a handshake that succeeded."""
    session = subject.session
    final = session.final_error
    failed = final is not None or any(
        step.outcome == "failed" and "handshake" in step.step.lower() for step in session.console
    )
    if failed != bool(expected):
        return None
    return Match([], {"error": final.raw} if final is not None else {})


@predicate("error_from")
def error_from(subject: Subject, spec: Any) -> Match | None:
    """A call in ``spec['functions']`` returned an error with one of ``spec['names']``.

    Setup calls (loading a CA file, checking a key pair) are not handshake calls, so the session's
    final error does not name them; this predicate looks at every return value."""
    wanted = set(_as_list(spec.get("names", ())))
    functions = set(_as_list(spec.get("functions", ())))
    for item in subject.session.errors:
        if type(item) is not events.ReturnValue or item.value >= 0:
            continue
        if functions and (item.function or "") not in functions:
            continue
        names = subject.names_of(item.value) & wanted if wanted else {item.raw}
        if names:
            return Match([item], {"error": item.raw, "error_name": sorted(names)[0], "error_function": item.function})
    return None


# --- client authentication -----------------------------------------------------------------------------------


@predicate("certificate_request")
def certificate_request(subject: Subject, expected: bool) -> Match | None:
    """The server asked for a client certificate (a CertificateRequest decoded from the dumped bytes).

    mbedTLS enters its ``parse certificate request`` step whether or not one comes, so the step
    alone does not prove it; the decoded message does."""
    message = subject.session.message("CertificateRequest", "in")
    if message is None:  # without dumps, the library's own "got a/no certificate request" line tells
        said = next((item for item in subject.session.offered if item.kind == "certificate-request"), None)
        if said is not None:
            asked = said.value == "yes"
            return Match([said]) if asked == bool(expected) else None
    if (message is not None) != bool(expected):
        return None
    if message is None:
        return Match()
    data: Any = message.message
    names = list(getattr(data, "ca_names", ()) or ())
    facts = {"requested_ca": "; ".join(str(name) for name in names[:3])} if names else {}
    return Match([message], facts)


def _own_certificate(session: Session) -> tuple[events.Event | None, int | None, dict[str, Any]]:
    """(evidence, number of certificates sent or None when unknown, facts) for our own Certificate."""
    facts: dict[str, Any] = {}
    blocks = [
        item
        for item in session.certificates
        if type(item) is events.CertificateText and item.origin.startswith("own certificate")
    ]
    if blocks:
        facts["own_subject"] = blocks[0].fields.get("subject name")
        facts["own_issuer"] = blocks[0].fields.get("issuer name")
    outgoing = "in" if session.role == "server" else "out"
    for message in session.messages:
        if message.name == "Certificate" and message.direction == outgoing:
            entries = getattr(message.message, "entries", ()) or ()
            if entries and entries[0].info is not None and "own_subject" not in facts:
                facts["own_subject"] = entries[0].info.subject
                facts["own_issuer"] = entries[0].info.issuer
            return message, len(entries), facts
    if blocks:
        return blocks[0], len(blocks), facts
    return None, None, facts


@predicate("own_certificate")
def own_certificate(subject: Subject, spec: Any) -> Match | None:
    """What the device sent as its own certificate: ``{empty = true}`` an empty Certificate message
    (no client certificate configured), ``{empty = false}`` at least one certificate."""
    event, count, facts = _own_certificate(subject.session)
    if count is None:
        return None
    if bool(spec.get("empty")) != (count == 0):
        return None
    return Match([event] if event is not None else [], {k: v for k, v in facts.items() if v is not None})


#: the step mbedTLS completes when it has written a message
_WRITE_STEPS = {
    "Certificate": "write certificate",
    "CertificateVerify": "write certificate verify",
    "Finished": "write finished",
    "ClientHello": "write client hello",
    "ClientKeyExchange": "write client key exchange",
}


@predicate("alert_received_after")
def alert_received_after(subject: Subject, spec: Any) -> Match | None:
    """A fatal alert in ``spec['alerts']`` arrived after the device sent the message ``spec['after']``
    (``Certificate``, ``CertificateVerify``, ``Finished``, ``ClientHello``), as the decoded bytes show."""
    after = spec.get("after")
    sent_lines = [m.env.line for m in subject.session.messages if m.name == after and m.direction == "out"]
    if not sent_lines:  # without dumps: the library completed the step that writes that message
        step = _WRITE_STEPS.get(str(after))
        sent_lines = [line for line, name in subject.session.steps if name == step]
    if not sent_lines:
        return None
    wanted = {item if isinstance(item, int) else str(item) for item in _as_list(spec.get("alerts", ()))}
    for alert in summary.alerts(subject.session):
        if alert["direction"] != "in" or alert["line"] < sent_lines[0]:
            continue
        if alert["description"] in wanted or alert["name"] in wanted:
            events_at = [item for item in subject.session.alerts if item.env.line == alert["line"]]
            return Match(events_at[:1], {"alert": alert["description"], "alert_name": alert["name"]})
    return None


# --- pre-shared keys -----------------------------------------------------------------------------------------


@predicate("psk")
def psk(subject: Subject, spec: Any) -> Match | None:
    """The handshake uses a pre-shared key: ``{offered = true}`` the ClientHello offers one (a
    pre_shared_key extension, or only PSK cipher suites), ``{chosen = true}`` the server picked a
    PSK suite (TLS 1.2) or accepted the PSK (TLS 1.3 pre_shared_key in its ServerHello)."""
    hello = summary.client_hello(subject.session)
    server = summary.server_hello(subject.session)
    facts: dict[str, Any] = {}
    offered = False
    if hello is not None:
        extensions = {item.get("name") for item in hello.get("extensions") or ()}
        suites = [name for name in hello.get("ciphersuite_names") or () if not name.endswith("_SCSV")]
        only_psk = bool(suites) and all("PSK" in name for name in suites)
        offered = "pre_shared_key" in extensions or only_psk
        if only_psk:
            facts["psk_suite"] = suites[0]
        elif "pre_shared_key" in extensions:
            facts["psk_suite"] = "a TLS 1.3 pre_shared_key offered in the ClientHello"
    chosen = False
    if server is not None:
        name = str(server.get("ciphersuite_name") or server.get("ciphersuite") or "")
        extensions = {item.get("name") for item in server.get("extensions") or ()}
        chosen = "PSK" in name or "pre_shared_key" in extensions
        if "PSK" in name:
            facts["psk_suite"] = name
    if "offered" in spec and offered != bool(spec["offered"]):
        return None
    if "chosen" in spec and chosen != bool(spec["chosen"]):
        return None
    return Match([], facts)


# --- the name the device asked for ---------------------------------------------------------------------------


@predicate("requested_host")
def requested_host(subject: Subject, spec: Any) -> Match | None:
    """The host name the device connects to: the SNI of its ClientHello, else the host esp-tls logged.

    ``spec`` is ``true`` (the name must be known) or ``{optional = true}`` (always holds, adds the
    ``requested_host`` fact when the log shows it)."""
    optional = isinstance(spec, dict) and bool(spec.get("optional"))
    hello = summary.client_hello(subject.session)
    name = hello.get("server_name") if hello else None
    evidence: list[events.Event] = []
    if not name:
        hosts = [item for item in subject.session.context_events if item.kind == "host" and item.detail]
        if hosts:
            name = hosts[-1].detail
            evidence = [hosts[-1]]
    if not name:
        return Match() if optional else None
    return Match([] if optional else evidence, {"requested_host": name})


# --- the CA the device was given -----------------------------------------------------------------------------


def _pem_certificates(session: Session) -> list[tuple[events.Event, Any]]:
    return [
        (item, item.info)
        for item in session.certificates
        if type(item) is events.CertificateDer and item.info is not None and not item.info.error
    ]


def _chain_issuers(session: Session) -> set[str]:
    """Subjects and issuers of the certificates the server sent, as far as the log shows them."""
    names: set[str] = set()
    for message in session.messages:
        if message.name == "Certificate" and message.direction == "in":
            for entry in getattr(message.message, "entries", ()) or ():
                if entry.info is not None:
                    names.update(name for name in (entry.info.subject, entry.info.issuer) if name)
    for block in session.certificates:
        if type(block) is events.CertificateText and not block.origin.startswith("own"):
            names.update(str(block.fields[key]) for key in ("subject name", "issuer name") if block.fields.get(key))
    return names


@predicate("given_ca")
def given_ca(subject: Subject, spec: Any) -> Match | None:
    """The CA certificate the device was given, when the log carries it as PEM (a program printing its
    CA, or the CA string of the code pasted next to the log).

    ``{intermediate = true}``: that certificate is a CA but not a self-signed root, i.e. an intermediate
    was pinned. ``{not_issuer = true}``: the server's chain is in the log and that certificate is neither
    in it nor its issuer. PEM blocks that include a non-CA certificate are taken for a dumped server chain
    (``openssl s_client -showcerts``), not for the device's trust store, and do not match."""
    pems = _pem_certificates(subject.session)
    if not pems or any(info.is_ca is False for _, info in pems):
        return None
    cas = [(event, info) for event, info in pems if info.is_ca]
    if spec.get("intermediate"):
        cas = [(event, info) for event, info in cas if not info.self_signed]
    if spec.get("not_issuer"):
        chain = _chain_issuers(subject.session)
        if not chain or any(info.subject in chain for _, info in cas):
            return None
    if not cas:
        return None
    event, info = cas[0]
    kind = "a root CA" if info.self_signed else "an intermediate CA, not a root"
    facts = {
        "given_subject": info.subject,
        "given_issuer": info.issuer,
        "given_not_after": _date(info.not_after),
        "given_kind": kind,
    }
    return Match([event], {key: value for key, value in facts.items() if value is not None})
