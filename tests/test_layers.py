"""The pipeline's layers, checked on the imports: the rules and the diff read the typed attempt views
(``tlsdiag.analysis.views``), never the parser's events or the session builder's internals, and the
reporters never analyse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "tlsdiag"

#: the stages before the typed views: what the rules and the diff must not reach into
ANALYSIS_INTERNALS = (
    "tlsdiag.analysis.events",
    "tlsdiag.analysis.sessions",
    "tlsdiag.analysis.parse",
    "tlsdiag.analysis.fold",
    "tlsdiag.analysis.read",
    "tlsdiag.analysis.summary",
    "tlsdiag.analysis.outcome",
)
#: what a reporter must not call: the analysis stages and the rule engine (it reads documents, findings and the
#: diff's comparison, which are results)
ANALYSING = (*ANALYSIS_INTERNALS, "tlsdiag.rules")
#: ``tlsdiag parse`` reports the parser's events themselves: its reporter reads them by design
PARSE_REPORT = PACKAGE / "report" / "events.py"


def _modules(*parts: str) -> list[Path]:
    path = PACKAGE.joinpath(*parts)
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, with ``from x import y`` also counted as ``x.y`` (a submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _reaches(imports: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports if any(name == bad or name.startswith(bad + ".") for bad in forbidden))


@pytest.mark.parametrize("path", [*_modules("rules"), *_modules("diff")], ids=lambda path: str(path.relative_to(ROOT)))
def test_rules_and_diff_read_only_the_typed_views(path):
    assert not _reaches(_imports(path), ANALYSIS_INTERNALS)


@pytest.mark.parametrize(
    "path",
    [path for path in _modules("report") if path != PARSE_REPORT],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_reporters_do_not_analyse(path):
    assert not _reaches(_imports(path), ANALYSING)


def test_the_check_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from tlsdiag.analysis import events\nfrom tlsdiag.analysis.views import AttemptView\n")
    assert _reaches(_imports(sample), ANALYSIS_INTERNALS) == ["tlsdiag.analysis.events"]
