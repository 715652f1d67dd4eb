"""TLS wire decoding: bytes (folded back from a log's hex dumps) -> records, handshake messages, certificates.

Layers, each usable alone:

* :mod:`~tlsdiag.tls.records`: record framing, handshake reassembly across records;
* :mod:`~tlsdiag.tls.handshake`: message bodies (ClientHello, ServerHello, Certificate ...) and alerts;
* :mod:`~tlsdiag.tls.extensions`: hello extensions and their values;
* :mod:`~tlsdiag.tls.certificates`: X.509 from DER, and PEM blocks found in any text;
* :mod:`~tlsdiag.tls.names`: names for the numbers, from the knowledge tables.

Everything decodes from bytes, never from log text, and nothing raises on bad input: results carry
an ``error`` next to what could be decoded. :func:`decode_stream` chains the layers for the common
case of one direction's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tlsdiag.tls.handshake import Alert, Decoded, decode_alert, decode_messages
from tlsdiag.tls.records import ALERT, Handshake, RecordSplit, reassemble, split_records


@dataclass(frozen=True)
class Flight:
    """One direction's bytes, decoded: records, reassembled handshake, decoded messages, alerts."""

    records: RecordSplit
    handshake: Handshake
    messages: tuple[Decoded, ...]
    alerts: tuple[Alert, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records.to_json(),
            "handshake": self.handshake.to_json(),
            "messages": [message.to_json() for message in self.messages],
            "alerts": [alert.to_json() for alert in self.alerts],
        }


def decode_stream(data: bytes, *, tls13: bool | None = None, key_exchange: str | None = None) -> Flight:
    """Split ``data`` into records, reassemble the plaintext handshake, decode messages and alerts."""
    split = split_records(data)
    handshake = reassemble(split.records)
    alerts = tuple(decode_alert(record.fragment) for record in split.records if record.content_type == ALERT)
    return Flight(split, handshake, decode_messages(handshake.messages, tls13=tls13, key_exchange=key_exchange), alerts)


__all__ = ["Flight", "decode_stream"]
