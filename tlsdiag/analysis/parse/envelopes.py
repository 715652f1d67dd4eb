"""Envelope recognition: which dialect framed a line, and the message inside the frame.

Every dialect has a fixed prefix (mbedTLS's ``file.c:1234: |2| ``, ESP-IDF's ``E (10770) tag: ``,
arduino-esp32's ``[E][file.cpp:36] func(): ``, Zephyr's ``[00:00:08.217,000] <err> module: ``,
mbed-trace's ``[ERR ][TLSW]: ``). A prefix is a fixed-shape token, so one compiled regular
expression per dialect recognises it at C speed; this is the prefilter in front of the message
grammars, which only ever see the message. Records glued onto one line (an application print
without a newline, followed by a debug record) are split here too.
"""

from __future__ import annotations

import re

from tlsdiag.analysis.events import Envelope

# file.c:1234: |2| 0x7ffd4dc7cdc0: message   (the level and the context pointer are optional; the
# file may carry a path: ../Middlewares/Third_Party/mbedTLS/library/ssl_tls.c:4094: bad message length)
# The common case, a record starting with the file's base name, matched without named groups (the
# fields are read by position, which is measurably faster on the hot path).
_MBEDTLS_BARE = re.compile(
    r"([A-Za-z_][\w.-]*\.(?:c|h|cpp)):(\d{1,5}):? (?:\|(\d)\| )?(?:(0x[0-9a-fA-F]{4,16}): )?(.*)"
)
_MBEDTLS = re.compile(
    r"(?:[^\s:]*[/\\])?(?P<file>[\w.-]+\.(?:c|h|cpp)):(?P<line>\d{1,5}):? "
    r"(?:\|(?P<level>\d)\| )?(?:(?P<context>0x[0-9a-fA-F]{4,16}): )?(?P<message>.*)"
)
# E (10770) esp-tls: message   /   I (12:34:56.789) mbedtls: ssl_tls.c:2721 in_left: 0, nb_want: 5
# ESP-IDF 5.5+ may print the full date ("I (2024-05-24 18:52:36.123) tag: ...") and, with its newer log
# layout, the tag in brackets ("I (1970-01-01 00:01:13.046) [esp-tls-mbedtls] message")
_ESP_IDF = re.compile(
    r"(?P<level>[EWIDV]) \((?P<time>\d+|(?:\d{4}-\d{2}-\d{2} )?\d{1,2}:\d{2}:\d{2}\.\d{3})\) "
    r"(?:\[(?P<btag>[^\]\s]{1,40})\] ?|(?P<tag>[^:\s][^:]{0,40}?): ?)(?P<message>.*)"
)
# [E][ssl_client.cpp:36] _handle_error(): message   /   [  2546][E][ssl_client.cpp:37] _handle_error(): message
_ARDUINO = re.compile(
    r"(?:\[ *(?P<time>\d+)\])?\[(?P<level>[EWIDV])\]\[(?P<file>[\w.-]+):(?P<line>\d+)\] "
    r"(?P<function>\w+)\(\): ?(?P<message>.*)"
)
# [00:00:08.217,000] <err> net_sock_tls: message
_ZEPHYR = re.compile(
    r"\[(?P<time>\d{2}:\d{2}:\d{2}\.\d{3},\d{3})\] <(?P<level>err|wrn|inf|dbg)> (?P<tag>[\w.-]+): ?(?P<message>.*)"
)
# mbed-trace: [ERR ][TLSW]: message
_MBED_TRACE = re.compile(r"\[(?P<level>ERR |WARN|INFO|DBG ) ?\]\[(?P<tag>\w+) *\]: ?(?P<message>.*)")

# Where a second record starts inside a line: a debug record with its |level| marker, or an
# ESP-IDF record (tag without spaces, to keep false splits out of prose).
_GLUED = re.compile(r"(?<=[^\s\w-])(?=(?:[A-Za-z_][\w-]*\.[ch]:\d{1,5}: \|\d\| |[EWIDV] \(\d+\) [\w-]+: ))")
# An ESP-IDF record glued to the end of the text before it ("...password:secretE (23848) esp-tls: ..."):
# printf output without a newline, followed by an ESP_LOG line; only its own shape marks the split.
_GLUED_ESP = re.compile(r"(?<=[^\sA-Z])(?=[EWIDV] \(\d+\) [\w-]+: )")

# A known envelope after a prefix of the tool that captured the log: a serial monitor's timestamp
# ("22:29:13.532 -> E (74107) esp-tls: ..."), a logger's date, a device name. It starts after a space
# (or the monitor's arrow) within the first columns of the line.
_PREFIXED = re.compile(
    r"(?<=[\s>|])(?:[EWIDV] \((?:\d+|\d{1,2}:\d{2}|\d{4}-)"
    r"|\[\s*\d+\]\[[EWIDV]\]\[|\[[EWIDV]\]\[[\w.-]+:\d|\[\d{2}:\d{2}:\d{2}\.\d{3},\d{3}\] <"
    r"|[A-Za-z_][\w-]*\.c:\d{1,5}: \|\d\| )"
)

