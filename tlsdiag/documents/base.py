"""How a document model is declared and written as JSON.

A model is a frozen, keyword-only dataclass declared with :func:`json_model`. Its fields are the keys
of the JSON object (a trailing underscore is dropped, so ``from_`` is written ``"from"``), and its type
hints are the values' JSON types: ``str``, ``int``, ``float``, ``bool``, ``None``, ``Literal`` for an
enumeration, a tuple for an array, ``dict[str, X]`` for an object keyed by data, another model for a
nested object. ``Annotated`` adds JSON Schema keywords (:class:`Schema`) or names a definition that
several places share (:class:`Def`). A field typed :data:`Omittable` is left out of the object when it
holds nothing (None, or an empty string, array or object), so the schema does not require it.

The same hints write the document (:func:`plain`) and its schema (:mod:`tlsdiag.documents.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from typing import Annotated, Any, TypeVar, dataclass_transform, get_args, get_origin, get_type_hints

#: what :func:`plain` returns
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

_Model = TypeVar("_Model")
_T = TypeVar("_T")


class Schema:
    """JSON Schema keywords a type adds to what its hint says: ``Annotated[int, Schema(minimum=0)]``."""

    __slots__ = ("keywords",)

    def __init__(self, **keywords: object) -> None:
        self.keywords = keywords


class Def:
    """Names a type written once under ``$defs`` and referenced wherever it is used.

    ``Annotated[Literal["memory", ...], Def("category")]``: every field of that type refers to one
    definition, so a consumer can reuse it (and the schema says once what a category is).
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Omit:
    """The mark of a field left out of the JSON when it holds nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()
#: ``Omittable[X]``: a field the JSON leaves out when it holds nothing (None, "", an empty array or object)
Omittable = Annotated[_T, OMIT]


def is_omittable(hint: Any) -> bool:
    """Whether a field's type hint marks it :data:`Omittable`."""
    return get_origin(hint) is Annotated and any(item is OMIT for item in get_args(hint)[1:])


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def json_model(cls: type[_Model]) -> type[_Model]:
    """Declare a document model: a frozen dataclass whose fields are given by keyword."""
    return dataclass(frozen=True, kw_only=True)(cls)


def json_key(name: str) -> str:
    """The JSON key of a field: its name without a trailing underscore (``from_`` -> ``from``)."""
    return name[:-1] if name.endswith("_") else name


@cache
def _layout(cls: type) -> tuple[tuple[str, str, bool], ...]:
    """(field name, JSON key, omitted when empty) for each field of a model, in order."""
    hints = get_type_hints(cls, include_extras=True)
    return tuple((item.name, json_key(item.name), is_omittable(hints[item.name])) for item in fields(cls))


def _holds_nothing(value: object) -> bool:
    return value is None or (isinstance(value, (str, tuple, list, dict)) and not value)


def plain(value: object) -> JsonValue:
    """The JSON value of a model (or of a tuple, list or dict of them): dicts, lists and scalars only."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        document: dict[str, JsonValue] = {}
        for name, key, omit in _layout(type(value)):
            item = getattr(value, name)
            if not (omit and _holds_nothing(item)):
                document[key] = plain(item)
        return document
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def plain_object(value: object) -> dict[str, JsonValue]:
    """The JSON object of a model (what the text templates and the redaction read)."""
    document = plain(value)
    if not isinstance(document, dict):
        raise TypeError(f"a {type(value).__name__} is not a JSON object")
    return document


def extended(model: object, cls: type[_Model], **more: Any) -> _Model:
    """``model`` as ``cls``, a model that adds fields to its own (a finding with what a document adds)."""
    return cls(**{item.name: getattr(model, item.name) for item in fields(model)}, **more)  # type: ignore[arg-type]
