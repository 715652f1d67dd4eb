#!/usr/bin/env python3
"""Wall time of ``tlsdiag explain -0x7280`` as a whole process, next to a bare ``python -c pass``.

Both commands run alternately in the same session, so that the machine's load affects them alike.
The figure that matters is the ratio of the medians (target: at most 2.5x the bare interpreter start).
It measures the installed ``tlsdiag`` when one is on PATH (install the project in a virtual
environment first), else ``python -m tlsdiag`` from this source tree.

    python benchmarks/explain_startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_once(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    installed = shutil.which("tlsdiag")
    env = dict(os.environ)
    # Byte-compiled files must be allowed, as in any installation: without them every run compiles
    # the sources again and the figure measures the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if installed:
        tool = [installed]
    else:  # run from the source tree
        tool = [sys.executable, "-m", "tlsdiag"]
        env["PYTHONPATH"] = str(ROOT)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tlsdiag explain -0x7280": [*tool, "explain", "-0x7280"],
    }
    for command in commands.values():  # warm the file cache and the bytecode cache
        time_once(command, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(time_once(command, env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, values in samples.items():
        median, fastest = medians[name] * 1000, min(values) * 1000
        print(f"{name:28s} median {median:7.1f} ms   min {fastest:7.1f} ms   ({len(values)} runs)")
    ratio = medians["tlsdiag explain -0x7280"] / medians["python -c pass"]
    print(f"ratio (median explain / median bare interpreter): {ratio:.2f}x  (target <= 2.5x)")
    print(f"command measured: {' '.join(commands['tlsdiag explain -0x7280'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
