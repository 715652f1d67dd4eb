"""The one door to ``knowledge/``: every knowledge file is read, validated and cached here.

A *document* is a knowledge file, parsed (TOML or JSON) and checked: against its schema, for values
that must be unique, and for the names it takes from other files (``knowledge/schema/index.toml``
says which). A broken file raises :class:`KnowledgeError` naming the file, the entry and the field
the first time it is loaded. What a reader builds from documents (indexed tables, compiled patterns)
is obtained through :meth:`Store.derive`, so that it is built once too.

Checking costs more than a short command does, so it runs only when the cache is rebuilt: a document
is pickled under a name made of the size and modification time of the file, of its schema, of the
index, of every file it refers to (and theirs), and of the checking code. A warm start stats those
files and reads one pickle; a changed file, schema or reference makes a new entry, checked again.

The knowledge root is the ``knowledge/`` directory of the installation (the repository's, or the
copy a wheel carries in ``tlsdiag/knowledge/data``). ``TLSDIAG_KNOWLEDGE=DIR`` points the whole
process at another copy (a maintainer's draft, a test's broken copy); ``Store(DIR)`` reads one
directly. File names given to the store are relative to the root, with ``/`` separators.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from tlsdiag.cache import entry_name, remember
from tlsdiag.knowledge.errors import KnowledgeError, locate
from tlsdiag.knowledge.index import INDEX, META_SCHEMA, Plan, builtin_plan, matches, plans

T = TypeVar("T")

ROOT_VARIABLE = "TLSDIAG_KNOWLEDGE"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The modules whose code decides whether a document is valid: a change to them checks everything again.
_CHECKING_CODE = ("store.py", "index.py", "validate.py", "references.py")
_MISSING = object()


class Store:
    """The knowledge files under ``root``: validated documents and what is derived from them, each made once."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._documents: dict[str, Any] = {}
        self._derived: dict[tuple[str, str, tuple[str, ...]], Any] = {}
        self._checks: dict[str, Callable[[Any], None]] = {}
        self._plans: tuple[tuple[str, Plan], ...] | None = None
        self._keys: dict[str, tuple[int, ...]] = {}
        self._keying: list[str] = []  # files whose key is being made (references may form a cycle)
        self._loading: list[str] = []  # files being checked

    def path(self, relative: str) -> str:
        """Where the knowledge file ``relative`` (``diagnosis/causes.toml``) is."""
        return os.path.join(self.root, *relative.split("/"))

    def document(self, relative: str) -> Any:
        """The knowledge file ``relative``, parsed and validated (the same object on every call: do not change it)."""
        found = self._documents.get(relative, _MISSING)
        if found is _MISSING:
            plan = self.plan(relative)
            key = self._key(relative)
            found = remember(entry_name(self.path(relative), "document", key), lambda: self._load(relative, plan))
            self._documents[relative] = found
        return found

    def verify(self, relative: str) -> Any:
        """``relative`` parsed and checked now, whatever the cache holds (for tests and tools)."""
        return self._load(relative, self.plan(relative))

    def derive(self, build: Callable[..., T], *relatives: str) -> T:
        """``build(document, ...)`` of the documents ``relatives``, cached while none of them changes.

        ``build`` must be a module-level function: its module's code is part of the cache key (the
        classes it builds live there or in ``tlsdiag.model``).
        """
        memo = (build.__module__, build.__qualname__, relatives)
        found = self._derived.get(memo, _MISSING)
        if found is _MISSING:
            key = tuple(part for relative in relatives for part in self._key(relative)) + _code_stamps(build.__module__)
            found = remember(
                entry_name(self.path(relatives[0]), build.__qualname__, key),
                lambda: build(*(self.document(relative) for relative in relatives)),
            )
            self._derived[memo] = found
        return found

    def listing(self, directory: str, suffix: str) -> tuple[str, ...]:
        """The knowledge files in ``directory`` whose names end with ``suffix``, sorted, as relative names."""
        try:
            names = os.listdir(self.path(directory))
        except OSError as error:
            raise KnowledgeError(self.path(directory), f"cannot be listed ({error.strerror})") from None
        return tuple(f"{directory}/{name}" for name in sorted(names) if name.endswith(suffix))

    def files(self) -> tuple[str, ...]:
        """Every file under the root, as relative names, sorted."""
        found = []
        for directory, _, names in os.walk(self.root):
            relative = os.path.relpath(directory, self.root).replace(os.sep, "/")
            found += [name if relative == "." else f"{relative}/{name}" for name in names]
        return tuple(sorted(found))

    def plan(self, relative: str) -> Plan:
        """How ``relative`` is checked; a file no entry of the index covers cannot be loaded."""
        builtin = builtin_plan(relative)
        if builtin is not None:
            return builtin
        if self._plans is None:
            self._plans = plans(self.document(INDEX))
        for pattern, plan in self._plans:
            if matches(pattern, relative):
                return plan
        raise KnowledgeError(self.path(relative), f"no schema covers this file (add it to {INDEX})")

    # --- loading and checking (runs when the cache has no entry) --------------------------------------

    def _key(self, relative: str) -> tuple[int, ...]:
        """Sizes and modification times of everything the validity of ``relative`` depends on."""
        key = self._keys.get(relative)
        if key is not None:
            return key
        if relative in self._keying:
            return ()  # a cycle of references: the files in it are already in the key
        self._keying.append(relative)
        try:
            plan = self.plan(relative)
            parts = [*self._stamp(relative), *self._stamp(f"schema/{plan.schema}"), *_code_stamps()]
            if builtin_plan(relative) is None:
                parts += self._stamp(INDEX)
            for other in plan.referenced_files():
                if other != relative:
                    parts += self._key(other)
        finally:
            self._keying.pop()
        key = self._keys[relative] = tuple(parts)
        return key

    def _stamp(self, relative: str) -> tuple[int, int]:
        try:
            status = os.stat(self.path(relative))
        except OSError as error:
            raise KnowledgeError(self.path(relative), f"cannot be read ({error.strerror})") from None
        return status.st_size, status.st_mtime_ns

    def _load(self, relative: str, plan: Plan) -> Any:
        document = self._parse(relative)
        self._loading.append(relative)
        try:
            self._check(relative, plan, document)
        finally:
            self._loading.pop()
        return document

    def _parse(self, relative: str) -> Any:
        path = self.path(relative)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as error:
            raise KnowledgeError(path, f"cannot be read ({error.strerror})") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KnowledgeError(path, f"is not UTF-8 text ({error.reason} at byte {error.start})") from None
        if relative.endswith(".toml"):
            import tomllib

            try:
                return tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise KnowledgeError(path, f"is not valid TOML: {error}") from None
        if relative.endswith(".json"):
            import json

            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise KnowledgeError(path, f"is not valid JSON: {error}") from None
        raise KnowledgeError(path, "is neither TOML nor JSON, the two formats knowledge is written in")

    def _check(self, relative: str, plan: Plan, document: Any) -> None:
        from tlsdiag.knowledge.references import check_reference, check_unique, values
        from tlsdiag.knowledge.validate import Invalid

        try:
            self._schema(plan.schema)(document)
            for path in plan.unique:
                check_unique(document, path)
            for reference in plan.references:
                allowed: frozenset[Any] = frozenset()
                for file, path in reference.targets:
                    source = document if file == relative else self._referenced(relative, file)
                    allowed |= values(source, path)
                names = " or ".join(f"{file}#{path}" for file, path in reference.targets)
                check_reference(document, reference.at, allowed, names)
        except Invalid as error:
            entry, field = locate(document, error.path)
            raise KnowledgeError(self.path(relative), error.problem, entry, field) from None

    def _referenced(self, relative: str, file: str) -> Any:
        if file in self._loading:
            raise KnowledgeError(self.path(relative), f"refers to {file}, which refers back to it")
        return self.document(file)

    def _schema(self, name: str) -> Callable[[Any], None]:
        check = self._checks.get(name)
        if check is None:
            from tlsdiag.knowledge.validate import SchemaError, compile_schema

            relative = f"schema/{name}"
            # The meta-schema checks every schema, itself included: it is compiled before it is checked.
            schema = self._parse(relative) if name == META_SCHEMA else self.document(relative)
            try:
                check = compile_schema(schema)
            except SchemaError as error:
                raise KnowledgeError(self.path(relative), error.problem, field=error.where) from None
            self._checks[name] = check
        return check


