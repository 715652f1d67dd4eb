"""Predicates of the certificate, client-authentication, key and PSK rules.

They read what the attempt's view holds about certificates (the chain on the wire, the blocks a
verify callback or a certificate dump printed, PEM blocks, the device's own Certificate message),
the hellos (SNI, PSK, the time a TLS 1.2 ClientHello carries) and the library's return values, and
hand the rules facts such as the issuer of the server's certificate, the name the device asked
for, or the year its clock showed. Like every predicate they never look at log wording.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tlsdiag.analysis.views import AttemptView, CertificateSeen
from tlsdiag.rules.predicates import Match, Subject, as_list, predicate

#: certificate-dump origins that show the peer's leaf, in order of preference
_LEAF_ORIGINS = ("peer certificate #1", "verify depth 0", "certificate")


def _present(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if value is not None}


def leaf_certificate(attempt: AttemptView) -> CertificateSeen | None:
    """The server's own certificate (the leaf): from the wire, else from a printed block."""
    for cert in attempt.certificates:
        if cert.source == "wire" and cert.direction == "in" and cert.position == 0 and cert.subject is not None:
            return cert
    for origin in _LEAF_ORIGINS:
        for cert in attempt.certificates:
            if cert.source == "text" and cert.origin == origin:
                return cert
    return None


def _leaf_facts(cert: CertificateSeen) -> dict[str, Any]:
    key = f"{cert.key_type} {cert.key_size} bits" if cert.key_type and cert.key_size else None
    return {
        "peer_subject": cert.subject,
        "peer_issuer": cert.issuer,
        "peer_names": ", ".join(cert.names) or None,
        "peer_not_before": cert.date_before,
        "peer_not_after": cert.date_after,
        "peer_signature": cert.signature_algorithm,
        "peer_key": key,
        "peer_self_signed": cert.self_signed,
    }


# --- the server's certificate --------------------------------------------------------------------------------


@predicate("peer_certificate")
def peer_certificate(subject: Subject, spec: Any) -> Match | None:
    """The peer's leaf certificate is known; its subject, issuer, names, dates, signature and key become facts.

    ``spec`` may be ``true`` (the certificate must be in the log) or ``{optional = true}`` (always
    holds; the facts are added only when the log shows the certificate, so that explanations can
    name the issuer where they can and fall back to general words elsewhere)."""
    optional = isinstance(spec, dict) and bool(spec.get("optional"))
    cert = leaf_certificate(subject.attempt)
    if cert is None:
        return Match() if optional else None
    return Match([] if optional else [cert], _present(_leaf_facts(cert)))


@predicate("flagged_certificate")
def flagged_certificate(subject: Subject, spec: Any) -> Match | None:
    """A certificate printed by the verify callback (``Verify requested for (Depth N)``) carries one of
    ``spec['flag']``; ``ca = true`` asks for a CA certificate (depth 1 or more), ``ca = false`` for the leaf;
    ``optional = true`` always holds and only adds the certificate's facts when the log has them.

    A CA flagged as not yet valid is the strongest sign that the device clock, not the certificate,
    is wrong: CA certificates are issued years before the servers' certificates they sign."""
    wanted = set(as_list(spec.get("flag", ())))
    want_ca = spec.get("ca")
    optional = bool(spec.get("optional"))
    for cert in subject.attempt.certificates:
        if cert.depth is None:
            continue
        if want_ca is not None and (cert.depth >= 1) != bool(want_ca):
            continue
        flags = set(cert.verify_flags) & wanted
        if not flags:
            continue
        facts = {
            "flagged_subject": cert.subject,
            "flagged_not_before": cert.date_before,
            "flagged_not_after": cert.date_after,
            "flagged_depth": cert.depth,
            "flagged_flag": sorted(flags)[0],
        }
        return Match([] if optional else [cert], _present(facts))
    return Match() if optional else None


# --- the device clock ----------------------------------------------------------------------------------------


