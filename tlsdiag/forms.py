"""Reading the written forms of an error code: ``-0x7280``, ``-29312``, ``FFFF8D80``, names, texts.

Each form yields one or more :class:`CodeReading` candidates. Ambiguous text (``-7280``: hex printed
without ``0x``, or decimal?) yields every reading; :mod:`tlsdiag.codes` decodes them all and ranks
them by how much sense each makes. Nothing here knows what a value means.
"""

from __future__ import annotations

import re

from tlsdiag.knowledge import CodeEntry, Knowledge, normalise_text
from tlsdiag.model import CodeReading, hex_of


class CodeSyntaxError(ValueError):
    """The text is not any known way of writing an error code."""


_WRAPPERS = "`'\"*\u201c\u201d\u2018\u2019"  # plain and typographic quotes, markdown emphasis
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# The numeric forms are recognised with string methods: compiling a handful of regular expressions
# would cost more than the whole decoding. The two rare textual forms compile theirs on first use.
_PY_TUPLE = r"^\(\s*([+-]?(?:0x)?[0-9a-f]+)\s*,\s*['\"]([^'\"]*)['\"]\s*\)$"
_UNKNOWN_PART = r"^unknown error code \(([0-9a-f]{1,8})\)$"
_NAME_PREFIXES = ("", "MBEDTLS_ERR_", "PSA_ERROR_", "ESP_ERR_", "ESP_ERR_MBEDTLS_", "ESP_ERR_ESP_TLS_", "NSAPI_ERROR_")

_UINT32 = 1 << 32
MAX_MBEDTLS_MAGNITUDE = 0x7FFF  # mbedTLS error codes are -0x0001 .. -0x7FFF
_MAX_HEX_DIGITS_WITHOUT_PREFIX = 4  # mbedTLS codes fit in four hex digits (-0x7F80 at most)


def clean(text: str) -> str:
    """Strip what surrounds a code when it is copied out of a log or a forum post."""
    stripped = text.strip().strip(_WRAPPERS).strip().rstrip(".,;:")
    if stripped.startswith("(") and stripped.endswith(")") and "," not in stripped:
        stripped = stripped[1:-1].strip()
    return stripped


def read(text: str, knowledge: Knowledge) -> list[CodeReading]:
    """All readings of ``text``; raises :class:`CodeSyntaxError` when there is none."""
    cleaned = clean(text)
    if not cleaned:
        raise CodeSyntaxError("empty code")
    for reader in (_read_tuple, _read_hex_0x, _read_digits, _read_bare_hex, _read_name, _read_printed_text):
        readings = reader(cleaned, knowledge)
        if readings:
            return readings
    raise CodeSyntaxError(
        f"{text.strip()!r} is not an error code tlsdiag can read "
        "(forms: -0x7280, -29312, FFFF8D80, MBEDTLS_ERR_SSL_CONN_EOF, 'SSL - The connection indicated an EOF', 0x8010)"
    )


def _split_sign(text: str) -> tuple[str, str]:
    return (text[0], text[1:]) if text[:1] in "+-" and text else ("", text)


def _is_hex(digits: str) -> bool:
    return bool(digits) and all(char in _HEX_DIGITS for char in digits)


def _read_tuple(text: str, knowledge: Knowledge) -> list[CodeReading]:
    """MicroPython's ``(-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')``."""
    if not text.startswith("(") or "," not in text:
        return []
    match = re.match(_PY_TUPLE, text, re.IGNORECASE)
    if not match:
        return []
    number, name = match.groups()
    value = int(number, 16) if number.lower().lstrip("+-").startswith("0x") else int(number)
    if number.startswith("-") and value > 0:
        value = -value
    notes: tuple[str, ...] = ()
    named = [entry for entry in _lookup_name(name, knowledge) if entry.value != value]
    if name and named and not any(entry.value == value for entry in _lookup_name(name, knowledge)):
        notes = (f"the text names {name}, whose value is {hex_of(named[0].value)}, not {hex_of(value)}",)
    return [CodeReading(value, "number with its name", name=name or None, notes=notes)]


def _read_hex_0x(text: str, knowledge: Knowledge) -> list[CodeReading]:
    sign, body = _split_sign(text)
    digits = body[2:]
    if body[:2].lower() != "0x" or not _is_hex(digits):
        return []
    number = int(digits, 16)
    if sign == "-":
        return [CodeReading(-number, "hex")]
    if 0x80000000 <= number < _UINT32:
        return [
            CodeReading(number - _UINT32, "unsigned 32-bit", notes=(f"{text} is a negative code printed as unsigned",))
        ]
    return _positive(number, "hex", knowledge)


