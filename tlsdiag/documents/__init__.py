"""The JSON documents tlsdiag writes, as typed models: one frozen dataclass per JSON object.

Each command's JSON output (``explain``, ``diagnose``, ``diff``, ``config lint``/``recommend``,
``probe``) is a document model built from the result objects' ``to_json`` and written with
:func:`~tlsdiag.documents.base.plain`. The published schemas in ``tlsdiag/schemas/`` are generated
from the same type hints (:mod:`tlsdiag.documents.schema`), so what is written and what is published
cannot drift apart.

The modules are imported only when a document is built: each command pays for its own models alone.
"""
