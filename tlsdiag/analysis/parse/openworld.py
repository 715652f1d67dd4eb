"""The open-world evidence layer: what a line says when no dialect rule claims it.

The dialect grammars read the stacks they were written for. A line from any other stack (a wrapper
nobody listed, a forum post, a one-line paste) can still carry evidence, and it is found here by
mechanism rather than by wording:

* **error values** in any printed form (``-0x7280``, ``-29312``, ``-7280`` as hex without ``0x``,
  ``FFFF8D80``, MicroPython's ``(-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')``, macro names, esp_err_t values
  and names) standing next to an error word (``error``, ``failed``, ``returned``, ``ret``, ``rc``,
  ``code``...), each read by the one code reader (:mod:`tlsdiag.readings`) with every reading kept;
* **mbedtls_strerror texts** of every version, high and low parts (``RSA - ... : BIGNUM - ...``) and
  ``UNKNOWN ERROR CODE (XXXX)``, tolerant of case, of a cut-off end and of a word broken by a wrap;
* **certificate verification texts** (``mbedtls_x509_crt_verify_info``) under any prefix, cut off or not;
* **alerts** named by number or by their TLS name, and **network failures** in the words of the C
  library and the socket layers (connection refused or reset, timeouts, DNS).

Hits are the same typed events the dialect rules produce (``ReturnValue``, ``CodeMention``,
``ErrorText``, ``VerifyInfo``, ``Alert``, ``Context``), so every later stage uses them unchanged.
The scan costs nothing for lines without digits or any of its keywords (a cheap prefilter), and
its results are memoised per message like the grammar's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any, NamedTuple

from tlsdiag.analysis import events
from tlsdiag.knowledge import Knowledge, document, load, normalise_text
from tlsdiag.model import CodeReading
from tlsdiag.readings import format_of, read_printed, with_versions_of_name

Payload = tuple[type, dict[str, Any]]

#: words that make a number next to them an error value
_ERROR_WORDS = (
    r"error|errors|err|errno|errcode|error_code|failed|failure|fail|fails|failing|returned|returns|return|"
    r"ret|rc|res|result|code|status|handshake|ssl|tls|mbedtls|mbedtlserror|exception|oserror|abort|aborted|"
    r"refused|reset|alert|rejected"
)
#: words that say a number after them is something else (a size, a time, a port, an identifier)
_NOT_A_CODE = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "line len length size bytes byte heap free ms msec sec seconds s port id fd sock socket pid task core "
        "channel aid rssi ip version v build year step state depth count retry retries attempt attempts "
        "number no nr # pc at addr address ptr line: l tid ssn winsize idx ifx timeout mask gw bits bit "
        "offset index left want nb_want in_left out_left written read wrote received sent"
    ).split()
)
_PREFILTER = re.compile(
    r"\d| - |MBEDTLS_|ESP_ERR_|PSA_ERROR_|alert|refused|reset|timed? ?out|unreachable|resolve|hostname|"
    r"certificate|verif|unknown error|handshake|SSL|TLS|hardware|subsequent|later|first|every|second|bytes|"
    r"clock|NTP|RTC|sync|time",
    re.IGNORECASE,
)
_TOKEN = re.compile(
    r"(?P<tuple>\(\s*[+-]?(?:0[xX])?[0-9a-fA-F]+\s*,\s*['\"][A-Za-z_0-9]+['\"]\s*\))"
    r"|(?P<errno>\[Errno\s+-?\d+\](?:\s*[A-Z][A-Z_]+)?)"
    r"|(?P<name>\b(?:MBEDTLS_ERR|PSA_ERROR|ESP_ERR)_[A-Z0-9_]+\b)"
    r"|(?:(?<=[:=])(?=-)|(?<![\w.:/\\#@$-]))"  # a sign may follow ':' or '=' ("read error :-76:"); a time may not
    r"(?P<num>[+-]?0[xX][0-9a-fA-F]{1,8}|[+-]?\d{1,10}|(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{4,8})"
    r"(?![\w/%]|[.:,]\d|\s*(?:bytes?|bits?|ms|sec|seconds|KB|kB|MB|%)\b)"
)
_WORD = re.compile(r"[A-Za-z_][\w>.-]*")
_FUNCTION = re.compile(
    r"([A-Za-z_][\w>.:-]*[\w>)])(?:\(\s*\))?(?:\s+|:\s*|(?<=\))\s*)(?:returned|returns|failed|error|err|ret|rc)\b"
)
#: an error word right before a positive number ("error=29312", "code 30592", "err: 0x7280", "(30592)")
_JUST_AFTER_WORD = re.compile(
    r"(?:\b(?:error|err|errno|errcode|code|rc|ret|returned|failure|status|result)\s*[:=]?\s*\(?"
    r"|\(-?0x[0-9a-f]+\)?\s*\()$",
    re.IGNORECASE,
)
_ERRORISH = re.compile(rf"\b(?:{_ERROR_WORDS})\b", re.IGNORECASE)
_STRONG = re.compile(r"\b(?:error|err|errno|failed|failure|fail|returned|ret|rc|mbedtlserror)\b", re.IGNORECASE)
#: a function or variable name, then ":" or "=", right before the number: ``start_ssl_client: -32512``
_CALL_RESULT = re.compile(r"\b[A-Za-z]\w*(?:_\w+|\(\))\s*[:=]\s*$")
_WINDOW = 48  # characters before a number that may hold the word that makes it an error value
_UNKNOWN_PART = re.compile(r"UNKNOWN ERROR CODE \(([0-9A-Fa-f]{1,8})\)", re.IGNORECASE)
_ALERT_NUMBER = re.compile(
    r"alert(?: message)?(?: (?:number|description|type|desc|msg))?[\s:=#(]*(?:msg\s*)?(?:\[\d:)?(\d{1,3})\b",
    re.IGNORECASE,
)
#: a verification result printed as its flag bits: "verify failed, flags 0x4", "..._verify failed returned 0x0004"
_VERIFY_FLAGS = re.compile(
    r"verif\w*\b.{0,60}?\b(?:flags?|returned|result|failed|error|ret)\b[\s:=(]*(0[xX][0-9a-fA-F]{1,8}|\d{1,7})\b",
    re.IGNORECASE,
)
MAX_VERIFY_FLAGS = 1 << 20  # every MBEDTLS_X509_BADCERT_/BADCRL_ bit is below this

_ALERT_IN = re.compile(r"\b(?:received|got|recv|peer|from|incoming|remote)\b", re.IGNORECASE)
_ALERT_OUT = re.compile(r"\b(?:send|sending|sent|sends)\b", re.IGNORECASE)
#: a failure stated in words without any code: the program says its TLS handshake or connection failed
_FAILED_IN_WORDS = re.compile(
    r"\b(?:(?:failed|unable|could not|couldn't|cannot)(?: to)?(?: perform| do| complete| establish)?(?: an?| the)?"
    r" (?:SSL|TLS|secure)(?:/TLS)? (?:handshake|connection)|(?:SSL|TLS)(?:/TLS)? (?:handshake|connection)"
    r"(?: has| was)? (?:failed|could not be established|error))"
    r"|\b(?:Secure|SSL|TLS)\w*?(?:Connection|Handshake|Connect)\w*?Fail\w*",
    re.IGNORECASE,
)
#: a paste that says the connection worked before and now fails ("subsequent fetches are failing")
_WORKED_BEFORE = re.compile(
    r"\b(?:subsequent|later|following|next|second|repeated|every (?:other|\d+(?:st|nd|rd|th)?))"
    r" (?:\w+ ){0,2}(?:requests?|fetch(?:es)?|calls?|connections?|attempts?|tries|publish(?:es)?|posts?)"
    r"(?: \w+){0,3} (?:fail|failing|failed|stop)"
    r"|\b(?:first|initial) (?:\w+ ){0,2}(?:request|fetch|call|connection|attempt|one)s?"
    r" (?:works?|succeeds?|worked|succeeded|is fine|ok)",
    re.IGNORECASE,
)
#: the paste says the device's clock is wrong or was never set ("we can see a clock desync", "NTP never ran")
_CLOCK_DOUBT = re.compile(
    r"\b(?:clock|system time|device time|date and time|RTC|NTP|SNTP)\b(?:\W+\w+){0,4}?\W+"
    r"(?:desync\w*|out of sync|not (?:yet )?(?:set|synced|synchroni[sz]ed|updated|correct|right|running)|"
    r"never (?:set|synced|ran|updated)|wrong|incorrect|unsynced|drift\w*|lag\w*|behind|reset to 19[79]0|is off)"
    r"|\b(?:wrong|incorrect|unset|unsynced|desynced|stale) (?:system |device |RTC |local )?(?:clock|time|date)\b",
    re.IGNORECASE,
)
#: the program reports progress of its handshake ("performing session handshake", "Starting the TLS handshake")
_HANDSHAKE_PROGRESS = re.compile(
    r"\b(?:perform\w*|start\w*|begin\w*|doing|initiat\w*)(?: the| a)?(?: SSL/TLS| TLS| SSL| DTLS| session| secure)?"
    r" handshake\b",
    re.IGNORECASE,
)
#: application data moved over the connection, which only happens once the handshake is over
_DATA_MOVED = re.compile(r"\b(\d+) bytes? (read|written|received|sent)\b", re.IGNORECASE)
#: a hardware crypto unit or driver reporting a fault (a bignum or AES accelerator that cannot do the operation)
_HARDWARE_FAULT = re.compile(
    r"\b(?:hardware|accelerator|HW crypto|crypto engine|crypto hardware)\b.{0,40}?\b(?:error|fail\w*|too large|fault)"
    r"|\b(?:error|fail\w*|too large|fault)\b.{0,60}?\b(?:hardware unit|accelerator|crypto engine)\b",
    re.IGNORECASE,
)
_NETWORK = (
    (re.compile(r"connection refused|ECONNREFUSED|actively refused", re.IGNORECASE), "connect-failed"),
    (re.compile(r"connection reset|ECONNRESET|reset by peer", re.IGNORECASE), "connection-reset"),
    # newlib's and lwIP's strerror of ECONNABORTED: the stack aborted the connection (a reset, a local abort)
    (
        re.compile(r"software caused connection abort|connection abort(?:ed)?\b|ECONNABORTED", re.IGNORECASE),
        "connection-reset",
    ),
    (re.compile(r"timed out|ETIMEDOUT|\btimeout\b", re.IGNORECASE), "timeout"),
    (
        re.compile(
            r"no route to host|EHOSTUNREACH|(?:network|host) is unreachable|(?:network|host) unreachable|ENETUNREACH",
            re.IGNORECASE,
        ),
        "unreachable",
    ),
    (
        re.compile(
            r"getaddrinfo|gethostbyname|name or service not known|could not resolve|couldn't resolve|"
            r"host not found|unknown host|DNS (?:lookup|resolution|query)? ?(?:failed|error)|failed to resolve",
            re.IGNORECASE,
        ),
        "dns-failed",
    ),
)


class _Strerror(NamedTuple):
    value: int
    name: str | None
    text: str
    start: int
    end: int


# --- tables built from the knowledge base on first use -------------------------------------------------------


class _Texts:
    """Indexes of the texts mbedTLS prints: strerror descriptions per module, verify-info lines."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.by_module: dict[str, list[tuple[str, str, int, str]]] = {}
        for entry in knowledge.mbedtls.entries:
            for text in (entry.strerror, *entry.strerror_older):
                module, sep, description = text.partition(" - ")
                if sep:
                    normal = normalise_text(description)
                    self.by_module.setdefault(module.upper(), []).append(
                        (normal, _squash(normal), abs(entry.value), entry.name)
                    )
        modules = "|".join(sorted((re.escape(module) for module in self.by_module), key=len, reverse=True))
        self.module = re.compile(rf"(?<![A-Za-z0-9_])({modules}) ?- ?", re.IGNORECASE)
        self.verify = [(_squash(normalise_text(text)), name) for _, name, text in knowledge.verify_flags if text]
        heads = sorted(
            {re.escape(normalise_text(text)[:18]) for _, _, text in knowledge.verify_flags if text},
            key=len,
            reverse=True,
        )
        self.verify_head = re.compile("|".join(heads), re.IGNORECASE)
        others = [
            name for entry in document("platforms/other-tls-libraries.toml")["library"] for name in entry["names"]
        ]
        self.other_library = re.compile(
            r"\b(?:" + "|".join(re.escape(name) for name in others) + r")(?:\b|_)|(?P<ours>\bmbed ?TLS(?:\b|_))",
            re.IGNORECASE,
        )


