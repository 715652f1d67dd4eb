"""Mask secrets in log text, so that a report or a copy of the log can be shared.

People paste their logs into forum posts and issues together with whatever else was on the screen:
the private key their sketch writes to flash, the Wi-Fi password the station example prints, a SAS
token, a PSK on an ``ssl_client2`` command line, the master secret of a level-4 debug log. The
markdown and html reports (the formats made to be pasted) and ``tlsdiag redact`` pass every log
string through here; the diagnosis itself never sees masked text.

What counts as a secret is data, ``knowledge/redact.toml``: line patterns (a regex whose ``secret*``
groups are masked), blocks that span lines (PEM private keys) and hex dumps whose label names key
material. Public certificates are left alone: they are evidence.

A cheap prefilter keeps this fast on large logs: each pattern names lowercase substrings (``hints``)
of which one must occur in a line for its regex to run at all, and one combined search finds the
hints present in a line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from tlsdiag.knowledge import document

MAX_BLOCK_LINES = 120  # a PEM private key whose end marker never comes stops being masked after this many lines
MASK_PREFIX = "[REDACTED:"
MIN_LEARNED = 4  # a secret this long or longer is masked wherever else it appears
MAX_LEARNED = 256  # distinct secrets remembered at most
_MASK = re.compile(r"\[REDACTED:[a-z0-9-]+\]")
_WORDLIKE = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9]{3}")  # three letters or digits in a row, one a letter

_DUMP_HEADER = re.compile(r"dumping '(?P<label>[^']*)' \(\d+ bytes\)")
# one line of an mbedTLS hex dump: "0000:  16 03 01 ..." after whatever prefix the logger put in front
_DUMP_LINE = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{4}:\s+(?P<secret>[0-9A-Fa-f]{2}(?:\s+[0-9A-Fa-f]{2})*(?:\s.*)?)$")


@dataclass(frozen=True, slots=True)
class Pattern:
    """A one-line secret: where ``regex`` matches, its ``secret*`` groups (or the whole match) are masked."""

    id: str
    regex: re.Pattern[str]
    hints: tuple[str, ...]
    groups: tuple[str, ...]  # names of the groups to mask; empty: the whole match


@dataclass(frozen=True, slots=True)
class Block:
    """A secret over several lines, from ``begin`` to ``end``: runs of ``secret`` between them are masked."""

    id: str
    begin: re.Pattern[str]
    end: re.Pattern[str]
    secret: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class DumpRule:
    """A hex dump of key material, recognised by its label."""

    id: str
    labels: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything ``knowledge/redact.toml`` says, compiled."""

    mask: str
    patterns: tuple[Pattern, ...]
    blocks: tuple[Block, ...]
    dumps: tuple[DumpRule, ...]
    hints: re.Pattern[str]  # any hint of any pattern, for the prefilter
    implied: dict[str, frozenset[str]]  # a hint found also finds the hints inside it ("password:" has "pass")

    def masked(self, rule_id: str) -> str:
        return self.mask.format(id=rule_id)


@cache
def rules() -> Rules:
    """The redaction rules of the knowledge base, loaded and compiled once."""
    return compile_rules(document("redact.toml"))


def compile_rules(data: dict[str, Any]) -> Rules:
    patterns = []
    for entry in data.get("pattern", ()):
        regex = re.compile(entry["regex"])
        groups = tuple(name for name in regex.groupindex if name.startswith("secret"))
        pattern_hints = tuple(hint.lower() for hint in entry.get("hints", ()))
        patterns.append(Pattern(entry["id"], regex, pattern_hints, groups))
    blocks = tuple(
        Block(entry["id"], re.compile(entry["begin"]), re.compile(entry["end"]), re.compile(entry["secret"]))
        for entry in data.get("block", ())
    )
    dumps = tuple(DumpRule(entry["id"], re.compile(entry["labels"])) for entry in data.get("dump", ()))
    every_hint = sorted({hint for pattern in patterns for hint in pattern.hints}, key=len, reverse=True)
    hints = re.compile("|".join(map(re.escape, every_hint)) if every_hint else "(?!)")
    implied = {hint: frozenset(other for other in every_hint if other in hint) for hint in every_hint}
    return Rules(data.get("mask", "[REDACTED:{id}]"), tuple(patterns), blocks, dumps, hints, implied)


