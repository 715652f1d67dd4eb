"""One line per event, for ``tlsdiag parse``: what the parser and the fold stage made of a log."""

from __future__ import annotations

import json
from dataclasses import is_dataclass
from typing import Any

from tlsdiag.analysis import events
from tlsdiag.documents.base import plain
from tlsdiag.report import Format
from tlsdiag.report.spoken import field_value


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 64 else f"{value[:64].hex()}... ({len(value)} bytes)"
    if hasattr(value, "to_json"):
        return _plain(value.to_json())
    if is_dataclass(value) and not isinstance(value, type):  # a document model
        return plain(value)
    if isinstance(value, tuple) and value and hasattr(value[0], "env"):
        return [_fields(item) for item in value]
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):  # versions a reading holds in, in release order
        return [_plain(item) for item in sorted(value, key=_natural)]
    return value


def _natural(item: Any) -> tuple[Any, ...]:
    """``2.7`` before ``2.16``: dotted numbers compare as numbers."""
    text = str(item)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in text.split("."))


def _fields(event: Any) -> dict[str, Any]:
    return {name: _plain(value) for name, value in event._asdict().items() if name != "env"}


def event_line(event: events.Event, fmt: Format) -> str:
    env = event.env
    if fmt is Format.json:
        record = {"line": env.line, "event": type(event).__name__, "dialect": env.dialect, **_fields(event)}
        return json.dumps(record, ensure_ascii=False, default=str)
    fields = ", ".join(
        f"{key}={field_value(value)}" for key, value in _fields(event).items() if value not in (None, "", [], {})
    )
    where = f"{env.source_file}:{env.source_line}" if env.source_file else env.dialect
    return f"{env.line:>7}  {type(event).__name__:<15} {where:<22} {fields}"[:400]
