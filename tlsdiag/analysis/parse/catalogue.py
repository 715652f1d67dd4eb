"""Recognise a library message by its text, whatever envelope (or none) surrounds it.

The message grammars read the few dozen messages whose *values* the diagnosis needs. Everything
else mbedTLS's debug output can print (about 1,200 distinct messages over 2.16 … 4.1) and what
ESP-IDF's TLS components log is listed in two generated catalogues, ``knowledge/debug/messages.json``
and ``knowledge/platforms/esp-tls-messages.json``, one entry per message with a stable id. This
module finds the entry a line is an instance of and the values of its printf conversions, so
that rules can name ``ssl.bad-message-length`` instead of matching a substring of free text, and
so that a library message is recognised even where the envelope is unknown: a Windows path
before the file name, a line with no ``|level|``, a timestamp or task name in front, a
``0x7ffd…: `` context pointer, a ``[mbedtls]`` tag.

How a line is matched. A message may start at the beginning of the text or at any word after a
prefix (after a space, ``]``, ``|``, ``>`` or ``:``), and must run to the end of the text. Each
catalogue format is indexed by the first one or two words of its leading literal text, so a
position costs two or three dictionary look-ups, and only the few formats whose literal beginning
is really there are tried with their regular expression (compiled on first use). Formats that
start with a conversion (``%s() returned %d (-0x%04x)``) are tried where their longest literal
occurs. A line cut short (serial truncation, the 510-character cap of ``debug.c``) matches when it
agrees with a format up to its end and carries enough of the format's literal text. Conversions
accept every width the libraries use (``%d``/``%zu``/``%lld`` all read a decimal) and the bare
``zu``/``lld`` that printf implementations without C99 length modifiers print instead of a value.
Results are memoised per text: level-4 logs repeat the same lines thousands of times.
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from tlsdiag.analysis.parse.printf import Conversion, Part, parts
from tlsdiag.knowledge import document

#: A format is worth recognising with this many literal letters (``(%04X): %s`` has none), or when it
#: begins with a mark of this many characters (``=> %s``, the step line of a function named at run time).
MIN_LETTERS = 3
MIN_LEADING_MARK = 2
#: A cut line is recognised only with this much of the format's literal text, or with its whole first
#: literal when no ``%s`` took the rest of the line (``in_left: 5`` is cut from ``in_left: %d, nb_want: %d``).
MIN_TRUNCATED_LITERAL = 12
MIN_FIRST_LITERAL = 8
#: A message begins within this many characters of the start of the text.
MAX_PREFIX = 256
_MEMO_LIMIT = 65536

_STARTS = re.compile(r"(?<![^\s\]|>:])\S")
_INT = r"[+-]?\d+"
_HEX = r"(?:0[xX])?[0-9a-fA-F]+"
_PTR = r"(?:0[xX])?[0-9a-fA-F]+|\(nil\)|NULL"
_VALUE_PATTERNS = {"int": _INT, "hex": _HEX, "ptr": _PTR, "char": r"."}
_VALUE_MATCHERS = {kind: re.compile(pattern) for kind, pattern in _VALUE_PATTERNS.items()}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One library message: every call site and version that prints the same words."""

    id: str
    kind: str  # msg, ret, buf, crt, mpi, ecp (mbedTLS debug) or the ESP-IDF component
    source: str  # "mbedtls-debug" or "esp-idf"
    levels: tuple[str, ...]  # "1".."5" (mbedTLS debug levels) or E/W/I/D/V (ESP-IDF log levels)
    versions: tuple[str, ...]  # mbedTLS or ESP-IDF release series
    formats: tuple[str, ...]
    files: tuple[str, ...]  # base names of the source files that print it (the debug envelope's file)
    generic: bool = False  # debug.c's own layout, matching any name (``value of '%s' (%u bits) is:``)


@dataclass(frozen=True, slots=True)
class Argument:
    """The printed value of one conversion: its spelling in the format, the text, and its reading."""

    conversion: str
    text: str
    value: int | str


