"""The ``explain`` document: every code the user gave, decoded."""

from __future__ import annotations

from tlsdiag.documents.base import json_model
from tlsdiag.documents.common import CodeJson, Envelope


@json_model
class ExplainDocument(Envelope):
    """``tlsdiag explain --format json``: each code as written, with every meaning it has per set of versions."""

    codes: tuple[CodeJson, ...]
