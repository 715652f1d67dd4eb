"""Which schema each knowledge file answers to, and what it must refer to (``knowledge/schema/index.toml``).

The index itself and the schemas are covered here rather than in the index, since they are what
reading the index needs: the index by ``schema/index.schema.json``, every schema by
``schema/meta.schema.json`` (the part of JSON Schema the validator applies), the meta-schema by itself.
"""

from __future__ import annotations

from typing import Any

INDEX = "schema/index.toml"
INDEX_SCHEMA = "index.schema.json"
META_SCHEMA = "meta.schema.json"


class Reference:
    """Values a file names (``at``) that must be defined in another file (one of ``targets``: file, path)."""

    __slots__ = ("at", "targets")

    def __init__(self, at: str, targets: tuple[tuple[str, str], ...]) -> None:
        self.at = at
        self.targets = targets


class Plan:
    """How one knowledge file is checked: its schema (a file of ``schema/``), unique values, references.

    A plain class rather than a named tuple, which would cost more to define at every start than
    reading the whole index does.
    """

    __slots__ = ("references", "schema", "unique")

    def __init__(self, schema: str, unique: tuple[str, ...] = (), references: tuple[Reference, ...] = ()) -> None:
        self.schema = schema
        self.unique = unique
        self.references = references

    def referenced_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(file for reference in self.references for file, _ in reference.targets))


def builtin_plan(relative: str) -> Plan | None:
    """The plan of the files reading the index depends on, or None for a file the index covers."""
    if relative == INDEX:
        return Plan(INDEX_SCHEMA)
    if relative.startswith("schema/") and relative.endswith(".schema.json"):
        return Plan(META_SCHEMA)
    return None


def plans(index: dict[str, Any]) -> tuple[tuple[str, Plan], ...]:
    """(file pattern, plan) for each ``[[file]]`` of the validated index, in its order."""
    found = []
    for entry in index["file"]:
        references = tuple(
            Reference(item["at"], tuple(_target(text) for text in _as_list(item["to"])))
            for item in entry.get("references", ())
        )
        found.append((entry["match"], Plan(entry["schema"], tuple(entry.get("unique", ())), references)))
    return tuple(found)


def matches(pattern: str, relative: str) -> bool:
    """Whether ``relative`` is the file ``pattern`` names; a pattern's file name may hold one ``*``."""
    if "*" not in pattern:
        return pattern == relative
    directory, _, name = pattern.rpartition("/")
    wanted_directory, _, actual = relative.rpartition("/")
    head, _, tail = name.partition("*")
    return (
        directory == wanted_directory
        and len(actual) >= len(head) + len(tail)
        and actual.startswith(head)
        and actual.endswith(tail)
    )


def _target(text: str) -> tuple[str, str]:
    file, _, path = text.partition("#")
    return file, path


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
