"""Which ciphersuites a configuration compiles in, and what it takes to compile in one more.

A suite is in the build when its key exchange option and every guard macro of its version's
``ssl_ciphersuites.c`` entry are defined, and its TLS version range meets the enabled protocol
versions (``tls/ciphersuites.json``). ``MBEDTLS_SSL_CIPHERSUITES`` narrows the list further. The
server's suites come from a list on the command line or from a testssl.sh / sslyze JSON report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from tlsdiag.config.effective import Effective
from tlsdiag.errors import InputError

# The examined ciphersuite tables; a configuration is read with the nearest one at or below its series.
_TABLE_FOR = {"2.7": "2.16", "2.16": "2.16", "2.28": "2.28", "3.0": "3.6", "3.3": "3.6", "3.5": "3.6", "3.6": "3.6"}
_TABLE_FOR |= {"4.0": "4.1", "4.1": "4.1"}
_PROTOCOLS = {
    "SSL 3.0": "MBEDTLS_SSL_PROTO_SSL3",
    "TLS 1.0": "MBEDTLS_SSL_PROTO_TLS1",
    "TLS 1.1": "MBEDTLS_SSL_PROTO_TLS1_1",
    "TLS 1.2": "MBEDTLS_SSL_PROTO_TLS1_2",
    "TLS 1.3": "MBEDTLS_SSL_PROTO_TLS1_3",
}
_ORDER = list(_PROTOCOLS)
_IANA = re.compile(r"\bTLS_(?:[A-Z0-9]+_)*WITH_[A-Z0-9_]+\b|\bTLS_(?:AES|CHACHA20)_[A-Z0-9_]+\b")
_HEX = re.compile(r"^(?:0x)?([0-9a-fA-F]{4})$")
_TESTSSL_HEX = re.compile(r"\bx([0-9a-fA-F]{2,4})\b")


class Suite(NamedTuple):
    value: int
    name: str
    iana: str
    key_exchange: str
    key_exchange_macro: str
    min_tls: str
    max_tls: str
    guards: tuple[str, ...]
    rank: int


def table_series(series: str) -> str:
    return _TABLE_FOR.get(series, "3.6")


def suites_of(knowledge_suites: dict[str, Any], series: str) -> list[Suite]:
    """Every suite of the examined table that stands for ``series``, in mbedTLS's preference order."""
    table = table_series(series)
    found = []
    for entry in knowledge_suites["ciphersuite"]:
        version = entry.get("by_version", {}).get(table)
        if version is None:
            continue
        macro = entry.get("macro", "")
        found.append(
            Suite(
                value=int(entry["value"]),
                name=entry["name"],
                iana=macro.removeprefix("MBEDTLS_").replace("TLS1_3_", "TLS_"),
                key_exchange=entry.get("key_exchange", ""),
                key_exchange_macro=entry.get("key_exchange_macro", ""),
                min_tls=version.get("min_tls", "TLS 1.2"),
                max_tls=version.get("max_tls", "TLS 1.2"),
                guards=tuple(version.get("guards", ())),
                rank=int(version.get("preference_rank") or 10_000),
            )
        )
    found.sort(key=lambda suite: (suite.rank, suite.value))
    return found


def protocols(effective: Effective) -> list[bool | None]:
    return [effective.defined(macro) for macro in _PROTOCOLS.values()]


def _range_ok(suite: Suite, enabled: list[bool | None]) -> bool | None:
    low, high = _ORDER.index(suite.min_tls), _ORDER.index(suite.max_tls)
    states = enabled[low : high + 1]
    if any(state is True for state in states):
        return True
    return None if any(state is None for state in states) else False


def built(suite: Suite, effective: Effective) -> bool | None:
    """Is ``suite`` compiled in: True, False, or None (depends on something unknown)?"""
    states = [effective.defined(name) for name in suite.guards]
    if suite.key_exchange_macro:
        states.append(effective.defined(suite.key_exchange_macro))
    states.append(_range_ok(suite, protocols(effective)))
    restricted = _listed(effective)
    if restricted is not None:
        states.append(suite.iana in restricted or ("MBEDTLS_" + suite.iana) in restricted)
    if any(state is False for state in states):
        return False
    return None if any(state is None for state in states) else True


def _listed(effective: Effective) -> set[str] | None:
    """The suites ``MBEDTLS_SSL_CIPHERSUITES`` allows, when the configuration sets that list."""
    setting = effective.settings.get("MBEDTLS_SSL_CIPHERSUITES")
    if setting is None or setting.state != "on" or not setting.value:
        return None
    names = {part.strip() for part in setting.value.replace("\\", " ").split(",") if part.strip()}
    return {name.removeprefix("MBEDTLS_") for name in names} | names


def enabled(suites: Iterable[Suite], effective: Effective) -> tuple[list[Suite], list[Suite]]:
    """(suites certainly built, suites that depend on something unknown)."""
    certain, maybe = [], []
    for suite in suites:
        state = built(suite, effective)
        if state is True:
            certain.append(suite)
        elif state is None:
            maybe.append(suite)
    return certain, maybe


