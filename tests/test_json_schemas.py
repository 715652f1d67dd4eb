"""The published JSON Schemas are generated from the document models, and they keep the contract.

``tlsdiag/schemas/*.schema.json`` are written by ``python tools/json_schemas.py`` from the type hints
of ``tlsdiag.documents``, the models the commands write their JSON from. These tests check that the
committed files are what the generator writes, that the generator maps types as it says, and that every
field the contract names is still there with the contract's type (the commands' output is validated
against the same files by the tests of each command).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from dataclasses import is_dataclass, replace
from typing import Annotated, ClassVar, Literal, get_args

import jsonschema
import pytest
from referencing import Registry, Resource

from tests.conftest import FIXTURES, ROOT
from tlsdiag import documents
from tlsdiag.documents import common, diagnose, schema
from tlsdiag.documents.base import Def, Omittable, Schema, json_model, plain
from tlsdiag.documents.schema import SchemaWriter

REGENERATE = "python tools/json_schemas.py"
CONTRACT = FIXTURES / "contract" / "contract.md"


@pytest.fixture(scope="module")
def generated():
    return schema.generate()


# --- the committed files are the generated ones ---------------------------------------------------------------


def test_committed_schemas_are_the_generated_ones():
    stale = schema.stale()
    assert not stale, f"stale schemas {stale}: run `{REGENERATE}` and commit the result"


def test_the_check_sees_a_changed_missing_or_extra_file(tmp_path):
    assert schema.write(tmp_path) == list(schema.generate())
    assert schema.stale(tmp_path) == []
    diagnose_file = tmp_path / "diagnose.schema.json"
    diagnose_file.write_text(diagnose_file.read_text().replace('"thin"', '"thick"'))
    (tmp_path / "probe.schema.json").unlink()
    (tmp_path / "old.schema.json").write_text("{}\n")
    assert schema.stale(tmp_path) == ["diagnose.schema.json", "old.schema.json", "probe.schema.json"]
    assert schema.write(tmp_path) == ["diagnose.schema.json", "probe.schema.json"]


def test_every_schema_is_a_valid_draft_2020_12_schema(generated):
    for name, document in generated.items():
        jsonschema.Draft202012Validator.check_schema(document)
        assert document["$id"].endswith("/" + name)


def test_every_document_model_is_published():
    """A model no schema reaches would be written without being published (or be dead code)."""
    published = schema.published_models()
    models = set()
    for module in pkgutil.iter_modules(documents.__path__):
        loaded = importlib.import_module(f"tlsdiag.documents.{module.name}")
        models |= {
            value
            for value in vars(loaded).values()
            if isinstance(value, type) and is_dataclass(value) and value.__module__ == loaded.__name__
        }
    assert len(models) > 40
    assert not {model.__name__ for model in models - published}


def test_output_validation_refuses_a_key_no_schema_names(schema_validator):
    """The published objects stay open to added fields; the tests' validation closes them, so that a key a
    command writes outside the models (which the published schema would let through) fails the command's test."""
    from tlsdiag.codes import explain
    from tlsdiag.report.explain import explain_model

    document = plain(explain_model(explain("-0x4290")))
    assert isinstance(document, dict)
    schema_validator(document, "explain.schema.json")
    part = document["codes"][0]["interpretations"][0]["parts"][0]  # type: ignore[index]
    part["width"] = 16
    with pytest.raises(jsonschema.ValidationError, match="width"):
        schema_validator(document, "explain.schema.json")


# --- the enumerations agree with the knowledge and the code that produce the values ----------------------------


def test_categories_are_the_knowledge_categories():
    categories = tomllib.loads((ROOT / "knowledge" / "categories.toml").read_text())
    values = get_args(get_args(common.Category)[0])
    assert len(values) == len(set(values))
    assert set(values) == set(categories["precedence"]) == set(categories["category"])


def test_stacks_are_the_stacks_the_markers_tell_apart():
    markers = tomllib.loads((ROOT / "knowledge" / "versions" / "markers.toml").read_text())
    assert set(get_args(diagnose.Stack)) == {stack["id"] for stack in markers["stack"]} | {"unknown"}