@dataclass(frozen=True, slots=True)
class CatalogueMatch:
    """A text recognised as an instance of a catalogue entry."""

    entry: CatalogueEntry
    format: str
    arguments: tuple[Argument, ...]
    start: int  # where the message begins in the text: what comes before is an unknown envelope
    truncated: bool  # the text stops before the format does
    alternatives: tuple[str, ...] = ()  # other entries a cut text fits as well as this one

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def levels(self) -> tuple[str, ...]:
        return self.entry.levels

    @property
    def versions(self) -> tuple[str, ...]:
        return self.entry.versions

    @property
    def values(self) -> tuple[int | str, ...]:
        return tuple(argument.value for argument in self.arguments)


@dataclass(slots=True)
class _Format:
    """One format of an entry, split into parts, with its pattern compiled on first use."""

    entry: CatalogueEntry
    text: str
    parts: tuple[Part, ...]
    literal: int  # number of literal characters: the more, the more specific the format
    prefix: str  # literal text it starts with ("" when it starts with a conversion)
    anchor: str  # its longest literal, for formats that start with a conversion
    order: int
    weak: bool  # matches too much to settle a text on its own: debug.c's layouts, ``=> %s``
    _pattern: re.Pattern[str] | None = field(default=None)

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._pattern = re.compile(_regex(self.parts), re.DOTALL)
        return self._pattern


def _conversion_regex(conversion: Conversion, first: bool) -> str:
    if conversion.kind == "str":
        return r"(\S+?)" if first else r"(.*?)"
    pattern = _VALUE_PATTERNS[conversion.kind]
    if conversion.has_length_modifier:  # printed as the bare letters by a printf without C99 modifiers
        bare = re.escape(re.sub(r"^%[-+ #0]*\d*", "", conversion.spec))
        pattern = f"{pattern}|%?{bare}"
    return f"({pattern})"


def _regex(format_parts: tuple[Part, ...]) -> str:
    pieces = []
    for index, part in enumerate(format_parts):
        if isinstance(part, str):
            pieces.append(re.escape(part.lstrip() if index == 0 else part))
        else:
            pieces.append(_conversion_regex(part, index == 0))
    return "".join(pieces)


def _value(conversion: Conversion, text: str) -> int | str:
    try:
        if conversion.kind == "int":
            return int(text)
        if conversion.kind == "hex":
            return int(text, 16)
    except ValueError:
        pass
    return text


def _arguments(format_parts: tuple[Part, ...], texts: list[str]) -> tuple[Argument, ...]:
    conversions = [part for part in format_parts if isinstance(part, Conversion)]
    return tuple(
        Argument(conversion.spec, text, _value(conversion, text))
        for conversion, text in zip(conversions, texts, strict=False)
    )


def _key_words(prefix: str, whole: bool) -> list[str]:
    """The complete words a literal beginning fixes (the last one is complete only when nothing follows it)."""
    pieces = prefix.split(" ")
    return pieces if whole else pieces[:-1]