@cache
def _texts() -> _Texts:
    return _Texts(load())


_NOT_ALNUM = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    """A text without spaces, hyphens and punctuation: a word broken by a wrap still compares equal."""
    return _NOT_ALNUM.sub("", text.casefold())


def _best_description(found: str, candidates: list[tuple[str, str, int, str]]) -> tuple[int, str, int | None] | None:
    """The description ``found`` is (exactly, cut off at its end, or with a word broken), if any, with the
    number of letters and digits it covers when the log's text goes on after it."""
    text = normalise_text(found)
    if not text:
        return None
    squashed = _squash(text)
    exact = [(value, name, len(squash)) for description, squash, value, name in candidates if description == text]
    if exact:
        return exact[0]
    longer = [  # the log text goes on after the description ("... an EOF (-29312)", "... peer.")
        (len(description), value, name, len(squash))
        for description, squash, value, name in candidates
        if text.startswith(description) or squashed.startswith(squash)
    ]
    if longer:
        _, value, name, length = max(longer)
        return value, name, length
    if len(squashed) >= 12:  # cut off ("SSL - Memory all"): a prefix that only one description has
        prefixed = {(value, name, None) for _, squash, value, name in candidates if squash.startswith(squashed)}
        if len(prefixed) == 1:
            return next(iter(prefixed))
    return None


