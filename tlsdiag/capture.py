"""``tlsdiag capture -- COMMAND``: run a program, pass its output through, diagnose failures as they happen.

Made for programs that never end on their own (``idf.py monitor``, a serial terminal, a device
test loop): the program's output (standard output and standard error, merged) reaches the terminal
unchanged, and each failed connection attempt is diagnosed as soon as it is over (the next attempt
starts, or the output pauses for ``settle`` seconds after it), on standard error (or into
``--output``), so that the program's own output stays clean for a pipe or a file. A device that
retries shows one report per failed attempt; what the program printed last is analysed once more
when it exits.

Reading runs in a thread and hands chunks to the main loop through a queue, so the pause is measured
the same way on every platform. The output is analysed as it arrives
(:mod:`tlsdiag.analysis.incremental`): each line goes through the stages once, however long the
program runs, and memory stays bounded. ``--save`` keeps the whole output in a file for
``tlsdiag diagnose`` or ``tlsdiag diff`` later.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, NamedTuple, overload

from tlsdiag.errors import EXIT_FAILURE_FOUND, EXIT_OK, InputError
from tlsdiag.report import Format, use_color

if TYPE_CHECKING:
    from tlsdiag.analysis.incremental import Pause
    from tlsdiag.analysis.pipeline import Analysis
    from tlsdiag.core import Diagnosed

CHUNK = 65536
FORMATS = (Format.text, Format.markdown, Format.json)
GRACE = 5.0  # seconds a program gets to end after Ctrl-C, then again after it was asked to terminate


class Settings(NamedTuple):
    command: tuple[str, ...]
    fmt: Format = Format.text
    mbedtls_version: str | None = None
    output: str | os.PathLike[str] | None = None
    no_color: bool = False
    redact: bool = True  # mask secrets in markdown reports, as diagnose does
    save: str | os.PathLike[str] | None = None
    settle: float = 1.0


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
        monitor = Monitor(settings, reports)  # ready before the program starts: its first lines are not kept waiting
        try:
            process = subprocess.Popen(list(settings.command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as error:
            raise InputError(f"cannot run {settings.command[0]}: {error.strerror or error}") from None
        assert process.stdout is not None
        chunks: queue.Queue[bytes] = queue.Queue()
        reader = threading.Thread(target=_read, args=(process.stdout, chunks), daemon=True)
        reader.start()
        output = Output(chunks, settings.settle, getattr(sys.stdout, "buffer", None), saved)
        with _on_interrupt(lambda: _wind_down(process, reader, chunks), process):
            monitor.watch(output.chunks())
            process.wait()
    return EXIT_FAILURE_FOUND if monitor.failed else EXIT_OK


class Output:
    """The program's output as the analysis reads it: chunks as they come, a pause wherever it went quiet;
    each chunk is shown and saved on its way."""

    def __init__(
        self, chunks: queue.Queue[bytes], settle: float, passthrough: BinaryIO | None, saved: BinaryIO | None
    ) -> None:
        self.queue = chunks
        self.settle = settle
        self.passthrough = passthrough
        self.saved = saved

    def chunks(self) -> Iterator[bytes | Pause]:
        from tlsdiag.analysis.incremental import PAUSE

        fresh = False  # output arrived since the last pause
        while True:
            try:
                chunk = self.queue.get(timeout=self.settle if fresh else None)
            except queue.Empty:
                fresh = False
                yield PAUSE
                continue
            if not chunk:
                return
            self.passthrough = _pass(self.passthrough, chunk)
            if self.saved is not None:
                self.saved.write(chunk)
            fresh = True
            yield chunk


class Monitor:
    """Diagnoses each failed attempt the analysis hands over, and writes its report."""

    def __init__(self, settings: Settings, reports: IO[str] | None) -> None:
        from tlsdiag.analysis.incremental import LiveAnalysis

        self.settings = settings
        self.reports = reports
        self.failed = False
        self.reported = 0
        self.name = os.path.basename(settings.command[0])
        self.live = LiveAnalysis(f"output of {self.name}", self._diagnose, settings.mbedtls_version)

    def watch(self, output: Iterable[bytes | Pause]) -> None:
        """Analyse the program's output until it ends."""
        self.live.run(output)
        if self.live.bytes_read == 0:
            sys.stderr.write(f"tlsdiag: {self.name} printed nothing\n")

    def _diagnose(self, analysis: Analysis) -> None:
        from tlsdiag import core

        diagnosed = core.diagnose(analysis)
        self._write(diagnosed)
        self.failed = self.failed or diagnosed.diagnosis.failed

    def _write(self, diagnosed: Diagnosed) -> None:
        from tlsdiag.report.diagnose import diagnose_document, render_diagnose

        stream = self.reports if self.reports is not None else sys.stderr
        fmt = self.settings.fmt
        if fmt is Format.json:  # one document per line
            text = json.dumps(diagnose_document(diagnosed), separators=(",", ":")) + "\n"
        else:
            color = self.reports is None and use_color(sys.stderr, self.settings.no_color)
            text = render_diagnose(diagnosed, fmt, color, self.settings.redact)
            if self.reported:
                text = "\n" + text
        stream.write(text)
        stream.flush()
        self.reported += 1


@overload
def _open(
    path: str | os.PathLike[str] | None, stack: contextlib.ExitStack, what: str, binary: Literal[False] = False
) -> IO[str] | None: ...


@overload
def _open(
    path: str | os.PathLike[str] | None, stack: contextlib.ExitStack, what: str, binary: Literal[True]
) -> BinaryIO | None: ...


def _open(
    path: str | os.PathLike[str] | None, stack: contextlib.ExitStack, what: str, binary: bool = False
) -> IO[Any] | None:
    """A report file (text) or the file the program's output is saved to (bytes), closed with ``stack``."""
    if path is None:
        return None
    try:
        handle = open(path, "wb" if binary else "w", encoding=None if binary else "utf-8")  # noqa: SIM115
    except OSError as error:
        raise InputError(f"cannot write {path} (--{what}): {error.strerror or error}") from None
    return stack.enter_context(handle)


def _read(stream: BinaryIO, chunks: queue.Queue[bytes]) -> None:
    """Hand the program's output over chunk by chunk as it comes; an empty chunk means it ended."""
    try:
        while chunk := os.read(stream.fileno(), CHUNK):
            chunks.put(chunk)
    except OSError:
        pass
    finally:
        chunks.put(b"")


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


@contextlib.contextmanager
def _on_interrupt(wind_down: Callable[[], None], process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Ctrl-C reaches the program too (it runs in tlsdiag's process group): rather than stop in the middle
    of the analysis, let the program end and read what it prints meanwhile; a second Ctrl-C ends it at once.

    Only the main thread may handle signals: elsewhere Ctrl-C keeps its default meaning.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts = 0

    def interrupted(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            threading.Thread(target=wind_down, daemon=True).start()
        else:
            process.kill()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _wind_down(process: subprocess.Popen[bytes], reader: threading.Thread, chunks: queue.Queue[bytes]) -> None:
    """After Ctrl-C: give the program a moment to finish, then end it; once it has ended, stop waiting for its
    output (a program it started may still hold the pipe open)."""
    try:
        process.wait(timeout=GRACE)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    reader.join(timeout=GRACE)
    chunks.put(b"")  # the end of the output, if the reader has not seen it
