"""``tlsdiag capture -- COMMAND``: run a program, pass its output through, diagnose failures as they happen.

Made for programs that never end on their own (``idf.py monitor``, a serial terminal, a device
test loop): the program's output (standard output and standard error, merged) reaches the terminal
unchanged, and whenever the output pauses for ``settle`` seconds after a connection attempt failed,
the attempt is diagnosed there and then, on standard error (or into ``--output``), so that the
program's own output stays clean for a pipe or a file. A device that retries shows one report per
failed attempt; what the program printed last is analysed once more when it exits.

Reading runs in a thread and hands chunks to the main loop through a queue, so the pause is measured
the same way on every platform. Only the text since the last report is kept for analysis (bounded
by ``WINDOW_LIMIT``); ``--save`` keeps the whole output in a file for ``tlsdiag diagnose`` or
``tlsdiag diff`` later.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING, BinaryIO, NamedTuple

from tlsdiag.errors import EXIT_FAILURE_FOUND, EXIT_OK, InputError
from tlsdiag.report import Format, use_color

if TYPE_CHECKING:
    from tlsdiag.core import Diagnosed

WINDOW_LIMIT = 16 * 1024 * 1024  # bytes of output analysed at once; beyond it the window is analysed and reset
QUIET_LIMIT = 4 * 1024 * 1024  # a window this large with no failure in it is dropped at the next pause
CHUNK = 65536
FORMATS = (Format.text, Format.markdown, Format.json)


class Settings(NamedTuple):
    command: tuple[str, ...]
    fmt: Format = Format.text
    mbedtls_version: str | None = None
    output: str | os.PathLike[str] | None = None
    no_color: bool = False
    redact: bool = True  # mask secrets in markdown reports, as diagnose does
    save: str | os.PathLike[str] | None = None
    settle: float = 1.0


class Window:
    """The output since the last report, with where it starts in the whole output."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.first_line = 1  # number, in the whole output, of the window's first line
        self.fresh = False  # output arrived since the window was last analysed

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        self.fresh = True

    def reset(self) -> None:
        self.first_line += self.data.count(b"\n")
        self.data = bytearray()
        self.fresh = False