def missing_for(
    suite: Suite, effective: Effective, enable_through: dict[str, str]
) -> tuple[list[str], str | None] | None:
    """Options to turn on so that ``suite`` is built, and the new ``MBEDTLS_SSL_CIPHERSUITES`` list when the
    configuration restricts the suites; None when turning options on cannot build it."""
    wanted: list[str] = []
    options = effective.knowledge.options
    for name in [*suite.guards, suite.key_exchange_macro]:
        if not name or effective.defined(name) is not False:
            continue
        target = enable_through.get(name, name)
        option = options.get(target)
        if option is None or not option.exists_in(effective.series):
            return None
        if target not in wanted:
            wanted.append(target)
    if _range_ok(suite, protocols(effective)) is False:
        low = _ORDER.index(suite.min_tls)
        high = _ORDER.index(suite.max_tls)
        macro = _PROTOCOLS[_ORDER[high]] if high >= _ORDER.index("TLS 1.2") else _PROTOCOLS[_ORDER[low]]
        wanted.append(macro)
    restricted = _listed(effective)
    listed = None
    if restricted is not None and suite.iana not in restricted:
        current = effective.settings["MBEDTLS_SSL_CIPHERSUITES"].value or ""
        entries = [part.strip() for part in current.replace("\\", " ").split(",") if part.strip()]
        listed = ", ".join([f"MBEDTLS_{suite.iana}".replace("MBEDTLS_TLS_AES", "MBEDTLS_TLS1_3_AES"), *entries])
    return wanted, listed


def _unknown_guards(suite: Suite, effective: Effective) -> int:
    return sum(1 for name in [*suite.guards, suite.key_exchange_macro] if name and effective.defined(name) is None)


def cheapest(
    suites: Iterable[Suite],
    effective: Effective,
    enable_through: dict[str, str],
    need_key_exchange: bool,
    cost: Callable[[list[str]], int] | None = None,
) -> tuple[Suite, list[str], str | None] | None:
    """The suite that needs the fewest changes; certain guards before undecided ones, then preference order.

    ``cost`` counts what turning the options on really takes (with what check_config.h then requires).
    """
    best: tuple[tuple[int, int, int], Suite, list[str], str | None] | None = None
    for suite in suites:
        if suite.key_exchange_macro and need_key_exchange and effective.defined(suite.key_exchange_macro) is not True:
            continue
        if suite.key_exchange in ("NONE", "") and effective.defined("MBEDTLS_SSL_PROTO_TLS1_3") is not True:
            continue
        if any(word in ("NULL", "RC4", "DES", "3DES") for word in suite.name.split("-")):
            continue
        found = missing_for(suite, effective, enable_through)
        if found is None:
            continue
        missing, listed = found
        size = cost(missing) if cost is not None else len(missing)
        key = (size + (listed is not None), _unknown_guards(suite, effective), suite.rank)
        if best is None or key < best[0]:
            best = (key, suite, missing, listed)
    return None if best is None else (best[1], best[2], best[3])


# --- the server's suites ---------------------------------------------------------------------------------


def read_server_suites(text: str, known: Iterable[Suite]) -> list[int]:
    """IANA values of the suites a server accepts: a list (names or hex), or a testssl.sh/sslyze JSON file."""
    import os

    by_name: dict[str, int] = {}
    for suite in known:
        by_name[suite.iana] = suite.value
        by_name[suite.name] = suite.value
        by_name["MBEDTLS_" + suite.iana] = suite.value
    if os.path.isfile(text):
        from tlsdiag.config.source import read_lines

        lines, _ = read_lines(text, what="server report")
        body = "\n".join(lines)
        try:
            document = json.loads(body)
        except ValueError:
            return _from_words(re.split(r"[\s,;]+", body), by_name)
        return _from_report(document, by_name)
    values = _from_words(re.split(r"[\s,;]+", text), by_name)
    if not values:
        raise InputError(f"--server-suites: no ciphersuite name or value in {text!r}")
    return values


def _from_words(words: Iterable[str], by_name: dict[str, int]) -> list[int]:
    values: list[int] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        value = by_name.get(word) or by_name.get(word.upper())
        match = _HEX.match(word)
        if value is None and match:
            value = int(match.group(1), 16)
        if value is not None and value not in values:
            values.append(value)
    return values


def _from_report(document: Any, by_name: dict[str, int]) -> list[int]:
    """Walk a testssl.sh or sslyze report and collect every accepted suite it names."""
    values: list[int] = []

    def add(value: int | None) -> None:
        if value is not None and value not in values:
            values.append(value)

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "rejected" in path:
                return
            identifier = str(node.get("id", ""))
            finding = node.get("finding")
            if isinstance(finding, str) and identifier.startswith(("cipher-", "cipher_x", "cipherorder")):
                for match in _TESTSSL_HEX.finditer(finding):
                    add(int(match.group(1), 16))
                for name in _IANA.findall(finding):
                    add(by_name.get(name))
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif isinstance(node, str) and path.endswith("/name") and "accepted" in path:
            add(by_name.get(node))

    walk(document, "")
    if not values:
        raise InputError("--server-suites: the report names no accepted ciphersuite")
    return values