class Catalogue:
    """The entries of one catalogue, indexed by the words their formats begin with."""

    def __init__(self, entries: list[CatalogueEntry]) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self._files = frozenset(name for entry in entries for name in entry.files)
        self._by_two: dict[str, list[_Format]] = {}
        self._by_one: dict[str, list[_Format]] = {}
        self._by_stem: dict[str, list[_Format]] = {}
        self._floating: list[_Format] = []
        self._prefixes: list[str] = []  # every literal beginning, sorted, for texts cut inside one
        self._prefixed: list[_Format] = []
        self._memo: dict[tuple[str, str | None, str | None], CatalogueMatch | None] = {}
        order = 0
        indexed: list[_Format] = []
        for entry in entries:
            for text in entry.formats:
                order += 1
                item = self._index(entry, text.rstrip(), order)
                if item is not None and item.prefix:
                    indexed.append(item)
        indexed.sort(key=lambda item: item.prefix)
        self._prefixes = [item.prefix for item in indexed]
        self._prefixed = indexed

    def _index(self, entry: CatalogueEntry, text: str, order: int) -> _Format | None:
        format_parts = parts(text)
        literals = [part for part in format_parts if isinstance(part, str)]
        first = format_parts[0]
        prefix = first.lstrip() if isinstance(first, str) else ""
        letters = sum(char.isalpha() for literal in literals for char in literal)
        if letters < MIN_LETTERS and len(prefix.replace(" ", "")) < MIN_LEADING_MARK:
            return None  # nothing distinctive to recognise it by
        item = _Format(
            entry=entry,
            text=text,
            parts=format_parts,
            literal=sum(len(literal) for literal in literals),
            prefix=prefix,
            anchor=max((literal.strip() for literal in literals), key=len),
            order=order,
            weak=entry.generic or letters < MIN_LETTERS,
        )
        if not prefix:
            self._floating.append(item)
            return item
        words = _key_words(prefix, whole=len(format_parts) == 1)
        if len(words) >= 2:
            key = f"{words[0]} {words[1]}"
            self._by_two.setdefault(key, []).append(item)
        elif words:
            self._by_one.setdefault(words[0], []).append(item)
        else:
            self._by_stem.setdefault(prefix[:3], []).append(item)
        return item

    @property
    def files(self) -> frozenset[str]:
        """Base names of every source file whose messages the catalogue holds (the library's own files)."""
        return self._files

    def match(self, text: str, level: str | None = None, source_file: str | None = None) -> CatalogueMatch | None:
        """The entry ``text`` is an instance of, or None.

        ``text`` is a message after its envelope, or a whole line whose envelope is unknown. What
        the envelope told, the record's ``level`` and the ``source_file`` that printed it (base
        name), settles which entry a text fits when several do: ``got no certificate request``
        is ``ssl.got-certificate-request`` from ``ssl_cli.c`` but its own message in
        ``ssl_tls13_client.c``.
        """
        key = (text, level, source_file)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._match(text.rstrip(), _Hints(level, source_file))
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _starts(self, text: str) -> list[int]:
        return [match.start() for match in _STARTS.finditer(text, 0, min(len(text), MAX_PREFIX))]

    def _candidates(self, text: str, start: int, floating: list[_Format]) -> list[_Format]:
        space = text.find(" ", start)
        first = text[start:space] if space >= 0 else text[start:]
        found: list[_Format] = []
        if space >= 0:
            second = text.find(" ", space + 1)
            two = text[start:second] if second >= 0 else text[start:]
            found.extend(self._by_two.get(two, ()))
        found.extend(self._by_one.get(first, ()))
        found.extend(self._by_stem.get(text[start : start + 3], ()))
        found = [item for item in found if text.startswith(item.prefix, start)]
        found.extend(floating)
        return found

    def _match(self, text: str, hints: _Hints) -> CatalogueMatch | None:
        if not text:
            return None
        starts = self._starts(text)
        floating = [item for item in self._floating if item.anchor in text]
        weak: CatalogueMatch | None = None
        tried: list[list[_Format]] = []
        for start in starts:
            candidates = self._candidates(text, start, floating)
            tried.append(candidates)
            full = []
            for item in candidates:
                matched = item.pattern.fullmatch(text, start)
                if matched is not None:
                    full.append((item, list(matched.groups())))
            if full:
                local = hints.with_prefix(text[:start]) if start and len(full) > 1 else hints
                item, texts = max(full, key=lambda found: _rank(found[0], local))
                found = CatalogueMatch(item.entry, item.text, _arguments(item.parts, texts), start, False)
                if not item.weak:
                    return found
                weak = weak or found  # a later start, or a cut call site's own text, may still fit better
        cut = self._match_truncated(text, starts, tried, hints)
        return cut if cut is not None and (weak is None or not cut.entry.generic) else weak

    def _cut_in_prefix(self, rest: str) -> list[_Format]:
        """Formats whose literal beginning the text stops inside (``=> write client hel``)."""
        if len(rest) < MIN_TRUNCATED_LITERAL:
            return []
        found = []
        for index in range(bisect_left(self._prefixes, rest), len(self._prefixes)):
            if not self._prefixes[index].startswith(rest):
                break
            found.append(self._prefixed[index])
        return found

    def _match_truncated(
        self, text: str, starts: list[int], tried: list[list[_Format]], hints: _Hints
    ) -> CatalogueMatch | None:
        for start, candidates in zip(starts, tried, strict=True):
            cut = []
            for item in candidates + self._cut_in_prefix(text[start:]):
                walked = _walk(item.parts, text, start)
                if walked is not None:
                    cut.append((item, *walked))
            if not cut:
                continue
            best = max(cut, key=lambda found: (found[1], *_rank(found[0], hints)))
            item, literal, texts = best
            others = sorted({other.entry.id for other, chars, _ in cut if chars == literal} - {item.entry.id})
            return CatalogueMatch(item.entry, item.text, _arguments(item.parts, texts), start, True, tuple(others))
        return None


