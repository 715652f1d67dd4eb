"""The mbedTLS 3.6 runs, saved: what tlsdiag says about them, with no build and no server.

``tests/fixtures/realtls36/<scenario>/`` holds each scenario's failing and working logs at debug
levels 1 and 4 (level 4 compressed as ``.log.xz``) and a ``case.json`` (recorded by
``python -m tests.harness.record36``). The same checks as the live tests run on them: the printed
code decoded, the right category first, the step where ``tlsdiag diff`` places the divergence; the
cases tlsdiag gets wrong today are those of :data:`tests.test_realtls36.KNOWN_GAPS`.
"""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.harness.scenarios36 import BY_NAME, SCENARIOS
from tests.test_realtls36 import LEVELS, decoded_names, diagnose, diff, first_step, known_gap, top_category

CASES = FIXTURES / "realtls36"
CASE_FIELDS = {
    "scenario",
    "what_differs",
    "expected_error_codes",
    "expected_code_names",
    "final_return",
    "category",
    "cause",
    "fix",
    "step",
    "alert",
    "notes",
    "files",
    "configuration",
}


def log(name: str, which: str, level: int) -> Path:
    plain = CASES / name / f"{which}.level{level}.log"
    return plain if plain.exists() else plain.with_name(plain.name + ".xz")


def text(path: Path) -> str:
    data = path.read_bytes()
    return (lzma.decompress(data) if path.suffix == ".xz" else data).decode("utf-8")


def case(name: str) -> dict:
    return json.loads((CASES / name / "case.json").read_text(encoding="utf-8"))


def cases(check: str, names: list[str] | None = None) -> list:
    return [
        pytest.param(name, level, id=f"{name}-level{level}", marks=known_gap(check, name, level))
        for name in (names if names is not None else sorted(BY_NAME))
        for level in LEVELS
    ]


def test_every_scenario_is_saved_at_both_levels():
    assert {path.name for path in CASES.iterdir() if path.is_dir()} == set(BY_NAME)
    assert len(SCENARIOS) >= 16
    for name in BY_NAME:
        for which in ("bad", "good"):
            for level in LEVELS:
                assert log(name, which, level).exists(), (name, which, level)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_case_json_agrees_with_the_scenario_and_the_logs(name):
    recorded, scenario = case(name), BY_NAME[name]
    assert set(recorded) >= CASE_FIELDS
    assert recorded["category"] == scenario.category and recorded["step"] == scenario.step
    assert recorded["expected_error_codes"] == ([scenario.code] if scenario.code else [])
    for entry in recorded["files"]:
        content = text(CASES / name / entry["file"])
        assert len(content.encode("utf-8")) == entry["bytes"]
        printed = entry["final_return"]
        if entry["file"].startswith("bad") and scenario.code:
            assert printed == [scenario.code] and f"{scenario.call} returned {scenario.code}" in content.lower()
        else:
            assert printed == [] and entry["client_exit"] == 0


@pytest.mark.parametrize(("name", "level"), cases("decode", sorted(s.name for s in SCENARIOS if s.code)))
def test_the_printed_code_is_decoded_for_3_6(name, level):
    scenario = BY_NAME[name]
    exit_code, document = diagnose(log(name, "bad", level))
    assert exit_code == 1
    assert "3.6" in (document["context"]["mbedtls_series"] or []), document["context"]
    assert scenario.code_name in decoded_names(document, scenario.code or ""), document["errors"]


@pytest.mark.parametrize(("name", "level"), cases("category"))
def test_the_top_finding_has_the_right_category(name, level):
    _, document = diagnose(log(name, "bad", level))
    assert top_category(document) == BY_NAME[name].category, [(f["rule"], f["category"]) for f in document["findings"]]


@pytest.mark.parametrize(("name", "level"), cases("step"))
def test_diff_names_the_step_where_the_runs_part(name, level):
    document = diff(log(name, "good", level), log(name, "bad", level))
    assert first_step(document) == BY_NAME[name].step, document["first_divergence"]
