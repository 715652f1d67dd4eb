"""Rules as data, tested as data: every case names a real log and the finding it must produce."""

from __future__ import annotations

import tomllib

import jsonschema
import pytest

from tests.conftest import FIXTURES, ROOT
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.rules import diagnose, load_rules
from tlsdiag.rules.predicates import PREDICATES

CASES = [
    case
    for path in sorted((FIXTURES / "rules").glob("cases*.toml"))
    for case in tomllib.loads(path.read_text())["case"]
]
SHARED = ROOT.parent / "shared"


def _path(case):
    return (SHARED / case["log"][len("shared/") :]) if case["log"].startswith("shared/") else FIXTURES / case["log"]


@pytest.mark.parametrize("case", CASES, ids=[case["log"] for case in CASES])
def test_case(case):
    path = _path(case)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    analysis = analyse(str(path))
    if "mbedtls_version" in case:
        analysis.override_version(case["mbedtls_version"])
    findings = diagnose(analysis)
    assert findings, "no finding at all"
    top = findings[0]
    if "category" in case:
        assert top.category == case["category"], [(f.rule, f.category, f.confidence) for f in findings]
    if "rule" in case:
        assert top.rule == case["rule"], [(f.rule, f.category, f.confidence) for f in findings]
    for rule in case.get("also", ()):
        assert rule in {finding.rule for finding in findings}
    for text in case.get("fix_options", ()):
        assert text in {fix.option for finding in findings[:2] for fix in finding.fixes}, top.fixes
    for text in case.get("explanation_mentions", ()):
        assert text in top.explanation or text in top.title


def _diff_only(rule):
    """Rules that read the difference to a working run: tests/test_diff.py covers them."""
    tables = [rule.get("when", {}), *rule.get("any", ())]
    return all(name.startswith("diff_") for table in tables for name in table)


def test_every_rule_has_a_case():
    covered = {case.get("rule") for case in CASES} | {rule for case in CASES for rule in case.get("also", ())}
    missing = [rule["id"] for rule in load_rules() if rule["id"] not in covered and not _diff_only(rule)]
    assert not missing


def test_rule_files_match_the_schema():
    import json

    schema = json.loads((ROOT / "knowledge" / "schema" / "rule.schema.json").read_text())
    for path in sorted((ROOT / "knowledge" / "rules").glob("*.toml")):
        jsonschema.Draft202012Validator(schema).validate(tomllib.loads(path.read_text()))


def test_rules_only_use_known_conditions():
    from tlsdiag.rules.predicates import load_predicate_modules

    load_predicate_modules()
    for rule in load_rules():
        tables = [rule.get("when", {}), rule.get("unless", {}), *rule.get("any", ())]
        for table in tables:
            assert set(table) <= set(PREDICATES), (rule["id"], set(table) - set(PREDICATES))


def test_rule_ids_are_unique():
    ids = [rule["id"] for rule in load_rules()]
    assert len(ids) == len(set(ids))
