"""Every TLS byte dumped in the corpus logs decodes to what mbedTLS itself logged about it.

Each log is both input and answer key: mbedTLS prints the suites it adds, the record headers and
handshake lengths it reads, the alerts it sends and gets and the certificates it parses, next to
hex dumps of the same bytes. These tests decode the dumps and compare with those lines, for all logs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tls_logs import (
    Dump,
    alert_lines,
    client_hello_blocks,
    corpus_logs,
    debug_lines,
    dumps,
    peer_certificates,
)
from tlsdiag.tls import decode_stream
from tlsdiag.tls.handshake import CertificateMessage, ClientHello, decode_alert, decode_message, decode_messages
from tlsdiag.tls.records import split_handshake, split_records

LOGS = corpus_logs()
RECORD_DUMPS = ("input record from network", "output record sent to network")
INPUT_DUMPS = ("input record from network", "input payload after decrypt")
_RECORD_LINE = re.compile(
    r"(?P<direction>input|output) record: msgtype = (?P<type>\d+), "
    r"version = \[(?:(?P<major>\d+):(?P<minor>\d+)|0x(?P<hex>[0-9a-f]+))\], msglen = (?P<length>\d+)"
)
_HANDSHAKE_LINE = re.compile(r"handshake message: msglen = \d+, type = (?P<type>\d+), hslen = (?P<hslen>\d+)")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _with_client_hellos() -> list[Path]:
    return [log for log in LOGS if any(block.suites for block in client_hello_blocks(debug_lines(log)))]


def test_the_corpus_has_dumps_to_check():
    assert len(_with_client_hellos()) >= 60


@pytest.mark.parametrize("log", _with_client_hellos(), ids=_id)
def test_every_dumped_client_hello_lists_the_logged_suites(log):
    checked = 0
    for block in client_hello_blocks(debug_lines(log)):
        if not block.suites:
            continue
        if block.plaintext is not None:  # a renegotiating hello is encrypted: use the plaintext dump
            messages = decode_messages(split_handshake(block.plaintext.data).messages)
        else:
            assert block.record is not None, f"line {block.start}: the hello was not dumped"
            messages = decode_stream(block.record.data).messages
        hello = messages[0]
        assert isinstance(hello, ClientHello), f"line {block.start}"
        assert hello.error is None and hello.extension_errors == (), f"line {block.start}: {hello.error}"
        assert list(hello.cipher_suites) == block.suites + ([0x00FF] if block.scsv else []), f"line {block.start}"
        assert hello.server_name == block.server_name, f"line {block.start}"
        checked += 1
    assert checked


def _latest(found: list[Dump], line: int, labels: tuple[str, ...]) -> Dump | None:
    candidates = [dump for dump in found if dump.label in labels and dump.line < line]
    return candidates[-1] if candidates else None


def _next(found: list[Dump], line: int, labels: tuple[str, ...]) -> Dump | None:
    return next((dump for dump in found if dump.label in labels and dump.line > line), None)


def _check_alerts(log: Path) -> int:
    """Compare each alert line of ``log`` with the alert in its dumped bytes; return how many had bytes."""
    lines = debug_lines(log)
    found = dumps(lines)
    checked = 0
    for direction, level, description, number in alert_lines(lines):
        if direction == "in":
            dump = _latest(found, number, INPUT_DUMPS)
        else:
            dump = _next(found, number, ("output record sent to network", "before encrypt: output payload"))
        if dump is None:
            continue  # a log below debug level 4 shows the alert but no bytes
        if dump.label in RECORD_DUMPS:
            (record,) = split_records(dump.data).records
            assert record.content_type == 21, f"line {number}"
            alert = decode_alert(record.fragment)
        else:
            alert = decode_alert(dump.data)
        assert (alert.level, alert.description, alert.error) == (level, description, None), f"line {number}"
        checked += 1
    return checked


@pytest.mark.parametrize("log", LOGS, ids=_id)
def test_every_logged_alert_is_the_alert_in_its_record(log):
    _check_alerts(log)


def test_alerts_with_bytes_are_many_and_varied():
    assert sum(_check_alerts(log) for log in LOGS) >= 50


@pytest.mark.parametrize("log", [log for log in LOGS if dumps(debug_lines(log))], ids=_id)
def test_every_record_header_is_the_logged_one(log):
    lines = debug_lines(log)
    headers = {line.number: match for line in lines if (match := _RECORD_LINE.search(line.message))}
    for dump in dumps(lines):
        if dump.label not in RECORD_DUMPS:
            continue
        direction = "input" if dump.label.startswith("input") else "output"
        before = [number for number, match in headers.items() if number < dump.line and match["direction"] == direction]
        header = headers[before[-1]]
        split = split_records(dump.data)
        assert split.error is None, f"line {dump.line}: {split.error}"
        record = split.records[0]
        version = int(header["hex"], 16) if header["hex"] else (int(header["major"]) << 8) | int(header["minor"])
        assert (record.content_type, record.version, record.length) == (
            int(header["type"]),
            version,
            int(header["length"]),
        ), f"line {dump.line}"
        assert record.truncated == (not dump.complete), f"line {dump.line}"


def _handshake_bytes(dump: Dump) -> bytes:
    if dump.label in RECORD_DUMPS:
        return split_records(dump.data).records[0].fragment
    return dump.data


@pytest.mark.parametrize("log", [log for log in LOGS if dumps(debug_lines(log))], ids=_id)
def test_every_handshake_message_has_the_logged_type_and_length(log):
    """``handshake message: msglen = .., type = 11, hslen = 1777`` names the next message of the last dump read."""
    lines = debug_lines(log)
    found = [dump for dump in dumps(lines) if dump.label in INPUT_DUMPS]
    seen: dict[int, int] = {}
    checked = 0
    for line in lines:
        match = _HANDSHAKE_LINE.search(line.message)
        if not match:
            continue
        dump = _latest(found, line.number, INPUT_DUMPS)
        assert dump is not None
        messages = split_handshake(_handshake_bytes(dump)).messages
        index = seen.get(dump.line, 0)
        seen[dump.line] = index + 1
        message = messages[index]
        assert (message.msg_type, message.size) == (int(match["type"]), int(match["hslen"])), f"line {line.number}"
        decoded = decode_message(message)
        error = getattr(decoded, "error", None)
        assert error is None or message.truncated, f"line {line.number}: {error}"
        checked += 1
    assert checked or not any(_HANDSHAKE_LINE.search(line.message) for line in lines)


def _certificate_message(found: list[Dump], line: int) -> CertificateMessage:
    for dump in reversed([dump for dump in found if dump.line < line]):
        if dump.label not in INPUT_DUMPS:
            continue
        for message in split_handshake(_handshake_bytes(dump)).messages:
            if message.msg_type == 11:
                decoded = decode_message(message)
                assert isinstance(decoded, CertificateMessage)
                return decoded
    raise AssertionError(f"no Certificate message dumped before line {line}")


def _signature_text(printed: str) -> str:
    return printed.replace("-", "").replace(" ", "").replace("_", "").lower()


def _logs_with_certificates() -> list[Path]:
    return [log for log in LOGS if peer_certificates(debug_lines(log)) and dumps(debug_lines(log))]


@pytest.mark.parametrize("log", _logs_with_certificates(), ids=_id)
def test_every_peer_certificate_dump_matches_the_certificate_message(log):
    lines = debug_lines(log)
    found = dumps(lines)
    for number, chain in peer_certificates(lines):
        message = _certificate_message(found, number)
        assert message.error is None
        assert len(message.entries) == len(chain), f"line {number}"
        for printed, entry in zip(chain, message.entries, strict=True):
            info = entry.info
            assert info is not None and info.error is None and info.problems == (), f"line {number}"
            assert info.subject == printed["subject name"], f"line {number}"
            assert info.issuer == printed["issuer name"], f"line {number}"
            assert info.serial == printed["serial number"], f"line {number}"
            assert info.version == int(str(printed["cert. version"])), f"line {number}"
            assert info.not_before and info.not_before.strftime("%Y-%m-%d %H:%M:%S") == printed["issued  on"]
            assert info.not_after and info.not_after.strftime("%Y-%m-%d %H:%M:%S") == printed["expires on"]
            size_line = printed.get("RSA key size") or printed.get("EC key size")
            assert size_line == f"{info.key_size} bits", f"line {number}"
            assert _signature_text(str(printed["signed using"])) == _signature_text(info.signature_algorithm or "")
            if "basic constraints" in printed:
                assert printed["basic constraints"].startswith(f"CA={'true' if info.is_ca else 'false'}")
            dns = printed["dns"]
            assert isinstance(dns, list) and list(info.san_dns[: len(dns)]) == dns, f"line {number}"


def test_certificate_dumps_cover_several_keys_and_signatures():
    algorithms, sizes = set(), set()
    for log in _logs_with_certificates():
        for _, chain in peer_certificates(debug_lines(log)):
            algorithms.update(str(printed["signed using"]) for printed in chain)
            sizes.update(str(printed.get("RSA key size") or printed.get("EC key size")) for printed in chain)
    assert {"RSA with SHA-256", "RSA with SHA1"} <= algorithms
    assert {"1024 bits", "2048 bits", "4096 bits", "384 bits"} <= sizes
