"""The degradation matrix: every failing log, as users really paste it, still gets the right answer.

Every failing corpus log (each debug level kept) and every real-world case goes through each variant of
``tests/variants.py`` (console only, last 25 lines, the error line alone, re-framed as ESP-IDF, wrapped at
80 columns) and as it is. The issue's rule, for each: the right category first, or an honest differential
(the right category among the findings, the top one below 0.6 confidence); never a wrong category first
at 0.7 or more. A wrapped copy gets the same top category as the original. A variant that leaves a log
unchanged is not tested again. ``benchmarks/degradation_matrix.py`` prints the counts per variant.
"""

from __future__ import annotations

import pytest

from tests.measure import (
    ACCEPTABLE,
    ORIGINAL,
    cell,
    cell_applies,
    degradation_subjects,
    measured,
    variant_names,
)

SUBJECTS = degradation_subjects()
CASES = [(subject, variant) for subject in SUBJECTS for variant in variant_names()]
CASES = [(subject, variant) for subject, variant in CASES if variant == ORIGINAL or cell_applies(subject, variant)]
WRAPPED = "wrapped at 80 columns"


@pytest.mark.parametrize(
    ("subject", "variant"),
    measured("degradation: right answer", [f"{s.id} | {v}" for s, v in CASES], CASES),
)
def test_right_category_first_or_an_honest_differential(subject, variant):
    result = cell(subject, variant)
    assert result.outcome in ACCEPTABLE, f"{result.outcome}: top {result.top}, expected {subject.category}"


WRAP_CASES = [subject for subject in SUBJECTS if cell_applies(subject, WRAPPED)]


@pytest.mark.parametrize(
    "subject",
    measured("degradation: wrapped", [subject.id for subject in WRAP_CASES], [(s,) for s in WRAP_CASES]),
)
def test_wrapped_copy_keeps_the_top_category(subject):
    original, wrapped = cell(subject, ORIGINAL), cell(subject, WRAPPED)
    assert (wrapped.top or ("nothing",))[0] == (original.top or ("nothing",))[0], (original.top, wrapped.top)


def test_the_matrix_covers_every_failing_log_and_every_variant():
    assert len(SUBJECTS) >= 90
    assert {variant for _, variant in CASES} == set(variant_names())
