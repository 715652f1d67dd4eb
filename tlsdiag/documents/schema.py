"""The published JSON Schemas (``tlsdiag/schemas/*.schema.json``), generated from the document models.

Each model becomes an object schema: its fields are the properties, in order; a field that is always
written is ``required``, one typed :data:`~tlsdiag.documents.base.Omittable` is not (and, never
being written as null, is not nullable either). Types map as JSON Schema 2020-12 says: ``X | None`` is
nullable, ``Literal`` is ``enum`` (or ``const``), a tuple is an array, ``dict[str, X]`` an object of X,
a nested model a ``$ref`` into ``$defs``. Definitions named in ``common.schema.json`` are referenced
there from every other file. Descriptions come from the models' docstrings and from the comment
written beside (or just above) a field.

``python tools/json_schemas.py`` writes the files; a test fails when a committed one differs.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import textwrap
import tokenize
import types
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from tlsdiag.documents.base import Def, Schema, is_omittable, json_key

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_URI = "https://tlsdiag.invalid/schemas/"
COMMON = "common.schema.json"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

_PRIMITIVES: dict[object, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_BODY_INDENT = 4  # where the statements of a class body start, once its source is dedented


def def_name(cls: type) -> str:
    """The name of a model's definition: its ``json_def``, else ``ClientHelloJson`` -> ``client_hello``."""
    given = cls.__dict__.get("json_def")
    if isinstance(given, str):
        return given
    name = cls.__name__.removesuffix("Json")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class SchemaWriter:
    """Turns type hints into schemas for one file, collecting the definitions it refers to."""

    def __init__(self, file_name: str, shared: Mapping[str, object] | None = None) -> None:
        self.file_name = file_name
        self.shared = dict(shared or {})
        self.defs: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, object] = {}  # the type each definition describes

    def reference(self, name: str, owner: object, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A ``$ref`` to the definition ``name``, written into this file's ``$defs`` unless common has it."""
        if self.shared.get(name) is owner:
            return {"$ref": f"{COMMON}#/$defs/{name}"}
        known = self.owners.setdefault(name, owner)
        if known is not owner:
            raise TypeError(f"two types are both named {name!r} in {self.file_name}")
        if name not in self.defs:
            self.defs[name] = {}  # reserved first, so that a model that refers to itself ends
            self.defs[name] = build()
        return {"$ref": f"#/$defs/{name}"}

    def schema(self, hint: Any) -> dict[str, Any]:
        """The schema of one type hint."""
        origin, args = get_origin(hint), get_args(hint)
        if origin is Annotated:
            return self._annotated(hint, args[0], args[1:])
        if origin is Union or origin is types.UnionType:
            return self._union(args)
        if origin is Literal:
            return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
        if origin in (tuple, list):
            return self._array(origin, args)
        if origin is dict:
            keys = {} if args[0] is str else {"propertyNames": self.schema(args[0])}
            return {"type": "object", **keys, "additionalProperties": self.schema(args[1])}
        if hint in _PRIMITIVES:
            return {"type": _PRIMITIVES[hint]}
        if hint is type(None):
            return {"type": "null"}
        if hint is object or hint is Any:
            return {}
        if isinstance(hint, type) and is_dataclass(hint):
            return self.reference(def_name(hint), hint, lambda: self.object_schema(hint))
        raise TypeError(f"no JSON type for {hint!r}")

    def _annotated(self, hint: Any, base: Any, metadata: tuple[Any, ...]) -> dict[str, Any]:
        keywords: dict[str, Any] = {}
        for item in metadata:
            if isinstance(item, Schema):
                keywords.update(item.keywords)

        def build() -> dict[str, Any]:
            schema = {**self.schema(base), **keywords}
            return {"description": schema.pop("description"), **schema} if "description" in schema else schema

        name = next((item.name for item in metadata if isinstance(item, Def)), None)
        return build() if name is None else self.reference(name, hint, build)

    def _union(self, members: tuple[Any, ...]) -> dict[str, Any]:
        present = [member for member in members if member is not type(None)]
        nullable = len(present) < len(members)
        literals = [member for member in present if get_origin(member) is Literal]
        if len(literals) == len(present) > 1:  # Literal[...] | Literal[...] is one enumeration
            present = [Literal[tuple(value for member in literals for value in get_args(member))]]
        schemas = [self.schema(member) for member in present]
        if len(schemas) == 1:
            return _nullable(schemas[0]) if nullable else schemas[0]
        return {"anyOf": schemas + ([{"type": "null"}] if nullable else [])}

    def _array(self, origin: Any, args: tuple[Any, ...]) -> dict[str, Any]:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            items = [self.schema(item) for item in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        return {"type": "array", "items": self.schema(args[0])}

    def object_schema(self, cls: type) -> dict[str, Any]:
        """A model as an object schema: its docstring, the keys it always writes, and every property."""
        hints = get_type_hints(cls, include_extras=True)
        comments = field_comments(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for item in fields(cls):
            omitted = is_omittable(hints[item.name])
            hint = _without_none(hints[item.name]) if omitted else hints[item.name]
            schema = self.schema(hint)
            if item.name in comments:
                schema = {"description": comments[item.name], **schema}
            key = json_key(item.name)
            properties[key] = schema
            if not omitted:
                required.append(key)
        document: dict[str, Any] = {}
        description = docstring(cls)
        if description:
            document["description"] = description
        document["type"] = "object"
        document["required"] = required
        document["properties"] = properties
        return document


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null, written as compactly as the schema allows."""
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "const" in schema:
        rest = {key: value for key, value in schema.items() if key != "const"}
        return {**rest, "enum": [schema["const"], None]}
    if isinstance(schema.get("type"), str) and "$ref" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _without_none(hint: Any) -> Any:
    """``X | None`` -> ``X``: a field left out when empty is never written as null."""
    if get_origin(hint) is Annotated:
        base, *metadata = get_args(hint)
        return Annotated[(_without_none(base), *metadata)]
    if get_origin(hint) in (Union, types.UnionType):
        members = [member for member in get_args(hint) if member is not type(None)]
        if len(members) == 1:
            return members[0]
        return Union[tuple(members)]  # noqa: UP007 (the members are only known at run time)
    return hint


def docstring(cls: type) -> str | None:
    """A model's docstring as one description (paragraphs kept, ``code`` marks made single)."""
    text = cls.__dict__.get("__doc__")
    if not text or text.startswith(f"{cls.__name__}("):  # the signature a dataclass makes up: no description
        return None
    return _prose(inspect.cleandoc(text))


def _prose(text: str) -> str:
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in text.split("\n\n")]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph).replace("``", "`")


@cache
def field_comments(cls: type) -> dict[str, str]:
    """The comment written beside each field of a model (or on the lines just above it), inherited ones too."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if is_dataclass(klass) and klass is not cls:
            found.update(field_comments(klass))
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return found
    found.update(_comments_of_source(source))
    return found


def _comments_of_source(source: str) -> dict[str, str]:
    found: dict[str, str] = {}
    above: list[str] = []
    statement: list[tokenize.TokenInfo] = []
    beside: list[str] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#:").strip()
            (beside if statement else above).append(text)
        elif token.type == tokenize.NL:
            if not statement and token.line.strip() == "":
                above = []  # a blank line parts a comment from what follows
        elif token.type == tokenize.NEWLINE:
            name = _field_declared(statement)
            if name is not None and (above or beside):
                found[name] = _prose(" ".join(above + beside))
            statement, above, beside = [], [], []
        elif token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER):
            statement.append(token)
    return found


def _field_declared(statement: list[tokenize.TokenInfo]) -> str | None:
    """The field a statement of the class body declares (``name: type = default``), if it declares one."""
    if len(statement) >= 2 and statement[0].type == tokenize.NAME and statement[1].string == ":":
        return statement[0].string if statement[0].start[1] == _BODY_INDENT else None
    return None


# --- the files ------------------------------------------------------------------------------------------------------


def _files() -> dict[str, tuple[str, Any]]:
    """Each published file: its title and the document it describes (for ``common``, the shared types)."""
    from tlsdiag.documents import common, config, diagnose, diff, explain, probe

    return {
        COMMON: (
            "tlsdiag shared definitions",
            (
                common.Envelope,
                common.Category,
                common.Hex,
                common.FixJson,
                common.PartJson,
                common.InterpretationJson,
                common.CodeJson,
                common.EvidenceJson,
                common.FindingJson,
            ),
        ),
        "explain.schema.json": ("tlsdiag explain --format json", explain.ExplainDocument),
        "diagnose.schema.json": ("tlsdiag diagnose --format json", diagnose.DiagnoseDocument),
        "diff.schema.json": ("tlsdiag diff --format json", diff.DiffDocument),
        "config.schema.json": (
            "tlsdiag config lint / config recommend --format json",
            config.LintDocument | config.RecommendDocument,
        ),
        "probe.schema.json": ("tlsdiag probe --format json", probe.ProbeDocument),
    }


def _written() -> dict[str, tuple[str, dict[str, Any], SchemaWriter]]:
    """Each file's title, root schema, and the writer that holds its definitions."""
    files = _files()
    title, shared_types = files.pop(COMMON)
    common = SchemaWriter(COMMON)
    for hint in shared_types:
        common.schema(hint)
    result: dict[str, tuple[str, dict[str, Any], SchemaWriter]] = {COMMON: (title, {}, common)}
    for name, (title, document) in files.items():
        writer = SchemaWriter(name, shared=common.owners)
        root = writer.object_schema(document) if isinstance(document, type) else writer.schema(document)
        result[name] = (title, root, writer)
    return result


def generate() -> dict[str, dict[str, Any]]:
    """Every published schema, by file name."""
    return {name: _file(name, title, root, writer.defs) for name, (title, root, writer) in _written().items()}


def published_models() -> set[type]:
    """Every model some published schema describes (the documents themselves included)."""
    found: set[type] = set()
    for _, _, writer in _written().values():
        found.update(owner for owner in writer.owners.values() if isinstance(owner, type))
    for _, document in _files().values():
        found.update(item for item in (document, *get_args(document)) if isinstance(item, type))
    return found


#: what each file says of itself, for whoever opens it to change it
GENERATED = "Generated by tools/json_schemas.py from the models in tlsdiag/documents: change those, not this file."


def _file(name: str, title: str, root: dict[str, Any], defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {"$schema": DIALECT, "$id": BASE_URI + name, "$comment": GENERATED, "title": title}
    document.update(root)
    if defs:
        document["$defs"] = {key: defs[key] for key in sorted(defs)}
    return document


def dumps(schema: dict[str, Any]) -> str:
    """A schema file's text, as committed."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """The schema files in ``directory`` that differ from the generated ones (or are missing, or extra)."""
    generated = {name: dumps(schema) for name, schema in generate().items()}
    present = {path.name for path in directory.glob("*.schema.json")}
    differ = [name for name, text in generated.items() if _text(directory / name) != text]
    return sorted(differ + sorted(present - set(generated)))


def _text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write every generated schema into ``directory``; the names of the files that changed."""
    changed = []
    for name, schema in generate().items():
        path, text = directory / name, dumps(schema)
        if _text(path) != text:
            path.write_text(text)
            changed.append(name)
    return changed
