#!/usr/bin/env python3
"""Lines per second of the whole parse, next to a bare regex pass, and peak memory by input size.

The input is a large level-4 log made by concatenating the real corpus logs (``tests/fixtures/corpus``)
until it reaches the requested size. In the same run it measures:

* a bare Python pass that reads the file and only splits each line into envelope fields with one
  regular expression (the fastest anything line-based can be);
* the whole analysis: read + parse (prefilter and Lark) + fold (dumps, TLS decoding) + sessions;

and prints the ratio. Memory is measured in a fresh child process per size (peak RSS), so that
sizes do not inherit each other's peak.

    python benchmarks/parse_speed.py [--size-mb 20] [--memory-sizes 20,500]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "corpus"  # a byte-for-byte copy of the shared corpus

ENVELOPE = re.compile(
    r"(?:[^\s:]*[/\\])?([\w.-]+\.[ch]):(\d+): (?:\|(\d)\| )?(?:(0x[0-9a-fA-F]+): )?(.*)"
    r"|([EWIDV]) \((\d+)\) ([^:]+): (.*)"
)


def make_log(path: Path, size_mb: int) -> int:
    sources = sorted(CORPUS.glob("*/*.log"))
    if not sources:
        sys.exit(f"no corpus logs under {CORPUS}")
    chunk = b"".join(source.read_bytes() for source in sources)
    target = size_mb * 1024 * 1024
    written = 0
    with path.open("wb") as handle:
        while written < target:
            handle.write(chunk)
            written += len(chunk)
    return written


def regex_pass(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    lines = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            lines += 1
            match = ENVELOPE.match(line)
            if match:
                match.groups()
    return lines, time.perf_counter() - start


def full_pass(path: Path) -> tuple[int, float, int]:
    sys.path.insert(0, str(ROOT))
    from tlsdiag.analysis.pipeline import analyse

    start = time.perf_counter()
    analysis = analyse(str(path))
    return analysis.lines, time.perf_counter() - start, len(analysis.sessions)


def child_memory(path: Path) -> None:
    """Run in a child process: analyse and print lines, seconds and peak RSS."""
    lines, seconds, _ = full_pass(path)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{lines} {seconds:.2f} {peak_kb}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=20, help="size of the speed test input")
    parser.add_argument("--memory-sizes", default="20,500", help="comma-separated sizes (MB) for the memory test")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_memory(Path(args.child))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "big.log"
        size = make_log(path, args.size_mb)
        lines, regex_seconds = regex_pass(path)
        _, full_seconds, sessions = full_pass(path)
        regex_rate, full_rate = lines / regex_seconds, lines / full_seconds
        print(f"input: {size / 1e6:.1f} MB, {lines} lines, {sessions} sessions kept")
        print(f"bare regex envelope pass : {regex_rate:>10,.0f} lines/s ({regex_seconds:.2f} s)")
        print(f"whole parse (read..sessions): {full_rate:>7,.0f} lines/s ({full_seconds:.2f} s)")
        print(f"ratio whole/regex: {full_rate / regex_rate:.2f} (goal >= 0.25)")
        for size_mb in (int(value) for value in args.memory_sizes.split(",") if value):
            make_log(path, size_mb)
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            lines_done, seconds, peak_kb = result.stdout.split()
            print(
                f"memory: {size_mb} MB input, {lines_done} lines in {seconds} s, peak RSS {int(peak_kb) / 1024:.1f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
