"""The suite stands on its own: a fresh clone with nothing beside it runs every test.

No test, helper or case file names a path outside the repository (the shared corpus, the reference tables and
the real-world threads are copied into tests/fixtures); conftest.py also watches every file the tests open and
fails the run when one lies beside the clone. Every fixture folder says where its files came from.
"""

from __future__ import annotations

import getpass
import re
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, NEIGHBOURS, ROOT, fixture_files, outside_the_repository

#: the files that make up the test suite: its code, its helpers, and the data files written for it
SUITE = [
    *sorted((ROOT / "tests").glob("*.py")),
    *sorted((ROOT / "tests" / "harness").glob("*.py")),
    *sorted(FIXTURES.glob("*/*.py")),
    *sorted((FIXTURES / "rules").glob("*.toml")),
    *sorted((FIXTURES / "tls").glob("*.hex")),
    ROOT / ".ci" / "run",
]
#: ways of naming a place outside the repository: its parent, a ``..`` that climbs out, a neighbour by name, or
#: an absolute path into the machine's work folders
OUTSIDE = re.compile(
    r"ROOT\.parent"  # the folder that holds the clone
    r"|/\s*['\"]\.\.['\"]|Path\(\s*['\"]\.\.|\.\./shared"  # a climb out of the repository
    r"|(?<![\w/.-])shared/"  # the project's shared material by its own name
    r"|['\"]/(?:work|home|root)/"  # an absolute path into a work or home folder
)
#: the mark of the lines of conftest.py that look beside the clone on purpose, to notice a test that reads there
WATCHER = "# the watcher"
#: ``Path(__file__)...parent.parent`` or ``...parents[N]``: how far up a file climbs from where it is
CLIMB = re.compile(r"__file__\)(?:\.resolve\(\))?(?P<parents>\.parents\[(?P<index>\d+)\]|(?:\.parent(?!s))+)")


def _named_outside(text: str, depth: int) -> list[tuple[int, str]]:
    """The lines of ``text`` (a file ``depth`` folders below the repository root) that name a place outside it."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.endswith(WATCHER):
            continue
        if OUTSIDE.search(line):
            found.append((number, line.strip()))
        for climb in CLIMB.finditer(line):
            up = int(climb["index"]) + 1 if climb["index"] else climb["parents"].count(".parent")
            if up > depth:  # ``depth`` folders up from the file is the repository root
                found.append((number, f"climbs {up} folders from {depth} below the root: {line.strip()}"))
    return found


def test_the_guard_sees_the_ways_of_leaving_the_repository():
    leaving = [
        'CORPUS = ROOT.parent / "shared" / "corpus"',
        'path = "../shared/corpus/01/bad.log"',
        'log = "shared/corpus/01-unknown-ca-v2.28/bad.log"',
        'TABLE = Path(__file__).resolve().parents[2] / "reference"',
        "TABLE = Path(__file__).parent.parent.parent",
        'open("/work/shared/reference/x.tsv")',
        'TABLE = FIXTURES / ".." / ".." / ".." / "reference"',
    ]
    for line in leaving:
        assert _named_outside(line, depth=2), line  # as if in tests/some_test.py
    staying = [
        'CORPUS = FIXTURES / "corpus"  # the 06-no-shared-ciphersuite folder',
        "ROOT = Path(__file__).resolve().parent.parent",
        'TABLE = Path(__file__).resolve().parents[1] / "reference"',
        '("../Middlewares/Third_Party/mbedTLS/library/ssl_tls.c:4094: bad message length", "ssl.bad-length")',
    ]
    for line in staying:
        assert not _named_outside(line, depth=2), line


def test_no_test_names_a_path_outside_the_repository():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line}"
        for path in SUITE
        if path != Path(__file__).resolve()
        for number, line in _named_outside(path.read_text(encoding="utf-8"), len(path.relative_to(ROOT).parts))
    ]
    assert not found, "\n".join(found)


def test_rule_cases_name_logs_inside_the_fixtures():
    cases = [
        case
        for path in fixture_files(FIXTURES / "rules", "cases*.toml")
        for case in tomllib.loads(path.read_text())["case"]
    ]
    outside = [case["log"] for case in cases if not (FIXTURES / case["log"]).resolve().is_relative_to(FIXTURES)]
    assert not outside


def test_opening_a_file_beside_the_repository_is_noticed():
    neighbours = frozenset({ROOT.parent / "shared"})
    assert outside_the_repository(str(ROOT.parent / "shared" / "corpus" / "01" / "bad.log"), neighbours)
    assert outside_the_repository(str(ROOT / ".." / "shared" / "corpus" / "README.md"), neighbours)
    assert not outside_the_repository(str(FIXTURES / "corpus" / "README.md"), neighbours)
    assert not outside_the_repository(str(ROOT.parent / "shared-other" / "x.log"), neighbours)
    source = ROOT.parent / "shared" / "vendor" / "mbedtls-src.tar.xz"  # named by TLSDIAG_MBEDTLS_SRC
    assert not outside_the_repository(str(source), neighbours, allowed=(source,))


def test_the_running_python_and_temporary_files_are_not_neighbours():
    assert not outside_the_repository(sys.executable, NEIGHBOURS)
    assert not outside_the_repository(str(Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"), NEIGHBOURS)
    assert not outside_the_repository(str(ROOT / "tests" / "conftest.py"), NEIGHBOURS)


#: a folder copied whole from the project's shared material says so in this file, next to its own README
WHOLE_COPY = "FIXTURE-SOURCE.md"


@pytest.mark.parametrize("folder", sorted(path for path in FIXTURES.iterdir() if path.is_dir()), ids=lambda p: p.name)
def test_every_fixture_folder_says_where_its_files_came_from(folder):
    readme = folder / "README.md"
    assert readme.is_file(), f"{folder.relative_to(ROOT)} has no README.md"
    if (folder / WHOLE_COPY).is_file() or folder.name == "reference":
        return  # a set copied whole (its README names the source of the set; the reference README every table)
    text = "\n".join(path.read_text(encoding="utf-8") for path in folder.glob("README*.md"))
    files = [path.name for path in folder.iterdir() if path.is_file() and not path.name.startswith("README")]
    unnamed = [name for name in files if name not in text and not (name.endswith(".json") and name[:-5] in text)]
    assert not unnamed, f"{readme.relative_to(ROOT)} does not say where these came from: {unnamed}"


def test_nothing_tracked_is_ignored():
    import subprocess

    result = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "not a git repository" in result.stderr:
        return  # an unpacked source archive: there is nothing tracked to compare with
    assert result.returncode == 0, result.stderr
    assert not result.stdout.split(), f".gitignore lists tracked files: {result.stdout.split()}"
