"""The knowledge layer: every file has a schema and passes it, a broken file is named precisely, the cache
keeps validation off the warm path, and nothing else reads knowledge/."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT
from tlsdiag import cache
from tlsdiag.knowledge import KnowledgeError, Store
from tlsdiag.knowledge.index import matches, plans
from tlsdiag.knowledge.store import ROOT_VARIABLE
from tlsdiag.knowledge.validate import Invalid, SchemaError, compile_schema

KNOWLEDGE = ROOT / "knowledge"
STORE = Store(str(KNOWLEDGE))
FILES = STORE.files()


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A cache of this test's own, so that what it finds there was made by this test."""
    directory = tmp_path / "cache"
    directory.mkdir()
    monkeypatch.setattr(cache, "cache_dir", lambda: str(directory))
    return directory


@pytest.fixture
def copy(tmp_path, own_cache):
    """A copy of the knowledge base to break."""
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    return root


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def broken(root: Path, relative: str) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as raised:
        Store(str(root)).document(relative)
    return raised.value


# --- coverage ----------------------------------------------------------------------------------------------


def test_every_knowledge_file_has_a_schema():
    without = []
    for relative in FILES:
        try:
            STORE.plan(relative)
        except KnowledgeError:
            without.append(relative)
    assert not without, f"knowledge files no schema covers (add them to schema/index.toml): {without}"


def test_every_index_entry_names_existing_files_and_schemas():
    for pattern, plan in plans(STORE.document("schema/index.toml")):
        assert any(matches(pattern, relative) for relative in FILES), f"schema/index.toml: {pattern} matches no file"
        assert (KNOWLEDGE / "schema" / plan.schema).is_file(), plan.schema
        for reference in plan.references:
            for file, _ in reference.targets:
                assert (KNOWLEDGE / file).is_file(), f"{pattern}: reference to missing {file}"


@pytest.mark.parametrize("relative", FILES)
def test_every_knowledge_file_passes_its_checks(relative):
    STORE.verify(relative)


