"""Values as a person says them, for every report a person reads.

A report shows values that come out of the analysis as Python data: ``None`` for what the log did not show,
booleans, lists of suite names, a certificate's fields as a mapping. Printed as they are they read as Python
(``None``, ``True``, ``{'subject': ...}``); these helpers say them in words instead. JSON keeps the data as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: what a report says for a value the log did not show
NOT_REPORTED = "not reported"

#: how a certificate's or a record's field is named in a sentence, where the key alone reads badly
_FIELD_NAMES = {
    "not_after": "valid until",
    "not_before": "valid from",
    "key_type": "key",
    "key_size": "key size",
    "size": "size",
    "sha256": "SHA-256",
}
#: the unit a field's number is in, said after it
_FIELD_UNITS = {"size": "bytes", "key_size": "bits", "length": "bytes"}


def spoken(value: Any, missing: str = NOT_REPORTED) -> str:
    """``value`` in words: nothing is ``missing``, truth is yes/no, lists are joined, mappings are field lists."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    if isinstance(value, bytes):
        return value.hex(" ")
    if isinstance(value, Mapping):
        parts = [
            " ".join(filter(None, (field_name(key), spoken(item), _FIELD_UNITS.get(key))))
            for key, item in value.items()
            if item not in (None, "", [], {})
        ]
        return "; ".join(parts) if parts else missing
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [spoken(item) for item in value]
        return ", ".join(items) if items else "none"
    return str(value)


def field_name(key: str) -> str:
    """A field's name as words: ``not_after`` is "valid until", ``key_size`` is "key size"."""
    return _FIELD_NAMES.get(key, key.replace("_", " "))


def field_value(value: Any) -> str:
    """A value in a ``key=value`` listing (``tlsdiag parse``): like :func:`spoken`, with its structure kept.

    Lists keep their brackets and mappings their braces, so that nested values (a decoded ClientHello, a
    certificate) stay readable on one line; text with spaces, commas or brackets is put in double quotes, so that
    one field never runs into the next.
    """
    if isinstance(value, Mapping):
        shown = {key: item for key, item in value.items() if item not in (None, "", [], {})}
        return "{" + ", ".join(f"{key}: {field_value(item)}" for key, item in shown.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(field_value(item) for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"' if not value or any(char in value for char in " ,;[]{}=\"'") else value
    return spoken(value)


def sides(good: Any, bad: Any) -> list[tuple[str, str]]:
    """What the two values of a difference add to its one-line description, each labelled with its run.

    Lists (suites, extensions) are what only one run had; a mapping (a certificate) is shown whole for each run;
    a single value is already in the description.
    """
    if isinstance(good, (list, tuple)) or isinstance(bad, (list, tuple)):
        return [(label, spoken(value)) for label, value in (("working only", good), ("failing only", bad)) if value]
    if isinstance(good, Mapping) or isinstance(bad, Mapping):
        return [("working", spoken(good)), ("failing", spoken(bad))]
    return []
