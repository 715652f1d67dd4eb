#!/usr/bin/env python3
"""Lines per second of the message-catalogue matcher (tlsdiag/analysis/parse/catalogue.py).

Inputs are the real corpus logs in tests/fixtures/corpus (mbedTLS 2.28 and 3.6, debug level 4).
Measured, each on a fresh catalogue so that no memo carries over:

* debug messages after their envelope, every distinct text once (the matcher's real work);
* the same messages as whole lines, envelope included (the unknown-envelope path);
* the stream of every debug message of every log in order (what a parse sees: repeats hit the memo);
* lines that match nothing: the corpus lines with their words shuffled, every distinct text once.

    python benchmarks/catalogue_speed.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tlsdiag.analysis.parse import dispatch, envelopes  # noqa: E402
from tlsdiag.analysis.parse.catalogue import Catalogue, debug_catalogue  # noqa: E402


def corpus_records() -> list[tuple[str, str]]:
    """(message, whole record) of every mbedTLS debug record of the corpus, in order.

    Hex and number dump lines are left out: the parser reads them itself and never asks the catalogue.
    """
    records = []
    for path in sorted((ROOT / "tests" / "fixtures" / "corpus").glob("*/*.log")):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            _env, message, debug = envelopes.frame(line, number, line)
            if debug and message.strip() and not dispatch.DUMP_LINE.match(message) and not message.startswith(" "):
                records.append((message, line))
    return records


def rate(catalogue: Catalogue, texts: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    found = sum(catalogue.match(text) is not None for text in texts)
    return len(texts) / (time.perf_counter() - start), found


def fresh() -> Catalogue:
    return Catalogue(list(debug_catalogue().entries.values()))


def main() -> int:
    start = time.perf_counter()
    fresh()
    print(f"catalogue build: {(time.perf_counter() - start) * 1000:.0f} ms ({len(debug_catalogue().entries)} entries)")
    records = corpus_records()
    messages = list(dict.fromkeys(message for message, _ in records))
    lines = list(dict.fromkeys(line for _, line in records))
    shuffler = random.Random(7)
    noise = []
    for message in messages:
        words = message.split()
        shuffler.shuffle(words)
        noise.append("log: " + " ".join(reversed(words)) + " zz")
    noise = list(dict.fromkeys(noise))
    for label, texts in (
        ("distinct messages (after envelope)", messages),
        ("distinct whole lines (envelope unknown)", lines),
        ("every message in order (memo)", [message for message, _ in records]),
        ("distinct lines matching nothing", noise),
    ):
        per_second, found = rate(fresh(), texts)
        print(f"{label:42s}: {len(texts):>7} texts, {found:>7} recognised, {per_second:>10,.0f} lines/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
