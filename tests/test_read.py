"""Reading logs: bytes in, clean numbered lines out, or one InputError; memory flat whatever the input.

The inputs are real lines (tests/fixtures/read/, copied from the shared corpus and seeds) in the states
users leave logs in: CRLF, colour codes, serial noise, compressed, pasted in a forum.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import threading
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tlsdiag.analysis import read as read_module
from tlsdiag.analysis.read import KIB, MIB, InputStats, Limits, Line, open_input
from tlsdiag.errors import InputError

READ = FIXTURES / "read"
CLIENT2 = (READ / "client-cert-required-v3.6.level1.log").read_bytes()  # ssl_client2, LF with a CRLF part
DEBUG = (READ / "unknown-ca-v2.28-excerpt.log").read_bytes()  # debug lines, hex dump, indented lines
FORUM = (READ / "seed-002-excerpt.txt").read_bytes()  # ESP-IDF log pasted in a forum with [b]...[/b]

ESP_ERROR = "E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7500"
SEEDING = "  . Seeding the random number generator... ok"
HANDSHAKE_FAILED = "  ! mbedtls_ssl_handshake returned -0x7780"
HEX_DUMP = "ssl_msg.c:2708: |4| 0x7fff5a0cda00: 0000:  15 03 03 00 02 02 30                             ......0"


def read(data: bytes, **options) -> tuple[list[Line], InputStats]:
    with open_input(None, stdin=io.BytesIO(data), **options) as log:
        lines = list(log)
    return lines, log.stats


def texts(data: bytes, **options) -> list[str]:
    return [line.text for line in read(data, **options)[0]]


def editor_lines(data: bytes) -> list[str]:
    """The lines a text editor shows: \\n, \\r\\n and a lone \\r each end one."""
    parts = re.split(rb"\r\n|\r|\n", data)
    if parts and parts[-1] == b"":
        parts.pop()
    return [part.decode() for part in parts]


def assert_well_formed(lines: list[Line]) -> None:
    numbers = [line.number for line in lines]
    assert numbers == list(range(1, len(lines) + 1))
    for line in lines:
        assert isinstance(line.text, str)
        assert "\n" not in line.text
        assert all(char == "\t" or unicodedata.category(char) != "Cc" for char in line.text), line


# --- plain logs and line ends -----------------------------------------------------------------------------


def test_a_clean_log_comes_out_as_it_is_with_editor_line_numbers():
    lines, stats = read(DEBUG)
    assert [line.text for line in lines] == DEBUG.decode().splitlines()
    assert_well_formed(lines)
    assert lines[35] == Line(36, HANDSHAKE_FAILED.replace("-0x7780", "-0x2700"))
    assert lines[25].text == HEX_DUMP  # hex dumps and 0x7fff... prefixes untouched
    assert lines[34].text == " failed"  # leading spaces matter to the grammars
    assert stats.lines == 41
    assert stats.text_lines == 41 - DEBUG.decode().splitlines().count("")
    assert stats.bytes_read == len(DEBUG)
    assert (stats.binary_bytes, stats.invalid_utf8, stats.truncated_lines, stats.compression) == (0, 0, 0, None)
    assert stats.longest_line == max(len(text) for text in DEBUG.decode().splitlines())
    assert stats.notes == []


def test_a_crlf_log_reads_like_its_lf_original():
    crlf = CLIENT2.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert texts(crlf) == texts(CLIENT2) == editor_lines(CLIENT2)
    assert texts(CLIENT2)[2] == SEEDING
    assert texts(CLIENT2)[69:73] == ["GET / HTTP/1.0", "Host: localhost", "Extra-header: ", ""]


def test_a_lone_cr_ends_a_line_as_in_an_editor():
    data = b"  . Connecting to tcp/127.0.0.1/45205...\r  . Connecting to tcp/127.0.0.1/45205... ok\n\r\r\nlast"
    lines, _ = read(data)
    assert [line.text for line in lines] == editor_lines(data)
    assert [line.number for line in lines] == [1, 2, 3, 4, 5]
    assert lines[-1] == Line(5, "last")


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 4096])
def test_chunk_boundaries_do_not_change_the_lines(chunk_size):
    data = b"\x1b[0;31m" + ESP_ERROR.encode() + b"\x1b[0m\r\n" + CLIENT2.replace(b"\n", b"\r\n") + b"x\r"
    assert read(data, chunk_size=chunk_size)[0] == read(data)[0]


# --- decoding: UTF-8, ANSI, controls, BOM ---------------------------------------------------------------


def test_an_ansi_coloured_esp_idf_log_loses_its_colour_codes():
    coloured = (
        f"\x1b[0;32mI (3680) wifi station: got ip:192.168.1.106\x1b[0m\r\n"
        f"\x1b[0;31m{ESP_ERROR}\x1b[0m\r\n"
        "\x1b]0;COM3 - PuTTY\x07\x1b[0;33mW (9700) wifi station: Attempt MQT INiT.\x1b[0m\r\n"
    ).encode()
    lines, stats = read(coloured)
    assert [line.text for line in lines] == [
        "I (3680) wifi station: got ip:192.168.1.106",
        ESP_ERROR,
        "W (9700) wifi station: Attempt MQT INiT.",
    ]
    assert stats.binary_bytes == 0  # colour codes are not noise


def test_colour_codes_that_lost_their_escape_are_removed_too():
    assert texts(f"[0;31m{ESP_ERROR}[0m\n".encode()) == [ESP_ERROR]
    assert texts(b"cert. version     : 3\n") == ["cert. version     : 3"]  # brackets elsewhere stay


def test_the_byte_order_mark_is_removed():
    assert texts(b"\xef\xbb\xbf" + FORUM) == texts(FORUM)
    assert texts(b"\xef\xbb\xbf" + FORUM)[0] == "I (9700) platform: The current date/time is: Mon Dec 16 01:51:23 2019"


def test_serial_noise_is_removed_and_counted_without_failing_the_log():
    lines = DEBUG.splitlines(keepends=True)
    lines[20] = b"\x00\x00\xff\x13" + lines[20]  # boot-time noise on a serial line
    lines[29] = lines[29].replace(b"flush", b"fl\x08\x7fush\x00")
    noisy = b"".join(lines)
    result, stats = read(noisy)
    assert_well_formed(result)
    assert result[20].text == "\ufffd" + DEBUG.decode().splitlines()[20]
    assert result[29].text == DEBUG.decode().splitlines()[29]
    assert stats.binary_bytes == 6
    assert stats.invalid_utf8 == 1
    assert "removed 6 control or NUL bytes (serial noise?), the first on line 21" in stats.notes


def test_invalid_utf8_in_the_middle_is_replaced_and_counted():
    data = FORUM.replace(b"Attempt MQT INiT.", b"Attempt MQT \xc3\x28INiT. \xed\xa0\x80")
    lines, stats = read(data)
    assert lines[1].text == "W (9700) wifi station: Attempt MQT \ufffd(INiT. \ufffd\ufffd\ufffd"
    assert stats.invalid_utf8 == 4
    assert any("the first on line 2" in note for note in stats.notes)
    assert texts("caf\u00e9 \ufffd ok\n".encode()) == ["caf\u00e9 \ufffd ok"]  # a real U+FFFD is not counted
    assert read("caf\u00e9 \ufffd ok\n".encode())[1].invalid_utf8 == 0


def test_a_utf16_log_with_a_byte_order_mark_is_read_as_text():
    text = CLIENT2.decode()
    for codec in ("utf-16-le", "utf-16-be"):
        data = "\ufeff".encode(codec) + text.encode(codec)
        lines, stats = read(data, chunk_size=333)
        assert [line.text for line in lines] == editor_lines(CLIENT2)
        assert any("UTF-16" in note for note in stats.notes)


def test_utf8_starting_with_ff_fe_noise_is_not_taken_for_utf16():
    assert texts(b"\xff\xfe" + DEBUG)[0] == "\ufffd\ufffd" + DEBUG.decode().splitlines()[0]


# --- forum and chat pastes ----------------------------------------------------------------------------------


def test_bbcode_around_the_failing_line_of_seed_002_is_removed():
    lines = texts(FORUM)
    assert lines[20] == ESP_ERROR
    assert lines == FORUM.decode().replace("[b]", "").replace("[/b]", "").splitlines()


@pytest.mark.parametrize(
    ("pasted", "clean"),
    [
        (f"> {ESP_ERROR}", ESP_ERROR),
        (f">> {ESP_ERROR}", ESP_ERROR),
        (f"> > {SEEDING}", SEEDING),
        (">", ""),
        (f"**{ESP_ERROR}**", ESP_ERROR),
        (f"> **{ESP_ERROR}**", ESP_ERROR),
        (f"__{ESP_ERROR}__", ESP_ERROR),
        (f"the log says **{ESP_ERROR}** every time", f"the log says {ESP_ERROR} every time"),
        (f"[b]{ESP_ERROR}[/b]", ESP_ERROR),
        (f"[B][i]{ESP_ERROR}[/i][/B]", ESP_ERROR),
        (f"[code]{HANDSHAKE_FAILED}", HANDSHAKE_FAILED),
        (f"{HANDSHAKE_FAILED}[/code]", HANDSHAKE_FAILED),
        ("[quote]", ""),
        ('[quote="jsam589"]', ""),
        ("[/quote]", ""),
        ("[code=text]", ""),
        ("```", ""),
        ("```text", ""),
        ("  ```c", ""),
        ("~~~", ""),
        ("> ```", ""),
        (f"&gt; {ESP_ERROR}", ESP_ERROR),
        ("mbedtls_ssl_handshake returned &#45;0x2700", "mbedtls_ssl_handshake returned -0x2700"),
        ("mbedtls_ssl_handshake returned \u22120x2700", "mbedtls_ssl_handshake returned -0x2700"),
        ("mbedtls_ssl_handshake returned \u2013\u200b9984", "mbedtls_ssl_handshake returned -9984"),
        ("\u201cX509 - Certificate verification failed\u201d", '"X509 - Certificate verification failed"'),
        ("returned\u00a0-0x7280", "returned -0x7280"),
        ("a &#0; stays &amp; is unescaped", "a &#0; stays & is unescaped"),
    ],
)
def test_forum_markup_is_removed(pasted, clean):
    assert texts(f"I (10770) esp-tls: Certificate verified.\n{pasted}\n{SEEDING}\n".encode()) == [
        "I (10770) esp-tls: Certificate verified.",
        clean,
        SEEDING,
    ]
    assert texts(pasted.encode() + b"\nx") == [clean, "x"]  # on the first line too


@pytest.mark.parametrize(
    "line",
    [
        SEEDING,
        HANDSHAKE_FAILED,
        HEX_DUMP,
        "ssl_cli.c:1060: |3| 0x7ffc4dc7cdc0: 0000:  6b 01 24 cc d5 0c 84 a5 5c a8 07 04 4c 17 ad 7b  k.$.....\\...L..{",
        "  > Write to server: 18 bytes written",
        "    buf[i] = ssl_o_buffer[b];",
        "int main(int argc, char **argv)",
        "    x = a**b + c**d;",
        '#define LOG(fmt) printf("%s:%d " fmt, __FILE__, __LINE__)',
        "__attribute__((packed)) struct record",
        ">>> import ussl",
        "ssl_tls.c:2707: |3| 0x7fff5a0cda00: ! Certificate verification flags 00000008",
        "    echo ``` inline fence ``` is text",
        "ssl_msg.c:3646: |4| 0x7fff5a0cda00: 0180:  6f 3a 96 52 ce bf 7b e0 ea c6 5b 52 2d 15 7e 53  o:.R..{.",
        "\t<unsupported>",
    ],
)
def test_everything_else_is_left_exactly_as_it_is(line):
    assert texts(f"{line}\n{line}\n".encode()) == [line, line]


# --- limits --------------------------------------------------------------------------------------------------


def test_a_10_mb_line_is_cut_while_streaming(tmp_path):
    path = tmp_path / "one-line.log"
    with path.open("wb") as out:
        out.write(b"I (3680) wifi station: got ip:192.168.1.106\n")
        for _ in range(10 * 1024 // 64):  # 10 MiB of one hex dump, no newline
            out.write(b"16 03 03 00 4a " * (64 * KIB // 15) + b"16 03 03 00 4a 00 "[: 64 * KIB % 15])
        out.write(b"\n" + ESP_ERROR.encode() + b"\n")
    tracemalloc.start()
    try:
        with open_input(path) as log:
            lines = list(log)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB  # a few chunks, never the 10 MiB line
    assert [line.number for line in lines] == [1, 2, 3]
    assert len(lines[1].text) == 64 * KIB
    assert lines[1].text.startswith("16 03 03 00 4a 16 03")
    assert lines[2].text == ESP_ERROR
    assert log.stats.truncated_lines == 1
    assert log.stats.longest_line == 64 * KIB
    assert log.stats.notes == ["line 2 is longer than 65536 characters: only its start is read"]


@pytest.mark.parametrize("chunk_size", [5, 64, 1000, MIB])
def test_long_lines_are_cut_and_noted_once(chunk_size):
    short = b"ssl_tls.c:5815: |2| 0x7fff5a0cda00: <= handshake\r\n"
    data = short + b"A" * 5000 + b"\r\n" + short + b"\xc3\xa9" * 3000 + b"\r" + b"B" * 900
    lines, stats = read(data, limits=Limits(max_line=100), chunk_size=chunk_size)
    assert [line.text for line in lines] == [
        short.decode().strip(),
        "A" * 100,
        short.decode().strip(),
        "\u00e9" * 100,
        "B" * 100,
    ]
    assert stats.truncated_lines == 3
    assert stats.invalid_utf8 == 0  # the cut does not split a UTF-8 sequence
    assert stats.notes[0] == "line 2 is longer than 100 characters: only its start is read"
    assert "3 lines in all were cut to 100 characters" in stats.notes


# --- compressed input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "compress"),
    [("gzip", gzip.compress), ("xz", lzma.compress), ("bzip2", bz2.compress)],
)
def test_compressed_logs_are_read_transparently(kind, compress, tmp_path):
    path = tmp_path / f"bad.level1.log.{kind}"
    path.write_bytes(compress(CLIENT2))
    with open_input(path, chunk_size=100) as log:
        lines = list(log)
    assert [line.text for line in lines] == editor_lines(CLIENT2)
    assert log.stats.compression == kind
    assert log.stats.bytes_read == path.stat().st_size
    assert log.stats.decompressed_bytes == len(CLIENT2)


def test_concatenated_gzip_members_are_all_read():
    data = gzip.compress(DEBUG) + gzip.compress(FORUM)
    assert texts(data) == texts(DEBUG + FORUM)


def test_a_truncated_download_reads_what_it_holds():
    data = gzip.compress(DEBUG * 20)
    lines, stats = read(data[: len(data) // 2])
    assert 0 < len(lines) < 41 * 20
    assert any("ends early" in note for note in stats.notes)


def test_damaged_gzip_data_reads_up_to_the_damage():
    data = bytearray(gzip.compress(DEBUG * 200))
    middle = len(data) * 2 // 3
    data[middle : middle + 20] = b"\x55" * 20
    lines, stats = read(bytes(data))
    assert 41 < len(lines) < 41 * 200
    assert lines[:41] == read(DEBUG)[0]
    assert any("data is damaged after" in note for note in stats.notes)


@pytest.mark.parametrize("magic", [b"\x1f\x8b\x08\x00", b"\xfd7zXZ\x00\x00", b"BZh91AY&SY"])
def test_corrupt_compressed_data_is_an_input_error(magic):
    with pytest.raises(InputError, match=r"looks .*-compressed but cannot be decompressed \(.+\)$"):
        read(magic + b"\x00\xff" * 40 + DEBUG)


def test_the_decompressed_size_is_capped():
    lines, stats = read(gzip.compress(DEBUG * 10), limits=Limits(max_output=1000))
    assert stats.decompressed_bytes == 1000
    assert [line.text for line in lines] == editor_lines(DEBUG[:1000])
    assert any("the most tlsdiag reads" in note for note in stats.notes)


def test_a_decompression_bomb_is_stopped():
    member = gzip.compress(f"{ESP_ERROR}\n".encode() * 20_000)  # 1.2 MB of text in about 3 kB
    bomb = member * 40  # concatenated members: 47 MB of text
    lines, stats = read(bomb, limits=Limits(bomb_after=4 * MIB, bomb_ratio=100))
    assert 4 * MIB / len(ESP_ERROR) < len(lines) < 40 * 20_000
    assert all(line.text == ESP_ERROR for line in lines[:-1])
    assert any("decompression bomb" in note for note in stats.notes)


# --- unusable input --------------------------------------------------------------------------------------


def test_a_missing_path(tmp_path):
    with pytest.raises(InputError, match=r"^\S+missing\.log does not exist$"):
        open_input(tmp_path / "missing.log")


def test_a_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory, not a log file"):
        open_input(tmp_path)


#: The user a root test run opens the locked file as (``nobody`` on Debian and most other systems).
UNPRIVILEGED = 65534


def _open_without_root(path: Path) -> str:
    """What :func:`open_input` says about ``path`` in a child process that gave up root before opening it.

    Root reads every file whatever its mode, so a root test run (CI runs as root) checks the real refusal this
    way: the module is already loaded, the child drops to an unprivileged user and tries the file.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(UNPRIVILEGED)
            os.setuid(UNPRIVILEGED)
            try:
                with open_input(path):
                    message = "opened"
            except InputError as error:
                message = str(error)
            os.write(writer, message.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        said = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed before it could try the file"
    return said


def test_a_file_without_read_permission():
    folder = Path(tempfile.mkdtemp(prefix="tlsdiag-locked-"))  # reachable by the unprivileged user, unlike tmp_path
    try:
        folder.chmod(0o755)
        path = folder / "locked.log"
        path.write_bytes(DEBUG)
        path.chmod(0)
        if os.geteuid() == 0:
            message = _open_without_root(path)
        else:
            with pytest.raises(InputError) as raised:
                open_input(path)
            message = str(raised.value)
        assert re.search(r"locked\.log cannot be read: permission denied$", message), message
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied"), "bad.log cannot be read: permission denied"),
        (OSError(6, "No such device or address"), "bad.log cannot be read: no such device or address"),
        (OSError(36, "File name too long"), "bad.log cannot be read: file name too long"),
    ],
)
def test_other_reasons_a_path_cannot_be_opened(monkeypatch, error, message):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(read_module, "open", refuse, raising=False)  # the module's own open(), not builtins
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        open_input("bad.log")


