"""Test helper: pull the hex dumps and the few facts the tests compare against out of mbedTLS debug logs.

This is deliberately small and test-only (the real fold stage comes later): it understands the debug
line layout of the corpus logs (``file.c:1234: |4| [0x7ffd...: ]message``) and mbedTLS's hex dumps
(``dumping 'LABEL' (N bytes)`` followed by ``0000:  16 03 01 ...`` lines), and it reads the text
lines the decoders are checked against: ``client hello, add ciphersuite``, ``adding server name
extension``, ``got an alert message``, ``send alert level=``, and ``peer certificate #N`` dumps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import CORPUS, FIXTURES, fixture_files
from tlsdiag.tls import Flight, decode_stream
from tlsdiag.tls.handshake import decode_messages
from tlsdiag.tls.records import split_handshake, split_records

TLS_FIXTURES = FIXTURES / "tls"

_DEBUG = re.compile(r"(?P<file>[\w.]+):(?P<src>\d+): \|(?P<level>\d)\| (?:0x[0-9a-f]+: )?(?P<msg>.*)$")
_DUMP = re.compile(r"^dumping '(?P<label>.*)' \((?P<size>\d+) bytes\)$")
_HEX = re.compile(r"^(?P<offset>[0-9a-f]{4}): (?P<bytes>(?: [0-9a-f]{2}){1,16})")
_SUITE = re.compile(r"client hello, add ciphersuite: (?:0x)?(?P<id>[0-9a-f]+)")
_SNI = re.compile(r"client hello, adding server name extension: (?P<name>\S+)")
_GOT_ALERT = re.compile(r"got an alert message, type: \[(?P<level>\d+):(?P<description>\d+)\]")
_SENT_ALERT = re.compile(r"send alert level=(?P<level>\d+) message=(?P<description>\d+)")
_CERT_FIELD = re.compile(r"^(?P<key>[A-Za-z. ]+?)\s*: ?(?P<value>.*)$")
#: mbedTLS before 4.1 dumps at most this many bytes of a buffer, whatever the header line says.
DUMP_CAP = 4096


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line in the log
    message: str  # the debug message without the file/line/level/context prefix


@dataclass(frozen=True)
class Dump:
    label: str
    declared: int  # the size the header line states
    data: bytes  # the bytes the log shows (at most DUMP_CAP)
    line: int  # 1-based line of the ``dumping`` header

    @property
    def complete(self) -> bool:
        return len(self.data) == self.declared


@dataclass
class ClientHelloBlock:
    """What one ``=> write client hello`` ... ``<= write client hello`` stretch of a log says and dumps."""

    start: int
    suites: list[int] = field(default_factory=list)
    scsv: bool = False
    server_name: str | None = None
    record: Dump | None = None  # 'output record sent to network'
    plaintext: Dump | None = None  # 'before encrypt: output payload' (a renegotiating hello is encrypted)


def debug_lines(path: Path) -> list[Line]:
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        match = _DEBUG.search(text)
        if match:
            lines.append(Line(number, match.group("msg")))
    return lines


def dumps(lines: list[Line]) -> list[Dump]:
    """Every hex dump, folded back into bytes."""
    found = []
    for index, line in enumerate(lines):
        header = _DUMP.match(line.message)
        if not header:
            continue
        declared, data = int(header.group("size")), bytearray()
        for follower in lines[index + 1 :]:
            row = _HEX.match(follower.message)
            if not row or int(row.group("offset"), 16) != len(data) or len(data) >= min(declared, DUMP_CAP):
                break
            data += bytes.fromhex(row.group("bytes"))
        found.append(Dump(header.group("label"), declared, bytes(data[:declared]), line.number))
    return found


def client_hello_blocks(lines: list[Line]) -> list[ClientHelloBlock]:
    blocks: list[ClientHelloBlock] = []
    all_dumps = {dump.line: dump for dump in dumps(lines)}
    current: ClientHelloBlock | None = None
    for line in lines:
        if line.message.startswith("=> write client hello"):
            current = ClientHelloBlock(line.number)
            blocks.append(current)
        elif line.message.startswith("<= write client hello"):
            current = None
        elif current is not None:
            if suite := _SUITE.search(line.message):
                current.suites.append(int(suite.group("id"), 16))
            elif "adding EMPTY_RENEGOTIATION_INFO_SCSV" in line.message:
                current.scsv = True
            elif sni := _SNI.search(line.message):
                current.server_name = sni.group("name")
            elif line.number in all_dumps:
                dump = all_dumps[line.number]
                if dump.label == "output record sent to network" and current.record is None:
                    current.record = dump
                elif dump.label == "before encrypt: output payload" and current.plaintext is None:
                    current.plaintext = dump
    return blocks


def alert_lines(lines: list[Line]) -> list[tuple[str, int, int, int]]:
    """(direction ``in``/``out``, level, description, line number) for every alert the log reports."""
    found = []
    for line in lines:
        if got := _GOT_ALERT.search(line.message):
            found.append(("in", int(got.group("level")), int(got.group("description")), line.number))
        elif sent := _SENT_ALERT.search(line.message):
            found.append(("out", int(sent.group("level")), int(sent.group("description")), line.number))
    return found


def peer_certificates(lines: list[Line]) -> list[tuple[int, list[dict[str, object]]]]:
    """Each ``peer certificate #1 ...`` chain dump: (line of #1, one dict of printed fields per certificate)."""
    chains: list[tuple[int, list[dict[str, object]]]] = []
    current: dict[str, object] | None = None
    for line in lines:
        message = line.message
        if message.startswith("peer certificate #"):
            if message.startswith("peer certificate #1:"):
                chains.append((line.number, []))
            current = {"dns": []}
            chains[-1][1].append(current)
            continue
        if current is None:
            continue
        stripped = message.strip()
        if stripped.startswith("dNSName :"):
            dns = current["dns"]
            assert isinstance(dns, list)
            dns.append(stripped.split(":", 1)[1].strip())
            continue
        if message.startswith("value of ") or message.startswith("dumping "):
            current = None
            continue
        match = _CERT_FIELD.match(message)
        if match:
            current[match.group("key").strip()] = match.group("value").strip()
        else:
            current = None
    return chains


