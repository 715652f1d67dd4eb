"""Read a log: bytes in, clean numbered lines out. The first stage of the diagnose pipeline.

Logs reach tlsdiag in every state a human can leave them in: saved by a serial monitor with colour
codes, CRLF line ends and boot noise; gzip'd for a bug report; pasted from a forum with quote markers,
BBCode and markdown around the one line that matters. The later stages (Lark line grammars, folds,
sessions) should see none of that, so this module turns any byte sequence into numbered lines of plain
text, or into one :class:`~tlsdiag.errors.InputError` that says why the input is unusable. It never
raises anything else for bad input.

Memory stays flat whatever the size: the input is read in chunks, decompressed in bounded steps,
decoded and cleaned one block (a chunk's complete lines) at a time, and an over-long line is cut while
it is read, never held whole. Line numbers are the physical lines a text editor shows: ``\\n``,
``\\r\\n`` and a lone ``\\r`` each end a line, and a cleaning rule may empty a line but never removes
or adds one, so that evidence can always cite the line the user sees.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import lzma
import os
import re
import sys
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import BinaryIO, NamedTuple, cast

from tlsdiag.errors import InputError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

SNIFF_SIZE = 64 * KIB  # how much of the input decides whether it is text at all
BINARY_SHARE = 0.30  # more binary bytes than this in the sniffed head: not a text log


class Line(NamedTuple):
    """One physical line of the input, cleaned."""

    number: int  # 1-based physical line number in the input (as the user sees it in their editor)
    text: str  # cleaned text, without the line terminator


@dataclass(slots=True)
class InputStats:
    """What reading found out about the input; filled while iterating, complete once iteration ends."""

    bytes_read: int = 0  # bytes read from the source (compressed bytes for compressed input)
    lines: int = 0  # lines yielded
    text_lines: int = 0  # lines yielded that are not blank after cleaning
    binary_bytes: int = 0  # NUL and other control characters removed (not counting ANSI sequences)
    invalid_utf8: int = 0  # invalid UTF-8 sequences, each replaced by U+FFFD
    truncated_lines: int = 0  # lines cut to ``Limits.max_line`` characters
    longest_line: int = 0  # characters in the longest line yielded (after cleaning and cutting)
    compression: str | None = None  # gzip | xz | bzip2
    decompressed_bytes: int = 0  # bytes the decompressor produced (0 for plain input)
    notes: list[str] = field(default_factory=list)  # one sentence each, for the report


class Limits(NamedTuple):
    """Bounds that keep a hostile or broken input from exhausting memory or disk."""

    max_line: int = 64 * KIB  # characters of text kept of one line
    max_output: int = 8 * GIB  # decompressed bytes read at most
    bomb_ratio: int = 250  # decompressed : compressed ratio taken as a bomb (logs compress 5-50:1) ...
    bomb_after: int = 100 * MIB  # ... once this much has been decompressed


def open_input(
    source: str | os.PathLike[str] | None,
    *,
    stdin: BinaryIO | None = None,
    limits: Limits = Limits(),  # noqa: B008 -- an immutable named tuple
    chunk_size: int = MIB,
) -> LogInput:
    """Open a log for reading; ``None`` or ``"-"`` is standard input (``stdin``, else ``sys.stdin``).

    Errors that opening can show (a missing path, a directory, no permission) are raised here as
    :class:`InputError`; what only the content can show (empty, not text) is raised while iterating.
    """
    if source is None or (isinstance(source, str) and source == "-"):
        stream = stdin
        if stream is None:
            if sys.stdin is None:
                raise InputError("no standard input to read the log from")
            # a program that replaced sys.stdin with a byte stream (no .buffer) gives bytes from the stream itself
            stream = cast(BinaryIO, getattr(sys.stdin, "buffer", sys.stdin))
        return LogInput("<stdin>", stream, owned=False, limits=limits, chunk_size=chunk_size)
    name = os.fspath(source)
    try:
        stream = open(name, "rb", buffering=0)  # noqa: SIM115 -- LogInput owns and closes it
    except OSError as error:
        raise InputError(_describe_os_error(name, error)) from error
    return LogInput(name, stream, owned=True, limits=limits, chunk_size=chunk_size)


class LogInput:
    """An opened log: iterate it once for :class:`Line` records; read :attr:`stats` afterwards."""

    def __init__(self, name: str, stream: BinaryIO, *, owned: bool, limits: Limits, chunk_size: int) -> None:
        self.name = name
        self.stats = InputStats()
        self._stream = stream
        self._owned = owned
        self._limits = limits
        self._chunk_size = max(1, chunk_size)
        self._lines: Generator[Line, None, None] | None = None

    def __enter__(self) -> LogInput:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Line]:
        if self._lines is not None:
            raise RuntimeError(f"{self.name} has already been read: a LogInput is read once")
        self._lines = _Reader(self.name, self.stats, self._limits).lines(self._source_chunks())
        return self._lines

    def close(self) -> None:
        """Stop reading and close the file (standard input, which tlsdiag does not own, stays open)."""
        if self._lines is not None:
            self._lines.close()
        if self._owned:
            self._stream.close()

    def _source_chunks(self) -> Iterator[bytes]:
        read = getattr(self._stream, "read1", None) or self._stream.read
        while True:
            try:
                chunk = read(self._chunk_size)
            except OSError as error:
                raise InputError(_describe_os_error(self.name, error)) from error
            if not chunk:
                return
            self.stats.bytes_read += len(chunk)
            yield chunk


def _describe_os_error(name: str, error: OSError) -> str:
    """The one line a user needs: what is wrong with the path, in words rather than an errno."""
    if isinstance(error, FileNotFoundError):
        return f"{name} does not exist"
    if isinstance(error, IsADirectoryError):
        return f"{name} is a directory, not a log file"
    if isinstance(error, PermissionError):
        return f"{name} cannot be read: permission denied"
    reason = error.strerror or str(error) or type(error).__name__
    return f"{name} cannot be read: {reason[:1].lower()}{reason[1:]}"


# --- the stages before lines: compression, encoding, the text check -------------------------------------

_GZIP_MAGIC = b"\x1f\x8b\x08"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_MAGIC = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")  # block magic (pi) or end of stream
_OPENERS: dict[str, Callable[[io.RawIOBase], io.BufferedIOBase]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "xz": lzma.LZMAFile,  # type: ignore[dict-item]  # reads any file object; typeshed asks for IO[bytes]
    "bzip2": bz2.BZ2File,
}
_CAPTURE = "is a packet capture, not a log: run the device with mbedTLS debug output on and give tlsdiag that log"
_NOT_LOGS = {  # recognisable files that are not logs: a clearer message than "mostly binary data"
    b"PK\x03\x04": "is a zip archive: extract the log file from it first",
    b"\x28\xb5\x2f\xfd": "is zstd-compressed, which tlsdiag cannot read: decompress it first (zstd -d)",
    b"7z\xbc\xaf\x27\x1c": "is a 7-Zip archive: extract the log file from it first",
    b"\xd4\xc3\xb2\xa1": _CAPTURE,  # pcap, both byte orders, microsecond and nanosecond
    b"\xa1\xb2\xc3\xd4": _CAPTURE,
    b"\x4d\x3c\xb2\xa1": _CAPTURE,
    b"\xa1\xb2\x3c\x4d": _CAPTURE,
    b"\x0a\x0d\x0d\x0a": _CAPTURE,  # pcapng
    b"\x89PNG\r\n\x1a\n": "is a PNG image: tlsdiag reads the log as text (copy it from the terminal)",
    b"\xff\xd8\xff": "is a JPEG image: tlsdiag reads the log as text (copy it from the terminal)",
    b"%PDF-": "is a PDF document: save the log itself as a text file",
    b"\x7fELF": "is an executable (ELF), not a log: give tlsdiag what the device printed",
    b"\xff\xfe\x00\x00": "is UTF-32 text, which tlsdiag does not read: convert it (iconv -f UTF-32 -t UTF-8)",
    b"\x00\x00\xfe\xff": "is UTF-32 text, which tlsdiag does not read: convert it (iconv -f UTF-32 -t UTF-8)",
}
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an invalid UTF-8 byte, as surrogateescape decodes it


def _peek(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first ``size`` bytes (fewer at the end of input), and the chunks again from the start."""
    seen: list[bytes] = []
    total = 0
    for chunk in chunks:
        seen.append(chunk)
        total += len(chunk)
        if total >= size:
            break
    return b"".join(seen)[:size], itertools.chain(seen, chunks)


