"""printf format strings as the libraries wrote them, split into literal text and conversions.

The message catalogues (``knowledge/debug/messages.json``, ``knowledge/platforms/esp-tls-messages.json``)
keep each message's format exactly as the source has it (``in_left: %zu, nb_want: %zu``,
``%s() returned %d (-0x%04x)``). Two things need the same reading of those strings: the generator,
which groups call sites that print the same words with different conversions (``%d`` in 2.16,
``%zu`` in 2.28) under one id, and the matcher, which turns a format back into a pattern that
recognises a printed line. Both use :func:`parts`, so they can never disagree on what a conversion is.

Conversions are classified by what they print, not by their exact spelling: every decimal integer
width (``%d``, ``%u``, ``%zu``, ``%lld``, ``%" PRIu32 "``) is ``int``, every hex one (``%x``, ``%04X``,
``%#04x``, ``%" PRIx32 "``) is ``hex``, because logs of different builds of the same code print
the same value with different widths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ConversionKind = Literal["int", "hex", "str", "ptr", "char"]

# %[flags][width|*][.precision|.*][{MACRO}][length]letter, or %{PRIxNN} (the reference keeps an unexpanded
# inttypes macro as {NAME}), or a literal %%.
_CONVERSION = re.compile(
    r"%%"
    r"|%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:\{\w+\})?(?:hh|h|ll|l|z|j|t)?[diouxXcsp]"
    r"|%[-+ #0]*(?:\d+|\*)?\{PRI\w+\}"
)
_LETTER_KINDS: dict[str, ConversionKind] = {
    "d": "int",
    "i": "int",
    "u": "int",
    "o": "int",
    "x": "hex",
    "X": "hex",
    "s": "str",
    "p": "ptr",
    "c": "char",
}


@dataclass(frozen=True, slots=True)
class Conversion:
    """One printf conversion: its spelling in the source and what kind of text it prints."""

    spec: str
    kind: ConversionKind

    @property
    def has_length_modifier(self) -> bool:
        """``%zu``, ``%lld``: C99 length modifiers that small printf implementations may not know."""
        return any(modifier in self.spec for modifier in ("z", "ll", "j", "t"))


Part = str | Conversion


def _kind(spec: str) -> ConversionKind:
    if "{PRI" in spec and spec.endswith("}"):
        macro = spec[spec.index("{PRI") + 4 : -1]
        return "hex" if macro[:1] in ("x", "X") else "int"
    return _LETTER_KINDS[spec[-1]]


def parts(text: str) -> tuple[Part, ...]:
    """Split a format into literal strings and :class:`Conversion` items (``%%`` becomes a literal ``%``)."""
    out: list[Part] = []
    literal: list[str] = []
    position = 0
    for match in _CONVERSION.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        spec = match.group()
        if spec == "%%":
            literal.append("%")
            continue
        if any(literal):
            out.append("".join(literal))
        literal = []
        out.append(Conversion(spec, _kind(spec)))
    literal.append(text[position:])
    if any(literal):
        out.append("".join(literal))
    return tuple(out)


def words(text: str) -> list[str]:
    """The words of a format's literal text, lower case, conversions and punctuation left out.

    Two call sites print "the same message" when their words agree: ``bad message length`` in
    every version, ``found max_fragment_length extension`` and ``found max fragment length
    extension``, ``mbedtls_ssl_read_record() returned`` and ``mbedtls_ssl_read_record () returned``.
    """
    literal = " ".join(part for part in parts(text) if isinstance(part, str))
    return re.findall(r"[a-z0-9]+", literal.lower())
