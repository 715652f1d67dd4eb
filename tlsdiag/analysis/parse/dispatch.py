"""Which message grammar rule a message needs, decided by a cheap anchor match.

The anchors are the literal beginnings of the grammar rules (``=> ``, ``client state:``,
``dumping '``, ``got an alert message``...). One combined regular expression finds the rule in a
single pass, so the LALR parser only ever runs the one rule that can match; a message with no
anchor is plain trace (mbedTLS) or an unrecognised line (anything else).
"""

from __future__ import annotations

import re

_CERT_KEYS = (
    r"cert\. version|serial number|issuer name|subject name|issued  on|expires on|signed using|"
    r"RSA key size|EC key size|basic constraints|subject alt name|key usage|ext key usage|cert\. type|"
    r"certificate policies"
)

_SAN = (
    r" *(?:dNSName|iPAddress|rfc822Name|uniformResourceIdentifier|directoryName|otherName|hardware module name|"
    r"hardware serial number) ?: | *<unsupported>"
)

# Rules that only make sense inside an mbedTLS debug record, in the order they are tried.
DEBUG_ANCHORS: tuple[tuple[str, str], ...] = (
    ("step", r"(?:=>|<=) "),
    ("hs_state", r"(?:tls13 )?(?:client|server) state:"),
    ("hs_transition", r"handshake state: \d"),
    ("debug_ret", r"\S+\(\) returned [+-]?\d+ \("),
    ("dump_header", r"dumping '"),
    ("alert_in", r"got an alert message, type:"),
    ("alert_fatal_in", r"is a fatal alert message \(msg"),
    ("alert_out", r"send alert level="),
    ("in_left", r"in_left: "),
    ("out_left", r"message length: \d+, out_left"),
    ("cert_too_large", r"certificate too large, "),
    ("record_too_large", r"Record (?:content \d+ too large|too large: size)"),
    ("record_header", r"(?:input|output) record: msgtype"),
    ("add_ciphersuite", r"client hello, add ciphersuite:"),
    ("max_version", r"client hello, max version:"),
    ("hello_time", r"client hello, current time:"),
    ("got_cert_request", r"got (?:a|no) certificate request"),
    ("server_name", r"client hello, adding server name extension:"),
    ("chosen_ciphersuite", r"server hello, chosen ciphersuite:"),
    ("ciphersuite_is", r"ciphersuite = "),
    ("max_fragment", r"Maximum (?:input |output |incoming |outgoing )?fragment length"),
    ("cert_title", r"(?:peer|own|candidate|selected)[ a-z()]*certificate[ a-z()]* #\d+:"),
    ("cert_field", rf"(?:{_CERT_KEYS}) +:"),
    ("san_entry", _SAN),
    ("verify_flags", r"! Certificate verification flags"),
)

