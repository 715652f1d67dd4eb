"""Rules as data, tested as data: every case names a real log and the finding it must produce."""

from __future__ import annotations

import functools
import tomllib

import jsonschema
import pytest

from tests.conftest import FIXTURES, ROOT, fixture_files
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.rules import diagnose, load_rules
from tlsdiag.rules.predicates import PREDICATES

CASES = [
    case
    for path in fixture_files(FIXTURES / "rules", "cases*.toml")
    for case in tomllib.loads(path.read_text())["case"]
]


@functools.cache
def _findings(log: str, mbedtls_version: str | None) -> tuple:
    """The diagnosis of a case's log (a path relative to tests/fixtures), computed once for all the tests here."""
    analysis = analyse(str(FIXTURES / log))
    if mbedtls_version:
        analysis.override_version(mbedtls_version)
    return tuple(diagnose(analysis))


def _case_findings(case) -> tuple:
    return _findings(case["log"], case.get("mbedtls_version"))


@pytest.mark.parametrize("case", CASES, ids=[case["log"] for case in CASES])
def test_case(case):
    assert (FIXTURES / case["log"]).is_file(), f"{case['log']} is not in tests/fixtures"
    findings = _case_findings(case)
    assert findings, "no finding at all"
    top = findings[0]
    if "category" in case:
        assert top.category == case["category"], [(f.rule, f.category, f.confidence) for f in findings]
    if "rule" in case:
        assert top.rule == case["rule"], [(f.rule, f.category, f.confidence) for f in findings]
    for rule in case.get("also", ()):
        assert rule in _named_rules(findings), [(f.rule, f.agreeing) for f in findings]
    for text in case.get("fix_options", ()):
        assert text in {fix.option for finding in findings for fix in finding.fixes}, top.fixes
    for text in case.get("explanation_mentions", ()):
        assert text in top.explanation or text in top.title


def _named_rules(findings) -> set[str]:
    """The rules a diagnosis names: its findings' own, and those that agreed with one of them."""
    return {finding.rule for finding in findings} | {rule for finding in findings for rule in finding.agreeing}


def _diff_only(rule):
    """Rules that read the difference to a working run: tests/test_diff.py covers them."""
    tables = [rule.get("when", {}), *rule.get("any", ())]
    return all(name.startswith("diff_") for table in tables for name in table)


def test_every_case_log_is_in_the_repository():
    missing = [case["log"] for case in CASES if not (FIXTURES / case["log"]).is_file()]
    assert not missing, f"cases name logs that are not in tests/fixtures: {missing}"


def test_every_rule_fires_on_a_log_of_its_own_case():
    """Each rule has a case whose log is in the repository and on which the rule is among the findings."""
    fired: set[str] = set()
    for case in CASES:
        claimed = {case.get("rule"), *case.get("also", ())} - {None}
        if claimed and (FIXTURES / case["log"]).is_file():
            fired |= claimed & _named_rules(_case_findings(case))
    missing = [rule["id"] for rule in load_rules() if rule["id"] not in fired and not _diff_only(rule)]
    assert not missing, f"rules with no case in the repository that makes them fire: {missing}"


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