def _offset_after(segment: str, letters: int) -> int:
    """Where in ``segment`` its first ``letters`` letters and digits end (a description the log goes on after)."""
    seen = 0
    for offset, char in enumerate(segment):
        if char.isalnum():
            seen += 1
            if seen == letters:
                return offset + 1
    return len(segment)


def find_strerror(message: str) -> list[_Strerror]:
    """Every ``mbedtls_strerror`` text in ``message``: a high part, optionally ``" : "`` and a low part."""
    texts = _texts()
    found: list[_Strerror] = []
    matches = list(texts.module.finditer(message))
    index = 0
    while index < len(matches):
        match = matches[index]
        module = match.group(1).upper()
        start = match.start()
        following = matches[index + 1].start() if index + 1 < len(matches) else len(message)
        segment = message[match.end() : following]
        description, sep, _ = segment.partition(" : ")
        best = _best_description(description.strip(" .\"'`)]>"), texts.by_module.get(module, []))
        index += 1
        if best is None:
            continue
        total, covered = best[0], best[2]
        name: str | None = best[1]  # None once a low part joins it: the sum has no single name
        end = match.end() + (len(description) if covered is None else _offset_after(segment, covered))
        low = message[end + len(sep) :] if sep else ""
        unknown = _UNKNOWN_PART.match(low.strip())
        if unknown and sep:
            total += int(unknown.group(1), 16)
            name = None
        elif sep and index < len(matches) and matches[index].start() == end + len(sep):
            low_match = matches[index]
            low_segment = message[low_match.end() :].partition(" : ")[0]
            low_best = _best_description(
                low_segment.strip(" .\"'`)]>"), texts.by_module.get(low_match.group(1).upper(), [])
            )
            if low_best is not None and low_best[0] < 0x80 <= total:
                total += low_best[0]
                name = None
                index += 1
        found.append(_Strerror(-total, name, message[start:end].strip(), start, end))
    if not found:
        unknown = _UNKNOWN_PART.search(message)
        if unknown:
            found.append(_Strerror(-int(unknown.group(1), 16), None, unknown.group(0), unknown.start(), unknown.end()))
    return found


