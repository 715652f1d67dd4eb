"""Which message grammar rule a message needs, decided by one regular expression derived from the grammar.

Every start rule of ``grammars/messages.lark`` is, once Lark has expanded its optional parts, a
set of alternatives, each a plain sequence of terminals (no ``%ignore``: tokens touch). Putting
the terminals' own regular expressions end to end gives, per alternative, an expression that
accepts what the alternative can parse; the alternatives of a rule share their leading terminals
in a trie, and the rules are tried in the priority order below, inside one compiled expression.
One ``fullmatch`` therefore names the single rule the LALR parser will run, and the dispatcher
cannot drift from the grammar: a branch added to a rule is reachable the moment it is written.

The order is the one thing declared here: where two rules accept the same text (``console_bang``
also reads ``! ssl_handshake returned -0x7780``), the earlier one wins.

A message with no rule is plain trace (mbedTLS debug) or goes to the open-world layer
(:mod:`~tlsdiag.analysis.parse.openworld`), which reads codes and texts in any wording.
"""

from __future__ import annotations

import re
from typing import Any

#: Rules for the part after an mbedTLS debug envelope, in priority order.
DEBUG_RULES: tuple[str, ...] = (
    "step",
    "hs_state",
    "hs_transition",
    "debug_ret",
    "dump_header",
    "alert_in",
    "alert_fatal_in",
    "alert_out",
    "in_left",
    "out_left",
    "cert_too_large",
    "record_too_large",
    "record_header",
    "add_ciphersuite",
    "max_version",
    "hello_time",
    "got_cert_request",
    "server_name",
    "chosen_ciphersuite",
    "ciphersuite_is",
    "max_fragment",
    "cert_title",
    "cert_field",
    "san_entry",
    "verify_flags",
)

#: Rules for what applications, platforms and sample programs print, in priority order.
TEXT_RULES: tuple[str, ...] = (
    "build_version",
    "arduino_error",
    "failed_text",
    "returned",
    "failed_with",
    "zephyr_error",
    "micropython",
    "last_error",
    "paren_code",
    "console_returned",
    "console_bang",
    "console_step",
    "verify_depth",
    "no_flags",
    "summary",
    "outcome_only",
    "cert_field",
    "san_entry",
    "cert_verified",
    "verify_failed",
    "verification_info",
    "connect_errno",
    "sock_error",
    "dns_failed",
    "alloc_failed",
    "open_failed",
    "esp_err_name",
    "host_line",
    "transport_errno",
    "watchdog",
    "crash",
    "heap",
    "esp_idf_version",
    "zephyr_version",
    "micropython_version",
    "espruino_version",
    "mbed_os_version",
    "clock",
    "sntp",
    "psram",
    "network",
)

# mbedTLS hex dump line: "0000:  16 03 03 00 4a 02 ..." (+ the ASCII column, absent in 4.1 key dumps)
DUMP_LINE = re.compile(r"([0-9a-fA-F]{4,8}):  ((?:[0-9a-fA-F]{2} ?){1,16})")
# MPI/ECP dump line: " 00 d4 7f ..." (no offset); folded with the dump it belongs to
MPI_LINE = re.compile(r"((?: [0-9a-fA-F]{2}){1,16})")

Trie = dict[str, "Trie"]
_END = ""  # trie key of "the alternative may stop here"


def alternatives(grammar: Any, rule: str) -> list[tuple[str, ...]]:
    """The terminal sequences a start rule accepts, as Lark expanded them (rules referenced inside are inlined)."""
    by_origin: dict[str, list[tuple[Any, ...]]] = {}
    for item in grammar.rules:
        by_origin.setdefault(item.origin.name, []).append(tuple(item.expansion))

    def expand(name: str, depth: int) -> list[tuple[str, ...]]:
        if depth > 8:
            raise ValueError(f"grammar rule {name} nests too deeply to derive its dispatch expression")
        sequences: list[tuple[str, ...]] = []
        for expansion in by_origin[name]:
            partial: list[tuple[str, ...]] = [()]
            for symbol in expansion:
                tails = [(symbol.name,)] if symbol.is_term else expand(symbol.name, depth + 1)
                partial = [head + tail for head in partial for tail in tails]
            sequences.extend(partial)
        return sequences

    return expand(rule, 0)


def _trie(sequences: list[tuple[str, ...]]) -> Trie:
    root: Trie = {}
    for sequence in sequences:
        node = root
        for name in sequence:
            node = node.setdefault(name, {})
        node[_END] = {}
    return root


def _trie_regex(node: Trie, patterns: dict[str, str]) -> str:
    branches = [f"(?:{patterns[name]}){_trie_regex(child, patterns)}" for name, child in node.items() if name != _END]
    if _END in node:
        branches.append("")  # tried last: a longer reading first
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def rule_regex(grammar: Any, rule: str) -> str:
    """The expression that accepts what ``rule`` can parse."""
    patterns = {terminal.name: terminal.pattern.to_regexp() for terminal in grammar.terminals}
    return _trie_regex(_trie(alternatives(grammar, rule)), patterns)


def _combined(grammar: Any, rules: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{rule}>{rule_regex(grammar, rule)})" for rule in rules))


_DEBUG: re.Pattern[str] | None = None
_TEXT: re.Pattern[str] | None = None


def _build() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compile both expressions from the loaded grammar (once; the grammar itself is cached on disk)."""
    global _DEBUG, _TEXT
    from tlsdiag.analysis.parse.grammar import parser

    grammar = parser()
    _DEBUG, _TEXT = _combined(grammar, DEBUG_RULES), _combined(grammar, TEXT_RULES)
    return _DEBUG, _TEXT


def debug_rule(message: str) -> str | None:
    """The grammar rule for an mbedTLS debug message, or None for plain trace."""
    pattern = _DEBUG if _DEBUG is not None else _build()[0]
    match = pattern.fullmatch(message)
    return match.lastgroup if match else None


def text_rule(message: str) -> str | None:
    """The grammar rule for any other message, or None when no grammar applies."""
    pattern = _TEXT if _TEXT is not None else _build()[1]
    match = pattern.fullmatch(message)
    return match.lastgroup if match else None


def start_rules() -> list[str]:
    """Every rule the dispatcher can ask for: the start symbols of the composed grammar."""
    return list(dict.fromkeys(DEBUG_RULES + TEXT_RULES))
