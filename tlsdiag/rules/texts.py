"""Texts of findings: placeholders filled from the facts the predicates found."""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}]*))?\}")


def fill(text: str, facts: dict[str, Any]) -> str:
    """Fill ``{name}`` and ``{name|fallback words}`` from the facts; an unknown name without a fallback stays
    visible as it is written, so that a missing fact shows instead of silently vanishing."""

    def replace(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name in facts:
            return str(facts[name])
        return fallback if fallback is not None else match.group(0)

    return _PLACEHOLDER.sub(replace, text)