def find_verify_texts(message: str) -> list[str]:
    """Names of the X.509 verify flags whose ``verify_info`` text is in ``message`` (cut-off text counts)."""
    texts = _texts()
    names = []
    for head in texts.verify_head.finditer(message):
        rest = _squash(message[head.start() : head.start() + 160])
        for full, name in texts.verify:
            if rest.startswith(full) or (len(rest) >= 20 and full.startswith(rest)):
                if name not in names:
                    names.append(name)
                break
    return names


# --- error values -------------------------------------------------------------------------------------------------


def _preceding_words(message: str, start: int) -> list[str]:
    return [word.casefold().rstrip(".") for word in _WORD.findall(message[max(0, start - _WINDOW) : start])]


def _is_code_context(message: str, start: int, end: int, raw: str) -> tuple[bool, bool]:
    """(this number is an error value, the line reports a failure strongly) from the words around it."""
    before = message[max(0, start - _WINDOW) : start]
    words = _preceding_words(message, start)
    if words and words[-1] in _NOT_A_CODE:
        # "state: -2" is no error value, unless a known print format says it is one (PubSubClient's state)
        known = format_of(raw, message)
        return (True, True) if known is not None and known.table is not None else (False, False)
    tail = before.rstrip()
    if tail.endswith(("line", "L#", "port", ":", "=")) and tail[:-1].rstrip().casefold().endswith(("line", "port")):
        return False, False
    if _names_another_library(message, start, end):
        return False, False
    errorish = bool(_ERRORISH.search(before)) or bool(_ERRORISH.search(message[end : end + 24]))
    strong = bool(_STRONG.search(before)) or bool(_STRONG.search(message[end : end + 16]))
    if not errorish:
        # "(-29312)" or "-0x2700" right after a strerror text or a code: the context is the text
        errorish = raw.startswith(("-0x", "-0X")) or bool(re.search(r" - [A-Z0-9_]+ - |\(-?0x", before))
    return errorish, strong


