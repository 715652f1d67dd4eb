"""Values from below TLS (socket layers, OS errno) that reach an error print: ``knowledge/errors/transport.toml``.

A module of its own so that decoding a code, which seldom needs these families, does not define
their classes at every start.
"""

# No ``from __future__ import annotations`` here: a NamedTuple's string annotations are each compiled
# when the class is made.
from typing import Any, NamedTuple

from tlsdiag.knowledge.store import derive
from tlsdiag.knowledge.tables import fixes_from
from tlsdiag.model import Fix


class TransportCode(NamedTuple):
    family: str
    name: str
    value: int
    meaning: str
    category: str


class TransportFamily(NamedTuple):
    """A set of values from below TLS (socket layer, OS errno) that callbacks may pass through."""

    id: str
    title: str
    source: str
    stacks: tuple[str, ...]
    how_it_reaches: str
    sign: str  # "negative": printed as is; "errno": a positive errno a callback may negate
    confidence: str
    codes: tuple[TransportCode, ...]
    fixes: tuple[Fix, ...] = ()
    scope: str = "any"  # any: every value is read with it too | format: only where a print format names it

    def lookup(self, value: int) -> list[TransportCode]:
        wanted = abs(value) if self.sign == "errno" else value
        return [code for code in self.codes if code.value == wanted]


def families() -> tuple[TransportFamily, ...]:
    """The transport families, in the file's order."""
    return derive(_transport_families, "errors/transport.toml")


def _transport_families(data: dict[str, Any]) -> tuple[TransportFamily, ...]:
    families = []
    for family in data["family"]:
        codes = tuple(
            TransportCode(family["id"], code["name"], int(code["value"]), code["meaning"], code["category"])
            for code in family.get("code", ())
        )
        families.append(
            TransportFamily(
                id=family["id"],
                title=family["title"],
                source=family.get("source", ""),
                stacks=tuple(family.get("stacks", ())),
                how_it_reaches=family.get("how_it_reaches", ""),
                sign=family.get("sign", "negative"),
                confidence=family.get("confidence", "exact"),
                codes=codes,
                fixes=fixes_from(family.get("fixes", ())),
                scope=family.get("scope", "any"),
            )
        )
    return tuple(families)
