"""Shared helpers for the test suite."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
    """Validate a document against one of the package's published JSON Schemas."""
    import jsonschema
    from referencing import Registry, Resource

    schema_dir = ROOT / "tlsdiag" / "schemas"
    resources = []
    for path in schema_dir.glob("*.schema.json"):
        document = json.loads(path.read_text())
        resources.append((document["$id"], Resource.from_contents(document)))
    registry = Registry().with_resources(resources)

    def validate(document: object, schema_name: str) -> None:
        schema = json.loads((schema_dir / schema_name).read_text())
        jsonschema.Draft202012Validator(schema, registry=registry).validate(document)

    return validate