# Rules for what applications, platforms and sample programs print.
TEXT_ANCHORS: tuple[tuple[str, str], ...] = (
    ("build_version", r"build version: "),
    ("arduino_error", r"\[\w+\(\):\d+\]: \("),
    ("failed_text", r"ERROR: Failed! [\w.>-]+: "),
    ("returned", r"(?:(?:ERROR|Error|error)[:!] )?(?:Failed! )?[A-Za-z_][\w>.()-]* ?(?:\(\))? returned:? "),
    ("failed_with", r"[A-Za-z_][\w>.-]*(?:\(\))? failed(?: with)?:? [+-]?(?:0[xX])?[0-9a-fA-F]+\b"),
    (
        "zephyr_error",
        r"(?:TLS handshake|TLS|handshake|mbedtls_ssl_handshake) (?:error|failed):? [+-]?(?:0x)?[0-9a-fA-F]",
    ),
    ("micropython", r"OSError: "),
    ("last_error", r"Last (?:mbedtls failure|error was|esp error code|tls stack error number)"),
    ("paren_code", r"\([0-9A-Fa-f]{4,8}\): "),
    ("console_returned", r" *! +[\w>.-]+(?:\(\))? returned "),
    ("console_bang", r" *! "),
    ("console_step", r" *\. \S"),
    ("verify_depth", r"Verify requested for \(Depth"),
    ("no_flags", r" *This certificate has no flags"),
    ("summary", r" *\[ *(?:Protocol|Ciphersuite|Record expansion|Maximum) "),
    ("outcome_only", r" *(?:ok|failed)(?: |$)"),
    ("cert_field", rf" *(?:{_CERT_KEYS}) +:"),
    ("san_entry", _SAN),
    ("cert_verified", r"Certificate verified\."),
    ("verify_failed", r"Failed to verify peer certificate"),
    ("verification_info", r"verification info:"),
    ("connect_errno", r"Failed to conn+ect to host \(errno"),
    ("sock_error", r"\[sock=\d+\] "),
    ("dns_failed", r"couldn't get hostname for :"),
    ("alloc_failed", r"(?:rx buf |tx buf )?alloc\(\d+ bytes\) failed"),
    ("open_failed", r"(?:Failed to open (?:a )?new connection|Connection failed)"),
    ("esp_err_name", r"[A-Za-z][A-Za-z ]*: ESP_ERR_[A-Z0-9_]+$"),
    ("host_line", r"host:\S+: strlen"),
    ("transport_errno", r"[\w>.-]+ error, errno="),
    ("watchdog", r".*(?:Task watchdog got triggered|task_wdt: |Interrupt wdt timeout)"),
    (
        "crash",
        r"(?i:.*(?:abort\(\) was called|Guru Meditation Error|Backtrace:|Rebooting\.\.\.|HardFault|Hard Fault|"
        r"stack overflow|Stack canary watchpoint|CORRUPT HEAP|assert failed|Kernel panic|ZEPHYR FATAL ERROR))",
    ),
    ("heap", r"(?i:.*?(?:free[ _]heap|heap[ _]free|minimum free heap|min free heap|largest free block)[^0-9]*\d)"),
    ("esp_idf_version", r"(?i:.*ESP-IDF:? v?\d+\.\d)"),
    ("zephyr_version", r".*Booting Zephyr OS (?:build |version )?v?\d"),
    ("micropython_version", r"MicroPython v?\d"),
    ("espruino_version", r".*(?:Espruino|\"VERSION\").*?\dv\d"),
    ("mbed_os_version", r".*Mbed OS(?: version)? \d"),
    ("clock", r".*(?:tm_year:\s*\d|date/time is:|Time is not set|system time|1970-01-01|Jan  1 1970|Thu Jan  1 )"),
    ("sntp", r".*\b(?:SNTP|sntp)\b"),
    (
        "network",
        r"(?i:.*(?:got ip:|sta ip:|IP_EVENT|WIFI_EVENT|wifi:|WiFi connected|Wi-Fi|DHCP|Connected to (?:AP|WiFi)|"
        r"disconnect(?:ed)?,? reason|Connecting to WiFi|ethernet|Ethernet Link|\bPPP\b))",
    ),
)

# mbedTLS hex dump line: "0000:  16 03 03 00 4a 02 ..." (+ the ASCII column, absent in 4.1 key dumps)
DUMP_LINE = re.compile(r"([0-9a-fA-F]{4,8}):  ((?:[0-9a-fA-F]{2} ?){1,16})")
# MPI/ECP dump line: " 00 d4 7f ..." (no offset); folded with the dump it belongs to
MPI_LINE = re.compile(r"((?: [0-9a-fA-F]{2}){1,16})")


def _combined(anchors: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{rule}>{pattern})" for rule, pattern in anchors))


_DEBUG = _combined(DEBUG_ANCHORS)
_TEXT = _combined(TEXT_ANCHORS)


def debug_rule(message: str) -> str | None:
    """The grammar rule for an mbedTLS debug message, or None for plain trace."""
    match = _DEBUG.match(message)
    return match.lastgroup if match else None


def text_rule(message: str) -> str | None:
    """The grammar rule for any other message, or None when no grammar applies."""
    match = _TEXT.match(message)
    return match.lastgroup if match else None


def start_rules() -> list[str]:
    """Every rule the dispatcher can ask for: the start symbols of the composed grammar."""
    return list(dict.fromkeys(rule for rule, _ in DEBUG_ANCHORS + TEXT_ANCHORS))
