"""The last analysis stage: each attempt's events turned into the typed views of :mod:`~.views`.

Everything later stages ask of an attempt is computed here once: how each printed value reads in
the log's versions (names, kind, categories, whether it fails the attempt), the milestones reached
(with those that other lines imply), the hellos, certificates from every source unified, alerts and
verify flags without duplicates, and what the log could have shown at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tlsdiag.analysis import events
from tlsdiag.analysis.outcome import FailureTest
from tlsdiag.analysis.sessions import Session
from tlsdiag.analysis.views import (
    AlertSeen,
    AttemptView,
    CertificateSeen,
    Complaint,
    ConsoleLine,
    ContextLine,
    Gap,
    HelloView,
    LibraryMessageSeen,
    MessageSeen,
    Milestone,
    Offer,
    PrintedValue,
    RecordSeen,
    Size,
    VerifyFlag,
    Visibility,
)
from tlsdiag.codes import Scope
from tlsdiag.knowledge import load
from tlsdiag.readings import decode_printed

#: messages both sides send: ours are marked "(own)" so that the two stay apart
_BOTH_SIDES = frozenset({"Certificate", "CertificateVerify", "ChangeCipherSpec", "Finished", "Alert"})
_VERSION_NAMES = {"3:3": "TLS 1.2", "3:4": "TLS 1.3", "3:2": "TLS 1.1", "3:1": "TLS 1.0"}
_VERIFY_PREFIX = "verify depth "
#: a plausibility below this is a reading nobody would print (half a composite, an unlikely split)
_PLAUSIBLE = 0.2


def summarise(session: Session, scope: Scope) -> AttemptView:
    """The typed view of one attempt, its values read in ``scope``."""
    test = FailureTest(scope)
    done = session.handshake_done
    errors = tuple(
        _printed(item, scope, test, session.index, done)
        for item in session.errors
        if isinstance(item, (events.ReturnValue, events.CodeMention)) and item.value != 0
    )
    final_event = session.final_error
    final = None
    if final_event is not None:
        final = next(
            (item for item in errors if (item.line, item.raw) == (final_event.env.line, final_event.raw)), None
        )
    milestones = _milestones(session)
    current = session.current_step
    steps = load().step_milestones
    return AttemptView(
        index=session.index,
        first_line=session.first_line,
        last_line=session.last_line,
        role=session.role,
        started=session.started,
        failed=session.failed,
        final=final,
        console_failed=any(step.outcome == "failed" for step in session.console),
        handshake_done=done,
        milestones=milestones,
        current_step=None if current is None else Milestone(current[0], steps.get(current[1], current[1])),
        waiting_for=_waiting_for(session),
        steps=tuple(Milestone(line, name) for line, name in session.steps),
        errors=errors,
        complaints=tuple(
            Complaint(
                item.env.line, item.env.text, item.text, item.function, item.message_id, item.env.level, item.arguments
            )
            for item in session.errors
            if type(item) is events.ErrorText
        ),
        library_messages=tuple(
            LibraryMessageSeen(item.env.line, item.env.text, item.id, item.source) for item in session.library_messages
        ),
        alerts=_alerts(session),
        verify_flags=_verify_flags(session),
        sizes=tuple(Size(item.env.line, item.env.text, item.name, item.value, item.limit) for item in session.measures),
        records=tuple(
            RecordSeen(item.env.line, item.env.text, item.direction, item.content_type, item.length, item.present)
            for item in session.records
        ),
        messages=tuple(
            MessageSeen(item.env.line, item.env.text, item.direction, item.name, item.message)
            for item in session.messages
        ),
        offers=tuple(
            Offer(item.env.line, item.env.text, item.kind, item.value, item.number) for item in session.offered
        ),
        certificates=_certificates(session),
        context=tuple(
            ContextLine(item.env.line, item.env.text, item.kind, item.value, item.detail)
            for item in session.context_events
        ),
        console=tuple(ConsoleLine(item.env.line, item.env.text, item.step, item.outcome) for item in session.console),
        client_hello=_client_hello(session),
        server_hello=_server_hello(session),
        dumps=session.dumps,
        largest_gap=None if session.largest_gap is None else Gap(*session.largest_gap),
        visibility=_visibility(session),
    )


# --- printed values ----------------------------------------------------------------------------------------------


def _printed(item: Any, scope: Scope, test: FailureTest, attempt: int, done: int | None) -> PrintedValue:
    decoded = decode_printed(item.value, item.readings, scope)
    complete = [entry for entry in decoded.interpretations if entry.complete and entry.plausibility >= _PLAUSIBLE]
    best = max((entry.plausibility for entry in complete), default=0.0)
    names: set[str] = set()
    for entry in complete:
        if entry.plausibility == best:
            for part in entry.parts:
                if part.name:
                    names.add(part.name)
                names.update(part.aliases)
    env = item.env
    return PrintedValue(
        line=env.line,
        quote=env.text,
        value=item.value,
        raw=item.raw,
        function=item.function,
        strerror=getattr(item, "text", None),
        readings=item.readings,
        names=frozenset(names),
        kind=decoded.kind,
        categories=_categories(decoded.interpretations, item.readings),
        mentioned=type(item) is events.CodeMention,
        top_level=test.top_level(item),
        fails=test.fails(item, after_handshake=done is not None and env.line > done),
        in_debug_trace=env.source_file is not None,
        interpretations=decoded.interpretations,
        source_file=env.source_file,
        attempt=attempt,
    )


def _categories(interpretations: tuple[Any, ...], readings: tuple[Any, ...]) -> frozenset[str]:
    """The categories of the readings the log makes likely; a name printed with the value (``[Errno 12]
    ENOMEM``) or a print format that names the value's table pins its reading whatever the stack, where the
    number alone would be one of several tables'."""
    likely = {entry.category for entry in interpretations if entry.plausibility >= 0.9}
    printed = {reading.name for reading in readings if reading.how == "name" and reading.name}
    if printed:
        likely |= {
            entry.category
            for entry in interpretations
            if entry.complete and any(part.name in printed for part in entry.parts)
        }
    if readings and readings[0].table and interpretations:
        # a known print format named the table the value comes from (PubSubClient's state, HTTPClient's error)
        best = max(entry.plausibility for entry in interpretations)
        likely |= {entry.category for entry in interpretations if entry.complete and entry.plausibility == best}
    return frozenset(category for category in likely if category)