def corpus_logs() -> list[Path]:
    return fixture_files(CORPUS, "*/*.log")


def read_fixture(name: str) -> bytes:
    """The bytes of a fixture: hex pairs, with ``#`` comment lines saying where they came from."""
    text = (TLS_FIXTURES / name).read_text(encoding="utf-8")
    return bytes.fromhex(" ".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))


def fixture_source(name: str) -> tuple[Path, int]:
    """(corpus log, line of its ``dumping`` header) that a fixture's ``# source:`` comment names."""
    for line in (TLS_FIXTURES / name).read_text(encoding="utf-8").splitlines():
        match = re.match(r"# source: tests/fixtures/corpus/(?P<log>\S+) line (?P<line>\d+):", line)
        if match:
            return CORPUS / match.group("log"), int(match.group("line"))
    raise ValueError(f"{name} has no source comment")


def decode_fixture(name: str) -> Flight:
    """A fixture decoded as records, or, for a decrypted payload dump, as bare handshake messages."""
    data = read_fixture(name)
    if "no record header" not in (TLS_FIXTURES / name).read_text(encoding="utf-8"):
        return decode_stream(data)
    handshake = split_handshake(data)
    return Flight(split_records(b""), handshake, decode_messages(handshake.messages), ())


def write_fixture(name: str, data: bytes, comment: str) -> None:
    """Write ``data`` as a fixture (16 bytes a line, under ``comment``); used once to create the fixtures."""
    rows = [data[i : i + 16].hex(" ") for i in range(0, len(data), 16)]
    header = "".join(f"# {part}\n" for part in comment.splitlines())
    (TLS_FIXTURES / name).write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