def run(settings: Settings) -> int:
    """Run the command to its end (or until interrupted); exit 1 when a failure was diagnosed."""
    if not settings.command:
        raise InputError("no command given (usage: tlsdiag capture [OPTIONS] -- COMMAND [ARGS]...)")
    if settings.fmt not in FORMATS:
        raise InputError(f"capture writes text, markdown or json reports, not {settings.fmt.value}")
    if settings.mbedtls_version:
        from tlsdiag.knowledge import load
        from tlsdiag.versions import VersionError, select_mbedtls

        try:
            select_mbedtls(settings.mbedtls_version, load().mbedtls.series)
        except VersionError as error:
            raise InputError(str(error)) from None
    with contextlib.ExitStack() as stack:
        reports = _open(settings.output, stack, "output")
        saved = _open(settings.save, stack, "save", binary=True)
        try:
            process = subprocess.Popen(list(settings.command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as error:
            raise InputError(f"cannot run {settings.command[0]}: {error.strerror or error}") from None
        assert process.stdout is not None
        monitor = Monitor(settings, reports)
        chunks: queue.Queue[bytes] = queue.Queue()
        reader = threading.Thread(target=_read, args=(process.stdout, chunks), daemon=True)
        reader.start()
        passthrough: BinaryIO | None = getattr(sys.stdout, "buffer", None)

        def take(chunk: bytes) -> None:
            nonlocal passthrough
            passthrough = _pass(passthrough, chunk)
            if saved is not None:
                saved.write(chunk)  # type: ignore[arg-type]
            monitor.window.add(chunk)
            monitor.total += len(chunk)

        try:
            while True:
                try:
                    chunk = chunks.get(timeout=settings.settle if monitor.window.fresh else None)
                except queue.Empty:
                    monitor.analyse(final=False)
                    continue
                if not chunk:
                    break
                take(chunk)
                if len(monitor.window.data) > WINDOW_LIMIT:
                    monitor.analyse(final=False, force=True)
        except KeyboardInterrupt:
            _stop(process)
            while (chunk := _drain(chunks)) is not None:
                take(chunk)
        process.wait()
        monitor.analyse(final=True)
    return EXIT_FAILURE_FOUND if monitor.failed else EXIT_OK


class Monitor:
    """Decides when the window holds a finished, failed attempt, and reports it."""

    def __init__(self, settings: Settings, reports: IO[str] | None) -> None:
        self.settings = settings
        self.reports = reports
        self.window = Window()
        self.failed = False
        self.reported = 0
        self.total = 0  # bytes of output seen
        self.name = os.path.basename(settings.command[0])

    def analyse(self, final: bool, force: bool = False) -> None:
        """Diagnose the window when it ends in a failed attempt; at the end, report once in any case."""
        window = self.window
        window.fresh = False
        closing = final and self.reported == 0  # the one report a run without failures still gets
        if not window.data.strip():
            if closing and self.total == 0:
                sys.stderr.write(f"tlsdiag: {self.name} printed nothing\n")
            return
        from tlsdiag import core

        try:
            analysis = core.analyse_input(None, self.settings.mbedtls_version, stdin=io.BytesIO(bytes(window.data)))
        except InputError:  # not text: nothing a report could say
            window.reset()
            return
        session = analysis.primary
        if (session is not None and session.failed) or closing:
            last = window.first_line + max(analysis.lines - 1, 0)
            analysis.name = f"output of {self.name}, lines {window.first_line}-{last}"
            diagnosed = core.diagnose(analysis)
            self._write(diagnosed)
            self.failed = self.failed or diagnosed.diagnosis.failed
            window.reset()
        elif force or len(window.data) > QUIET_LIMIT:
            window.reset()  # a long stretch without a failure: start afresh rather than analyse it again
        # otherwise an attempt may still be in progress, or nothing TLS-related came yet: keep collecting

    def _write(self, diagnosed: Diagnosed) -> None:
        from tlsdiag.report.diagnose import render_diagnose

        stream = self.reports if self.reports is not None else sys.stderr
        fmt = self.settings.fmt
        color = self.reports is None and use_color(sys.stderr, self.settings.no_color)
        text = render_diagnose(diagnosed, fmt, color, self.settings.redact)
        if fmt is Format.json:
            text = json.dumps(json.loads(text), separators=(",", ":")) + "\n"  # one document per line
        elif self.reported:
            text = "\n" + text
        stream.write(text)
        stream.flush()
        self.reported += 1


def _open(
    path: str | os.PathLike[str] | None, stack: contextlib.ExitStack, what: str, binary: bool = False
) -> IO[str] | None:
    if path is None:
        return None
    try:
        handle = open(path, "wb" if binary else "w", encoding=None if binary else "utf-8")  # noqa: SIM115
    except OSError as error:
        raise InputError(f"cannot write {path} (--{what}): {error.strerror or error}") from None
    return stack.enter_context(handle)  # type: ignore[return-value]


def _read(stream: BinaryIO, chunks: queue.Queue[bytes]) -> None:
    """Hand the program's output over chunk by chunk as it comes; an empty chunk means it ended."""
    try:
        while chunk := os.read(stream.fileno(), CHUNK):
            chunks.put(chunk)
    except OSError:
        pass
    finally:
        chunks.put(b"")


def _drain(chunks: queue.Queue[bytes]) -> bytes | None:
    """The next chunk after an interrupt, waiting briefly for the program to finish writing; None at the end."""
    try:
        chunk = chunks.get(timeout=5)
    except queue.Empty:
        return None
    return chunk or None


def _pass(stream: BinaryIO | None, chunk: bytes) -> BinaryIO | None:
    """Show the program's output unchanged; a closed standard output stops the pass-through, not the capture."""
    if stream is None:
        return None
    try:
        stream.write(chunk)
        stream.flush()
    except (BrokenPipeError, ValueError):
        return None
    return stream


def _stop(process: subprocess.Popen[bytes]) -> None:
    """After Ctrl-C (which the program got too): give it a moment to finish, then end it."""
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