# --- milestones ---------------------------------------------------------------------------------------------------


def _milestones(session: Session) -> tuple[Milestone, ...]:
    """Handshake milestones in the order the log reached them, with those other lines imply.

    A verify-callback block or a dumped peer certificate means the server's Certificate arrived, and
    so did its ServerHello; a chosen cipher suite or a certificate request means the ServerHello did.
    """
    table = load().step_milestones
    found: dict[str, Milestone] = {}
    for line, step in session.steps:
        name = table.get(step)
        if name and name not in found:
            found[name] = Milestone(line, name)
    for message in session.messages:
        label = message.name
        if message.name in _BOTH_SIDES and message.direction == "out":
            label = f"{message.name} (own)"
        if label not in found:
            found[label] = Milestone(message.env.line, label)
    for line, name in _implied(session):
        if name not in found:
            found[name] = Milestone(line, name, implied=True)
    return tuple(sorted(found.values(), key=lambda item: (item.line, item.implied)))


def _implied(session: Session) -> list[tuple[int, str]]:
    implied: list[tuple[int, str]] = []
    for item in session.certificates:
        if type(item) is events.CertificateText and (
            item.origin.startswith(_VERIFY_PREFIX) or item.origin.startswith("peer certificate")
        ):
            implied += [(item.env.line, "ServerHello"), (item.env.line, "Certificate")]
            break
    for offer in session.offered:
        if offer.kind == "chosen-ciphersuite" or (offer.kind == "certificate-request"):
            implied.append((offer.env.line, "ServerHello"))
            break
    for error in session.errors:
        if type(error) is events.ReturnValue and (error.function or "") in (
            "x509_verify_cert",
            "mbedtls_x509_crt_verify",
        ):
            implied += [(error.env.line, "ServerHello"), (error.env.line, "Certificate")]
            break
    return implied


def _waiting_for(session: Session) -> str | None:
    """The peer's message the device was parsing when the log ends, if it never arrived.

    mbedTLS enters ``=> parse server hello`` before a byte of it has come; a step entered and never
    left whose message was not decoded is what the device was still waiting for."""
    current = session.current_step
    if current is None:
        return None
    line, raw = current
    finished = any(step == raw and step_line >= line for step_line, step in session.steps)
    name = load().step_milestones.get(raw, raw)
    incoming = "parse" in raw or "process" in raw
    if incoming and not finished and name and session.message(name, "in") is None:
        return name
    return None


