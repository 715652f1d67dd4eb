"""Limits that protect the user's machine: what a log claims is never what tlsdiag allocates.

The reader's own bounds (long lines, decompression caps and bombs) are tested in test_read.py; here
the later stages: a hex dump whose header claims gigabytes, TLS records and handshake messages whose
length fields lie, a PEM block that never ends, and a compressed bomb through the whole command.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

from tests.conftest import ROOT
from tlsdiag.analysis import fold
from tlsdiag.analysis.pipeline import analyse

MIB = 1 << 20


def _peak(data: bytes) -> tuple[int, object]:
    """Peak bytes allocated while analysing ``data`` (the input itself is allocated before)."""
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        analysis = analyse(None, stdin=stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, analysis


def _dump(label: str, claimed: int, data: bytes, prefix: str = "ssl_msg.c:2031: |4| ") -> bytes:
    lines = [f"{prefix}dumping '{label}' ({claimed} bytes)"]
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        lines.append(f"{prefix}{offset:04x}:  " + " ".join(f"{byte:02x}" for byte in chunk))
    return ("\n".join(lines) + "\n").encode()


def test_a_dump_header_claiming_gigabytes_allocates_nothing_of_the_kind():
    header_only = _dump("input record from network", 0xFFFFFFFF, b"")
    absurd = _dump("input record from network", int("9" * 60), b"")
    peak, analysis = _peak(b"ssl_tls.c:1: |2| => handshake\n" + header_only + absurd)
    assert peak < 8 * MIB
    assert analysis.lines == 3


def test_a_dump_longer_than_any_record_is_kept_to_a_bound():
    record = bytes([0x16, 3, 3, 0xFF, 0xFF]) + bytes(range(256)) * 2048  # 512 KiB behind a 64 KiB record header
    peak, _ = _peak(b"ssl_tls.c:1: |2| => handshake\n" + _dump("input record from network", len(record), record))
    assert peak < 24 * MIB  # the text of the dump is 3.3 MB; only MAX_DUMP_BYTES of it is kept as bytes


def test_a_handshake_message_claiming_16_mb_is_never_buffered_whole():
    first = bytes([0x16, 3, 3, 0x40, 0x00, 0x0B, 0xFF, 0xFF, 0xFF]) + bytes(0x4000 - 4)
    follow = bytes([0x16, 3, 3, 0x40, 0x00]) + bytes(0x4000)
    log = b"ssl_tls.c:1: |2| => handshake\n" + _dump("input record from network", len(first), first)
    log += _dump("input record from network", len(follow), follow) * 40  # 640 KiB of continuation records
    folder = fold.Folder()
    from tlsdiag.analysis.parse import Parser
    from tlsdiag.analysis.read import open_input

    with open_input(None, stdin=io.BytesIO(log)) as source:
        for _event in folder.fold(Parser().events(source)):
            for state in folder._directions.values():
                assert len(state.buffer) <= fold.MAX_HANDSHAKE_BUFFER


def test_a_pem_block_that_never_ends_is_dropped_past_its_bound():
    body = b"MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF\n" * 40000  # 2.6 MB
    peak, analysis = _peak(b"-----BEGIN CERTIFICATE-----\n" + body + b"E (1) esp-tls: returned -0x2700\n")
    assert peak < 24 * MIB
    assert analysis.lines == 40002


#: runs ``tlsdiag`` and, as it exits, writes the peak resident memory of its own address space (``VmHWM``)
_MEASURED = """
import os, sys
from tlsdiag.entry import main
try:
    code = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(peak)
sys.stdout.flush()
sys.exit(code)
"""


def _run_measured(arguments: list[str], env: dict[str, str], workdir: Path) -> tuple[int, int, str, str]:
    """Run ``tlsdiag ARGUMENTS``; return its peak RSS (KiB), exit code, stdout and stderr.

    The peak is read inside the command from ``/proc/self/status``, which counts only the memory of the program
    after it started: ``getrusage`` also counts the copy of the test process a fork starts from (the whole
    suite's memory), and, for ``RUSAGE_CHILDREN``, any other child the suite reaped meanwhile.
    """
    peak_file = workdir / "peak"
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, *arguments],
        capture_output=True,
        text=True,
        env={**env, "PEAK_FILE": str(peak_file)},
        timeout=300,
        check=False,
    )
    return int(peak_file.read_text()), result.returncode, result.stdout, result.stderr


def test_a_gzip_bomb_through_the_command_is_stopped_with_flat_memory(tmp_path):
    path = tmp_path / "bomb.log.gz"
    line = b"I (1) app: " + b"a" * 100 + b"\n"
    with gzip.open(path, "wb", compresslevel=9) as out:
        for _ in range(10):
            out.write(line * ((16 * MIB) // len(line)))  # 160 MB of text, about 160 KB compressed
    peak_kib, returncode, stdout, stderr = _run_measured(
        ["diagnose", "-f", "json", str(path)],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        workdir=tmp_path,
    )
    assert returncode == 0, stderr
    notes = json.loads(stdout)["input"]["notes"]
    assert any("decompression bomb" in note for note in notes), notes
    assert peak_kib * 1024 < 200 * MIB
