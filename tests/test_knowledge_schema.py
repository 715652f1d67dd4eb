"""The knowledge base is well-formed: every data file matches its schema and every cross-reference resolves."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from tests.conftest import REFERENCE, ROOT
from tlsdiag.knowledge import load

KNOWLEDGE = ROOT / "knowledge"
SCHEMAS = KNOWLEDGE / "schema"

CURATED = [
    ("errors/explained/*.toml", "explained.schema.json"),
    ("x509/verify-flags-explained.toml", "verify-flags-explained.schema.json"),
    ("tls/alerts-explained.toml", "alerts-explained.schema.json"),
    ("errors/modules.toml", "modules.schema.json"),
    ("errors/transport.toml", "transport.schema.json"),
    ("categories.toml", "categories.schema.json"),
    ("errors/composition.toml", "composition.schema.json"),
]


def _files():
    for pattern, schema in CURATED:
        paths = sorted(KNOWLEDGE.glob(pattern))
        assert paths, f"no file matches knowledge/{pattern}"
        for path in paths:
            yield pytest.param(path, schema, id=str(path.relative_to(KNOWLEDGE)))


@pytest.mark.parametrize(("path", "schema_name"), list(_files()))
def test_curated_file_matches_its_schema(path, schema_name):
    schema = json.loads((SCHEMAS / schema_name).read_text())
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    jsonschema.Draft202012Validator(schema).validate(document)


def _names(table: str) -> set[str]:
    data = json.loads((KNOWLEDGE / table).read_text())
    key = next(key for key, value in data.items() if isinstance(value, list) and value and isinstance(value[0], dict))
    return {row["name"] for row in data[key]}


def test_explained_names_exist_in_the_code_tables():
    known = _names("errors/mbedtls.json") | _names("errors/psa.json") | _names("errors/esp-idf.json")
    unknown = sorted(set(load().explanations) - known)
    assert not unknown


def test_each_name_is_explained_once():
    seen: dict[str, str] = {}
    duplicates = []
    for path in sorted((KNOWLEDGE / "errors" / "explained").glob("*.toml")):
        for entry in tomllib.loads(path.read_text())["code"]:
            if entry["name"] in seen:
                duplicates.append(f"{entry['name']} in {seen[entry['name']]} and {path.name}")
            seen[entry["name"]] = path.name
    assert not duplicates


def test_flags_and_alerts_explained_exist_in_their_tables():
    flags = {
        entry["name"] for entry in tomllib.loads((KNOWLEDGE / "x509/verify-flags-explained.toml").read_text())["flag"]
    }
    assert flags == _names("x509/verify-flags.json")
    alerts = tomllib.loads((KNOWLEDGE / "tls/alerts-explained.toml").read_text())["alert"]
    table = {row["name"]: row["value"] for row in json.loads((KNOWLEDGE / "tls/alerts.json").read_text())["alert"]}
    assert {entry["name"] for entry in alerts} <= set(table)
    assert all(table[entry["name"]] == entry["value"] for entry in alerts)


def test_every_module_has_a_summary():
    modules = {row["module"] for row in json.loads((KNOWLEDGE / "errors/mbedtls.json").read_text())["code"]}
    assert modules <= set(load().modules)


def test_composition_names_real_modules():
    knowledge = load()
    modules = set(knowledge.modules)
    for high, lows in knowledge.composition["adds"].items():
        assert high in modules and set(lows) <= modules


def test_transport_values_are_unique_per_family():
    for family in load().transport:
        values = [code.value for code in family.codes]
        assert len(values) == len(set(values)) or family.sign == "errno", family.id


GENERATED = [
    ("debug/messages.json", "debug-messages.schema.json"),
    ("platforms/esp-tls-messages.json", "esp-tls-messages.schema.json"),
]


@pytest.mark.parametrize(("relative", "schema_name"), GENERATED, ids=[relative for relative, _ in GENERATED])
def test_generated_catalogue_matches_its_schema(relative, schema_name):
    schema = json.loads((SCHEMAS / schema_name).read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads((KNOWLEDGE / relative).read_text()))


@pytest.mark.parametrize("relative", [relative for relative, _ in GENERATED])
def test_catalogue_ids_are_unique_and_versions_cover_formats_and_sites(relative):
    messages = json.loads((KNOWLEDGE / relative).read_text())["message"]
    ids = [message["id"] for message in messages]
    assert len(ids) == len(set(ids))
    for message in messages:
        covered = {version for part in message["formats"] + message["sites"] for version in part["versions"]}
        assert covered == set(message["versions"]), message["id"]


def test_generated_tables_are_up_to_date():
    """The committed JSON tables are exactly what the generator makes from the reference extraction."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_knowledge.py"), "--check", "--reference", str(REFERENCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