@cache
def _code_stamps(module: str = "") -> tuple[int, ...]:
    """Modification times of the checking code, and of ``module`` and ``tlsdiag.model`` when a builder's
    results are cached: the classes they define are what the pickles hold."""
    import sys

    paths = [os.path.join(_PACKAGE, name) for name in _CHECKING_CODE]
    for name in (module, "tlsdiag.model") if module else ():
        paths.append(getattr(sys.modules.get(name), "__file__", None) or "")
    return tuple(os.stat(path).st_mtime_ns if path else 0 for path in paths)


def default_root() -> str:
    """``$TLSDIAG_KNOWLEDGE``, else the knowledge base of this installation."""
    configured = os.environ.get(ROOT_VARIABLE, "").strip()
    if configured:
        if not os.path.isdir(configured):
            raise KnowledgeError(configured, f"is not a directory (set by {ROOT_VARIABLE})")
        return configured
    source_tree = os.path.join(os.path.dirname(os.path.dirname(_PACKAGE)), "knowledge")
    for candidate in (os.path.join(_PACKAGE, "data"), source_tree):
        if os.path.isdir(os.path.join(candidate, "schema")):
            return candidate
    raise KnowledgeError(source_tree, "the knowledge base is missing from this installation")


@cache
def store() -> Store:
    """The process-wide store, on :func:`default_root`."""
    return Store(default_root())


def document(relative: str) -> Any:
    """The validated knowledge file ``relative`` of the process-wide store (see :meth:`Store.document`)."""
    return store().document(relative)


def derive(build: Callable[..., T], *relatives: str) -> T:
    """What ``build`` makes of the documents ``relatives``, cached (see :meth:`Store.derive`)."""
    return store().derive(build, *relatives)


def listing(directory: str, suffix: str = ".toml") -> tuple[str, ...]:
    """The knowledge files of ``directory`` ending with ``suffix`` (see :meth:`Store.listing`)."""
    return store().listing(directory, suffix)