def test_fix_targets_are_the_targets_rules_may_name():
    # the knowledge layer checks every fix of every knowledge file against this list
    targets = tomllib.loads((ROOT / "knowledge" / "diagnosis" / "targets.toml").read_text())
    assert list(get_args(common.FixTarget)) == targets["known"]


def test_verdicts_and_targets_are_the_code_s_own():
    from tlsdiag.analysis.views import VERDICTS
    from tlsdiag.config.targets import TARGETS
    from tlsdiag.documents import config, probe
    from tlsdiag.probe.profile import VERSIONS

    assert get_args(diagnose.Verdict) == VERDICTS
    assert get_args(config.Target) == TARGETS == get_args(probe.FixFile)
    assert get_args(probe.TlsVersion) == VERSIONS


# --- the generator maps types as it says -----------------------------------------------------------------------

Level = Annotated[Literal["low", "high"], Def("level")]


@json_model
class _Inner:
    """An inner object."""

    size: Annotated[int, Schema(minimum=0)]


@json_model
class _Sample:
    """A sample document.

    Its second paragraph."""

    name: str  # what it is called
    # the comment above a field describes it too
    count: int | None
    level: Level | None
    levels: tuple[Level, ...]
    pair: tuple[int, int]
    table: dict[str, tuple[str, ...]]
    by_level: dict[Level, int]
    inner: _Inner
    maybe_inner: _Inner | None
    choice: str | _Inner
    from_: str  # a key that is a Python keyword
    note: Omittable[str | None] = None  # left out when empty
    flag: Omittable[Literal[True] | None] = None
    tags: Omittable[tuple[str, ...]] = ()
    json_def: ClassVar[str] = "sample"


def _sample_schema():
    writer = SchemaWriter("sample.schema.json")
    return writer.object_schema(_Sample), writer.defs


