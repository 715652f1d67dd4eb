#!/usr/bin/env python3
"""Coverage-guided fuzzing of the whole pipeline with atheris (libFuzzer), for runs longer than the tests.

One input is used three ways: as a log (read -> parse -> fold -> sessions -> rules -> every report
format, the JSON documents checked against tlsdiag/schemas/), as two logs for ``diff`` (split at the
first form feed, or in the middle), and line by line through the redactor. Anything but an
InputError with a one-line message, or a document that breaks its schema, is a crash.

    pip install atheris
    mkdir -p /tmp/tlsdiag-fuzz
    python fuzz/fuzz_pipeline.py /tmp/tlsdiag-fuzz tests/fixtures/logs tests/fixtures/redact \\
        -max_total_time=600 -max_len=16384 -rss_limit_mb=2048 -timeout=30 -artifact_prefix=/tmp/tlsdiag-fuzz-

The first directory receives the inputs that found new coverage; the others seed it. A crash is
written as ``/tmp/tlsdiag-fuzz-crash-<hash>``; rerun it with ``python fuzz/fuzz_pipeline.py FILE``. Each input renders
one report format (chosen by its last byte), so that a run covers all of them at a quarter of the cost.
"""

from __future__ import annotations

import io
import json
import pkgutil
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["tlsdiag"]):
    import tlsdiag

    # the package imports most of its modules lazily: import them all now, so all are instrumented
    for module in pkgutil.walk_packages(tlsdiag.__path__, "tlsdiag."):
        if module.name not in ("tlsdiag.__main__", "tlsdiag.capture"):
            import_module(module.name)

import jsonschema  # noqa: E402
from referencing import Registry, Resource  # noqa: E402

from tlsdiag import core  # noqa: E402
from tlsdiag.analysis.pipeline import EventStream, analyse  # noqa: E402
from tlsdiag.diff import compare  # noqa: E402
from tlsdiag.errors import InputError  # noqa: E402
from tlsdiag.redact import Redactor  # noqa: E402
from tlsdiag.report import Format  # noqa: E402
from tlsdiag.report.diagnose import diagnose_document, render_diagnose  # noqa: E402
from tlsdiag.report.diff import diff_document, render_diff  # noqa: E402
from tlsdiag.report.events import event_line  # noqa: E402


def _validators() -> dict[str, Any]:
    schemas = ROOT / "tlsdiag" / "schemas"
    documents = {path.name: json.loads(path.read_text()) for path in schemas.glob("*.schema.json")}
    registry = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in documents.values()
    )
    return {
        name: jsonschema.Draft202012Validator(documents[name], registry=registry)
        for name in ("diagnose.schema.json", "diff.schema.json")
    }


VALIDATORS = _validators()


def _analyse(data: bytes) -> Any:
    try:
        return analyse(None, stdin=io.BytesIO(data))
    except InputError as error:
        message = str(error)
        if not message or "\n" in message:
            raise AssertionError(f"an input error must be one line: {message!r}") from error
        return None


def check_log(data: bytes, formats: tuple[Format, ...] = tuple(Format), events: bool = True) -> None:
    analysis = _analyse(data)
    if analysis is None:
        return
    diagnosed = core.diagnose(analysis)
    document = diagnose_document(diagnosed)
    VALIDATORS["diagnose.schema.json"].validate(document)
    json.dumps(document)
    for fmt in formats:
        render_diagnose(diagnosed, fmt)
    if events:
        for event in EventStream(None, stdin=io.BytesIO(data)):
            event_line(event, Format.json)


def check_diff(data: bytes, formats: tuple[Format, ...] = tuple(Format)) -> None:
    cut = data.find(b"\x0c")
    good, bad = (data[:cut], data[cut + 1 :]) if cut >= 0 else (data[: len(data) // 2], data[len(data) // 2 :])
    good_analysis, bad_analysis = _analyse(good), _analyse(bad)
    if good_analysis is None or bad_analysis is None:
        return
    comparison = compare(good_analysis, bad_analysis)
    findings = list(core.diagnose(bad_analysis, comparison).diagnosis.findings) if comparison.same_connection else []
    VALIDATORS["diff.schema.json"].validate(diff_document(comparison, findings))
    for fmt in formats:
        render_diff(comparison, findings, fmt)


def check_redaction(data: bytes) -> None:
    redactor = Redactor()
    for line in data.decode("utf-8", "replace").splitlines():
        masked = redactor.line(line)
        if masked.count("\n") != line.count("\n"):
            raise AssertionError("redaction must not add or remove lines")


def TestOneInput(data: bytes) -> None:  # libFuzzer looks for this name
    # the last byte picks one report format and whether the event view runs: a run renders every
    # format over many inputs at a fraction of the cost of rendering all of them for each input
    selector = data[-1] if data else 0
    formats = (tuple(Format)[selector % len(Format)],)
    check_log(data, formats, events=bool(selector & 0x10))
    check_diff(data, formats)
    check_redaction(data)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
