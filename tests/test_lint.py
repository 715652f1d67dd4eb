"""The code base stays ruff-clean (part of the test command, so CI and developers run the same check).

ruff runs through the interpreter running the tests (``sys.executable -m ruff``): it is one of the test extras, so
it is there whether or not the virtual environment is activated, and the check never skips.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CHECKED = ["tlsdiag", "tests", "tools", "benchmarks", "fuzz"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
