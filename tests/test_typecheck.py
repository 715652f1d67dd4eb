"""tlsdiag/ passes the type checker with the project's configuration (``[tool.mypy]`` in pyproject.toml).

The checker runs as a user runs it (``python -m mypy`` at the project root, packages and options from the
configuration), so the test and CI read the same settings. Its cache lives in ``.mypy_cache`` at the root:
a warm run takes under a second, a fresh one 5 to 10 seconds on two cores.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: ``tlsdiag/x.py:12: error: message  [code]``
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


def _errors(output: str) -> list[tuple[str, str, str, str]]:
    """(file, line, code, message) of every error the checker printed."""
    found = []
    for line in output.splitlines():
        match = _ERROR.match(line.strip())
        if match:
            found.append((match["path"], match["line"], match["code"] or "", match["message"]))
    return found


def test_error_lines_are_read_with_their_code():
    output = (
        'tlsdiag/a.py:3: error: Item "None" of "str | None" has no attribute "x"  [union-attr]\n'
        "tlsdiag/a.py:3: note: a note is not an error\n"
        "tlsdiag/b.py:9: error: Syntax problem\n"
    )
    assert _errors(output) == [
        ("tlsdiag/a.py", "3", "union-attr", 'Item "None" of "str | None" has no attribute "x"'),
        ("tlsdiag/b.py", "9", "", "Syntax problem"),
    ]


def test_tlsdiag_passes_the_type_checker():
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = _errors(result.stdout)
    assert errors or result.returncode == 0, f"mypy failed without reporting errors:\n{result.stdout}{result.stderr}"
    report = [f"{path}:{line}: {message}  [{code}]" for path, line, code, message in errors]
    assert not report, "type errors in tlsdiag/:\n" + "\n".join(report)
