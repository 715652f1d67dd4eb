"""The knowledge layer: the only code that reads ``knowledge/``.

- :func:`document` gives a knowledge file parsed and validated (schema, unique values, references to
  other files, as ``knowledge/schema/index.toml`` declares); :func:`derive` gives what a reader builds
  from documents, cached with them; :func:`listing` names the files of a directory. All three go
  through :class:`Store` (``store.py``), which caches validated documents on disk and checks a file
  again only when it, its schema or a file it refers to has changed.
- :func:`load` gives the tables the decoder, the parser and the rules share (``tables.py``): code
  tables, explanations, module summaries, transport values, TLS names, outcomes, fix targets.
- A broken file raises :class:`KnowledgeError`, naming the file, the entry and the field.
- ``TLSDIAG_KNOWLEDGE=DIR`` points the process at another knowledge root (documented in ``store.py``).
"""

from tlsdiag.knowledge.errors import KnowledgeError
from tlsdiag.knowledge.store import ROOT_VARIABLE, Store, default_root, derive, document, listing, store
from tlsdiag.knowledge.tables import (
    CodeEntry,
    CodeTable,
    Knowledge,
    Module,
    explanation_from,
    fixes_from,
    load,
    normalise_text,
)

__all__ = [
    "ROOT_VARIABLE",
    "CodeEntry",
    "CodeTable",
    "Knowledge",
    "KnowledgeError",
    "Module",
    "Store",
    "default_root",
    "derive",
    "document",
    "explanation_from",
    "fixes_from",
    "listing",
    "load",
    "normalise_text",
    "store",
]
