"""Fold stage: multi-line events become whole ones.

* a ``dumping '...' (N bytes)`` header and the ``0000:  16 03 ...`` lines after it become one
  :class:`~tlsdiag.analysis.events.Dump`; the record dumps (``output record sent to network``, ``input
  record from network``) are then decoded as TLS, per connection and direction, into
  :class:`~tlsdiag.analysis.events.TlsMessage` events (handshake messages are reassembled across records);
* a certificate dump (``peer certificate #1:`` and its ``subject name : ...`` lines, or a
  ``Verify requested for (Depth N):`` block) becomes one :class:`~tlsdiag.analysis.events.CertificateText`;
* a PEM block pasted in the log becomes a :class:`~tlsdiag.analysis.events.CertificateDer`.

Memory stays bounded: a dump keeps at most ``MAX_DUMP_BYTES`` (only record dumps keep bytes at all),
the per-direction handshake buffer is capped, and a PEM block is dropped past ``MAX_PEM_CHARS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tlsdiag.analysis import events

MAX_DUMP_BYTES = 1 << 16  # 64 KiB: more than any TLS record (16 KiB + 2 KiB)
MAX_HANDSHAKE_BUFFER = 1 << 18  # one direction's unfinished handshake bytes
MAX_PEM_CHARS = 1 << 16

#: dump labels that hold a whole TLS record as it crossed the network, and its direction
RECORD_DUMPS = {
    "output record sent to network": "out",
    "input record from network": "in",
}
#: dump labels that hold decrypted handshake bytes (TLS 1.3 and encrypted TLS 1.2 messages)
PLAINTEXT_DUMPS = {"input payload after decrypt": "in", "before encrypt: output payload": "out"}

_CERT_END_KINDS = (events.VerifyInfo, events.ErrorText)


class _Direction:
    """Handshake bytes of one direction of one connection, reassembled across records."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.after_ccs = False
        self.tls13: bool | None = None
        self.key_exchange: str | None = None
        self.first_env: events.Envelope | None = None