# A debug record printed right after a sample program's progress line ("  . Performing the SSL/TLS
# handshake... C:\Keil\library\ssl_tls.c:4353: x509_verify_cert() returned ..."): the program printed its
# step without a newline and the debug callback went on on the same line, with or without a path and level.
_GLUED_AFTER_PROGRESS = re.compile(r"(?<=\.\.\. )(?=(?:[A-Za-z]:)?[^\s:]*?[\w-]+\.(?:c|h|cpp):\d{1,5}:? )")

#: ESP-IDF's mbedTLS debug bridge logs levels 1/2/3/4 as W/I/D/V
_BRIDGE_LEVELS = {"W": "1", "I": "2", "D": "3", "V": "4"}

_ESP_TIME = re.compile(r"(?:\d{4}-\d{2}-\d{2} )?(\d{1,2}):(\d{2}):(\d{2})\.(\d{3})")


def split_glued(text: str) -> list[str]:
    """Split a line into its records when several were printed without a newline between them.

    Almost every line holds one record that starts at its first character; the splitting
    expression only runs when a record marker appears somewhere else in the line.
    """
    marker = text.find(": |")
    if marker >= 0:
        starts_with_record = text[0] != " " and text.find(" ", 0, marker) < 0
        if not starts_with_record or text.find(": |", marker + 3) >= 0:
            return [part for part in _GLUED.split(text) if part] or [text]
        return [text]
    if "... " in text and (".c:" in text or ".h:" in text or ".cpp:" in text):
        parts = [part for part in _GLUED_AFTER_PROGRESS.split(text) if part]
        if len(parts) > 1:
            return parts
    if ") " in text and text.find(" (", 1) > 0:
        if text[:1] in "EWIDV" and text[1:3] == " (":
            return [part for part in _GLUED_ESP.split(text) if part] or [text]
        return [part for part in _GLUED.split(text) if part] or [text]
    return [text]


def frame(record: str, number: int, quoted: str) -> tuple[Envelope, str, bool]:
    """The envelope of one record, its message, and whether the message is mbedTLS debug output.

    ``quoted`` is the text evidence will cite (the physical line).
    """
    text = record.lstrip() if record[:1] in " \t" else record  # pasted logs are often indented
    first = text[:1]
    if first.isalpha() or first == "_":
        bare = _MBEDTLS_BARE.fullmatch(text)
        if bare is not None:
            file, line, level, context, message = bare.groups()
            return Envelope(number, "mbedtls-debug", quoted, file, int(line), level, None, context), message, True
    if first in "EWIDV" and text[1:3] == " (":
        match = _ESP_IDF.fullmatch(text)
        if match:
            return _esp_idf(match, number, quoted)
    elif first == "[":
        match = _ARDUINO.fullmatch(text)
        if match:
            time = match["time"]
            env = Envelope(
                number,
                "arduino-esp32",
                quoted,
                match["file"],
                int(match["line"]),
                match["level"],
                match["function"],
                None,
                float(time) if time else None,
            )
            return env, match["message"], False
        match = _ZEPHYR.fullmatch(text)
        if match:
            return (
                Envelope(
                    number, "zephyr", quoted, None, None, match["level"], match["tag"], None, _zephyr_ms(match["time"])
                ),
                match["message"],
                False,
            )
        match = _MBED_TRACE.fullmatch(text)
        if match:
            return (
                Envelope(number, "mbed-os", quoted, None, None, match["level"].strip(), match["tag"]),
                match["message"],
                False,
            )
    if ".c:" in text or ".h:" in text or ".cpp:" in text:
        match = _MBEDTLS.fullmatch(text)
        if match and match.start("file") < 200:
            env = Envelope(
                number,
                "mbedtls-debug",
                quoted,
                match["file"],
                int(match["line"]),
                match["level"],
                None,
                match["context"],
            )
            return env, match["message"], True
    if " (" in text or "][" in text or "] <" in text or ".c:" in text:
        inner = _PREFIXED.search(text, 1, 72)
        if inner is not None:
            framed = frame(text[inner.start() :], number, quoted)
            if framed[0].dialect != "text":
                return framed
    return Envelope(number, "text", quoted), record, False


def _esp_idf(match: re.Match[str], number: int, quoted: str) -> tuple[Envelope, str, bool]:
    timestamp = _esp_time(match["time"])
    message = match["message"]
    tag = match["tag"] or match["btag"]
    if tag == "mbedtls":  # ESP-IDF's debug bridge: "ssl_tls.c:2721 in_left: 0, nb_want: 5"
        inner = _MBEDTLS.fullmatch(message)
        if inner:
            env = Envelope(
                number,
                "esp-idf",
                quoted,
                inner["file"],
                int(inner["line"]),
                _BRIDGE_LEVELS.get(match["level"], match["level"]),  # the library's own level
                tag,
                inner["context"],
                timestamp,
            )
            return env, inner["message"], True
    return Envelope(number, "esp-idf", quoted, None, None, match["level"], tag, None, timestamp), message, False


def _esp_time(text: str) -> float:
    clock = _ESP_TIME.fullmatch(text)
    if clock is None:
        return float(text)
    hours, minutes, seconds, millis = (int(group) for group in clock.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000.0 + millis


def _zephyr_ms(text: str) -> float:
    hours, minutes, rest = text.split(":")
    seconds, micros = rest.split(",")
    return ((int(hours) * 60 + int(minutes)) * 60 + float(seconds)) * 1000.0 + int(micros) / 1000.0