def _names_another_library(message: str, start: int, end: int) -> bool:
    """The clause around the number names another TLS library (axTLS, wolfSSL...) nearer than mbedTLS:
    the number is that library's own value."""
    clause_start = max(max(message.rfind(mark, 0, start) for mark in _CLAUSE_MARKS), start - _WINDOW, 0)
    ends = [found for found in (message.find(mark, end) for mark in _CLAUSE_MARKS) if found >= 0]
    clause_end = min(min(ends, default=len(message)), end + _WINDOW)
    names = list(_texts().other_library.finditer(message, clause_start, clause_end))
    if not names:
        return False
    before = [match for match in names if match.end() <= start]
    owner = before[-1] if before else names[0]  # "wolfSSL_connect error -188", else "-40 ... with axTLS"
    return owner.group("ours") is None


_CLAUSE_MARKS = (". ", ";", " and ", " but ", " while ", " whereas ")


def _function_before(message: str, start: int) -> str | None:
    """A function name the line gives for the failure (``mbedtls_ssl_handshake returned ...``)."""
    candidates = [match.group(1) for match in _FUNCTION.finditer(message[:start])]
    for name in reversed(candidates):
        bare = name.strip(":.").removesuffix("()")
        lowered = bare.casefold()
        if "_" in bare and not lowered.startswith(("error", "err_")) and len(bare) > 3:
            return bare.rsplit("::", 1)[-1]
    return None