@predicate("hello_time_before")
def hello_time_before(subject: Subject, year: int) -> Match | None:
    """The time our TLS 1.2 ClientHello carries in its first four random bytes is before ``year``.

    mbedTLS built with MBEDTLS_HAVE_TIME writes ``time(NULL)`` there (the level-3 line ``client
    hello, current time:`` prints the same value). A TLS 1.3 ClientHello's random is random, so
    hellos that offer TLS 1.3 are ignored. On its own a low value could still be chance; rules use
    it only next to a date-related verify flag (which proves that the build reads the clock)."""
    attempt = subject.attempt
    message = attempt.message("ClientHello", "out") or attempt.message("ClientHello")
    if message is None or attempt.role == "server":
        return None
    hello: Any = message.decoded
    random = getattr(hello, "random", None)
    versions = getattr(hello, "supported_versions", None) or ()
    if not random or len(random) < 4 or any(version in (0x0304, "TLS 1.3") for version in versions):
        return None
    moment = datetime.fromtimestamp(int.from_bytes(random[:4], "big"), UTC)
    if moment.year >= int(year):
        return None
    return Match([message], {"clock_year": moment.year, "clock_time": moment.strftime("%Y-%m-%d %H:%M:%S UTC")})


@predicate("clock_unset")
def clock_unset(subject: Subject, year: int) -> Match | None:
    """The last clock reading the attempt printed before it failed shows a year before ``year``.

    Unlike a first reading, the last one tells the state at connection time: a log that shows
    ``tm_year:70`` while waiting for SNTP and then the synchronised date does not match."""
    failure = subject.attempt.final
    readings = [
        item
        for item in subject.attempt.context
        if item.kind == "clock" and (failure is None or item.line <= failure.line)
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
    attempt = subject.attempt
    final = attempt.final
    failed = final is not None or any(
        step.outcome == "failed" and "handshake" in step.step.lower() for step in attempt.console
    )
    failed = failed or (attempt.failed and attempt.handshake_done is None and bool(attempt.verify_flags))
    if failed != bool(expected):
        return None
    return Match([], {"error": final.raw} if final is not None else {})


@predicate("error_from")
def error_from(subject: Subject, spec: Any) -> Match | None:
    """A call in ``spec['functions']`` returned an error with one of ``spec['names']``.

    Setup calls (loading a CA file, checking a key pair) are not handshake calls, so the attempt's
    final error does not name them; this predicate looks at every return value."""
    wanted = set(as_list(spec.get("names", ())))
    functions = set(as_list(spec.get("functions", ())))
    for item in subject.values():
        if item.mentioned or item.value >= 0:
            continue
        if functions and (item.function or "") not in functions:
            continue
        names = item.names & wanted if wanted else {item.raw}
        if names:
            return Match([item], {"error": item.raw, "error_name": sorted(names)[0], "error_function": item.function})
    return None


# --- client authentication -----------------------------------------------------------------------------------


@predicate("certificate_request")
def certificate_request(subject: Subject, expected: bool) -> Match | None:
    """The server asked for a client certificate (a CertificateRequest decoded from the dumped bytes).

    mbedTLS enters its ``parse certificate request`` step whether or not one comes, so the step
    alone does not prove it; the decoded message does, and so does the library's own ``got a
    certificate request`` line."""
    attempt = subject.attempt
    message = attempt.message("CertificateRequest", "in")
    if message is None:
        said = next((item for item in attempt.offers if item.kind == "certificate-request"), None)
        if said is not None:
            asked = said.value == "yes"
            return Match([said]) if asked == bool(expected) else None
    if (message is not None) != bool(expected):
        return None
    if message is None:
        return Match()
    names = list(getattr(message.decoded, "ca_names", ()) or ())
    facts = {"requested_ca": "; ".join(str(name) for name in names[:3])} if names else {}
    return Match([message], facts)


def _own_certificate(attempt: AttemptView) -> tuple[Any, int | None, dict[str, Any]]:
    """(evidence, number of certificates sent or None when unknown, facts) for our own Certificate."""
    facts: dict[str, Any] = {}
    blocks = [cert for cert in attempt.certificates if (cert.origin or "").startswith("own certificate")]
    if blocks:
        facts["own_subject"] = blocks[0].subject
        facts["own_issuer"] = blocks[0].issuer
    outgoing = "in" if attempt.role == "server" else "out"
    for message in attempt.messages:
        if message.name == "Certificate" and message.direction == outgoing:
            entries = getattr(message.decoded, "entries", ()) or ()
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
    evidence, count, facts = _own_certificate(subject.attempt)
    if count is None:
        return None
    if bool(spec.get("empty")) != (count == 0):
        return None
    return Match([evidence] if evidence is not None else [], _present(facts))


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
    attempt = subject.attempt
    after = spec.get("after")
    sent_lines = [m.line for m in attempt.messages if m.name == after and m.direction == "out"]
    if not sent_lines:  # without dumps: the library completed the step that writes that message
        step = _WRITE_STEPS.get(str(after))
        sent_lines = [item.line for item in attempt.steps if item.name == step]
    if not sent_lines:
        return None
    wanted = {item if isinstance(item, int) else str(item) for item in as_list(spec.get("alerts", ()))}
    for alert in attempt.alerts:
        if alert.direction != "in" or alert.line < sent_lines[0]:
            continue
        if alert.description in wanted or alert.name in wanted:
            return Match([alert], {"alert": alert.description, "alert_name": alert.name})
    return None


# --- pre-shared keys -----------------------------------------------------------------------------------------


def _extension_names(details: tuple[tuple[str, Any], ...]) -> set[str | None]:
    extensions = dict(details).get("extensions") or ()
    return {item.get("name") for item in extensions if isinstance(item, dict)}


@predicate("psk")
def psk(subject: Subject, spec: Any) -> Match | None:
    """The handshake uses a pre-shared key: ``{offered = true}`` the ClientHello offers one (a
    pre_shared_key extension, or only PSK cipher suites), ``{chosen = true}`` the server picked a
    PSK suite (TLS 1.2) or accepted the PSK (TLS 1.3 pre_shared_key in its ServerHello)."""
    hello = subject.attempt.client_hello
    server = subject.attempt.server_hello
    facts: dict[str, Any] = {}
    offered = False
    if hello is not None:
        suites = [name for name in hello.ciphersuite_names if not name.endswith("_SCSV")]
        only_psk = bool(suites) and all("PSK" in name for name in suites)
        in_extension = hello.pre_shared_key or "pre_shared_key" in _extension_names(hello.details)
        offered = in_extension or only_psk
        if only_psk:
            facts["psk_suite"] = suites[0]
        elif in_extension:
            facts["psk_suite"] = "a TLS 1.3 pre_shared_key offered in the ClientHello"
    chosen = False
    if server is not None:
        name = server.ciphersuite_names[0] if server.ciphersuite_names else ""
        chosen = "PSK" in name or "pre_shared_key" in _extension_names(server.details)
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
    hello = subject.attempt.client_hello
    name = hello.server_name if hello is not None else None
    evidence: list[Any] = []
    if not name:
        hosts = [item for item in subject.attempt.context if item.kind == "host" and item.detail]
        if hosts:
            name = hosts[-1].detail
            evidence = [hosts[-1]]
    if not name:
        return Match() if optional else None
    return Match([] if optional else evidence, {"requested_host": name})


# --- the CA the device was given -----------------------------------------------------------------------------


def _chain_names(attempt: AttemptView) -> set[str]:
    """Subjects and issuers of the certificates the server sent, as far as the log shows them."""
    names: set[str] = set()
    for cert in attempt.certificates:
        if (cert.source == "wire" and cert.direction == "in") or (
            cert.source == "text" and not (cert.origin or "").startswith("own")
        ):
            names.update(name for name in (cert.subject, cert.issuer) if name)
    return names


@predicate("given_ca")
def given_ca(subject: Subject, spec: Any) -> Match | None:
    """The CA certificate the device was given, when the log carries it as PEM (a program printing its
    CA, or the CA string of the code pasted next to the log).

    ``{intermediate = true}``: that certificate is a CA but not a self-signed root, i.e. an intermediate
    was pinned. ``{not_issuer = true}``: the server's chain is in the log and that certificate is neither
    in it nor its issuer. PEM blocks that include a non-CA certificate are taken for a dumped server chain
    (``openssl s_client -showcerts``), not for the device's trust store, and do not match."""
    pems = [cert for cert in subject.attempt.certificates if cert.source == "pem" and cert.subject is not None]
    if not pems or any(cert.is_ca is False for cert in pems):
        return None
    cas = [cert for cert in pems if cert.is_ca]
    if spec.get("intermediate"):
        cas = [cert for cert in cas if not cert.self_signed]
    if spec.get("not_issuer"):
        chain = _chain_names(subject.attempt)
        if not chain or any(cert.subject in chain for cert in cas):
            return None
    if not cas:
        return None
    cert = cas[0]
    facts = {
        "given_subject": cert.subject,
        "given_issuer": cert.issuer,
        "given_not_after": cert.date_after,
        "given_kind": "a root CA" if cert.self_signed else "an intermediate CA, not a root",
    }
    return Match([cert], _present(facts))