def _compression(head: bytes) -> str | None:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    if _BZIP2_MAGIC.match(head):
        return "bzip2"
    return None


def _binary_share(head: bytes) -> float:
    """Share of bytes that no text log has: NUL, controls other than TAB/CR/LF/ESC, invalid UTF-8."""
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    # an incremental decoder leaves a sequence cut by the end of the head undecoded, not invalid
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    invalid = len(_ESCAPED_BYTE.findall(text))
    return (controls + invalid) / len(head)


def _utf16_codec(head: bytes) -> str | None:
    """``utf-16`` for a log with a UTF-16 byte order mark (PowerShell's ``>``), checked on its text;
    ``utf-16-le``/``-be`` for one without a mark whose first eight code units are ASCII.

    A UTF-8 log may start with the same two bytes as boot noise, so the mark alone is not enough: the
    code units after it must be mostly ASCII characters with a zero high byte.
    """
    if head[:2] == b"\xff\xfe":
        low, high, codec = head[2:514:2], head[3:514:2], "utf-16"
    elif head[:2] == b"\xfe\xff":
        high, low, codec = head[2:514:2], head[3:514:2], "utf-16"
    elif len(head) >= 16 and head[1:16:2] == bytes(8) and head[0:16:2].count(0) == 0:
        low, high, codec = head[0:512:2], head[1:512:2], "utf-16-le"  # no byte order mark (Windows tools)
    elif len(head) >= 16 and head[0:16:2] == bytes(8) and head[1:16:2].count(0) == 0:
        high, low, codec = head[0:512:2], head[1:512:2], "utf-16-be"
    else:
        return None
    pairs = list(zip(low, high, strict=False))
    ascii_units = sum(1 for lo, hi in pairs if hi == 0 and (lo in (9, 10, 13) or 32 <= lo < 127))
    return codec if pairs and ascii_units >= 0.9 * len(pairs) else None


