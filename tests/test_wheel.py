"""A wheel built from this tree carries its data: installed into a fresh environment, it finds the knowledge base."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.wheel
def test_installed_wheel_explains_from_its_own_data(tmp_path):
    dist = tmp_path / "dist"
    # The build backend is one of the test extras: building without isolation needs no download.
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("tlsdiag-*.whl"))

    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "tlsdiag/knowledge/data/errors/mbedtls.json" in names
    assert "tlsdiag/knowledge/data/schema/index.toml" in names
    assert "tlsdiag/knowledge/store.py" in names
    assert "tlsdiag/grammars/README.md" in names
    assert any(name.startswith("tlsdiag/report/templates/") for name in names)
    assert any(name.startswith("tlsdiag/schemas/") for name in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    # After the install (so that pip cannot mistake a borrowed copy for it), the scratch environment
    # borrows the dependencies (typer, jinja2 ...) of the running one through a .pth file; its own
    # site-packages comes first, so tlsdiag itself can only come from the wheel.
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    borrowed = [path for path in sys.path if path.endswith("site-packages")]
    (Path(own_site) / "borrowed-deps.pth").write_text("\n".join(borrowed) + "\n")
    run = subprocess.run(
        [str(env_dir / "bin" / "tlsdiag"), "explain", "-0x4290", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # away from the source tree, so only the installed copy can answer
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["codes"][0]["interpretations"][0]["category"] == "memory"
    located = subprocess.run(
        [str(python), "-c", "import tlsdiag.knowledge as k; print(k.default_root())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert str(env_dir) in located.stdout, located.stdout