def test_a_read_error_is_an_input_error():
    class FailingDevice(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(5, "Input/output error")

    with pytest.raises(InputError, match=r"^<stdin> cannot be read: input/output error$"):
        list(open_input("-", stdin=FailingDevice()))


@pytest.mark.parametrize("content", [b"", b"\n", b" \r\n\t\n", b"\xef\xbb\xbf\n", b"\x1b[0m\n> \n```\n"])
def test_empty_input(tmp_path, content):
    path = tmp_path / "empty.log"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.log is empty$"), open_input(path) as log:
        list(log)


def test_an_all_nul_file_is_not_text(tmp_path):
    path = tmp_path / "flash-dump.bin"
    path.write_bytes(b"\x00" * 100_000)
    with pytest.raises(InputError, match=r"flash-dump\.bin is not a text log \(mostly binary data\)$"):
        list(open_input(path))


def test_random_bytes_are_not_text():
    with pytest.raises(InputError, match="not a text log"):
        read(os.urandom(70_000))


def test_archives_are_named(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("v40b2_provFail.txt", FORUM)
    with pytest.raises(InputError, match="is a zip archive"):
        read(buffer.getvalue())
    member = tmp_path / "v40b2_provFail.txt"
    member.write_bytes(FORUM)
    tarball = tmp_path / "iotProvErr.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(member, arcname=member.name)
    with pytest.raises(InputError, match=r"iotProvErr\.tar\.gz is a tar archive"):
        list(open_input(tarball))


# --- sources -----------------------------------------------------------------------------------------------


def test_standard_input():
    with open_input("-", stdin=io.BytesIO(FORUM)) as log:
        assert log.name == "<stdin>"
        assert len(list(log)) == 22
    with pytest.raises(InputError, match=r"^<stdin> is empty$"):
        read(b"")


def test_a_fifo_is_read_like_a_pipe(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "monitor.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as writer:
            for line in DEBUG.splitlines(keepends=True):
                writer.write(line)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with open_input(fifo) as log:
            assert [line.text for line in log] == DEBUG.decode().splitlines()
    finally:
        feeder.join(timeout=10)


def test_an_input_is_read_once_and_closed(tmp_path):
    path = tmp_path / "bad.log"
    path.write_bytes(DEBUG)
    with open_input(Path(path)) as log:
        assert log.name == str(path)
        next(iter(log))
        with pytest.raises(RuntimeError):
            iter(log)
    assert log._stream.closed


# --- properties -------------------------------------------------------------------------------------------

REAL_LINES = [*DEBUG.decode().splitlines(), *CLIENT2.decode().splitlines(), *FORUM.decode().splitlines()]


def read_anything(data: bytes, **options) -> list[Line] | None:
    """The lines, or None for an InputError; anything else fails the test."""
    try:
        lines, _ = read(data, **options)
    except InputError as error:
        assert "\n" not in str(error)
        return None
    assert_well_formed(lines)
    return lines


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_clean_lines_or_an_input_error(data):
    read_anything(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([b"\x1f\x8b\x08", b"\xfd7zXZ\x00", b"BZh91AY&SY", b"\xff\xfe", b"\xfe\xff"]), st.binary())
def test_bytes_behind_a_magic_number_give_clean_lines_or_an_input_error(magic, data):
    read_anything(magic + data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 100))
def test_damaged_compressed_logs_give_clean_lines_or_an_input_error(garbage, where):
    data = bytearray(gzip.compress(DEBUG))
    position = min(len(data), 10 + where * len(data) // 100)
    read_anything(bytes(data[:position] + garbage + data[position:]))


noise = st.binary(min_size=1, max_size=12) | st.sampled_from(
    [b"\r", b"\r\n", b"\x1b[0;31m", b"\x1b[", b"\x1b]0;t", b"\x00", b"\xc3", b"\xef\xbb\xbf", b"[b]", b"**", b"> "]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(REAL_LINES) - 1), st.integers(0, 200), noise), max_size=8))