class _ChunkFile(io.RawIOBase):
    """A read-only file over an iterator of chunks: what the stdlib decompressors read from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    # the decompressors pass a bytearray or a memoryview; RawIOBase declares any writable buffer
    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _reencoded(chunks: Iterator[bytes], codec: str) -> Iterator[bytes]:
    """Transcode a UTF-16 stream to UTF-8 chunk by chunk (invalid units become U+FFFD)."""
    decoder = codecs.getincrementaldecoder(codec)("replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8")
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest.encode("utf-8")


# --- cleaning ------------------------------------------------------------------------------------------
# Every pattern works on a whole block of lines at once and never removes or adds a newline, so that
# cleaning cannot merge, split or drop a line.

# CSI (colours, cursor moves), OSC (window titles) ended by BEL or ST, and the short two- or three-byte
# escapes (charset selection, save/restore cursor). On bytes: removed before decoding, like controls.
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~])")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])  # C0 except TAB and LF, and DEL
_CONTROL = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]")
_C1 = re.compile("[\x80-\x9f]+")  # C1 controls: only valid UTF-8 can hold them, so only non-ASCII text
# ESP-IDF's and Zephyr's colour codes whose ESC a serial monitor or a forum dropped: "[0;31mE (10770) ...[0m"
_BARE_COLOUR = re.compile(r"\[(?:0|[01];3[0-7])m")
# Forum and chat pastes. The rules for the start of a line match "\n" + the text: a literal first
# character lets the regex engine skip ahead, where "^" with re.M tries every position (ten times slower).
_QUOTE = re.compile(r"\n(?!>>> )(?:>[ \t]?)+")  # quote markers, but not MicroPython's ">>> " prompt
_FENCE = re.compile(r"\n {0,3}(?:`{3,}|~{3,})[ \t]*[\w.+#-]*[ \t]*(?=\n)")  # ``` and ```text lines
_BBCODE = re.compile(r"\[/?(?:b|i|code|quote)[\]=]", re.I)
# an opening tag is removed only where it cannot be C code (``buf[i]``): closed later on the same line,
# or at the start of a line
_BBCODE_PAIRED = re.compile(r"\[(b|i|code|quote)(?:=[^\]\n]*)?\](?=[^\n]*\[/\1\])", re.I)
_BBCODE_AT_START = re.compile(r"\n(?:\[(?:b|i|code|quote)(?:=[^\]\n]*)?\])+", re.I)
_BBCODE_CLOSE = re.compile(r"\[/(?:b|i|code|quote)\]", re.I)
# **bold** wrapping text (not ``char **argv`` nor ``a**b``); __bold__ only around a whole line with a
# space in it, since __FILE__ and __attribute__ are code
_STARS = re.compile(r"\*\*(?<![\w*]\*\*)(?=[^\s*])([^\n]*?[^\s*])\*\*(?![\w*])")
_UNDERSCORES = re.compile(r"\n__(?=\S)([^\n]*?[ \t][^\n]*?\S)__[ \t]*(?=\n)")

_make_line = partial(tuple.__new__, Line)  # Line from a (number, text) pair, without a Python-level call


def _normalize_breaks(data: bytes) -> bytes:
    """``\\r\\n`` and a lone ``\\r`` become ``\\n``."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _cut_utf8(data: bytes, size: int) -> bytes:
    """The first ``size`` bytes or a little fewer, so as not to cut a UTF-8 sequence in two."""
    end = size
    while end > 0 and end < len(data) and (data[end] & 0xC0) == 0x80 and size - end < 3:
        end -= 1
    return data[:end]


