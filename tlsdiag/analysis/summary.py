"""What a session amounts to, in the contract's terms: milestones reached, hellos, certificates,
alerts, verify flags and decoded errors. Rules read these views; reporters print them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tlsdiag.analysis import events
from tlsdiag.analysis.context import InputContext
from tlsdiag.analysis.sessions import Session
from tlsdiag.codes import Scope, decode_value
from tlsdiag.knowledge import Knowledge, load
from tlsdiag.model import hex_of
from tlsdiag.paths import knowledge_path
from tlsdiag.versions import VersionSelection


@cache
def step_milestones() -> dict[str, str]:
    """mbedTLS step text -> the handshake milestone it completes (knowledge/tls/steps.toml)."""
    from tlsdiag.cache import load_toml

    return dict(load_toml(knowledge_path("tls", "steps.toml"))["step"])


@cache
def _alert_names() -> dict[int, str]:
    from tlsdiag.knowledge import _json

    return {row["value"]: row["tls_name"] for row in _json("tls", "alerts.json")["alert"]}


#: messages both sides send: ours are marked "(own)" so that the two stay apart
_BOTH_SIDES = frozenset({"Certificate", "CertificateVerify", "ChangeCipherSpec", "Finished", "Alert"})


def current_step(session: Session) -> str | None:
    """The milestone the handshake was at when the log ends or fails (entered, maybe not finished)."""
    if session.current_step is None:
        return None
    return step_milestones().get(session.current_step[1], session.current_step[1])


def reached(session: Session) -> list[tuple[int, str]]:
    """Handshake milestones in the order the log reached them, as (line, name)."""
    table = step_milestones()
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, step in session.steps:
        name = table.get(step)
        if name and name not in seen:
            seen.add(name)
            found.append((line, name))
    for message in session.messages:
        label = message.name
        if message.name in _BOTH_SIDES and message.direction == "out":
            label = f"{message.name} (own)"
        if label not in seen:
            seen.add(label)
            found.append((message.env.line, label))
    found.sort()
    return found


def alerts(session: Session) -> list[dict[str, Any]]:
    names = _alert_names()
    found: list[dict[str, Any]] = []
    for item in session.alerts:
        if type(item) is events.Alert:
            level, description, direction = item.level, item.description, item.direction
        else:
            message: Any = item.message
            level, description, direction = message.level, message.description, item.direction
        duplicate = any(
            other["description"] == description
            and other["direction"] == direction
            and abs(other["line"] - item.env.line) < 40
            for other in found
        )
        if duplicate or description is None:
            continue
        found.append(
            {
                "direction": direction,
                "level": level,
                "description": description,
                "name": names.get(description, f"unknown ({description})"),
                "line": item.env.line,
            }
        )
    return found


def verify_flags(session: Session) -> list[dict[str, Any]]:
    """Verify flags from printed bit masks and from the texts mbedtls_x509_crt_verify_info prints."""
    table = load().verify_flags
    by_text = {text.casefold(): name for _, name, text in table if text}
    found: list[dict[str, Any]] = []

    def add(name: str, line: int) -> None:
        if not any(item["name"] == name for item in found):
            found.append({"name": name, "line": line})

    for item in session.verify:
        if item.flags_value:
            for bit, name, _ in table:
                if item.flags_value & bit:
                    add(name, item.env.line)
        elif item.flag:
            add(item.flag, item.env.line)
    texts = [(e.env.line, e.text) for e in session.errors if type(e) is events.ErrorText]
    texts += [(e.env.line, e.detail or "") for e in session.context_events if e.kind == "verification-info"]
    for line, text in texts:
        cleaned = text.strip().lstrip("!").strip().casefold()
        name = by_text.get(cleaned)
        if name:
            add(name, line)
    return found


def certificates(session: Session) -> list[dict[str, Any]]:
    """Every certificate the log carried: from the wire (decoded bytes), from PEM, or as text."""
    found: list[dict[str, Any]] = []
    serials: set[str] = set()
    for message in session.messages:
        if message.name != "Certificate":
            continue
        decoded: Any = message.message
        for index, entry in enumerate(getattr(decoded, "entries", ()) or ()):
            data = entry.to_json()
            info = data.get("certificate") or {}
            serial = info.get("serial")
            if serial:
                serials.add(serial)
            found.append(
                {
                    "source": "wire",
                    "direction": message.direction,
                    "position": index,
                    "line": message.env.line,
                    "size": data.get("length"),
                    **info,
                }
            )
    for item in session.certificates:
        if type(item) is events.CertificateDer:
            info = item.info.to_json() if item.info is not None else {}  # type: ignore[attr-defined]
            if info.get("serial") in serials:
                continue
            found.append({"source": "pem", "line": item.env.line, "size": len(item.der), **info})
        else:
            fields = item.fields
            serial = fields.get("serial number")
            if serial in serials:
                continue
            found.append(
                {
                    "source": "text",
                    "origin": item.origin,
                    "line": item.env.line,
                    "subject": fields.get("subject name"),
                    "issuer": fields.get("issuer name"),
                    "serial": serial,
                    "not_before": fields.get("issued on"),
                    "not_after": fields.get("expires on"),
                    "signature_algorithm": fields.get("signed using"),
                    "key": fields.get("RSA key size") or fields.get("EC key size"),
                    "san": fields.get("subject alt name") or fields.get("subject alt name entries"),
                }
            )
            if serial:
                serials.add(str(serial))
    return found


def client_hello(session: Session) -> dict[str, Any] | None:
    message = next((m for m in session.messages if m.name == "ClientHello"), None)
    if message is not None:
        data = dict(message.message.to_json())  # type: ignore[attr-defined]
        data["line"] = message.env.line
        data["source"] = "wire"
        return data
    suites = [item for item in session.offered if item.kind == "ciphersuite" and item.number is not None]
    if not suites:
        return None
    name = next((item.value for item in session.offered if item.kind == "server-name"), None)
    version = next((item.value for item in session.offered if item.kind == "max-version"), None)
    return {
        "version": {"3:3": "TLS 1.2", "3:4": "TLS 1.3", "3:2": "TLS 1.1", "3:1": "TLS 1.0"}.get(version or "", version),
        "ciphersuites": [f"0x{item.number:04x}" for item in suites],
        "ciphersuite_names": [item.value for item in suites],
        "extensions": [],
        "server_name": name,
        "line": suites[0].env.line,
        "source": "debug-lines",
    }


def server_hello(session: Session) -> dict[str, Any] | None:
    message = next((m for m in session.messages if m.name in ("ServerHello", "HelloRetryRequest")), None)
    if message is not None:
        data = dict(message.message.to_json())  # type: ignore[attr-defined]
        data["line"] = message.env.line
        return data
    chosen = [item for item in session.offered if item.kind == "chosen-ciphersuite"]
    if not chosen:
        return None
    from tlsdiag.tls import names

    named = next((item for item in chosen if item.number is None), None)
    number = next((item.number for item in chosen if item.number is not None), None)
    name = named.value if named is not None else (names.ciphersuite(number) if number is not None else chosen[0].value)
    return {
        "ciphersuite": f"0x{number:04x}" if number is not None else None,
        "ciphersuite_name": name,
        "line": chosen[0].env.line,
        "source": "debug-lines",
    }


def scope_for(context: InputContext, knowledge: Knowledge | None = None) -> Scope:
    knowledge = knowledge or load()
    return Scope(VersionSelection(context.mbedtls_version, context.mbedtls_series))


def errors(sessions: list[Session], context: InputContext) -> list[dict[str, Any]]:
    """Every error value printed, decoded for the version the log was inferred to come from."""
    scope = scope_for(context)
    decoded: dict[int, Any] = {}
    found = []
    for session in sessions:
        final = session.final_error
        for item in session.errors:
            kind = type(item)
            if kind is events.ErrorText:
                continue
            value = item.value  # type: ignore[union-attr]
            if kind is events.ReturnValue and value == 0:
                continue
            if value not in decoded:
                decoded[value] = decode_value(value, scope)
            entry = {
                "line": item.env.line,
                "function": getattr(item, "function", None),
                "raw": item.raw,  # type: ignore[union-attr]
                "value": value,
                "session": session.index,
                "kind": decoded[value].kind,
                "interpretations": [interp.to_json() for interp in decoded[value].interpretations],
            }
            readings = getattr(item, "readings", ())
            if len(readings) > 1:
                entry["readings"] = [
                    {"value": reading.value, "hex": hex_of(reading.value), "how": reading.how} for reading in readings
                ]
            if kind is events.CodeMention:
                entry["mentioned"] = True
            if item is final:
                entry["final"] = True
            found.append(entry)
    return found