@pytest.mark.parametrize("relative", FILES)
def test_jsonschema_agrees_with_the_validator(relative):
    """A second opinion: the reference implementation of JSON Schema accepts every file too."""
    schema = json.loads((KNOWLEDGE / "schema" / STORE.plan(relative).schema).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    raw = (KNOWLEDGE / relative).read_text(encoding="utf-8")
    document = tomllib.loads(raw) if relative.endswith(".toml") else json.loads(raw)
    jsonschema.Draft202012Validator(schema).validate(document)


# --- a broken copy names the file, the entry and the field --------------------------------------------------


def test_a_value_out_of_range_names_the_entry_and_the_field(copy):
    edit(
        copy,
        "diagnosis/causes.toml",
        'id = "clock-not-set"\ncategory = "certificate-time"\nfrequency = 0.06',
        'id = "clock-not-set"\ncategory = "certificate-time"\nfrequency = 2.0',
    )
    error = broken(copy, "diagnosis/causes.toml")
    assert error.path == str(copy / "diagnosis" / "causes.toml")
    assert error.entry == 'cause[1] (id = "clock-not-set")'
    assert error.field == "frequency"
    assert "2.0 is more than the maximum 1" in error.problem
    assert str(error).startswith(f"{copy / 'diagnosis' / 'causes.toml'}: cause[1]")


def test_a_rule_naming_an_unknown_cause(copy):
    edit(copy, "rules/network.toml", 'cause = "network-before-tls"', 'cause = "network-gremlins"')
    error = broken(copy, "rules/network.toml")
    assert error.entry == 'rule[0] (id = "TLS-NET-001")' and error.field == "cause"
    assert error.problem == '"network-gremlins" is not defined in diagnosis/causes.toml#cause[].id'


def test_a_clue_favouring_an_unknown_cause(copy):
    edit(copy, "diagnosis/clues.toml", "favours = { hostname-mismatch = 5.0,", "favours = { hostname-mixup = 5.0,")
    error = broken(copy, "diagnosis/clues.toml")
    assert error.entry == 'clue[0] (id = "host-is-an-address")'
    assert error.field == "favours.hostname-mixup"
    assert "diagnosis/causes.toml" in error.problem


def test_a_differential_entry_naming_an_unknown_cause(copy):
    edit(
        copy,
        "diagnosis/differential.toml",
        '{ cause = "trust-anchor-missing", weight = 19 }',
        '{ cause = "trust-anchor-lost", weight = 19 }',
    )
    error = broken(copy, "diagnosis/differential.toml")
    assert error.entry.startswith("code[0] (names = [")
    assert error.field == "causes[0].cause"


def test_a_fix_with_an_unknown_target(copy):
    relative = "errors/explained/ssl.toml"
    text = (copy / relative).read_text(encoding="utf-8")
    first_fix = text.index("[[code.fixes]]")
    target = text.index("target = ", first_fix)
    (copy / relative).write_text(text[:target] + 'target = "sdkconfg"\n' + text[text.index("\n", target) + 1 :])
    error = broken(copy, relative)
    assert error.entry.startswith("code[") and "name = " in error.entry
    assert error.field.endswith(".target") and error.field.startswith("fixes[")
    assert error.problem == '"sdkconfg" is not defined in diagnosis/targets.toml#known[]'


def test_a_missing_field_of_a_keyed_table(copy):
    edit(copy, "errors/modules.toml", 'category = "other"\n\n[module.X509]', "\n[module.X509]")
    error = broken(copy, "errors/modules.toml")
    assert (error.entry, error.field, error.problem) == ("module.SSL", "category", "is missing")


def test_a_field_no_schema_knows(copy):
    edit(copy, "platforms/print-formats.toml", 'form = "decimal"', 'form = "decimal"\nfrom = "lwip"')
    error = broken(copy, "platforms/print-formats.toml")
    assert (error.entry, error.field) == ('format[0] (id = "godot-stream-peer-mbedtls")', "from")
    assert error.problem.startswith("is not a field here (the fields are: id, form, stacks, pattern")


def test_a_repeated_id(copy):
    text = (copy / "errors" / "transport.toml").read_text(encoding="utf-8")
    first = tomllib.loads(text)["family"][0]["id"]
    second = tomllib.loads(text)["family"][1]["id"]
    edit(copy, "errors/transport.toml", f'id = "{second}"', f'id = "{first}"')
    error = broken(copy, "errors/transport.toml")
    assert error.entry.startswith("family[1]") and error.field == "id"
    assert "is used twice" in error.problem


def test_a_wrong_type_in_a_generated_table(copy):
    path = copy / "errors" / "mbedtls.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["code"][5]["value"] = "-0x7280"
    path.write_text(json.dumps(data), encoding="utf-8")
    error = broken(copy, "errors/mbedtls.json")
    assert error.entry == f'code[5] (name = "{data["code"][5]["name"]}")'
    assert (error.field, error.problem) == ("value", "must be an integer, not a string")


def test_a_file_that_does_not_parse(copy):
    edit(copy, "versions/markers.toml", "[[marker]]", "[[marker]")
    error = broken(copy, "versions/markers.toml")
    assert error.problem.startswith("is not valid TOML")


def test_a_file_without_a_schema_cannot_be_loaded(copy):
    (copy / "notes").mkdir()
    (copy / "notes" / "ideas.toml").write_text('idea = "more"\n', encoding="utf-8")
    store = Store(str(copy))
    assert "notes/ideas.toml" in store.files()
    with pytest.raises(KnowledgeError, match=r"no schema covers this file"):
        store.document("notes/ideas.toml")


def test_a_schema_with_a_keyword_the_validator_does_not_apply(copy):
    path = copy / "schema" / "scsv.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["patternProperties"] = {"^x": {"type": "string"}}
    path.write_text(json.dumps(schema), encoding="utf-8")
    error = broken(copy, "tls/scsv.toml")
    assert error.path == str(path)
    assert error.field == "patternProperties" and error.problem.startswith("is not a field here")


def test_the_index_is_checked_too(copy):
    edit(copy, "schema/index.toml", 'match = "rules/*.toml"', 'matches = "rules/*.toml"')
    with pytest.raises(KnowledgeError) as raised:
        Store(str(copy)).document("rules/network.toml")
    assert raised.value.path == str(copy / "schema" / "index.toml")
    assert raised.value.entry == "file[0]"


# --- the cache ---------------------------------------------------------------------------------------------


def test_validation_runs_only_when_the_cache_is_rebuilt(copy, monkeypatch):
    checked = []
    check = Store._check

    def counting(self, relative, plan, document):
        checked.append(relative)
        return check(self, relative, plan, document)

    monkeypatch.setattr(Store, "_check", counting)
    Store(str(copy)).document("diagnosis/clues.toml")
    assert "diagnosis/clues.toml" in checked and "diagnosis/causes.toml" in checked
    checked.clear()
    Store(str(copy)).document("diagnosis/clues.toml")  # a fresh process, a warm cache
    assert checked == []
    edit(copy, "diagnosis/clues.toml", 'why = "the device connects', 'why = "the device now connects')
    Store(str(copy)).document("diagnosis/clues.toml")
    assert checked == ["diagnosis/clues.toml"]


def test_a_change_to_a_referenced_file_checks_the_referring_file_again(copy):
    store = Store(str(copy))
    store.document("rules/network.toml")
    edit(copy, "diagnosis/causes.toml", 'id = "network-before-tls"', 'id = "network-first"')
    error = broken(copy, "rules/network.toml")
    assert error.entry == 'rule[0] (id = "TLS-NET-001")' and error.field == "cause"


def test_derived_tables_are_cached_with_their_documents(copy):
    made = []

    def names(document):
        made.append(1)
        return tuple(sorted(library["id"] for library in document["library"]))

    first = Store(str(copy)).derive(names, "platforms/other-tls-libraries.toml")
    again = Store(str(copy)).derive(names, "platforms/other-tls-libraries.toml")
    assert first == again and len(made) == 1
    edit(copy, "platforms/other-tls-libraries.toml", 'id = "axtls"', 'id = "axtls-2"')
    assert "axtls-2" in Store(str(copy)).derive(names, "platforms/other-tls-libraries.toml")
    assert len(made) == 2


def test_plain_tables_are_marshalled_and_objects_pickled(own_cache):
    assert cache.remember("plain", lambda: {"a": [1, 2.5, "x", b"y", frozenset({3})]}) == {
        "a": [1, 2.5, "x", b"y", frozenset({3})]
    }
    assert cache.remember("object", lambda: KnowledgeError("f", "p")).problem == "p"
    assert sorted(path.name for path in own_cache.iterdir()) == ["object.pickle", "plain.marshal"]
    assert cache.remember("plain", lambda: "rebuilt") == {"a": [1, 2.5, "x", b"y", frozenset({3})]}


# --- the command line --------------------------------------------------------------------------------------


def _tlsdiag(root: Path, cache_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ROOT_VARIABLE: str(root), "XDG_CACHE_HOME": str(cache_home)}
    return subprocess.run(
        [sys.executable, "-m", "tlsdiag", *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def test_a_broken_knowledge_base_is_one_line_and_exit_2(copy, tmp_path):
    edit(copy, "errors/modules.toml", 'category = "other"\n\n[module.X509]', 'category = "others"\n\n[module.X509]')
    for args in (("explain", "-0x7280"), ("diagnose", str(ROOT / "examples" / "esp32-azure-provisioning-7500.log"))):
        result = _tlsdiag(copy, tmp_path / "home-cache", *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(
            f"tlsdiag: error: broken knowledge base: {copy / 'errors' / 'modules.toml'}: module.SSL, "
            'field category: "others" is not one of "memory", '
        )


def test_the_knowledge_root_can_be_pointed_elsewhere(copy, tmp_path):
    edit(copy, "errors/explained/ssl.toml", 'meaning = "The TCP connection was closed', 'meaning = "Hung up')
    result = _tlsdiag(copy, tmp_path / "home-cache", "explain", "-0x7280", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["codes"][0]["interpretations"][0]["meaning"].startswith("Hung up by the other")


def test_explain_imports_only_what_it_needs(tmp_path):
    script = (
        "import sys, io, contextlib\n"
        "from tlsdiag.entry import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['explain', '-0x7280'])\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):  # the first run fills the cache
        loaded = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True, cwd=tmp_path
        ).stdout.split()
    unneeded = {
        "json", "tomllib", "pickle", "_pickle", "jinja2", "typer", "lark", "dataclasses", "pathlib",
        "tlsdiag.knowledge.validate", "tlsdiag.knowledge.references", "tlsdiag.knowledge.transport",
        "tlsdiag.analysis", "tlsdiag.rules", "tlsdiag.cli",
    }  # fmt: skip
    assert not unneeded & set(loaded)


# --- one door ------------------------------------------------------------------------------------------------


def _outside_the_layer():
    for path in sorted((ROOT / "tlsdiag").rglob("*.py")):
        if "knowledge" not in path.relative_to(ROOT / "tlsdiag").parts[:1]:
            yield path


def test_nothing_else_reads_knowledge_files():
    found = []
    for path in _outside_the_layer():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                names = [alias.name for alias in node.names]
                if "tomllib" in names or module == "tomllib":
                    found.append(f"{path.name}: imports tomllib")
                if module and module.startswith("tlsdiag.knowledge."):
                    found.append(f"{path.name}: imports {module} (use tlsdiag.knowledge)")
                if module == "tlsdiag.knowledge" and any(name.startswith("_") for name in names):
                    found.append(f"{path.name}: imports private {names} from tlsdiag.knowledge")
            if isinstance(node, ast.Constant) and node.value == "knowledge":
                found.append(f"{path.name}:{node.lineno}: builds a path into knowledge/")
    assert not found


# --- the validator on its own ---------------------------------------------------------------------------------

CASES = [
    ({"type": "integer"}, 3, None),
    ({"type": "integer"}, True, "must be an integer, not true or false"),
    ({"type": "number"}, 2.5, None),
    ({"type": ["string", "null"]}, None, None),
    ({"enum": ["a", "b"]}, "c", '"c" is not one of "a", "b"'),
    ({"const": 1}, True, "must be 1"),
    ({"type": "object", "required": ["a"], "properties": {"a": {}}}, {}, "is missing"),
    ({"type": "object", "additionalProperties": False, "properties": {"a": {}}}, {"b": 1}, "is not a field here"),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}, "must be a string"),
    ({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}}, {"B": 1}, "is not an allowed name"),
    ({"type": "object", "minProperties": 1}, {}, "fewer than 1"),
    ({"type": "array", "items": {"type": "string"}}, ["a", 1], "must be a string"),
    ({"type": "array", "minItems": 2}, ["a"], "fewer than 2"),
    ({"type": "array", "maxItems": 1}, ["a", "b"], "more than 1"),
    ({"type": "array", "uniqueItems": True}, [1, True], None),
    ({"type": "array", "uniqueItems": True}, [1, 1.0], "repeats 1.0"),
    ({"type": "string", "minLength": 3}, "ab", "shorter than 3"),
    ({"type": "string", "pattern": "^x"}, "yx", "does not match ^x"),
    ({"type": "number", "minimum": 0, "maximum": 1}, -1, "less than the minimum 0"),
    ({"type": "number", "exclusiveMinimum": 0}, 0, "is not more than 0"),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, 1.5, "not a number"),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, 1, "more than one of the allowed forms"),
    ({"anyOf": [{"type": "number"}, {"type": "integer"}]}, 1, None),
    (
        {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"},
        [[[]], [[1]]],
        "must be a list",
    ),
]


@pytest.mark.parametrize(("schema", "value", "problem"), CASES)
def test_the_validator_agrees_with_jsonschema(schema, value, problem):
    check = compile_schema(schema)
    accepted_by_jsonschema = jsonschema.Draft202012Validator(schema).is_valid(value)
    if problem is None:
        check(value)
        assert accepted_by_jsonschema
    else:
        with pytest.raises(Invalid) as raised:
            check(value)
        assert problem in raised.value.problem
        assert not accepted_by_jsonschema


def test_an_unknown_keyword_is_refused():
    with pytest.raises(SchemaError, match="patternProperties"):
        compile_schema({"type": "object", "patternProperties": {"^a": {}}})
