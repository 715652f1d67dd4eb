"""Rejoining records that a terminal, a forum or a serial monitor broke across lines.

The reader keeps physical lines (evidence cites what the user sees), so a record wrapped at 80
columns arrives as two lines: the record, cut, and a continuation with no envelope of its own. Read
apart, the first half is a truncated message and the second an unrecognised line, and the evidence
between them (``x509_verify_cert() returned -9984`` / ``(-0x2700)``, a hex dump line, a strerror text
cut in the middle of a word) is lost. This stage joins them before dispatch when the shape of the two
lines says so:

* **hard wrap**: the first line is exactly as long as a terminal is wide, is no library message that
  ends in literal text, and the next one has no envelope: the text continues without a separator;
* **soft wrap**: an enveloped record long enough to have been wrapped, whose message no rule reads as
  a whole, is followed by a line with no envelope that is no record of its own: the text continues
  after a space (the wrap took it);
* **completed text**: the next line completes a text mbedTLS prints (a strerror text, a verify-info
  line) that the first line leaves unfinished, however short the first line is.

A line that is a record of its own (it has an envelope, a dialect rule claims it, it is indented as
console output or a traceback is) is never joined, so logs that are not wrapped pass unchanged. The
parser's line loop applies :func:`continuation` to each line before it dispatches the record it ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from tlsdiag.analysis.parse import dispatch, envelopes, openworld

#: widths terminals, serial monitors and mail clients wrap at; a line exactly this long was probably cut
WRAP_WIDTHS = frozenset({64, 72, 76, 78, 79, 80, 100, 120, 128, 132, 160, 200})
#: an enveloped record at least this long may have been soft-wrapped at a word boundary
SOFT_WRAP_MIN = 60
#: at most this many physical lines are joined into one record
MAX_PARTS = 8


def continuation(
    previous: str, text: str, complete: Callable[[str], bool], closed: Callable[[str], bool], span: int = 1
) -> str | None:
    """The separator that joins ``text`` to ``previous`` ("" or " "), or None when it is a line of its own."""
    if not text or not previous or text.isspace() or _looks_enveloped(text):
        return None
    width = len(previous) if span == 1 else None
    hard = width in WRAP_WIDTHS
    long_record = len(previous) >= SOFT_WRAP_MIN
    if not hard and not long_record and not _unfinished_text(previous):
        return None  # the cheap test: most lines end here
    if _record_of_its_own(text) or _same_lead(previous, text):
        return None
    if hard and not closed(previous):
        return ""
    if long_record and _continues_sentence(text) and _has_envelope(previous) and not complete(previous):
        return " "
    if _PRINT_RET_CUT.search(previous) and text.lstrip()[:1] in "(-0123456789":
        return " " if text[:1] in " (" or previous.endswith(" ") else ""
    if _completes_text(previous, text):
        return " "
    return None


def _continues_sentence(text: str) -> bool:
    """A soft-wrapped continuation goes on mid-sentence: not indented, not a capitalised new statement."""
    return text[:1] not in " \t" and _CAPITALISED.match(text) is None


_CAPITALISED = re.compile(r"[A-Z][a-z]")


def _has_envelope(text: str) -> bool:
    if _looks_enveloped(text):
        return True
    return envelopes.frame(text, 0, "")[0].dialect != "text"


def _looks_enveloped(text: str) -> bool:
    """A cheap look at the start of a line for the shapes of the common envelopes (most lines of a
    debug log): a ``file.c:NNNN:`` record or an ESP-IDF ``E (ms) tag:`` record. Other lines get the
    full test."""
    first = text[:1]
    if first.isalpha() and (".c:" in text[:64] or ".h:" in text[:64]):
        return True
    return first in "EWIDV" and text[1:3] == " ("


@lru_cache(maxsize=4096)
def _record_of_its_own(text: str) -> bool:
    """A line with its own envelope, one a dialect rule claims, or an indented line of another output."""
    if _has_envelope(text):
        return True
    stripped = text.strip()
    if dispatch.text_rule(stripped) is not None or dispatch.DUMP_LINE.match(stripped):
        return True
    return (text[:1] in " \t" and stripped[:1] in ".!|[<>#*-") or stripped.startswith(("File ", "Traceback"))


def _unfinished_text(previous: str) -> bool:
    """The line ends inside a text mbedTLS prints: a strerror module prefix or verify text left open."""
    tail = previous[-60:].upper()
    if " - " in tail or "UNKNOWN" in tail or "CERTIFICATE" in tail:
        return True
    return _PRINT_RET_CUT.search(previous) is not None


#: ``MBEDTLS_SSL_DEBUG_RET``'s ``%s() returned %d (-0x%04x)`` cut before its hex part
_PRINT_RET_CUT = re.compile(r"\(\) returned -?\d+ ?\(?-?(?:0x?)?[0-9a-f]{0,3}$")


@lru_cache(maxsize=4096)  # logs repeat themselves (retries, a program run again): the same pairs come back
def _completes_text(previous: str, text: str) -> bool:
    """Joined, the two lines hold a text neither holds alone: one cut across the line break."""
    joined = previous + " " + text.lstrip()
    before = _texts_in(previous) + _texts_in(text)
    return _texts_in(joined) > before


def _texts_in(text: str) -> int:
    return len(openworld.find_strerror(text)) + len(openworld.find_verify_texts(text))


def _same_lead(previous: str, text: str) -> bool:
    """Both lines open with a prefix of the same shape that holds digits (a timestamp, a counter): the
    serial monitor or logger stamped each, so each is a line of its own."""
    lead = text[:24].split(" ", 1)[0]
    if len(lead) < 3 or not any(char.isdigit() for char in lead):
        return False
    return _SHAPE.sub("9", lead) == _SHAPE.sub("9", previous[:24].split(" ", 1)[0])


_SHAPE = re.compile(r"\d+")