class _Missing(enum.Enum):
    """A text the memo has not seen yet (a memoised None means "no entry")."""

    MISSING = enum.auto()


_MISSING: Final = _Missing.MISSING


_PREFIX_FILE = re.compile(r"([A-Za-z_][\w.-]*\.(?:c|h|cpp))(?=[:\s]|$)")


@dataclass(frozen=True, slots=True)
class _Hints:
    """What the envelope told about a record, to choose between entries that fit its text equally."""

    level: str | None
    source_file: str | None

    def with_prefix(self, prefix: str) -> _Hints:
        """Read the source file from an unknown envelope (``C:\\src\\ssl_cli.c:3400: ``) when none was given."""
        if self.source_file is not None:
            return self
        files = _PREFIX_FILE.findall(prefix)
        return _Hints(self.level, files[-1]) if files else self


def _rank(item: _Format, hints: _Hints) -> tuple[bool, bool, int, bool, int]:
    """A format that settles a text; then the file the envelope names; the most literal text; the level; order."""
    entry = item.entry
    return (
        not item.weak,
        hints.source_file is not None and hints.source_file in entry.files,
        item.literal,
        hints.level is not None and hints.level in entry.levels,
        -item.order,
    )


def _walk(format_parts: tuple[Part, ...], text: str, start: int) -> tuple[int, list[str]] | None:
    """Match a text that stops before the format does: (literal characters matched, argument texts) or None."""
    position, literal, texts, first_literal, swallowed = start, 0, [], 0, False
    end = len(text)
    for index, part in enumerate(format_parts):
        if position >= end:
            break
        if isinstance(part, str):
            piece = part.lstrip() if index == 0 else part
            if text.startswith(piece, position):
                position += len(piece)
                literal += len(piece)
                first_literal = first_literal or len(piece)
                continue
            rest = text[position:]
            if not piece.startswith(rest):
                return None
            literal += len(rest)
            position = end
            break
        following = format_parts[index + 1] if index + 1 < len(format_parts) else None
        if part.kind == "str":
            stop = text.find(following, position) if isinstance(following, str) else -1
            if stop < 0:
                stop, swallowed = end, True
            texts.append(text[position:stop])
            position = stop
            continue
        value = _VALUE_MATCHERS[part.kind].match(text, position)
        if value is None:
            return None
        texts.append(value.group())
        position = value.end()
    else:
        return None  # the whole format fitted: that is a full match, not a cut one
    if position < end:
        return None
    if literal < MIN_TRUNCATED_LITERAL and (first_literal < MIN_FIRST_LITERAL or swallowed):
        return None
    return literal, texts


def _entries(data: dict[str, Any], source: str, kind_field: str) -> list[CatalogueEntry]:
    return [
        CatalogueEntry(
            id=row["id"],
            kind=row[kind_field],
            source=source,
            levels=tuple(str(level) for level in row["levels"]),
            versions=tuple(row["versions"]),
            formats=tuple(item["text"] for item in row["formats"]),
            files=tuple(sorted({site["file"].rsplit("/", 1)[-1] for site in row["sites"]})),
            generic=bool(row.get("generic")),
        )
        for row in data["message"]
    ]


@cache
def debug_catalogue() -> Catalogue:
    """mbedTLS's debug messages (``knowledge/debug/messages.json``)."""
    return Catalogue(_entries(document("debug/messages.json"), "mbedtls-debug", "kind"))


@cache
def esp_idf_catalogue() -> Catalogue:
    """ESP-IDF's TLS-side log messages (``knowledge/platforms/esp-tls-messages.json``)."""
    return Catalogue(_entries(document("platforms/esp-tls-messages.json"), "esp-idf", "component"))


def match(text: str, level: str | None = None, source_file: str | None = None) -> CatalogueMatch | None:
    """The library message ``text`` is, from mbedTLS's debug output or else from ESP-IDF's TLS stack.

    A complete match beats a cut one; between two complete matches, mbedTLS's wins, since
    ESP-IDF's own messages never run through mbedTLS's debug callback.
    """
    found = debug_catalogue().match(text, level, source_file)
    if found is not None and not found.truncated:
        return found
    other = esp_idf_catalogue().match(text, level, source_file)
    if other is None:
        return found
    if found is None or not other.truncated:
        return other
    return found
