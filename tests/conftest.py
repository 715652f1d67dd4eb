"""Shared helpers for the test suite."""

from __future__ import annotations

import csv
import getpass
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: Copies kept in the repository, byte for byte, of the real logs and tables the tests read (each folder's README
#: says where its files came from), so that a clone with nothing beside it runs the whole suite.
REFERENCE = FIXTURES / "reference"
CORPUS = FIXTURES / "corpus"
SEEDS = FIXTURES / "seeds"
REALWORLD = FIXTURES / "realworld"


def fixture_files(directory: Path, pattern: str) -> list[Path]:
    """The files under ``directory`` that ``pattern`` matches, sorted.

    A pattern that matches nothing raises instead of returning an empty list: a parametrised test over an empty
    list would vanish from the run without a word, and the cases that matter most would go unchecked.
    """
    found = sorted(path for path in directory.glob(pattern) if path.is_file())
    if not found:
        raise FileNotFoundError(f"no fixture matches {pattern} in {directory}")
    return found


def diagnosed_with(analysis, findings=None):
    """The diagnosis of ``analysis`` as the commands make it; with ``findings``, those stand in for the
    latest failure's (to test how a report shows findings no rule would make)."""
    import dataclasses

    from tlsdiag import core

    result = core.diagnose(analysis)
    if findings is None:
        return result
    return dataclasses.replace(result, diagnosis=dataclasses.replace(result.diagnosis, findings=tuple(findings)))


def read_tsv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run tlsdiag as a separate process, the way a user does."""
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environment.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "tlsdiag", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="session")
def schema_validator():
    """Validate a document against one of the package's published JSON Schemas.

    The published objects stay open (fields may be added within a schema version), so the document is also
    validated against a closed copy of every schema: a key the commands write that no schema names fails.
    """
    import jsonschema
    from referencing import Registry, Resource

    schema_dir = ROOT / "tlsdiag" / "schemas"
    published = {path.name: json.loads(path.read_text()) for path in schema_dir.glob("*.schema.json")}

    def registry(schemas: dict[str, dict]) -> Registry:
        return Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())

    closed: dict[str, dict] = {name: _closed(schema) for name, schema in published.items()}
    as_published, as_closed = registry(published), registry(closed)

    def validate(document: object, schema_name: str) -> None:
        jsonschema.Draft202012Validator(published[schema_name], registry=as_published).validate(document)
        jsonschema.Draft202012Validator(closed[schema_name], registry=as_closed).validate(document)

    return validate


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed to keys it does not list."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _closed(value) for key, value in schema.items()}
    if "properties" in copy and "additionalProperties" not in copy:
        copy["additionalProperties"] = False
    return copy


# --- the suite stands on its own ------------------------------------------------------------------------------

#: set by .ci/run once it has installed every system package the suite uses: then a skipped test is a failure
FORBID_SKIPS = "TLSDIAG_FORBID_SKIPS"
#: the one input a test may take from outside the repository, when a variable points at it: the mbedTLS source
#: the 3.6 tests build; a skip because it is not set stays a skip (its own switch, TLSDIAG_REQUIRE_MBEDTLS_SRC,
#: is what .ci/run sets when the source is there)
OPTIONAL_SOURCE = "TLSDIAG_MBEDTLS_SRC"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``TLSDIAG_FORBID_SKIPS=1`` a skip fails the test with its reason: nothing may quietly not run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get(FORBID_SKIPS) == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if f"{OPTIONAL_SOURCE} is not set" in reason and not os.environ.get(OPTIONAL_SOURCE, "").strip():
            return
        report.outcome = "failed"
        report.longrepr = f"skipped although {FORBID_SKIPS}=1 says every system package is installed: {reason}"


def _neighbours() -> frozenset[Path]:
    """What lies beside the clone when the run starts: files a fresh clone with nothing beside it would not have.

    Hidden entries (caches in a home directory) and the folders that hold the running Python or the temporary
    files are not neighbours a test could mistake for data, so they do not count.
    """
    own = [Path(sys.prefix), Path(sys.base_prefix), Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"]
    if not ROOT.is_relative_to(Path(tempfile.gettempdir()).resolve()):
        own.append(Path(tempfile.gettempdir()))
    try:
        entries = [entry.resolve() for entry in ROOT.parent.iterdir() if not entry.name.startswith(".")]  # the watcher
    except OSError:
        return frozenset()
    return frozenset(
        entry
        for entry in entries
        if entry != ROOT and not any(folder.resolve().is_relative_to(entry) for folder in own)
    )


def outside_the_repository(path: str, neighbours: frozenset[Path], allowed: tuple[Path, ...] = ()) -> bool:
    """Whether ``path`` lies in one of the ``neighbours`` of the clone, and not in what a variable ``allowed``."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    if any(resolved.is_relative_to(source) for source in allowed):
        return False
    return any(resolved.is_relative_to(neighbour) for neighbour in neighbours)


#: the one outside input a test may read: the mbedTLS source an environment variable points at, to build it
ALLOWED_SOURCES = tuple(
    Path(os.environ[name]).resolve() for name in ("TLSDIAG_MBEDTLS_SRC",) if os.environ.get(name, "").strip()
)
NEIGHBOURS = _neighbours()
OUTSIDE_READS: list[str] = []


def _watch_opens(event: str, args: tuple[object, ...]) -> None:
    if (
        event == "open"
        and isinstance(args[0], (str, Path))
        and outside_the_repository(str(args[0]), NEIGHBOURS, ALLOWED_SOURCES)
    ):
        OUTSIDE_READS.append(str(args[0]))


if NEIGHBOURS:
    sys.addaudithook(_watch_opens)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that opened a file beside the repository fails the run: a fresh clone would not have it."""
    if OUTSIDE_READS:
        files = ", ".join(sorted(set(OUTSIDE_READS))[:10])
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(f"tests opened files outside the repository, which a fresh clone does not have: {files}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
