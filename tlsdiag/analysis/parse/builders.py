"""From a parsed message (a Lark tree of one start rule) to an event payload.

A payload is ``(event class, fields)`` without the envelope: the same message text always yields
the same payload, so the parse stage caches payloads by message and only attaches each line's
envelope. Numbers keep their printed spelling in ``raw``; ``value`` is the reading the dialect
implies (hex with ``0x``, decimal otherwise, hex without ``0x`` where the platform prints so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlsdiag.analysis import events
from tlsdiag.readings import read_printed

Payload = tuple[type, dict[str, Any]]


def _tokens(tree: Any) -> list[Any]:
    out = []
    for child in tree.children:
        if hasattr(child, "children"):
            out.extend(_tokens(child))
        else:
            out.append(child)
    return out


def _named(tokens: list[Any], name: str) -> list[str]:
    """Token values whose terminal is ``name`` (namespaced imports add a ``module__`` prefix)."""
    return [str(token) for token in tokens if token.type == name or token.type.endswith("__" + name)]


def _first(tokens: list[Any], name: str) -> str | None:
    found = _named(tokens, name)
    return found[0] if found else None


def code_payload(raw: str, message: str, text: str | None = None, form: str | None = None) -> dict[str, Any]:
    """``value``, ``raw`` and ``readings`` of a printed error code, read by the one code reader.

    ``message`` is the line the number came from (its print format is looked up there), ``text`` a
    name or strerror text printed with it. A number that is no code in any reading raises ValueError,
    which tells the parser that the rule does not apply after all.
    """
    readings = read_printed(raw, message, text, form)
    if not readings:
        raise ValueError(f"{raw} is not an error code in any reading")
    return {"value": readings[0].value, "raw": raw, "readings": readings}


def _function(name: str | None) -> str | None:
    if not name:
        return None
    name = name.removesuffix("()")
    if "f_recv" in name:
        return "f_recv"
    if "f_send" in name:
        return "f_send"
    return name


# --- mbedTLS debug messages -------------------------------------------------------------------------------------


def _step(tokens: list[Any], message: str = "") -> Payload:
    direction = "enter" if _first(tokens, "STEP_DIR") == "=>" else "leave"
    return events.Step, {"direction": direction, "name": (_first(tokens, "REST") or "").strip()}


def _hs_state(tokens: list[Any], message: str = "") -> Payload:
    role = "server" if "server" in (_first(tokens, "ROLE_STATE") or "") else "client"
    value = _first(tokens, "STATE_VALUE") or ""
    if value.isdigit():
        return events.HandshakeState, {"role": role, "number": int(value), "name": None}
    name, _, number = value.partition("(")
    digits = number.rstrip(")")
    return events.HandshakeState, {"role": role, "number": int(digits) if digits.isdigit() else None, "name": name}


def _hs_transition(tokens: list[Any], message: str = "") -> Payload:
    numbers = _named(tokens, "INT")
    names = _named(tokens, "WORD")
    return events.HandshakeState, {"role": "unknown", "number": int(numbers[-1]), "name": names[-1]}


def _debug_ret(tokens: list[Any], message: str = "") -> Payload:
    function = _function(_first(tokens, "FUNC"))
    value = int(_named(tokens, "SIGNED")[0])
    if value >= 0:  # a byte count (f_recv returned 5), not an error
        return events.Measure, {"name": f"{function}_returned", "value": value}
    raw = _first(tokens, "HEX") or str(value)
    return events.ReturnValue, {"function": function, **code_payload(raw, message)}


def _dump_header(tokens: list[Any], message: str = "") -> Payload:
    label = (_first(tokens, "QUOTED") or "''")[1:-1]
    return events.DumpHeader, {"label": label, "length": int(_named(tokens, "INT")[0])}


def _alert(direction: str) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        level, description = (int(value) for value in _named(tokens, "INT")[:2])
        return events.Alert, {"direction": direction, "level": level, "description": description}

    return build


def _alert_fatal_in(tokens: list[Any], message: str = "") -> Payload:
    return events.Alert, {"direction": "in", "level": 2, "description": int(_named(tokens, "INT")[0])}


def _got_cert_request(tokens: list[Any], message: str = "") -> Payload:
    asked = _first(tokens, "REQUEST_WORD") == "a"
    return events.Offered, {"kind": "certificate-request", "value": "yes" if asked else "no", "number": None}


def _hello_time(tokens: list[Any], message: str = "") -> Payload:
    """The client's clock as its TLS 1.2 ClientHello states it (seconds since 1970)."""
    seconds = int(_named(tokens, "INT")[0])
    return events.Context, {"kind": "clock", "value": 1970 + seconds // 31556952, "detail": "client hello time"}


def _measure(name: str, limit_index: int | None = 1, value_index: int = 0) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        numbers = [int(value) for value in _named(tokens, "INT")]
        limit = numbers[limit_index] if limit_index is not None and len(numbers) > limit_index else None
        return events.Measure, {"name": name, "value": numbers[value_index], "limit": limit}

    return build


def _record_header(tokens: list[Any], message: str = "") -> Payload:
    direction = _first(tokens, "RECORD_DIR") or "input"
    numbers = [int(value) for value in _named(tokens, "INT")]
    return events.Measure, {"name": f"{direction}_record", "value": numbers[-1], "limit": None}


def _add_ciphersuite(tokens: list[Any], message: str = "") -> Payload:
    raw = _first(tokens, "CODE") or ""
    digits = raw.lower().removeprefix("0x")
    name = (_first(tokens, "REST") or "").strip().lstrip(",").strip().strip("()").strip()
    number = int(digits, 16)
    if number > 0xFFFF:
        raise ValueError(f"{raw} is wider than a cipher suite's 16 bits")
    return events.Offered, {"kind": "ciphersuite", "value": name or f"0x{digits}", "number": number}


def _max_version(tokens: list[Any], message: str = "") -> Payload:
    major, minor = _named(tokens, "INT")[:2]
    return events.Offered, {"kind": "max-version", "value": f"{major}:{minor}", "number": int(minor)}


def _text_offer(kind: str) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        value = (_first(tokens, "REST") or "").strip()
        number = None
        bare = value.lower().removeprefix("0x")
        if bare and all(char in "0123456789abcdef" for char in bare) and len(bare) <= 4:
            number = int(bare, 16)
        return events.Offered, {"kind": kind, "value": value, "number": number}

    return build


def _cert_title(tokens: list[Any], message: str = "") -> Payload:
    title = (_first(tokens, "CERT_TITLE") or "certificate").strip()
    return events.CertificateLine, {"key": "#", "value": f"{title} #{_named(tokens, 'INT')[0]}"}


def _cert_field(tokens: list[Any], message: str = "") -> Payload:
    key = " ".join((_first(tokens, "CERT_KEY") or "").split())
    return events.CertificateLine, {"key": key, "value": (_first(tokens, "REST") or "").strip()}


def _san_entry(tokens: list[Any], message: str = "") -> Payload:
    key = _first(tokens, "SAN_KEY") or "unsupported"
    return events.CertificateLine, {"key": f"san:{key}", "value": (_first(tokens, "REST") or "").strip()}


def _verify_flags(tokens: list[Any], message: str = "") -> Payload:
    digits = str(tokens[-1])
    return events.VerifyInfo, {"flag": None, "flags_value": int(digits, 16)}


def _build_version(tokens: list[Any], message: str = "") -> Payload:
    return events.VersionInfo, {"product": "mbedtls", "version": _first(tokens, "VERSION") or ""}


# --- application, platform and sample-program messages ---------------------------------------------------------


def _returned(tokens: list[Any], message: str = "") -> Payload:
    function = _function(_first(tokens, "FUNC"))
    raw = _first(tokens, "CODE")
    if raw is None:
        return events.ErrorText, {"function": function, "text": (_first(tokens, "TEXT_RESULT") or "").strip()}
    text = (_first(tokens, "REST") or "").strip() or None
    return events.ReturnValue, {"function": function, "text": text, **code_payload(raw, message, text)}


def _failed_text(tokens: list[Any], message: str = "") -> Payload:
    return events.ErrorText, {"function": _function(_first(tokens, "FUNC")), "text": _first(tokens, "REST") or ""}


def _arduino_error(tokens: list[Any], message: str = "") -> Payload:
    raw = _named(tokens, "SIGNED")[0]
    text = (_first(tokens, "REST") or "").strip() or None
    return events.ReturnValue, {
        "function": _function(_first(tokens, "FUNC")),
        "text": text,
        **code_payload(raw, message, text),
    }


def _zephyr_error(tokens: list[Any], message: str = "") -> Payload:
    raw = _first(tokens, "CODE") or "0"
    # Zephyr's TLS sockets print "-%x" in older releases, Godot prints "%d": the reader weighs both
    # readings with the print formats it knows and the meaning of each value.
    return events.ReturnValue, {"function": "mbedtls_ssl_handshake", **code_payload(raw, message)}


def _micropython(tokens: list[Any], message: str = "") -> Payload:
    pair = _first(tokens, "PY_TUPLE")
    if pair:
        number, _, name = pair.strip("()").partition(",")
        raw = number.strip()
        label = name.strip().strip("'") or None
        return events.ReturnValue, {"function": None, "text": label, **code_payload(raw, message, label)}
    errno = _first(tokens, "ERRNO")
    if errno:
        errno_value = int(errno.split("]")[0].split()[-1])
        name = errno.split("]", 1)[1].strip()
        if name:
            # "[Errno 12] ENOMEM": the printed name says which table the number belongs to, when that table
            # numbers it the same (ECONNABORTED is 103 on Linux and 113 in lwIP's and newlib's errno)
            try:
                payload = code_payload(name, message)
            except ValueError:
                payload = {}  # a name no table knows: the number alone, as below
            if payload.get("value") == -errno_value:
                return events.ReturnValue, {"function": None, "text": errno, **payload, "raw": errno}
        return events.ReturnValue, {"function": None, "value": -errno_value, "raw": errno, "text": errno}
    raw = _first(tokens, "CODE") or "0"
    return events.ReturnValue, {"function": None, **code_payload(raw, message)}


def _last_error(tokens: list[Any], message: str = "") -> Payload:
    raw = _first(tokens, "CODE") or "0"
    text = (_first(tokens, "REST") or "").lstrip("- ").strip() or None
    return events.ReturnValue, {"function": None, "text": text, **code_payload(raw, message, text)}


def _paren_code(tokens: list[Any], message: str = "") -> Payload:
    digits = _first(tokens, "PCODE") or "0"
    text = _first(tokens, "REST")
    payload = code_payload(digits, message, text, form="hex-abs")
    return events.ReturnValue, {"function": None, "text": text, **payload, "raw": f"({digits})"}


def _console_returned(tokens: list[Any], message: str = "") -> Payload:
    raw = _first(tokens, "CODE") or "0"
    function = _function(_first(tokens, "FUNC"))
    return events.ReturnValue, {"function": function, **code_payload(raw, message)}


def _console_bang(tokens: list[Any], message: str = "") -> Payload:
    return events.ErrorText, {"function": None, "text": (_first(tokens, "REST") or "").strip()}


def _console_step(tokens: list[Any], message: str = "") -> Payload:
    step = (_first(tokens, "STEP_TEXT") or "").rstrip(". ").strip()
    outcome = (_first(tokens, "OUTCOME") or "").strip()
    return events.ConsoleStep, {"step": step, "outcome": outcome.split()[0] if outcome else None}


def _verify_depth(tokens: list[Any], message: str = "") -> Payload:
    return events.CertificateLine, {"key": "verify-depth", "value": _named(tokens, "INT")[0]}


def _no_flags(tokens: list[Any], message: str = "") -> Payload:
    return events.VerifyInfo, {"flag": None, "flags_value": 0}


def _summary(tokens: list[Any], message: str = "") -> Payload:
    key = (_first(tokens, "SUMMARY_KEY") or "").lower()
    value = (_first(tokens, "SUMMARY_VALUE") or "").strip()
    kind = {"protocol": "version", "ciphersuite": "chosen-ciphersuite"}.get(key, key.replace(" ", "-"))
    if value.isdigit():
        return events.Measure, {"name": kind.replace("-", "_"), "value": int(value), "limit": None}
    return events.Offered, {"kind": kind, "value": value, "number": None}


def _outcome_only(tokens: list[Any], message: str = "") -> Payload:
    return events.ConsoleStep, {"step": "", "outcome": str(tokens[0]).split()[0]}


def _context(kind: str, number: str | None = None, detail: str | None = None) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        values = _named(tokens, number) if number else []
        value = int(values[0]) if values and values[0].isdigit() else None
        text = " ".join(_named(tokens, detail)).strip() if detail else None
        return events.Context, {"kind": kind, "value": value, "detail": text or None}

    return build


def _esp_err_name(tokens: list[Any], message: str = "") -> Payload:
    """``HTTP POST request failed: ESP_ERR_HTTP_CONNECT``: the esp_err_t the call returned, by name."""
    name = str(tokens[-1])
    readings = read_printed(name, message, name)
    if not readings:
        return events.Context, {"kind": "esp-err", "value": None, "detail": name}
    return events.ReturnValue, {
        "function": None,
        "text": name,
        "value": readings[0].value,
        "raw": name,
        "readings": readings,
    }


def _version(product: str) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        version = _first(tokens, "VERSION") or _first(tokens, "ESPRUINO_VERSION") or ""
        return events.VersionInfo, {"product": product, "version": version.lstrip("v")}

    return build


def _whole_line(kind: str) -> Callable[[list[Any], str], Payload]:
    def build(tokens: list[Any], message: str = "") -> Payload:
        return events.Context, {"kind": kind, "value": None, "detail": None}

    return build


def _clock(tokens: list[Any], message: str = "") -> Payload:
    text = "".join(str(token) for token in tokens)
    year = None
    marker = text.find("tm_year:")
    if marker >= 0:
        digits = "".join(char for char in text[marker + 8 :].lstrip()[:4] if char.isdigit())
        year = int(digits) + 1900 if digits else None
    elif "1970" in text:
        year = 1970
    else:  # "The current date/time is: Mon Dec 16 01:51:23 2019"
        import re

        found = re.findall(r"\b(19[7-9][0-9]|20[0-9]{2})\b", text)
        year = int(found[-1]) if found else None
    return events.Context, {"kind": "clock", "value": year, "detail": None}


BUILDERS: dict[str, Callable[[list[Any], str], Payload]] = {
    "step": _step,
    "hs_state": _hs_state,
    "hs_transition": _hs_transition,
    "debug_ret": _debug_ret,
    "dump_header": _dump_header,
    "alert_in": _alert("in"),
    "alert_out": _alert("out"),
    "alert_fatal_in": _alert_fatal_in,
    "hello_time": _hello_time,
    "got_cert_request": _got_cert_request,
    "in_left": _measure("in_left", limit_index=1),
    "out_left": _measure("message_length", limit_index=1),
    "cert_too_large": _measure("cert_too_large", limit_index=1),
    "record_too_large": _measure("record_too_large", limit_index=1),
    "record_header": _record_header,
    "add_ciphersuite": _add_ciphersuite,
    "max_version": _max_version,
    "server_name": _text_offer("server-name"),
    "chosen_ciphersuite": _text_offer("chosen-ciphersuite"),
    "ciphersuite_is": _text_offer("chosen-ciphersuite"),
    "max_fragment": _measure("max_fragment_length", limit_index=None),
    "cert_title": _cert_title,
    "cert_field": _cert_field,
    "san_entry": _san_entry,
    "verify_flags": _verify_flags,
    "build_version": _build_version,
    "returned": _returned,
    "failed_with": _returned,
    "failed_text": _failed_text,
    "arduino_error": _arduino_error,
    "zephyr_error": _zephyr_error,
    "micropython": _micropython,
    "last_error": _last_error,
    "paren_code": _paren_code,
    "console_step": _console_step,
    "console_returned": _console_returned,
    "console_bang": _console_bang,
    "verify_depth": _verify_depth,
    "no_flags": _no_flags,
    "summary": _summary,
    "outcome_only": _outcome_only,
    "cert_verified": _whole_line("cert-verified"),
    "verify_failed": _whole_line("verify-failed"),
    "verification_info": _context("verification-info", detail="REST"),
    "connect_errno": _context("connect-failed", number="INT"),
    "sock_error": _context("socket", detail="REST"),
    "dns_failed": _context("dns-failed", detail="DNS_HOST"),
    "alloc_failed": _context("alloc-failed", number="INT"),
    "open_failed": _whole_line("open-failed"),
    "esp_err_name": _esp_err_name,
    "host_line": _context("host", detail="HOST"),
    "transport_errno": _context("transport-errno", detail="REST"),
    "heap": _context("heap-free", number="INT"),
    "watchdog": _whole_line("watchdog"),
    "crash": _whole_line("crash"),
    "clock": _clock,
    "sntp": _whole_line("sntp"),
    "psram": _whole_line("psram"),
    "network": _whole_line("network"),
    "esp_idf_version": _version("esp-idf"),
    "zephyr_version": _version("zephyr"),
    "micropython_version": _version("micropython"),
    "espruino_version": _version("espruino"),
    "mbed_os_version": _version("mbed-os"),
}


def build(rule: str, tree: Any, message: str = "") -> Payload:
    """The payload of ``message`` parsed by start rule ``rule``; ValueError when its values make no sense."""
    return BUILDERS[rule](_tokens(tree), message)