# --- alerts, verify flags -------------------------------------------------------------------------------------------


def _alerts(session: Session) -> tuple[AlertSeen, ...]:
    names = load().alert_names
    found: list[AlertSeen] = []
    for item in session.alerts:
        if isinstance(item, events.Alert):
            level, description, direction = item.level, item.description, item.direction
        else:
            message: Any = item.message
            level, description, direction = message.level, message.description, item.direction
        if description is None:
            continue
        duplicate = any(
            other.description == description and other.direction == direction and abs(other.line - item.env.line) < 40
            for other in found
        )
        if not duplicate:
            name = names.get(description, f"unknown ({description})")
            found.append(AlertSeen(item.env.line, item.env.text, direction, level, description, name))
    return tuple(found)


def _verify_flags(session: Session) -> tuple[VerifyFlag, ...]:
    """Verify flags from printed bit masks and from the texts mbedtls_x509_crt_verify_info prints."""
    table = load().verify_flags
    by_text = {text.casefold(): name for _, name, text in table if text}
    found: dict[str, VerifyFlag] = {}

    def add(name: str, env: events.Envelope) -> None:
        found.setdefault(name, VerifyFlag(env.line, env.text, name))

    for item in session.verify:
        if item.flags_value:
            for bit, name, _ in table:
                if item.flags_value & bit:
                    add(name, item.env)
        elif item.flag:
            add(item.flag, item.env)
    texts = [(item.env, item.text) for item in session.errors if type(item) is events.ErrorText]
    texts += [(item.env, item.detail or "") for item in session.context_events if item.kind == "verification-info"]
    for env, text in texts:
        printed = by_text.get(text.strip().lstrip("!").strip().casefold())
        if printed:
            add(printed, env)
    for block in session.certificates:
        if type(block) is events.CertificateText:
            for name in _block_flags(block):
                add(name, block.env)
    if _unset_result(found, table) or any(item.flags_value and item.flags_value >= _UNSET for item in session.verify):
        return ()
    return tuple(sorted(found.values(), key=lambda item: item.line))


#: mbedtls_ssl_get_verify_result() when no verification ran (the handshake failed before the server's
#: certificate was checked) returns 0xFFFFFFFF, and a wrapper that prints its flags anyway (esp-tls's
#: "Failed to verify peer certificate!" followed by "verification info:") lists every flag, in table order
_UNSET = 0xFFFFFFFF


def _unset_result(found: dict[str, VerifyFlag], table: tuple[tuple[int, str, str], ...]) -> bool:
    """The flags are the first ones of the table, all set: expired and revoked at once, which no real
    verification of a device reports (revocation needs a CRL few devices load); the printed text, cut by the
    wrapper's buffer, holds as many of the others as fitted."""
    first = [name for _, name, text in table if text][:2]
    return len(first) == 2 and all(name in found for name in first)


def _block_flags(block: events.CertificateText) -> tuple[str, ...]:
    """The verify flags printed under one verify-callback block."""
    table = load().verify_flags
    by_text = {text.casefold(): name for _, name, text in table if text}
    found: list[str] = []
    for item in block.verify:
        if type(item) is events.VerifyInfo:
            if item.flags_value:
                found += [name for bit, name, _ in table if item.flags_value & bit]
            elif item.flag:
                found.append(item.flag)
        elif type(item) is events.ErrorText:
            name = by_text.get(item.text.strip().lstrip("!").strip().casefold())
            if name:
                found.append(name)
    return tuple(dict.fromkeys(found))


# --- certificates ---------------------------------------------------------------------------------------------------