class Folder:
    """Stateful fold over one input's events."""

    def __init__(self) -> None:
        self._dump: list[Any] | None = None  # [header, chunks, size, last_env, lines]
        self._cert: list[Any] | None = None  # [env, origin, fields, flags]
        self._pem: list[Any] | None = None  # [env, text parts, size]
        self._directions: dict[tuple[str | None, str], _Direction] = {}
        self.dumps = 0
        self.dump_lines = 0
        self.messages = 0
        self.claimed_lines = 0  # lines the parser left unrecognised and a fold claimed (PEM blocks)

    def fold(self, stream: Iterable[events.Event]) -> Iterator[events.Event]:
        for event in stream:
            if isinstance(event, events.DumpLine):
                if self._dump is not None and self._continues(event):
                    self._extend(event)
                    continue
                yield event  # a dump line without a header (the header was cut): keep it as is
                continue
            if self._dump is not None:
                yield from self._finish_dump()
            if self._cert is not None and not self._continues_certificate(event):
                yield self._finish_certificate()
            if self._pem is not None:
                yield from self._feed_pem(event)
                continue
            if isinstance(event, events.DumpHeader):
                self._dump = [event, [], 0, event.env, 0]
                continue
            if isinstance(event, events.CertificateLine):
                self._certificate_line(event)
            elif isinstance(event, events.Step) and event.direction == "enter" and event.name == "handshake":
                self._reset(event.env.context)
            elif isinstance(event, events.Unrecognized) and "-----BEGIN" in event.env.text:
                self._pem = [event.env, [event.env.text], len(event.env.text)]
                self.claimed_lines += 1
                if "-----END" in event.env.text:
                    yield from self._finish_pem()
                continue
            yield event
        if self._dump is not None:
            yield from self._finish_dump()
        if self._cert is not None:
            yield self._finish_certificate()
        if self._pem is not None:
            yield from self._finish_pem()

    # --- hex dumps and TLS records ------------------------------------------------------------------------

    def _continues(self, line: events.DumpLine) -> bool:
        assert self._dump is not None
        header: events.DumpHeader = self._dump[0]
        same_source = line.env.context == header.env.context
        expected = self._dump[2] if line.offset >= 0 else -1
        return same_source and (line.offset == expected or line.offset < 0)

    def _extend(self, line: events.DumpLine) -> None:
        assert self._dump is not None
        dump = self._dump
        dump[4] += 1
        dump[3] = line.env
        self.dump_lines += 1
        if dump[2] < MAX_DUMP_BYTES:
            dump[1].append(line.data)
        dump[2] += len(line.data)

    def _finish_dump(self) -> Iterator[events.Event]:
        assert self._dump is not None
        header, chunks, size, last_env, lines = self._dump
        self._dump = None
        self.dumps += 1
        data = b"".join(chunks)[:MAX_DUMP_BYTES]
        keep = header.label in RECORD_DUMPS or header.label in PLAINTEXT_DUMPS
        dump = events.Dump(header.env, header.label, header.length, data if keep else b"", size, lines, last_env.line)
        yield dump
        direction = RECORD_DUMPS.get(header.label)
        if direction is not None:
            yield from self._record(dump, direction)
        elif header.label in PLAINTEXT_DUMPS:
            yield from self._plaintext(dump, PLAINTEXT_DUMPS[header.label])

    def _direction(self, context: str | None, direction: str) -> _Direction:
        key = (context, direction)
        state = self._directions.get(key)
        if state is None:
            if len(self._directions) > 64:  # many threads: forget the oldest connections
                self._directions.clear()
            state = self._directions[key] = _Direction()
        return state

    def _reset(self, context: str | None) -> None:
        for direction in ("in", "out"):
            self._directions.pop((context, direction), None)

    def _record(self, dump: events.Dump, direction: str) -> Iterator[events.Event]:
        from tlsdiag.tls.handshake import decode_alert
        from tlsdiag.tls.records import ALERT, CHANGE_CIPHER_SPEC, HANDSHAKE, split_records

        state = self._direction(dump.env.context, direction)
        split = split_records(dump.data)
        for record in split.records:
            yield events.TlsRecord(dump.env, direction, record.content_type, record.length, len(record.fragment))
            if record.content_type == CHANGE_CIPHER_SPEC:
                state.after_ccs = True
                state.buffer.clear()
            elif record.content_type == ALERT and not state.after_ccs:
                yield events.TlsMessage(dump.env, direction, "Alert", decode_alert(record.fragment))
            elif record.content_type == HANDSHAKE and not state.after_ccs and not (state.tls13 and direction == "in"):
                if state.first_env is None:
                    state.first_env = dump.env
                if len(state.buffer) + len(record.fragment) <= MAX_HANDSHAKE_BUFFER:
                    state.buffer += record.fragment
                yield from self._messages(state, direction, dump.env)

    def _plaintext(self, dump: events.Dump, direction: str) -> Iterator[events.Event]:
        """Decrypted handshake bytes: messages that were encrypted on the wire (TLS 1.3, Finished)."""
        from tlsdiag.tls.records import split_handshake

        data = dump.data
        if len(data) < 4 or data[0] not in (2, 4, 8, 11, 13, 15, 20):  # a handshake message type
            return
        handshake = split_handshake(data)
        state = self._direction(dump.env.context, direction)
        for message in handshake.messages:
            if message.truncated and message.length > len(message.body):
                continue
            yield from self._decoded(state, direction, dump.env, message)

    def _messages(self, state: _Direction, direction: str, env: events.Envelope) -> Iterator[events.Event]:
        from tlsdiag.tls.records import HandshakeMessage

        buffer = state.buffer
        while len(buffer) >= 4:
            length = int.from_bytes(buffer[1:4], "big")
            if len(buffer) < 4 + length:
                return  # the rest comes in the next record
            message = HandshakeMessage(buffer[0], length, bytes(buffer[4 : 4 + length]))
            del buffer[: 4 + length]
            start_env = state.first_env or env
            state.first_env = env if buffer else None
            yield from self._decoded(state, direction, start_env, message)

    def _decoded(self, state: _Direction, direction: str, env: events.Envelope, message: Any) -> Iterator[events.Event]:
        from tlsdiag.tls import names
        from tlsdiag.tls.handshake import decode_message
        from tlsdiag.tls.hello import ServerHello

        decoded = decode_message(message, tls13=state.tls13, key_exchange=state.key_exchange)
        if isinstance(decoded, ServerHello) and not decoded.hello_retry_request and decoded.version is not None:
            for other in ("in", "out"):
                peer = self._direction(env.context, other)
                peer.tls13 = decoded.tls13
                if decoded.cipher_suite is not None:
                    peer.key_exchange = names.key_exchange(decoded.cipher_suite) or peer.key_exchange
        self.messages += 1
        yield events.TlsMessage(env, direction, names.handshake_type(message.msg_type), decoded)

    # --- certificate dumps ------------------------------------------------------------------------------------

    def _certificate_line(self, line: events.CertificateLine) -> None:
        if line.key in ("#", "verify-depth"):
            origin = line.value if line.key == "#" else f"verify depth {line.value}"
            self._cert = [line.env, origin, {}, []]
        elif self._cert is None:
            self._cert = [line.env, "certificate", {}, []]
        if line.key not in ("#", "verify-depth"):
            fields: dict[str, Any] = self._cert[2]
            if line.key.startswith("san:"):
                fields.setdefault("subject alt name entries", []).append(f"{line.key[4:]}:{line.value}")
            else:
                fields[line.key] = line.value

    def _continues_certificate(self, event: events.Event) -> bool:
        if isinstance(event, events.CertificateLine):
            return event.key not in ("#", "verify-depth")
        if isinstance(event, (events.DumpHeader, events.Trace)):
            return True  # the key's MPI dump and level-4 chatter inside a certificate dump
        if isinstance(event, _CERT_END_KINDS) and self._cert is not None and self._cert[1].startswith("verify depth"):
            self._cert[3].append(event)
            return True
        return False

    def _finish_certificate(self) -> events.CertificateText:
        assert self._cert is not None
        env, origin, fields, flags = self._cert
        self._cert = None
        verify = tuple(flags)
        return events.CertificateText(env, origin, fields, verify)

    # --- PEM blocks -----------------------------------------------------------------------------------------

    def _feed_pem(self, event: events.Event) -> Iterator[events.Event]:
        assert self._pem is not None
        text = event.env.text
        self._pem[1].append(text)
        self._pem[2] += len(text)
        if type(event) is events.Unrecognized:
            self.claimed_lines += 1
        if "-----END" in text or self._pem[2] > MAX_PEM_CHARS:
            return self._finish_pem()
        return iter(()) if type(event) is events.Unrecognized else iter((event,))

    def _finish_pem(self) -> Iterator[events.Event]:
        from tlsdiag.tls.certificates import find_pem_certificates, parse_certificate

        assert self._pem is not None
        env, parts, _ = self._pem
        self._pem = None
        for block in find_pem_certificates("\n".join(parts)):
            if "CERTIFICATE" not in block.label:
                continue  # keys and requests are not evidence (and must not be copied around)
            info = parse_certificate(block.der) if block.der else None
            yield events.CertificateDer(env, "pem", block.der or b"", info)