def _strip_paste_markup(text: str) -> str:
    """Remove what a forum or chat added around log lines; leave everything else exactly as it is."""
    # each rule runs only where a cheap test (a substring search) finds a candidate: hex dumps' ASCII
    # columns are full of backquotes, tildes and stars
    text = "\n" + text + "\n"
    if "\n>" in text:
        text = _QUOTE.sub("\n", text)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("\n", text)
    if _BBCODE.search(text):
        text = _BBCODE_PAIRED.sub("", text)
        text = _BBCODE_AT_START.sub("\n", text)
        text = _BBCODE_CLOSE.sub("", text)
    if "**" in text:
        text = _STARS.sub(r"\1", text)
    if "\n__" in text:
        text = _UNDERSCORES.sub(r"\n\1", text)
    return text[1:-1]


class _Reader:
    """The bytes stages of one pass over a file: what it is, how it is compressed or encoded."""

    def __init__(self, name: str, stats: InputStats, limits: Limits) -> None:
        self.name = name
        self.stats = stats
        self.limits = limits

    def lines(self, source: Iterator[bytes]) -> Generator[Line, None, None]:
        """The cleaned lines; raises InputError for unusable input, and at the end if all were blank."""
        chunks = self._prepare(source)
        decoder = LineDecoder(self.stats, self.limits)
        for chunk in chunks:
            yield from decoder.push(chunk)
        yield from decoder.finish()
        if self.stats.text_lines == 0:
            raise InputError(f"{self.name} is empty")

    # -- bytes -------------------------------------------------------------------------------------------

    def _prepare(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Decompress, transcode and check the input before any line is yielded."""
        head, chunks = _peek(chunks, 16)
        for magic, problem in _NOT_LOGS.items():
            if head.startswith(magic):
                raise InputError(f"{self.name} {problem}")
        kind = _compression(head)
        if kind is not None:
            self.stats.compression = kind
            self.stats.notes.append(f"the input is {kind}-compressed; read decompressed")
            chunks = self._decompressed(chunks, kind)
        head, chunks = _peek(chunks, SNIFF_SIZE)
        codec = _utf16_codec(head)
        if codec is not None:
            how = "it starts with a byte order mark" if codec == "utf-16" else "every other byte is zero"
            self.stats.notes.append(f"the input is UTF-16 text ({how}); read as such")
            chunks = _reencoded(chunks, codec)
            head, chunks = _peek(chunks, SNIFF_SIZE)
        if head[257:263] in (b"ustar\x00", b"ustar "):  # POSIX and GNU tar headers
            raise InputError(f"{self.name} is a tar archive: extract the log file from it first")
        if head and _binary_share(head) > BINARY_SHARE:
            raise InputError(f"{self.name} is not a text log (mostly binary data)")
        return chunks

    def _decompressed(self, chunks: Iterator[bytes], kind: str) -> Iterator[bytes]:
        """Decompress in bounded steps; stop at the output cap or at a bomb's ratio, with a note."""
        with _OPENERS[kind](_ChunkFile(chunks)) as stream:
            yield from self._decompress(stream, kind)

    def _decompress(self, stream: io.BufferedIOBase, kind: str) -> Iterator[bytes]:
        limits = self.limits
        step = min(MIB, limits.max_output) or 1
        total = 0
        while True:
            try:
                block = stream.read1(step)  # not read(): it would lose what it read before an error
            except EOFError:
                self.stats.notes.append(f"the {kind} data ends early (a truncated file?): read what it holds")
                return
            except (OSError, ValueError, zlib.error, lzma.LZMAError) as error:
                if total == 0:
                    reason = " ".join(str(error).split()) or type(error).__name__
                    raise InputError(
                        f"{self.name} looks {kind}-compressed but cannot be decompressed ({reason})"
                    ) from error
                self.stats.notes.append(
                    f"the {kind} data is damaged after {total} bytes of text: read up to that point"
                )
                return
            if not block:
                return
            total += len(block)
            if total > limits.max_output:
                block = block[: len(block) - (total - limits.max_output)]
                total = limits.max_output
            self.stats.decompressed_bytes = total
            yield block
            if total >= limits.max_output:
                self.stats.notes.append(
                    f"stopped after {total} bytes of decompressed text, the most tlsdiag reads; the rest is ignored"
                )
                return
            if total > limits.bomb_after and total > limits.bomb_ratio * self.stats.bytes_read:
                self.stats.notes.append(
                    f"stopped decompressing after {total} bytes: more than {limits.bomb_ratio} times the "
                    "compressed size, which looks like a decompression bomb rather than a log"
                )
                return


class LineDecoder:
    """Bytes in, cleaned numbered lines out, one chunk at a time: the line stage of every input.

    A file is pushed through it chunk by chunk (:class:`LogInput`), and so is the output of a program
    that is still running (:mod:`tlsdiag.analysis.incremental`), so both are cut, decoded and cleaned
    by the same code. An unfinished last line is carried over to the next chunk (bounded: an over-long
    line is cut while it is read) and only :meth:`finish` gives it out.
    """

    def __init__(self, stats: InputStats, limits: Limits = Limits()) -> None:  # noqa: B008 -- immutable
        self.stats = stats
        self.limits = limits
        self.max_raw = 4 * limits.max_line  # bytes of a line kept while reading: enough for max_line characters
        self.lines_read = 0  # the number of the last line given out
        self.first_truncated: int | None = None
        self.first_binary: int | None = None
        self.first_invalid: int | None = None
        self._carry = b""  # the unfinished last line, never longer than max_raw
        self._carry_cut = False  # the carried line lost bytes: it is cut
        self._discarding = False  # dropping the rest of a cut line until its end
        self._pending_cr = False  # the last chunk ended with \r: a \n starting the next one belongs to it

    def push(self, chunk: bytes) -> Iterator[Line]:
        """The lines ``chunk`` completes; what follows the last line end waits for the next chunk."""
        if self._discarding:
            ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            if not ends:
                return iter(())
            chunk = chunk[min(ends) :]
            self._discarding = False
        if self._pending_cr:
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        carry = self._carry
        data = carry + chunk if carry else chunk
        if b"\r" in data:
            if data[-1:] == b"\r":
                data = _normalize_breaks(data[:-1]) + b"\n"
                self._pending_cr = True
            else:
                data = _normalize_breaks(data)
        end = data.rfind(b"\n")
        lines: Iterator[Line] = iter(())
        if end >= 0:
            lines = self._lines(data[:end], self._carry_cut)
            self._carry, self._carry_cut = data[end + 1 :], False
        else:
            self._carry = data
        if len(self._carry) > self.max_raw:
            self._carry, self._carry_cut, self._discarding = _cut_utf8(self._carry, self.max_raw), True, True
        return lines

    def finish(self) -> Iterator[Line]:
        """The last line if the input did not end with a line end; the notes on what cleaning did."""
        lines: Iterator[Line] = iter(())
        if self._carry or self._carry_cut:
            lines = self._lines(self._carry, self._carry_cut)
            self._carry, self._carry_cut = b"", False
        self.finish_notes()
        return lines

    def take_stats(self) -> InputStats:
        """The statistics of the lines given out since the last call, notes written; counting starts afresh
        (the output of a running program is reported in parts, each with its own notes)."""
        self.finish_notes()
        stats, self.stats = self.stats, InputStats()
        self.first_truncated = self.first_binary = self.first_invalid = None
        return stats

    def _lines(self, raw: bytes, first_cut: bool) -> Iterator[Line]:
        number = self.lines_read
        texts = self._clean(raw, number, first_cut)
        self.lines_read = number + len(texts)
        return map(_make_line, zip(itertools.count(number + 1), texts))

    # -- text --------------------------------------------------------------------------------------------

    def _clean(self, raw: bytes, before: int, first_cut: bool) -> list[str]:
        """Decode and clean one block of whole lines (the first numbered ``before + 1``)."""
        stats = self.stats
        if b"\x1b" in raw:
            raw = _ANSI.sub(b"", raw)
        kept = raw.translate(None, _CONTROL_BYTES)
        if len(kept) != len(raw):
            if self.first_binary is None:
                match = _CONTROL.search(raw)
                self.first_binary = before + 1 + raw.count(b"\n", 0, match.start() if match else 0)
            stats.binary_bytes += len(raw) - len(kept)
            raw = kept
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
            invalid = text.count("\ufffd") - raw.count(b"\xef\xbf\xbd")
            if invalid > 0:
                stats.invalid_utf8 += invalid
                if self.first_invalid is None:
                    self.first_invalid = before + 1 + text.count("\n", 0, text.find("\ufffd"))
        if not text.isascii():
            text = text.replace("\ufeff", "")  # byte order marks, at the start or where files were joined
            control = _C1.search(text)
            if control is not None:
                if self.first_binary is None:
                    self.first_binary = before + 1 + text.count("\n", 0, control.start())
                size = len(text)
                text = _C1.sub("", text)
                stats.binary_bytes += size - len(text)
        if "[0" in text or "[1;3" in text:
            text = _BARE_COLOUR.sub("", text)
        text = _strip_paste_markup(text)

        texts = text.split("\n")
        longest = max(map(len, texts))
        max_line = self.limits.max_line
        if first_cut:
            self._note_truncated(before + 1)
        if longest > max_line:
            for index, line in enumerate(texts):
                if len(line) > max_line:
                    texts[index] = line[:max_line]
                    if not (first_cut and index == 0):
                        self._note_truncated(before + 1 + index)
            longest = max_line
        stats.longest_line = max(stats.longest_line, longest)
        stats.lines += len(texts)
        stats.text_lines += len(texts) - texts.count("") - sum(map(str.isspace, texts))
        return texts

    def _note_truncated(self, number: int) -> None:
        self.stats.truncated_lines += 1
        if self.first_truncated is None:
            self.first_truncated = number
            self.stats.notes.append(
                f"line {number} is longer than {self.limits.max_line} characters: only its start is read"
            )

    def finish_notes(self) -> None:
        stats = self.stats
        if stats.truncated_lines > 1:
            stats.notes.append(f"{stats.truncated_lines} lines in all were cut to {self.limits.max_line} characters")
        if stats.binary_bytes:
            where = f"the first on line {self.first_binary}"
            stats.notes.append(f"removed {stats.binary_bytes} control or NUL bytes (serial noise?), {where}")
        if stats.invalid_utf8:
            where = f"the first on line {self.first_invalid}"
            stats.notes.append(f"replaced {stats.invalid_utf8} invalid UTF-8 sequences with U+FFFD, {where}")