def _certificates(session: Session) -> tuple[CertificateSeen, ...]:
    """Every certificate the log carried: from the wire (decoded bytes), from PEM, or printed as text."""
    found: list[CertificateSeen] = []
    serials: dict[str, int] = {}  # serial -> index in found
    for message in session.messages:
        if message.name != "Certificate":
            continue
        decoded: Any = message.message
        for index, entry in enumerate(getattr(decoded, "entries", ()) or ()):
            info = entry.info
            data = entry.to_json()
            if info is not None and info.serial:
                serials[info.serial] = len(found)
            if info is None:
                view = CertificateSeen(message.env.line, message.env.text, "wire", size=data.get("length"))
            else:
                view = _from_info(info, message.env, "wire", data.get("length"), details=tuple(data.items()))
            found.append(replace(view, direction=message.direction, position=index))
    for item in session.certificates:
        if type(item) is events.CertificateDer:
            pem_info = item.info
            if pem_info is None or (pem_info.serial and pem_info.serial in serials):
                continue
            found.append(
                _from_info(pem_info, item.env, "pem", len(item.der), details=tuple(pem_info.to_json().items()))
            )
        elif type(item) is events.CertificateText:
            view = _from_text(item)
            if view.serial and view.serial in serials:
                # the same certificate, decoded from the wire and printed by the verify callback: the
                # callback's block adds where in the chain it was checked and the flags it got
                index = serials[view.serial]
                if view.depth is not None and found[index].depth is None:
                    found[index] = replace(
                        found[index], depth=view.depth, origin=view.origin, verify_flags=view.verify_flags
                    )
                continue
            if view.serial:
                serials[view.serial] = len(found)
            found.append(view)
    return tuple(found)


def _from_info(
    info: Any, env: events.Envelope, source: str, size: int | None, details: tuple[tuple[str, Any], ...]
) -> CertificateSeen:
    names = tuple(info.san_dns) + tuple(info.san_ips)
    if not names and info.common_name:
        names = (info.common_name,)
    return CertificateSeen(
        line=env.line,
        quote=env.text,
        source=source,
        size=size,
        subject=info.subject,
        issuer=info.issuer,
        serial=info.serial,
        not_before=None if info.not_before is None else info.not_before.isoformat().replace("+00:00", "Z"),
        not_after=None if info.not_after is None else info.not_after.isoformat().replace("+00:00", "Z"),
        signature_algorithm=info.signature_algorithm,
        signature_hash=info.signature_hash,
        key_type=info.key_type,
        key_size=info.key_size,
        names=names,
        self_signed=info.self_signed,
        is_ca=info.is_ca,
        details=details,
    )


def _from_text(item: events.CertificateText) -> CertificateSeen:
    fields: dict[str, Any] = dict(item.fields)
    subject, issuer = fields.get("subject name"), fields.get("issuer name")
    key = fields.get("RSA key size") or fields.get("EC key size")
    key_type = "RSA" if fields.get("RSA key size") else ("EC" if fields.get("EC key size") else None)
    depth = None
    if item.origin.startswith(_VERIFY_PREFIX):
        digits = item.origin[len(_VERIFY_PREFIX) :].strip()
        depth = int(digits) if digits.isdigit() else None
    signature = fields.get("signed using")
    return CertificateSeen(
        line=item.env.line,
        quote=item.env.text,
        source="text",
        origin=item.origin,
        depth=depth,
        subject=subject,
        issuer=issuer,
        serial=fields.get("serial number"),
        not_before=fields.get("issued on"),
        not_after=fields.get("expires on"),
        signature_algorithm=signature,
        signature_hash=_hash_of(signature),
        key_type=key_type,
        key_size=_bits(key),
        names=tuple(_names_of_text(fields)),
        self_signed=bool(subject and subject == issuer),
        is_ca=_ca_of(fields.get("basic constraints")),
        verify_flags=_block_flags(item),
        details=tuple((key, value) for key, value in fields.items()),
    )


def _hash_of(signature: Any) -> str | None:
    """``RSA with SHA-256`` / ``ECDSA with SHA384`` -> ``sha256`` / ``sha384``."""
    if not isinstance(signature, str):
        return None
    text = signature.upper().replace("-", "")
    for name in ("SHA512", "SHA384", "SHA256", "SHA224", "SHA1", "MD5"):
        if name in text:
            return name.lower()
    return None


def _bits(value: Any) -> int | None:
    digits = "".join(char for char in str(value or "").split(" bits")[0] if char.isdigit())
    return int(digits) if digits else None


def _ca_of(value: Any) -> bool | None:
    if not isinstance(value, str) or "CA=" not in value:
        return None
    return value.split("CA=", 1)[1].strip().lower().startswith("true")


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
        for part in str(fields.get("subject name") or "").split(","):
            key, _, value = part.strip().partition("=")
            if key.strip().upper() == "CN" and value.strip():
                names.append(value.strip())
    return names


# --- hellos -----------------------------------------------------------------------------------------------------------