class Redactor:
    """Masks secrets line by line; keeps the state that spans lines (a key block, a key dump).

    :attr:`counts` says how many secrets of each rule id were masked.
    """

    def __init__(self, compiled: Rules | None = None, learned: dict[str, str] | None = None) -> None:
        self.rules = compiled or rules()
        self.counts: Counter[str] = Counter()
        #: secrets found so far (value -> rule id): an SSID found in a sketch is masked in the serial output too
        self.learned: dict[str, str] = dict(learned or {})
        self._learned_regex: re.Pattern[str] | None = None
        self._block: Block | None = None
        self._block_lines = 0
        self._dump: DumpRule | None = None

    def line(self, text: str) -> str:
        """One line (without its terminator), masked."""
        if self._block is not None:
            return self._in_block(text)
        if self._dump is not None:
            match = _DUMP_LINE.search(text)
            if match is not None:
                self.counts[self._dump.id] += 1
                return text[: match.start("secret")] + self.rules.masked(self._dump.id)
            self._dump = None
        text = self._patterns(text)
        if self.learned:
            text = self.known(text)
        if "dumping '" in text:
            self._start_dump(text)
        if "-----BEGIN" in text:
            self._start_block(text)
        return text

    def lines(self, texts: Iterable[str]) -> Iterator[str]:
        return map(self.line, texts)

    def text(self, text: str) -> str:
        """One string that may hold several lines, with no block or dump state carried in or out."""
        self._block, self._dump = None, None
        masked = "\n".join(self.lines(text.split("\n")))
        self._block, self._dump = None, None
        return masked

    def known(self, text: str) -> str:
        """Mask the secrets learned so far wherever they occur (but never inside a mask)."""
        if not self.learned:
            return text
        if self._learned_regex is None:
            values = sorted(self.learned, key=len, reverse=True)
            self._learned_regex = re.compile(f"({_MASK.pattern})|" + "|".join(map(re.escape, values)))
        return self._learned_regex.sub(self._mask_known, text)

    def _mask_known(self, match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)
        rule_id = self.learned[match.group(0)]
        self.counts[rule_id] += 1
        return self.rules.masked(rule_id)

    def _learn(self, value: str, rule_id: str) -> None:
        value = value.strip().strip("\"'")
        if len(value) < MIN_LEARNED or value in self.learned or not _WORDLIKE.search(value) or _MASK.search(value):
            return  # too short, or only digits and punctuation: masking it everywhere would blank the log
        if len(self.learned) < MAX_LEARNED:
            self.learned[value] = rule_id
            self._learned_regex = None

    def _patterns(self, text: str) -> str:
        seen = self.rules.hints.findall(text.lower())
        if not seen:
            return text
        implied = self.rules.implied
        found = set().union(*(implied[hint] for hint in seen))
        for pattern in self.rules.patterns:
            if pattern.hints and found.isdisjoint(pattern.hints):
                continue
            text = pattern.regex.sub(partial(self._mask, pattern=pattern), text)
        return text

    def _mask(self, match: re.Match[str], pattern: Pattern) -> str:
        whole = match.group(0)
        if not pattern.groups:
            if whole.startswith(MASK_PREFIX):
                return whole
            self.counts[pattern.id] += 1
            self._learn(whole, pattern.id)
            return self.rules.masked(pattern.id)
        start = match.start()
        pieces = []
        cursor = 0
        for name in pattern.groups:
            value = match.group(name)
            if not value or value.startswith(MASK_PREFIX):
                continue
            begin, end = match.start(name) - start, match.end(name) - start
            if begin < cursor:
                continue  # nested or overlapping groups: the outer one is masked already
            pieces += [whole[cursor:begin], self.rules.masked(pattern.id)]
            cursor = end
            self.counts[pattern.id] += 1
            self._learn(value, pattern.id)
        return "".join(pieces) + whole[cursor:]

    def _start_dump(self, text: str) -> None:
        header = _DUMP_HEADER.search(text)
        if header is None:
            return
        label = header["label"]
        self._dump = next((rule for rule in self.rules.dumps if rule.labels.search(label)), None)

    def _start_block(self, text: str) -> None:
        for block in self.rules.blocks:
            begin = block.begin.search(text)
            if begin is not None and not block.end.search(text, begin.end()):
                self._block, self._block_lines = block, 0
                return

    def _in_block(self, text: str) -> str:
        block = self._block
        assert block is not None
        self._block_lines += 1
        end = block.end.search(text)
        body, rest = (text[: end.start()], text[end.start() :]) if end else (text, "")
        if end is not None or self._block_lines >= MAX_BLOCK_LINES:
            self._block = None
        masked = block.secret.sub(self.rules.masked(block.id), body)
        if masked != body:
            self.counts[block.id] += 1
        return masked + rest


def redact_text(text: str, compiled: Rules | None = None) -> str:
    """One string (a report field, possibly several lines), masked with no state carried over."""
    redactor = Redactor(compiled)
    return redactor.known(redactor.text(text))


def redact_value(value: Any, compiled: Rules | None = None) -> Any:
    """A copy of a report's data (dicts, lists, named tuples, strings) with every string masked.

    Two passes: the first masks what the patterns find and learns the secrets, the second masks
    those secrets wherever else they occur (an SSID found in one evidence line, named in another).
    Keys of mappings, numbers and other values are kept as they are.
    """
    redactor = Redactor(compiled)
    masked = _walk(value, redactor.text)
    return _walk(masked, redactor.known) if redactor.learned else masked


def _walk(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _walk(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, change) for item in value]
    if isinstance(value, tuple):
        items = [_walk(item, change) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value
