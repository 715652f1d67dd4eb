"""The configuration knowledge is well-formed: schemas, cross-references, conditions that parse, provenance."""

from __future__ import annotations

import csv
import json
import re
import tomllib

import jsonschema
import pytest

from tests.conftest import FIXTURES, REFERENCE, ROOT
from tlsdiag.config.data import load, regroup
from tlsdiag.config.expr import parse

KNOWLEDGE = ROOT / "knowledge"
CONFIG = KNOWLEDGE / "config"


def _toml(name: str) -> dict:
    with (CONFIG / name).open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("lint.toml", "config-lint.schema.json"),
        ("costs.toml", "config-costs.schema.json"),
        ("derived.toml", "config-derived.schema.json"),
        ("zephyr.toml", "config-zephyr.schema.json"),
    ],
)
def test_hand_written_config_knowledge_matches_its_schema(name, schema):
    document = json.loads((KNOWLEDGE / "schema" / schema).read_text())
    jsonschema.Draft202012Validator(document).validate(_toml(name))


def _conditions():
    lint = _toml("lint.toml")
    for rule in lint["rule"]:
        for table in [rule["when"], *rule.get("any", ()), rule.get("unless", {})]:
            if "condition" in table:
                yield f"lint {rule['id']}", table["condition"]
    costs = _toml("costs.toml")
    for item in [*costs["buffers"]["expansion"], *costs["allowance"], *costs.get("note", ())]:
        if "condition" in item:
            yield f"costs {item.get('name', item.get('text', '')[:20])}", item["condition"]
    for macro in _toml("derived.toml")["macro"]:
        yield f"derived {macro['name']}", macro["condition"]
    for directive in _toml("zephyr.toml")["directive"]:
        if directive.get("condition"):
            yield f"zephyr {directive['line']}", directive["condition"]


@pytest.mark.parametrize(("where", "condition"), list(_conditions()))
def test_every_condition_parses(where, condition):
    assert parse(condition) != ("unknown",), where


def test_rules_reference_what_exists():
    lint = _toml("lint.toml")
    knowledge = load()
    ids = [rule["id"] for rule in lint["rule"]] + [message["id"] for message in lint["message"].values()]
    assert len(ids) == len(set(ids))
    facts = {fact["name"] for fact in lint["code"]}
    known = set(knowledge.options) | {macro["name"] for macro in _toml("derived.toml")["macro"]}
    for rule in lint["rule"]:
        for table in [rule["when"], *rule.get("any", ()), rule.get("unless", {})]:
            assert set(table.get("code", ())) | set(table.get("no_code", ())) <= facts, rule["id"]
        named = [change["macro"] for change in rule.get("changes", ())] + list(rule.get("evidence", ()))
        assert set(named) <= known, rule["id"]
        for pattern in lint["code"]:
            re.compile(pattern["pattern"])
    # the messages the linter builds findings from
    assert {"check", "no_check_include", "unknown_symbol", "no_effect", "unmet_dependency", "out_of_range"} <= set(
        lint["message"]
    )
    assert {"conditional"} <= set(lint["message"])


def test_generated_config_tables_cover_the_reference():
    knowledge = load()
    assert len(knowledge.options) > 450
    assert knowledge.options["MBEDTLS_SSL_PROTO_SSL3"].state == {"2.7": "off", "2.16": "off", "2.28": "off"}
    assert knowledge.options["MBEDTLS_SSL_OUT_CONTENT_LEN"].value["3.6"] == "16384"
    assert sum(len(checks) for checks in knowledge.checks.values()) > 1400
    assert sorted(knowledge.esp_idf) == ["3.3", "4.0", "4.4", "5.0", "5.1", "5.3", "5.5"]
    release = knowledge.esp_idf["4.0"]
    assert release.tag == "v4.0.4"
    out = release.symbols["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"]
    assert (out.default, out.range, out.depends_on) == ("4096", "512 16384", "(MBEDTLS_ASYMMETRIC_CONTENT_LEN)")


def test_esp_config_directives_are_one_per_header_line():
    with (REFERENCE / "esp-idf-esp_config-map.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    lines = {(row["tag"][1:4], int(row["esp_config_line"]), row["action"]) for row in rows}
    directives = {
        (series, directive.line, f"{directive.action} {directive.macro} {directive.value}".strip())
        for series, release in load().esp_idf.items()
        for directive in release.directives
    }
    assert len(directives) == len(lines)


def test_zephyr_directives_match_the_header_they_come_from():
    header = (FIXTURES / "config" / "zephyr-config-tls-generic.h").read_text().split("\n")
    data = _toml("zephyr.toml")
    assert "003f0261bc97ba3399a960547243b47e10a97b70" in data["source"]
    for directive in data["directive"]:
        line = header[directive["line"] - 1]
        assert re.match(rf"^\s*#\s*{directive['action']}\s+{directive['macro']}\b", line), directive


def test_nested_check_conditions_are_regrouped():
    condition = "defined(MBEDTLS_THREADING_PTHREAD) && !defined(MBEDTLS_THREADING_C) || defined(MBEDTLS_THREADING_IMPL)"
    assert regroup(condition) == (
        "(defined(MBEDTLS_THREADING_PTHREAD)) && (!defined(MBEDTLS_THREADING_C) || defined(MBEDTLS_THREADING_IMPL))"
    )
    assert regroup("defined(A) && (B || C)") == "defined(A) && (B || C)"


def test_kconfig_tables_agree_with_the_per_option_summary():
    """esp-idf-mbedtls-kconfig.tsv (one row per option, presence and default per tag) and the per-tag table the
    knowledge is generated from tell the same story."""
    with (REFERENCE / "esp-idf-mbedtls-kconfig.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    releases = load().esp_idf
    tags = [column for column in rows[0] if re.fullmatch(r"v\d+\.\d+\.\d+", column)]
    for row in rows:
        for tag in tags:
            assert (row["name"] in releases[tag[1:4]].symbols) == (row[tag] == "y"), (row["name"], tag)
        parts = re.split(r"(?:^| \| )(v\d+\.\d+\.\d+): ", row["default_by_tag"])[1:]
        for tag, default in zip(parts[::2], parts[1::2], strict=True):
            assert releases[tag[1:4]].symbols[row["name"]].default == default, (row["name"], tag)
    asymmetric = {
        series: release.symbols["CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN"].default for series, release in releases.items()
    }
    assert asymmetric["3.3"] == "n" and asymmetric["4.0"] == "y"