def _client_hello(session: Session) -> HelloView | None:
    message = next((item for item in session.messages if item.name == "ClientHello"), None)
    if message is not None:
        hello: Any = message.message
        data = dict(hello.to_json())
        return HelloView(
            line=message.env.line,
            quote=message.env.text,
            source="wire",
            version=data.get("version"),
            supported_versions=tuple(data.get("supported_versions") or ()),
            ciphersuites=tuple(hello.cipher_suites or ()),
            ciphersuite_names=tuple(data.get("ciphersuite_names") or ()),
            server_name=data.get("server_name"),
            supported_groups=tuple(data.get("supported_groups") or ()),
            signature_algorithms=tuple(data.get("signature_algorithms") or ()),
            key_share_groups=tuple(data.get("key_share_groups") or ()),
            max_fragment_length=data.get("max_fragment_length"),
            pre_shared_key=bool(getattr(hello, "pre_shared_key", None)),
            details=tuple(data.items()),
        )
    suites = [item for item in session.offered if item.kind == "ciphersuite" and item.number is not None]
    if not suites:
        return None
    name = next((item.value for item in session.offered if item.kind == "server-name"), None)
    version = next((item.value for item in session.offered if item.kind == "max-version"), None)
    return HelloView(
        line=suites[0].env.line,
        quote=suites[0].env.text,
        source="debug-lines",
        version=_VERSION_NAMES.get(version or "", version),
        ciphersuites=tuple(item.number for item in suites if item.number is not None),
        ciphersuite_names=tuple(item.value for item in suites),
        server_name=name,
    )


def _server_hello(session: Session) -> HelloView | None:
    message = next((item for item in session.messages if item.name in ("ServerHello", "HelloRetryRequest")), None)
    if message is not None:
        hello: Any = message.message
        data = dict(hello.to_json())
        suite = getattr(hello, "cipher_suite", None)
        return HelloView(
            line=message.env.line,
            quote=message.env.text,
            source="wire",
            version=data.get("version"),
            ciphersuites=() if suite is None else (suite,),
            ciphersuite_names=() if data.get("ciphersuite_name") is None else (data["ciphersuite_name"],),
            hello_retry_request=bool(data.get("hello_retry_request")),
            chosen_group=data.get("key_share_group"),
            max_fragment_length=data.get("max_fragment_length"),
            details=tuple(data.items()),
        )
    chosen = [item for item in session.offered if item.kind == "chosen-ciphersuite"]
    if not chosen:
        return None
    from tlsdiag.tls import names

    named = next((item for item in chosen if item.number is None), None)
    number = next((item.number for item in chosen if item.number is not None), None)
    label = named.value if named is not None else (names.ciphersuite(number) if number is not None else chosen[0].value)
    return HelloView(
        line=chosen[0].env.line,
        quote=chosen[0].env.text,
        source="debug-lines",
        ciphersuites=() if number is None else (number,),
        ciphersuite_names=(label,),
        details=(("ciphersuite", None if number is None else f"0x{number:04x}"), ("ciphersuite_name", label)),
    )


# --- what the log could show ------------------------------------------------------------------------------------------


def _kept(session: Session) -> list[Any]:
    """Every event the session kept with its envelope (steps keep only their line and name)."""
    return [
        *session.errors,
        *session.measures,
        *session.records,
        *session.messages,
        *session.offered,
        *session.alerts,
        *session.verify,
        *session.certificates,
        *session.library_messages,
    ]


def _visibility(session: Session) -> Visibility:
    kept = [item for item in _kept(session) if item.env.source_file is not None]
    levels = set(session.debug_levels) | {item.env.level for item in kept}
    errors_only = not (
        session.steps
        or session.messages
        or session.records
        or session.offered
        or session.measures
        or session.certificates
        or session.alerts
        or session.console
        or session.states
    )
    return Visibility(
        debug_levels=frozenset(int(level) for level in levels if level and level.isdigit()),
        steps=bool(session.steps or session.states),
        hello_details=any(item.kind in ("ciphersuite", "max-version") for item in session.offered),
        dumps=session.dumps > 0,
        messages_decoded=bool(session.messages),
        console=bool(session.console),
        starts_mid_handshake=session.started
        and not session.entered
        and not session.console
        and bool(session.steps)
        and not any(name == "write client hello" for _, name in session.steps[:3]),
        only_the_error=errors_only,
        tls13_files=any((item.env.source_file or "").startswith("ssl_tls13_") for item in kept),
    )
