#!/usr/bin/env python3
"""Throughput and peak memory of ``tlsdiag.analysis.read`` on a large log made of real corpus lines.

The reader must stream: its peak RSS may not grow with the input. This script writes a synthetic log
of the requested size into a temporary directory by repeating the lines of the real logs in
``shared/corpus`` (CRLF ends and all), optionally compresses it, then reads it in a fresh child
process, so that the peak RSS reported (``resource.getrusage``) belongs to reading alone, next to the
same process's RSS before reading. The log is written by another child, so that the parent stays small:
on Linux a child's peak RSS starts from its parent's at ``fork``. The file is deleted afterwards.

    python benchmarks/read_memory.py [--size 200MB] [--compress gzip|xz|bzip2] [--corpus DIR]

Sizes are binary: 200MB means 200 MiB.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import lzma
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
OPENERS = {"gzip": gzip.open, "xz": lzma.open, "bzip2": bz2.open}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*([KMG]?)(?:i?B)?", text.strip(), re.I)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 200MB)")
    return int(match[1]) * UNITS[match[2].upper()]


def corpus_lines(corpus: Path) -> list[bytes]:
    lines = [line for path in sorted(corpus.glob("*/*.log")) for line in path.read_bytes().splitlines(keepends=True)]
    if not lines:
        sys.exit(f"no *.log files under {corpus}")
    return [line if line.endswith((b"\n", b"\r")) else line + b"\n" for line in lines]


def write_log(path: Path, size: int, lines: list[bytes], compress: str | None) -> int:
    """Write ``size`` bytes of text (before compression) and return the number of lines written."""
    opener = OPENERS[compress] if compress else open
    written = count = 0
    with opener(path, "wb") as out:
        while written < size:
            batch: list[bytes] = []
            batch_size = 0
            for line in lines:
                batch.append(line)
                batch_size += len(line)
                if written + batch_size >= size:
                    break
            out.write(b"".join(batch))
            written += batch_size
            count += len(batch)
    return count


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def read_in_this_process(path: str) -> None:
    """The child: read the log once and print what it cost, as JSON."""
    sys.path.insert(0, str(ROOT))
    from tlsdiag.analysis.read import open_input

    before = max_rss_bytes()
    start = time.perf_counter()
    count = 0
    with open_input(path) as log:
        for _line in log:
            count += 1
    elapsed = time.perf_counter() - start
    stats = log.stats
    result = {
        "lines": count,
        "seconds": elapsed,
        "rss_before": before,
        "rss_peak": max_rss_bytes(),
        "bytes_read": stats.bytes_read,
        "text_bytes": stats.decompressed_bytes or stats.bytes_read,
        "notes": stats.notes,
    }
    print(json.dumps(result))


def run_child(arguments: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True, env=env, check=False)
    if child.returncode != 0:
        sys.exit(child.stderr)
    return child.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("200MB"), help="text size (default 200MB)")
    parser.add_argument("--compress", choices=sorted(OPENERS), help="compress the synthetic log first")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of real logs (default shared/corpus)")
    parser.add_argument("--write", help=argparse.SUPPRESS)  # a child's job: write the log, print its lines
    parser.add_argument("--read", help=argparse.SUPPRESS)  # a child's job: read the log, print the figures
    args = parser.parse_args()
    if args.write:
        print(write_log(Path(args.write), args.size, corpus_lines(args.corpus), args.compress))
        return 0
    if args.read:
        read_in_this_process(args.read)
        return 0

    with tempfile.TemporaryDirectory(prefix="tlsdiag-read-") as scratch:
        path = Path(scratch) / ("synthetic.log" + (f".{args.compress}" if args.compress else ""))
        start = time.perf_counter()
        writer = [*sys.argv[1:], "--write", str(path)]
        expected = int(run_child(writer))
        elapsed = time.perf_counter() - start
        print(f"wrote {args.size / UNITS['M']:.0f} MiB of text ({expected} lines) in {elapsed:.1f} s")
        result = json.loads(run_child(["--read", str(path)]))
    if result["lines"] != expected:
        print(f"MISMATCH: read {result['lines']} lines, wrote {expected}")
    seconds = result["seconds"]
    print(
        f"read {result['lines']} lines in {seconds:.2f} s: {result['lines'] / seconds:,.0f} lines/s, "
        f"{result['text_bytes'] / seconds / 1e6:.0f} MB/s of text"
    )
    print(f"peak RSS {result['rss_peak'] / 1e6:.1f} MB (before reading {result['rss_before'] / 1e6:.1f} MB)")
    for note in result["notes"]:
        print(f"note: {note}")
    return 0 if result["lines"] == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