def _read_digits(text: str, knowledge: Knowledge) -> list[CodeReading]:
    sign, digits = _split_sign(text)
    if not (digits.isascii() and digits.isdigit()):
        return []
    number = int(digits)
    if sign != "-" and 0x80000000 <= number < _UINT32:
        return [
            CodeReading(
                number - _UINT32, "unsigned 32-bit decimal", notes=(f"{text} is a negative code printed as unsigned",)
            )
        ]
    readings = [CodeReading(-number, "decimal")] if sign == "-" else _positive(number, "decimal", knowledge)
    if len(digits) <= _MAX_HEX_DIGITS_WITHOUT_PREFIX:
        as_hex = int(digits, 16)
        if as_hex != number:
            if sign == "-":
                readings.append(CodeReading(-as_hex, "hex without 0x"))
            else:
                readings.extend(_positive(as_hex, "hex without 0x", knowledge))
    return readings


def _read_bare_hex(text: str, knowledge: Knowledge) -> list[CodeReading]:
    sign, digits = _split_sign(text)
    if not _is_hex(digits) or digits.isdigit() or len(digits) > 8:
        return []
    number = int(digits, 16)
    if sign != "-" and len(digits) == 8 and number >= 0x80000000:
        return [
            CodeReading(number - _UINT32, "unsigned 32-bit", notes=(f"{text} is a negative code printed as unsigned",))
        ]
    if sign == "-":
        return [CodeReading(-number, "hex without 0x")]
    return _positive(number, "hex without 0x", knowledge)


def _positive(number: int, how: str, knowledge: Knowledge) -> list[CodeReading]:
    """A value written without a sign: an ESP-IDF ``esp_err_t`` or an mbedTLS code missing its minus."""
    readings = []
    if number in knowledge.esp_idf.by_value:
        readings.append(CodeReading(number, how))
    if 0 < number <= MAX_MBEDTLS_MAGNITUDE:
        note = f"read as {hex_of(-number)}: mbedTLS codes are negative and are often printed without the sign"
        readings.append(CodeReading(-number, how, notes=(note,)))
    return readings


def _lookup_name(name: str, knowledge: Knowledge) -> list[CodeEntry]:
    return _lookup_name_in_tables(name, knowledge)[1]


def _lookup_name_in_tables(name: str, knowledge: Knowledge) -> tuple[str, list[CodeEntry]]:
    upper = name.upper()
    tables = (("mbedtls", knowledge.mbedtls), ("psa", knowledge.psa), ("esp-idf", knowledge.esp_idf))
    for prefix in _NAME_PREFIXES:
        candidate = upper if upper.startswith(prefix) else prefix + upper
        for label, table in tables:
            if candidate in table.by_name:
                return label, table.by_name[candidate]
    return "", []


def _read_name(text: str, knowledge: Knowledge) -> list[CodeReading]:
    if not text[:1].isalpha() or not all(char in _NAME_CHARS for char in text):
        return []
    label, entries = _lookup_name_in_tables(text, knowledge)
    if entries:
        values: dict[int, list[CodeEntry]] = {}
        for entry in entries:
            values.setdefault(entry.value, []).append(entry)
        readings = []
        for value, group in sorted(values.items(), key=lambda item: _first_series(item[1], knowledge)):
            versions = frozenset().union(*(entry.versions | entry.unknown_in for entry in group))
            readings.append(CodeReading(value, "name", name=group[0].name, only_versions=versions, table=label))
        return readings
    upper = text.upper()
    for family in knowledge.transport:
        for code in family.codes:
            if code.name.upper() == upper:
                value = -code.value if family.sign == "errno" else code.value
                return [CodeReading(value, "name", name=code.name, table=f"transport:{family.id}")]
    return []


def _first_series(entries: list[CodeEntry], knowledge: Knowledge) -> int:
    """Position of the oldest series where any of ``entries`` holds: older meanings are listed first."""
    order = {series: index for index, series in enumerate(knowledge.mbedtls.series)}
    positions = [order.get(series, len(order)) for entry in entries for series in entry.versions]
    return min(positions, default=len(order))


def _read_printed_text(text: str, knowledge: Knowledge) -> list[CodeReading]:
    """What ``mbedtls_strerror`` prints: ``RSA - ... : BIGNUM - ...`` or ``UNKNOWN ERROR CODE (0007)``."""
    total = 0
    names = []
    for segment in text.split(" : "):
        unknown = re.match(_UNKNOWN_PART, segment.strip(), re.IGNORECASE)
        if unknown:
            total += int(unknown.group(1), 16)
            continue
        entries = knowledge.strerror_index.get(normalise_text(segment))
        if not entries:
            return []
        total += abs(entries[0].value)
        names.append(entries[0].name)
    if total == 0:
        return []
    name = names[0] if len(names) == 1 else None
    return [CodeReading(-total, "printed error text", name=name)]
