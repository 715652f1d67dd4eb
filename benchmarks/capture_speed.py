#!/usr/bin/env python3
"""Time per new line of ``tlsdiag capture`` over a long session: flat, whatever the session's length.

A session is made of real corpus logs (``tests/fixtures/corpus``: ssl_client2 runs at debug levels 1 to 4)
concatenated up to ``--span`` lines, that block repeated so that every span of the session holds the same
text and only its place differs. It is fed the way the capture's reader hands a program's output over,
``--chunk-lines`` lines at a time, with a pause (the program went quiet for ``--settle`` seconds) every
``--pause-every`` lines; every failed attempt is diagnosed and its JSON report rendered, as capture does.
The processor time each piece of output took (its analysis, and at a pause the reports it led to; processor
rather than wall-clock time, so that other work on the machine does not blur the figures) is charged to the
lines it brought. A first span warms up (grammars, knowledge, templates, the parser's memo of messages
are filled once per capture); the table shows the time per line over the first, middle and last spans
of the ``--lines`` lines after it (and then every span in turn), for two ways of doing the work:

* ``incremental``: capture's analysis (:mod:`tlsdiag.analysis.incremental`), each line read once;
* ``window``: the approach capture used before, kept here as the baseline: at every pause the whole
  batch pipeline runs again over the output since the last report (reset after a report, after 4 MiB
  without a failure, and at 16 MiB).

Two sessions by default: ``mixed`` (every corpus log: a failed attempt every few hundred lines) and
``working`` (the working runs only: a device that keeps connecting fine, where the window is only reset
after 4 MiB).

    python benchmarks/capture_speed.py [--lines 100000] [--pause-every 500] [--mode both|incremental|window]
        [--session mixed|working]

The incremental figure stays flat (the last span within about 20 % of the first); the window figure grows
with the output since the last failure.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "fixtures" / "corpus"  # a byte-for-byte copy of the shared corpus

from tlsdiag import core  # noqa: E402 -- after the path is set, for a checkout that is not installed
from tlsdiag.analysis.incremental import PAUSE, Pause  # noqa: E402
from tlsdiag.capture import Monitor, Settings  # noqa: E402
from tlsdiag.errors import InputError  # noqa: E402
from tlsdiag.report import Format  # noqa: E402
from tlsdiag.report.diagnose import render_diagnose  # noqa: E402

WINDOW_LIMIT = 16 * 1024 * 1024  # the former capture's bounds
QUIET_LIMIT = 4 * 1024 * 1024


def session_lines(count: int, block: int, pattern: str = "*/*.log") -> list[bytes]:
    """``count`` lines of real logs: the corpus concatenated in a fixed order up to ``block`` lines, and that
    block again and again, so that every span of ``block`` lines holds the same text and only its place in
    the session differs."""
    sources = sorted(CORPUS.glob(pattern))
    if not sources:
        sys.exit(f"no corpus logs match {pattern} under {CORPUS}")
    lines: list[bytes] = []
    for source in sources:
        lines.extend(source.read_bytes().splitlines(keepends=True))
        if len(lines) >= block:
            break
    lines = lines[:block]
    return (lines * (count // len(lines) + 1))[:count]


def pieces(lines: list[bytes], chunk_lines: int, pause_every: int) -> Iterator[tuple[int, bytes | Pause]]:
    """(lines fed so far, piece): chunks of output, and a pause every ``pause_every`` lines."""
    for start in range(0, len(lines), chunk_lines):
        end = min(start + chunk_lines, len(lines))
        yield end, b"".join(lines[start:end])
        if end // pause_every != start // pause_every:
            yield end, PAUSE


def timed(feed: Iterable[tuple[int, bytes | Pause]], costs: list[float]) -> Iterator[bytes | Pause]:
    """The pieces, charging the time until the next one is asked for (the piece's analysis, and at a pause
    the reports it leads to) to the last line fed."""
    for position, piece in feed:
        started = time.process_time()
        yield piece
        costs[max(position - 1, 0)] += time.process_time() - started


class _Null(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def incremental(output: Iterable[bytes | Pause]) -> int:
    monitor = Monitor(Settings(("device",), Format.json), _Null())
    monitor.watch(output)
    return monitor.reported


def window(output: Iterable[bytes | Pause]) -> int:
    """The former capture: the batch pipeline over the output since the last report, at every pause."""
    data = bytearray()
    reported = 0

    def analyse(final: bool) -> None:
        nonlocal data, reported
        if not data.strip():
            return
        try:
            analysis = core.analyse_input(None, stdin=io.BytesIO(bytes(data)))
        except InputError:
            data = bytearray()
            return
        primary = analysis.primary
        if (primary is not None and primary.failed) or (final and reported == 0):
            render_diagnose(core.diagnose(analysis), Format.json)
            reported += 1
            data = bytearray()
        elif len(data) > QUIET_LIMIT:
            data = bytearray()

    for piece in output:
        if isinstance(piece, Pause):
            analyse(final=False)
            continue
        data += piece
        if len(data) > WINDOW_LIMIT:
            analyse(final=False)
    analyse(final=True)
    return reported


MODES: dict[str, Callable[[Iterable[bytes | Pause]], int]] = {"incremental": incremental, "window": window}


SESSIONS = {"mixed": "*/*.log", "working": "*/good*.log"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines measured, after a warm-up span")
    parser.add_argument("--pause-every", type=int, default=500, help="lines between two pauses")
    parser.add_argument("--chunk-lines", type=int, default=10, help="lines the reader hands over at once")
    parser.add_argument("--span", type=int, default=10_000, help="lines per measured span")
    parser.add_argument("--mode", choices=["both", *MODES], default="both")
    parser.add_argument("--session", choices=["both", *SESSIONS], default="both")
    args = parser.parse_args()
    for session in SESSIONS if args.session == "both" else (args.session,):
        measure(session, args)


def measure(session: str, args: argparse.Namespace) -> None:
    lines = session_lines(args.span + args.lines, args.span, SESSIONS[session])
    size = sum(map(len, lines)) / 1e6
    print(
        f"{session} session ({SESSIONS[session]}): {args.lines} lines after {args.span} of warm-up, {size:.1f} MB,"
        f" a pause every {args.pause_every} lines"
    )
    spans = {
        "first": (args.span, 2 * args.span),
        "middle": ((len(lines) - args.span) // 2 + args.span // 2, (len(lines) + args.span) // 2 + args.span // 2),
        "last": (len(lines) - args.span, len(lines)),
    }
    print(f"{'':12} {'reports':>8} " + " ".join(f"{name + ' µs/line':>16}" for name in spans) + "  last/first  total")
    series = []
    for mode in MODES if args.mode == "both" else (args.mode,):
        costs = [0.0] * len(lines)
        started = time.process_time()
        reports = MODES[mode](timed(pieces(lines, args.chunk_lines, args.pause_every), costs))
        total = time.process_time() - started
        per_line = {name: sum(costs[start:end]) / (end - start) * 1e6 for name, (start, end) in spans.items()}
        figures = " ".join(f"{per_line[name]:16.1f}" for name in spans)
        print(f"{mode:12} {reports:8d} {figures}  {per_line['last'] / per_line['first']:9.2f}x  {total:5.1f} s")
        starts = range(args.span, len(lines), args.span)
        every = [sum(costs[start : start + args.span]) / args.span * 1e6 for start in starts]
        series.append(f"{mode:12} " + " ".join(f"{figure:6.1f}" for figure in every))
    print("µs/line, span by span:\n" + "\n".join(series) + "\n")


if __name__ == "__main__":
    main()