def test_mutated_real_lines_never_fail(mutations):
    lines = [line.encode() for line in REAL_LINES]
    for index, offset, inserted in mutations:
        line = lines[index]
        cut = min(offset, len(line))
        lines[index] = line[:cut] + inserted + line[cut:]
    result = read_anything(b"\n".join(lines) + b"\n")
    assert result is not None  # a few damaged lines never make a log unusable
    assert len(result) >= len(REAL_LINES)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(REAL_LINES), noise | st.just(b"")), min_size=1, max_size=30),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.integers(1, 50),
)
def test_chunking_never_changes_the_result(pieces, ending, chunk_size):
    data = ending.join(line.encode() + extra for line, extra in pieces)
    whole = read_anything(data)
    assert read_anything(data, chunk_size=chunk_size) == whole
    assert read_anything(data, chunk_size=chunk_size, limits=Limits(max_line=40)) == read_anything(
        data, limits=Limits(max_line=40)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(REAL_LINES), min_size=1, max_size=40), st.lists(st.sampled_from(["\n", "\r\n", "\r"])))
def test_clean_real_lines_come_back_with_their_editor_numbers(lines, endings):
    joined = "".join(line + (endings[i % len(endings)] if endings else "\n") for i, line in enumerate(lines))
    result = read_anything(joined.encode())
    if not any(line.strip() for line in lines):
        assert result is None
        return
    expected = [text.replace("[b]", "").replace("[/b]", "") for text in editor_lines(joined.encode())]
    assert [line.text for line in result] == expected