def test_fields_become_properties_with_their_json_types():
    root, defs = _sample_schema()
    properties = root["properties"]
    assert root["description"] == "A sample document.\n\nIts second paragraph."
    assert properties["name"] == {"description": "what it is called", "type": "string"}
    assert properties["count"] == {
        "description": "the comment above a field describes it too",
        "type": ["integer", "null"],
    }
    assert properties["level"] == {"anyOf": [{"$ref": "#/$defs/level"}, {"type": "null"}]}
    assert properties["levels"] == {"type": "array", "items": {"$ref": "#/$defs/level"}}
    assert defs["level"] == {"enum": ["low", "high"]}
    assert properties["pair"] == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "integer"}],
        "minItems": 2,
        "maxItems": 2,
    }
    assert properties["table"] == {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    assert properties["by_level"] == {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/level"},
        "additionalProperties": {"type": "integer"},
    }
    assert properties["inner"] == {"$ref": "#/$defs/_inner"}
    assert defs["_inner"]["properties"]["size"] == {"type": "integer", "minimum": 0}
    assert properties["maybe_inner"] == {"anyOf": [{"$ref": "#/$defs/_inner"}, {"type": "null"}]}
    assert properties["choice"] == {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/_inner"}]}
    assert "from" in properties and "from_" not in properties
    assert SchemaWriter("sample.schema.json").schema(_Sample) == {"$ref": "#/$defs/sample"}  # its json_def


def test_an_omittable_field_is_neither_required_nor_nullable():
    root, _ = _sample_schema()
    assert root["required"] == [
        "name",
        "count",
        "level",
        "levels",
        "pair",
        "table",
        "by_level",
        "inner",
        "maybe_inner",
        "choice",
        "from",
    ]
    assert root["properties"]["note"] == {"description": "left out when empty", "type": "string"}
    assert root["properties"]["flag"] == {"const": True}
    assert root["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}


def test_a_shared_definition_is_referenced_in_common():
    common_writer = SchemaWriter(schema.COMMON)
    common_writer.schema(Level)
    writer = SchemaWriter("sample.schema.json", shared=common_writer.owners)
    assert writer.schema(Level) == {"$ref": "common.schema.json#/$defs/level"}
    other = Annotated[Literal["left", "right"], Def("level")]  # the same name for another type stays local
    assert SchemaWriter("sample.schema.json", shared=common_writer.owners).schema(other) == {"$ref": "#/$defs/level"}


def test_two_types_of_one_name_in_one_file_are_refused():
    writer = SchemaWriter("sample.schema.json")
    writer.schema(Level)
    with pytest.raises(TypeError, match="level"):
        writer.schema(Annotated[Literal["left"], Def("level")])


def test_a_type_without_a_json_form_is_refused():
    with pytest.raises(TypeError):
        SchemaWriter("sample.schema.json").schema(bytes)


def test_plain_writes_what_the_schema_describes():
    sample = _Sample(
        name="x",
        count=None,
        level="low",
        levels=("high",),
        pair=(1, 2),
        table={"TLS1.2": ("0xc02f",)},
        by_level={"low": 1},
        inner=_Inner(size=3),
        maybe_inner=None,
        choice=_Inner(size=0),
        from_="on",
        note="",
        flag=None,
        tags=(),
    )
    written = plain(sample)
    assert written == {
        "name": "x",
        "count": None,
        "level": "low",
        "levels": ["high"],
        "pair": [1, 2],
        "table": {"TLS1.2": ["0xc02f"]},
        "by_level": {"low": 1},
        "inner": {"size": 3},
        "maybe_inner": None,
        "choice": {"size": 0},
        "from": "on",
    }
    root, defs = _sample_schema()
    jsonschema.Draft202012Validator({**root, "$defs": defs}).validate(written)
    with_everything = plain(replace(sample, note="n", flag=True, tags=("t",)))
    assert isinstance(with_everything, dict)
    assert (with_everything["note"], with_everything["flag"], with_everything["tags"]) == ("n", True, ["t"])


def test_plain_refuses_what_is_not_json():
    with pytest.raises(TypeError):
        plain({"when": object()})


# --- the contract ----------------------------------------------------------------------------------------------

#: every field of the contract's JSON sections, with values the contract shows it taking (all of them must be
#: valid); a field the contract writes is always present, so each key on the way must be required
CONTRACT_FIELDS: dict[str, list[tuple[str, list[object]]]] = {
    "explain.schema.json": [
        ("tool", ["tlsdiag"]),
        ("version", ["..."]),
        ("schema", [1]),
        ("codes[].input", ["-0x4290"]),
        ("codes[].value", [-17040]),
        ("codes[].hex", ["-0x4290"]),
        ("codes[].kind", ["mbedtls", "esp-tls", "psa", "transport", "unknown"]),
        ("codes[].interpretations[].versions", [["2.16", "2.28", "3.6"]]),
        ("codes[].interpretations[].parts[].name", ["MBEDTLS_ERR_RSA_PUBLIC_FAILED", "MBEDTLS_ERR_MPI_ALLOC_FAILED"]),
        ("codes[].interpretations[].parts[].hex", ["-0x4280", "-0x0010"]),
        ("codes[].interpretations[].parts[].module", ["RSA", "MPI"]),
        ("codes[].interpretations[].parts[].level", ["high", "low"]),
        ("codes[].interpretations[].parts[].summary", ["..."]),
        ("codes[].interpretations[].category", ["memory"]),
        ("codes[].interpretations[].causes", [["..."]]),
        ("codes[].interpretations[].fixes", [[]]),
        ("codes[].notes", [["..."]]),
    ],
    "diagnose.schema.json": [
        ("tool", ["tlsdiag"]),
        ("version", ["..."]),
        ("schema", [1]),
        ("input.name", ["..."]),
        ("input.lines", [1234]),
        ("input.recognized_lines", [1200]),
        ("input.dialects", [["esp-idf", "mbedtls-debug"]]),
        (
            "context.stack",
            [
                "esp-idf",
                "arduino-esp32",
                "mbed-os",
                "zephyr",
                "micropython",
                "espruino",
                "stm32",
                "linux-app",
                "unknown",
            ],
        ),
        ("context.mbedtls_version", ["2.28", None]),
        ("context.platform_version", ["ESP-IDF v4.0", None]),
        ("context.evidence[].line", [3]),
        ("context.evidence[].text", ["..."]),
        ("errors[].line", [57]),
        ("errors[].function", ["mbedtls_ssl_handshake"]),
        ("errors[].raw", ["-0x7500"]),
        ("errors[].value", [-29952]),
        ("errors[].interpretations", [[]]),
        ("handshake.role", ["client", "server", None]),
        ("handshake.last_step", ["..."]),
        ("handshake.reached", [["ClientHello", "..."]]),
        ("handshake.client_hello", [None]),
        ("handshake.client_hello.version", ["..."]),
        ("handshake.client_hello.ciphersuites", [["0xc02b"]]),
        ("handshake.client_hello.extensions", [[]]),
        ("handshake.client_hello.server_name", ["...", None]),
        ("handshake.server_hello", [None]),
        ("handshake.certificates", [[]]),
        ("handshake.alerts[].direction", ["in", "out"]),
        ("handshake.alerts[].level", [2]),
        ("handshake.alerts[].description", [40]),
        ("handshake.alerts[].name", ["handshake_failure"]),
        ("handshake.alerts[].line", [88]),
        ("handshake.verify_flags[].name", ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]),
        ("handshake.verify_flags[].line", [90]),
        ("findings", [[]]),
    ],
    "diff.schema.json": [
        ("tool", ["tlsdiag"]),
        ("good.input.name", ["..."]),
        ("good.context.stack", ["esp-idf"]),
        ("bad.input.lines", [1234]),
        ("bad.context.mbedtls_version", ["2.28", None]),
        ("first_divergence.good_line", [120]),
        ("first_divergence.bad_line", [131]),
        ("first_divergence.step", ["..."]),
        ("first_divergence.description", ["..."]),
        ("differences[].kind", ["..."]),
        ("differences[].description", ["..."]),
        ("differences[].good", ["..."]),
        ("differences[].bad", ["..."]),
        ("differences[].good_line", [12]),
        ("differences[].bad_line", [13]),
        ("findings", [[]]),
    ],
    "config.schema.json": [
        ("tool", ["tlsdiag"]),
        ("config.kind", ["mbedtls-config", "sdkconfig", "zephyr-kconfig"]),
        ("config.path", ["..."]),
        ("config.mbedtls_version", ["3.6"]),
        ("findings", [[]]),
        ("changes[].option", ["..."]),
        ("changes[].from", ["...", None]),
        ("changes[].to", ["...", None]),
        ("changes[].why", ["..."]),
        ("changes[].finding", ["rule-id"]),
    ],
    "probe.schema.json": [
        ("tool", ["tlsdiag"]),
        ("server.host", ["..."]),
        ("server.port", [443]),
        ("server.server_name", ["...", None]),
        ("server.versions", [["TLS1.2", "TLS1.3"]]),
        ("server.ciphersuites", [{"TLS1.2": ["0xc02f"], "TLS1.3": ["0x1301"]}]),
        ("server.groups", [["secp256r1"]]),
        ("server.certificates", [[]]),
        ("server.certificate_message_bytes", [4321]),
        ("server.client_auth", ["none", "optional", "required", None]),
        ("server.source", ["scan", "sslyze-json", "testssl-json"]),
        ("device.source", ["config", "log", "preset"]),
        ("device.name", ["..."]),
        ("device.mbedtls_version", ["...", None]),
        ("verdict", ["connects", "fails", "unknown"]),
        ("findings", [[]]),
    ],
}
#: the contract's ``<finding>`` and ``<fix>``, as each document that has findings holds them
FINDING_FIELDS = [
    ("rule", ["PROBE-VER-001"]),  # a stable id (a probe's start with PROBE-)
    ("title", ["..."]),
    ("category", ["memory", "other"]),
    ("severity", ["failure", "warning", "info"]),
    ("confidence", [0.0, 0.5, 1.0]),
    ("evidence[].line", [7]),
    ("evidence[].text", ["..."]),
    ("explanation", ["..."]),
    ("references", [["..."]]),
    ("fixes[].target", ["sdkconfig", "mbedtls-config", "zephyr-kconfig", "arduino", "code", "server", "hardware"]),
    ("fixes[].option", ["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN", None]),
    ("fixes[].value", ["8192", None]),
    ("fixes[].action", ["..."]),
]
FINDINGS_AT = {
    "diagnose.schema.json": "findings[]",
    "diff.schema.json": "findings[]",
    "config.schema.json": "findings[]",
    "probe.schema.json": "findings[]",
}


def _registry(generated):
    return Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in generated.values()
    )


def _locate(generated, file_name, path):
    """Every (file, JSON pointer, required) the path can lead to, through references and unions."""
    places = [(file_name, "", True)]
    for step in re.findall(r"[a-z_]+|\[\]", path):
        found = []
        for where, pointer, required in places:
            for file, node_pointer, node in _branches(generated, where, pointer):
                if step == "[]":
                    if "items" in node:
                        found.append((file, node_pointer + "/items", required))
                elif step in node.get("properties", {}):
                    holds = step in node.get("required", ())
                    found.append((file, f"{node_pointer}/properties/{step}", required and holds))
        places = found
    return places


def _branches(generated, file, pointer):
    """The object or array schemas a pointer stands for, following ``$ref``, ``anyOf`` and ``allOf``."""
    node = generated[file]
    for part in [part for part in pointer.split("/") if part]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if "$ref" in node:
        target, _, target_pointer = node["$ref"].partition("#")
        yield from _branches(generated, target or file, target_pointer)
    for key in ("anyOf", "allOf"):
        for index, _ in enumerate(node.get(key, ())):
            yield from _branches(generated, file, f"{pointer}/{key}/{index}")
    if "properties" in node or "items" in node:
        yield file, pointer, node


def _contract_cases():
    for file_name, fields in CONTRACT_FIELDS.items():
        for path, values in fields:
            yield file_name, path, values
    for file_name, prefix in FINDINGS_AT.items():
        for path, values in FINDING_FIELDS:
            yield file_name, f"{prefix}.{path}", values


@pytest.mark.parametrize(("file_name", "path", "values"), list(_contract_cases()), ids=lambda value: str(value)[:60])
def test_every_contract_field_keeps_its_name_and_type(generated, file_name, path, values):
    places = _locate(generated, file_name, path)
    assert places, f"{file_name}: the contract's {path} is not in the schema"
    assert all(required for _, _, required in places), f"{file_name}: the contract's {path} is not always written"
    registry = _registry(generated)
    for file, pointer, _ in places:
        check = jsonschema.Draft202012Validator({"$ref": f"{schema.BASE_URI}{file}#{pointer}"}, registry=registry)
        for value in values:
            assert check.is_valid(value), f"{file_name}: {path} does not accept the contract's {value!r}"


def _contract_sections():
    """Each JSON section of the contract and the keys it names (``"key":``), by schema file."""
    text = CONTRACT.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## JSON: (.+?)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    files = {"explain": "explain", "diagnose": "diagnose", "diff": "diff", "config lint / recommend": "config"}
    files["probe"] = "probe"
    return {f"{files[title]}.schema.json": set(re.findall(r'"([a-z_]+)":', body)) for title, body in sections.items()}


def _property_names(generated, file_name):
    names, seen, queue = set(), set(), [(file_name, "")]
    while queue:
        file, pointer = queue.pop()
        if (file, pointer) in seen:
            continue
        seen.add((file, pointer))
        node = generated[file]
        for part in [part for part in pointer.split("/") if part]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        _collect(node, file, pointer, names, queue)
    return names


def _collect(node, file, pointer, names, queue):
    if isinstance(node, dict):
        names.update(node.get("properties", {}))
        if "$ref" in node:
            target, _, target_pointer = node["$ref"].partition("#")
            queue.append((target or file, target_pointer))
        for key, value in node.items():
            if key != "$defs":
                _collect(value, file, f"{pointer}/{key}", names, queue)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _collect(value, file, f"{pointer}/{index}", names, queue)


def test_every_key_the_contract_names_is_in_its_document_s_schema(generated):
    sections = _contract_sections()
    assert set(sections) == set(generated) - {schema.COMMON}
    for file_name, keys in sections.items():
        missing = keys - _property_names(generated, file_name)
        assert not missing, f"{file_name}: the contract names {sorted(missing)}, which the schema lacks"
