"""How much RAM one TLS connection with this configuration needs during the handshake, and why.

The record buffers are exact (the content lengths plus header and cipher expansion, as mbedTLS sizes
them); the rest is a set of allowances from ``costs.toml``, each with the basis it rests on. The
estimate is a guide to what dominates and what a change saves, not a measurement.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tlsdiag.config.effective import Effective
from tlsdiag.config.expr import evaluate, truth


class Estimate(NamedTuple):
    in_content: int | None
    out_content: int | None
    in_buffer: int | None
    out_buffer: int | None
    expansion: tuple[tuple[str, int], ...]
    allowances: tuple[tuple[str, int, str], ...]
    peak: int | None
    steady: int | None
    basis: tuple[str, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "peak_bytes": self.peak,
            "after_handshake_bytes": self.steady,
            "buffers": {
                "in": {"content": self.in_content, "bytes": self.in_buffer},
                "out": {"content": self.out_content, "bytes": self.out_buffer},
                "expansion": [{"name": name, "bytes": size} for name, size in self.expansion],
            },
            "allowances": [{"name": name, "bytes": size, "basis": basis} for name, size, basis in self.allowances],
            "basis": list(self.basis),
            "notes": list(self.notes),
        }


def content_lengths(effective: Effective) -> tuple[int | None, int | None]:
    return effective.value("MBEDTLS_SSL_IN_CONTENT_LEN"), effective.value("MBEDTLS_SSL_OUT_CONTENT_LEN")


def estimate(effective: Effective, costs: dict[str, Any], symbols: dict[str, str] | None = None) -> Estimate:
    if effective.defined("MBEDTLS_SSL_TLS_C") is False:
        return Estimate(None, None, None, None, (), (), None, None, ("no TLS is built: no record buffers",), ())
    buffers = costs["buffers"]
    expansion = tuple(
        (item["name"], int(item["bytes"]))
        for item in buffers.get("expansion", ())
        if truth(evaluate(item["condition"], effective)) is not False
    )
    overhead = int(buffers["header"]) + sum(size for _, size in expansion)
    in_content, out_content = content_lengths(effective)
    in_buffer = None if in_content is None else in_content + overhead
    out_buffer = None if out_content is None else out_content + overhead
    allowances = tuple(
        (item["name"], int(item["bytes"]), item["basis"])
        for item in costs.get("allowance", ())
        if truth(evaluate(item["condition"], effective)) is True
    )
    handshake = sum(size for _, size, _ in allowances)
    contexts = sum(size for name, size, _ in allowances if name == "contexts")
    peak = None if in_buffer is None or out_buffer is None else in_buffer + out_buffer + handshake
    steady = None if in_buffer is None or out_buffer is None else in_buffer + out_buffer + contexts
    basis = [
        f"record buffers: {buffers['basis']} ({overhead} bytes of overhead each with the ciphers enabled here)",
        "handshake allowances (rough, 32-bit target): " + "; ".join(f"{name} {size} B" for name, size, _ in allowances),
        "not included: the application's own buffers, CA certificates it loads, the TCP/IP stack",
    ]
    notes = []
    for note in costs.get("note", ()):
        if "series" in note and effective.series not in note["series"]:
            continue
        if "symbol" in note:
            if (symbols or {}).get(note["symbol"]) == "y":
                notes.append(note["text"])
            continue
        if truth(evaluate(note["condition"], effective)) is True:
            notes.append(note["text"])
    return Estimate(
        in_content,
        out_content,
        in_buffer,
        out_buffer,
        expansion,
        allowances,
        peak,
        steady,
        tuple(basis),
        tuple(notes),
    )


def kib(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 1024:.1f} KB"