def _code_events(
    message: str,
    strerrors: list[_Strerror],
    knowledge: Knowledge,
    forms: dict[str, str],
    line: str,
    error_record: bool = False,
) -> Iterator[Payload]:
    """Error values in ``message``; ``line`` is the whole record (envelope included), where a wrapper's
    print format is looked for."""
    used_text: set[int] = set()
    for match in _TOKEN.finditer(message):
        kind = match.lastgroup
        raw = match.group(kind or "num")
        start, end = match.span()
        if any(item.start <= start < item.end for item in strerrors):
            continue  # digits inside a strerror text ("UNKNOWN ERROR CODE (0050)")
        text: str | None = None
        nearby = next((item for item in strerrors if 0 <= item.start - end <= 12 or 0 <= start - item.end <= 12), None)
        if nearby is not None:
            text = nearby.text
        if kind == "tuple":
            number, _, name = raw.strip("()").partition(",")
            label = name.strip().strip("'\"")
            readings = read_printed(number.strip(), line, label)
            if readings:
                yield _value(message, start, number.strip(), readings, label, strong=True)
            continue
        if kind == "errno":
            # "[Errno -32512] MBEDTLS_ERR_SSL_ALLOC_FAILED" is an mbedTLS code; a positive one is the OS's
            # errno ("[Errno 104] ECONNRESET"), which the network words below cover
            number, _, label = raw[len("[Errno") :].partition("]")
            if number.strip().startswith("-"):
                name = label.strip() or None
                readings = read_printed(number.strip(), line, name)
                if readings:
                    yield _value(message, start, number.strip(), readings, name, strong=True)
            continue
        if kind == "name":
            readings = read_printed(raw, line, raw)
            if readings:
                yield _value(message, start, raw, readings, raw, strong=True)
            continue
        errorish, strong = _is_code_context(message, start, end, raw)
        if error_record and not errorish and raw.startswith("-"):
            # in a record the logger marks as an error, "some_call: -32512" is the call's result
            errorish = bool(_CALL_RESULT.search(message, 0, start)) and not _names_another_library(message, start, end)
            strong = errorish
        if not errorish and nearby is None:
            continue
        readings = _plausible(raw, message, start, text, knowledge, forms.get(raw.lstrip("+-")), line)
        if not readings:
            continue
        if nearby is not None and readings[0].value == nearby.value:
            used_text.add(nearby.start)
        yield _value(message, start, raw, readings, text, strong=strong or nearby is not None)
    for item in strerrors:
        if item.start in used_text:
            continue
        reading = with_versions_of_name(CodeReading(item.value, "printed error text", name=item.name), knowledge)
        yield _value(message, item.start, item.text, (reading,), item.text, strong=True)


def _plausible(
    raw: str,
    message: str,
    start: int,
    text: str | None,
    knowledge: Knowledge,
    form: str | None = None,
    line: str | None = None,
) -> tuple[CodeReading, ...]:
    """Readings of a number that could be an error value where it stands; () when it cannot be one."""
    bare = raw.lstrip("+-")
    negative = raw.startswith("-")
    is_hex = bare[:2].lower() == "0x" or any(char in "abcdefABCDEF" for char in bare)
    number = int(bare, 16) if is_hex and bare[:2].lower() != "0x" else (int(bare, 0) if is_hex else int(bare))
    if not negative:
        if number == 0:
            return ()
        unsigned = len(bare.removeprefix("0x").removeprefix("0X")) == 8 and number >= 0xFFFF8000
        esp = number in knowledge.esp_idf.by_value
        right_after = bool(_JUST_AFTER_WORD.search(message[max(0, start - _WINDOW) : start]))
        if (
            not (unsigned or esp or (right_after and 0x80 <= number <= 0x7FFF))
            and format_of(raw, line or message) is None
        ):
            # a positive number is a code only where it cannot be a count, a size or an address, or
            # where a wrapper's known print format puts -ret
            return ()
    elif number < 2 or (number > 0x7FFF and not is_hex):
        return ()  # "-1" is everybody's failure; a longer decimal is no 16-bit code
    return read_printed(raw, line or message, text, form, knowledge=knowledge)


