"""The error a broken knowledge file raises, worded so that its author can go straight to the line.

Kept free of imports: the command line catches it on its fastest path.
"""

from __future__ import annotations

# Keys that name an entry of a list, in the order they are looked for ("rule[3]" is easier to find as
# rule[3] (id "TLS-NET-002")).
_LABELS = ("id", "name", "names", "value", "core", "kind")


class KnowledgeError(Exception):
    """A knowledge file that cannot be used: unreadable, not valid TOML/JSON, against its schema, or
    referring to something another file does not define.

    ``path`` is the file, ``entry`` the top-level entry at fault (``cause[1] (id "clock-not-set")``,
    ``module.SSL``; empty for the file as a whole), ``field`` the field inside it (``fixes[0].target``;
    empty for the entry as a whole), ``problem`` what is wrong.
    """

    def __init__(self, path: str, problem: str, entry: str = "", field: str = "") -> None:
        self.path = path
        self.problem = problem
        self.entry = entry
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = [part for part in (self.entry, f"field {self.field}" if self.field else "") if part]
        return f"{self.path}: {', '.join(where)}: {self.problem}" if where else f"{self.path}: {self.problem}"


def locate(document: object, path: list[str | int]) -> tuple[str, str]:
    """The entry and the field that ``path`` (keys and list indexes from the top) points at in ``document``."""
    if not path:
        return "", ""
    head = path[0]
    table = document.get(head) if isinstance(document, dict) else None
    if len(path) >= 2 and isinstance(path[1], int) and isinstance(table, list):
        entry = f"{head}[{path[1]}]"
        item = table[path[1]] if path[1] < len(table) else None
        if isinstance(item, dict):
            label = next((key for key in _LABELS if isinstance(item.get(key), str | int | list)), None)
            if label is not None:
                entry += f" ({label} = {shown(item[label])})"
        return entry, _field(path[2:])
    if len(path) >= 2 and isinstance(table, dict):
        return f"{head}.{path[1]}", _field(path[2:])
    return "", _field(path)


def _field(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def shown(value: object) -> str:
    """A value as its author wrote it (TOML/JSON spelling, not Python's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(shown(item) for item in value[:3]) + (", ..." if len(value) > 3 else "") + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)