def _value(
    message: str, start: int, raw: str, readings: tuple[CodeReading, ...], text: str | None, strong: bool
) -> Payload:
    fields = {"value": readings[0].value, "raw": raw, "readings": readings}
    if strong:
        return events.ReturnValue, {"function": _function_before(message, start), "text": text, **fields}
    return events.CodeMention, fields


# --- the layer ------------------------------------------------------------------------------------------------------


def scan(
    message: str, forms: dict[str, str] | None = None, line: str | None = None, error_record: bool = False
) -> tuple[Payload, ...]:
    """Every piece of evidence in a message no dialect rule claimed (empty when there is none).

    ``forms`` maps a printed number (without its sign) to how it was printed (``decimal``,
    ``hex-no-prefix``), when the message's print format is known from the catalogue. ``error_record``: the
    logger marked the record as an error (``E (...)``, ``[E]``, ``<err>``), which makes a negative number in it
    an error value even with no word around it (``connect(): start_ssl_client: -32512``)."""
    if not _PREFILTER.search(message):
        return ()
    knowledge = load()
    found: list[Payload] = []
    strerrors = find_strerror(message) if " - " in message or "-" in message or "UNKNOWN" in message.upper() else []
    values: set[int] = set()
    for payload in _code_events(message, strerrors, knowledge, forms or {}, line or message, error_record):
        if payload[1]["value"] not in values:  # a name and its number on one line are one value
            values.add(payload[1]["value"])
            found.append(payload)
    for name in find_verify_texts(message):
        found.append((events.VerifyInfo, {"flag": name, "flags_value": None}))
    flags = _VERIFY_FLAGS.search(message)
    if flags:
        value = int(flags.group(1), 0) if flags.group(1)[:2].lower() == "0x" else int(flags.group(1))
        if 0 < value < MAX_VERIFY_FLAGS and value not in values and -value not in values:
            found.append((events.VerifyInfo, {"flag": None, "flags_value": value}))
    alert = _ALERT_NUMBER.search(message)
    if alert and int(alert.group(1)) in knowledge.tls_alerts:
        direction = "out" if _ALERT_OUT.search(message[: alert.start()]) and not _ALERT_IN.search(message) else "in"
        found.append((events.Alert, {"direction": direction, "level": 2, "description": int(alert.group(1))}))
    for pattern, kind in _NETWORK:
        if pattern.search(message):
            found.append((events.Context, {"kind": kind, "value": None, "detail": message.strip()[:200]}))
            break
    if _WORKED_BEFORE.search(message):
        found.append((events.Context, {"kind": "worked-before", "value": None, "detail": message.strip()[:200]}))
    if _CLOCK_DOUBT.search(message):
        found.append((events.Context, {"kind": "clock-doubt", "value": None, "detail": message.strip()[:200]}))
    if _HARDWARE_FAULT.search(message):
        found.append((events.Context, {"kind": "hardware-fault", "value": None, "detail": message.strip()[:200]}))
    if not values and _FAILED_IN_WORDS.search(message):
        found.append((events.ConsoleStep, {"step": "TLS handshake", "outcome": "failed"}))
    elif _HANDSHAKE_PROGRESS.search(message):
        found.append((events.ConsoleStep, {"step": "TLS handshake", "outcome": None}))
    moved = _DATA_MOVED.search(message)
    if moved and int(moved.group(1)) > 0:
        direction = "in" if moved.group(2).lower() in ("read", "received") else "out"
        found.append((events.Measure, {"name": f"application_data_{direction}", "value": int(moved.group(1))}))
    return tuple(found)
