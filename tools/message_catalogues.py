"""The message catalogues: every text mbedTLS's debug output and ESP-IDF's TLS stack can print, with stable ids.

``debug-messages.tsv`` lists each ``MBEDTLS_SSL_DEBUG_MSG/RET/BUF/CRT/MPI/ECP/ECDH`` call site of
five mbedTLS versions; ``esp-tls-log-messages.tsv`` each ``ESP_LOGx`` of ESP-IDF's TLS components
over seven release tags. A message a user sees is one *text* printed from several call sites and
versions, often with different conversions (``%d`` in 2.16, ``%zu`` in 2.28). Call sites are grouped
by the words of their text (see :func:`tlsdiag.analysis.parse.printf.words`), and each group gets an
id made from those words, so regenerating from the same or from newer reference tables gives the
same ids to the same messages.

Id shapes (mbedTLS): ``ssl.bad-message-length`` (a message), ``ssl.enter.write-client-hello`` /
``ssl.leave.write-client-hello`` (the ``=>`` / ``<=`` steps), ``ret.x509_verify_cert`` (the function
named by ``MBEDTLS_SSL_DEBUG_RET``), ``buf.input-record-from-network`` (a hex dump header),
``crt.peer-certificate`` (a certificate dump title), ``mpi.dhm-p`` / ``ecp.ecdh-q`` (number dumps),
and ``ret.any`` / ``buf.any`` / ``mpi.any`` / ``crt.any`` for debug.c's own line layouts, which
also match the lines it prints for names that no call site spells (``value of 'crt->rsa.N'``).
ESP-IDF ids start with the component: ``esp-tls.failed-to-verify-peer-certificate``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlsdiag.analysis.parse.printf import words

Row = dict[str, str]
ReadRows = Callable[[Path], Iterator[Row]]

#: Words of an id before it is cut; ids of messages that share their first words keep them all.
ID_WORDS = 10

#: Macros whose text is a message printed as is.
_MESSAGE_MACROS = {"MBEDTLS_SSL_DEBUG_MSG", "mbedtls_debug_print_msg", "debug_send_line"}
_KIND_OF_MACRO = {
    "MBEDTLS_SSL_DEBUG_RET": "ret",
    "MBEDTLS_SSL_DEBUG_BUF": "buf",
    "MBEDTLS_SSL_DEBUG_CRT": "crt",
    "MBEDTLS_SSL_DEBUG_MPI": "mpi",
    "mbedtls_debug_print_mpi": "mpi",
    "MBEDTLS_SSL_DEBUG_ECP": "ecp",
    "mbedtls_debug_print_ecp": "ecp",
}
#: debug.c functions that lay out one kind of line; their whole-line formats become the generic entries.
_LAYOUT_KIND = {
    "mbedtls_debug_print_ret": "ret",
    "mbedtls_debug_print_buf": "buf",
    "mbedtls_debug_print_buf_ext": "buf",
    "mbedtls_debug_print_mpi": "mpi",
    "mbedtls_debug_print_ec_coord": "mpi",
    "mbedtls_debug_print_integer": "mpi",
    "mbedtls_debug_print_crt": "crt",
}
#: Helpers whose debug level is a parameter: their level is that of the macros that call them.
_HELPER_CALLERS = {
    "mbedtls_ssl_print_extension": ("MBEDTLS_SSL_PRINT_EXT", "MBEDTLS_SSL_PRINT_EXTS"),
    "mbedtls_ssl_print_ticket_flags": ("MBEDTLS_SSL_PRINT_TICKET_FLAGS",),
    "debug_print_pk": ("MBEDTLS_SSL_DEBUG_CRT",),
    "mbedtls_debug_printf_ecdh_internal": ("MBEDTLS_SSL_DEBUG_ECDH",),
}
_STEP_MARKERS = {"=>": "enter", "<=": "leave"}
_ESP_LEVEL_ORDER = "EWIDV"


def slug(parts: Iterable[str]) -> str:
    return "-".join(parts)


def _kind(row: Row) -> str | None:
    macro = row["macro"]
    if macro in _MESSAGE_MACROS:
        return "msg"
    if macro == "MBEDTLS_SSL_DEBUG_ECDH":
        return "ecp" if " || " in row["rendered"] else "mpi"
    return _KIND_OF_MACRO.get(macro)


def _helper_callers(rows: list[Row], series_of: dict[str, str]) -> dict[tuple[str, str], list[Row]]:
    """(series, helper function) -> the call sites of the macros that run it.

    A helper prints with its caller's level and ``__FILE__``: its lines carry the caller's file name.
    """
    callers: dict[tuple[str, str], list[Row]] = {}
    for helper, macros in _HELPER_CALLERS.items():
        for row in rows:
            if row["macro"] in macros and row["level"].isdigit():
                callers.setdefault((series_of[row["version"]], helper), []).append(row)
    return callers


class _Group:
    """The call sites that print one message, gathered across versions."""

    def __init__(self, kind: str, key_text: str) -> None:
        self.kind = kind
        self.key_text = key_text
        self.texts: dict[str, int] = {}
        self.levels: set[int | str] = set()
        self.versions: set[str] = set()
        self.formats: dict[str, set[str]] = {}
        self.sites: dict[tuple[str, str], set[str]] = {}
        self.logged: dict[tuple[str, str], set[str]] = {}

    def add(self, text: str, formats: list[str], version: str, site: tuple[str, str]) -> None:
        self.texts[text] = self.texts.get(text, 0) + 1
        self.versions.add(version)
        for line in formats:
            self.formats.setdefault(line, set()).add(version)
        self.sites.setdefault(site, set()).add(version)

    @property
    def canonical_text(self) -> str:
        """The spelling most call sites use (ties: the first in sort order), for ids that keep spelling."""
        return min(self.texts, key=lambda text: (-self.texts[text], text))


def _ordered(versions: Iterable[str], order: list[str]) -> list[str]:
    return sorted(set(versions), key=order.index)


def _assign_ids(
    groups: dict[tuple[str, ...], _Group], base_id: Callable[[_Group, int | None], str]
) -> dict[str, _Group]:
    """Give every group its id: cut to ``ID_WORDS`` words unless two groups would then share one."""
    short: dict[str, list[_Group]] = {}
    for group in groups.values():
        short.setdefault(base_id(group, ID_WORDS), []).append(group)
    named: dict[str, _Group] = {}
    for identifier, members in short.items():
        for group in members:
            final = identifier if len(members) == 1 else base_id(group, None)
            if final in named:
                raise ValueError(f"two messages would share the id {final}: {group.key_text!r}")
            named[final] = group
    return named


def _format_slug(text: str) -> str:
    """An id part for a format without words (``(%04X): %s``): a digest of its exact text, so that it stays stable."""
    return "printf-" + hashlib.sha1(text.encode()).hexdigest()[:8]


def _mbedtls_id(group: _Group, cut: int | None) -> str:
    kind = group.kind
    if kind == "ret":
        return "ret." + (re.sub(r"[^A-Za-z0-9_]+", "-", group.canonical_text.strip()).strip("-") or "empty")
    text_words = words(group.key_text)
    marker = ""
    if kind == "msg":
        step = _STEP_MARKERS.get(group.key_text.lstrip()[:2])
        marker = f"{step}." if step else ""
    name = slug(text_words[:cut]) if text_words else _format_slug(group.key_text)
    return f"{'ssl' if kind == 'msg' else kind}.{marker}{name}"


def debug_messages(reference: Path, read_tsv: ReadRows, series_of: dict[str, str]) -> dict[str, object]:
    """``knowledge/debug/messages.json``: one entry per distinct library debug message, all versions."""
    rows = list(read_tsv(reference / "debug-messages.tsv"))
    present = {series_of[row["version"]] for row in rows}
    order = [series for series in dict.fromkeys(series_of.values()) if series in present]
    helper_callers = _helper_callers(rows, series_of)
    groups: dict[tuple[str, ...], _Group] = {}
    layouts: dict[str, _Group] = {}
    for row in rows:
        series = series_of[row["version"]]
        site = (row["file"], row["function"])
        if row["macro"].startswith("debug.c:"):
            kind = _LAYOUT_KIND.get(row["function"])
            text = row["format"]
            if kind and text.endswith("\n") and len(re.findall(r"[A-Za-z]", text)) >= 3:
                layout = layouts.setdefault(kind, _Group(kind, ""))
                layout.add(text, [text.rstrip("\n")], series, site)
            continue
        kind = _kind(row)
        if kind is None or not row["rendered"]:
            continue  # PRINT_EXT(S)/TICKET_FLAGS: their lines are the helper's own rows
        key_text = row["rendered"] if kind == "msg" else row["format"]
        marker = _STEP_MARKERS.get(key_text.lstrip()[:2], "") if kind == "msg" else ""
        key = (kind, marker, *(words(key_text) or [key_text]))
        group = groups.setdefault(key, _Group(kind, key_text))
        group.add(
            row["format"] if kind != "msg" else key_text, row["rendered"].rstrip("\n").split(" || "), series, site
        )
        if row["level"].isdigit():
            group.levels.add(int(row["level"]))
        for caller in helper_callers.get((series, row["function"]), []) if not row["level"].isdigit() else []:
            group.levels.add(int(caller["level"]))
            group.sites.setdefault((caller["file"], caller["function"]), set()).add(series)
    named = _assign_ids(groups, _mbedtls_id)
    for kind, layout in layouts.items():
        layout.levels = {level for group in groups.values() if group.kind == kind for level in group.levels}
        named[f"{kind}.any"] = layout
    entries = []
    for identifier in sorted(named):
        group = named[identifier]
        head: dict[str, object] = {"id": identifier, "kind": group.kind}
        if identifier.endswith(".any"):
            head["generic"] = True
        entries.append(_entry(head, group, order, lambda level: int(level)))
    return {"series": order, "message": entries}


def _entry(
    head: dict[str, object], group: _Group, order: list[str], level_rank: Callable[[int | str], int]
) -> dict[str, object]:
    entry = dict(head)
    entry["levels"] = sorted(group.levels, key=level_rank)
    entry["versions"] = _ordered(group.versions, order)
    if group.logged:
        entry["logged"] = [
            {"tag": tag, "level": level, "versions": _ordered(versions, order)}
            for (tag, level), versions in sorted(group.logged.items(), key=lambda item: (item[0][0], item[0][1]))
        ]
    entry["formats"] = [
        {"text": text, "versions": _ordered(versions, order)}
        for text, versions in sorted(group.formats.items(), key=lambda item: (_first(item[1], order), item[0]))
    ]
    entry["sites"] = [
        {"file": file, "function": function, "versions": _ordered(versions, order)}
        for (file, function), versions in sorted(group.sites.items())
    ]
    return entry


def _first(versions: set[str], order: list[str]) -> int:
    return min(order.index(version) for version in versions)


def _component(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "components" else parts[0]


def _esp_id(group: _Group, cut: int | None) -> str:
    component = group.kind.replace("_", "-")
    text_words = words(group.key_text)
    return f"{component}.{slug(text_words[:cut]) if text_words else _format_slug(group.key_text)}"


def esp_tls_messages(reference: Path, read_tsv: ReadRows, series_of: Callable[[str], str]) -> dict[str, object]:
    """``knowledge/platforms/esp-tls-messages.json``: ESP-IDF's TLS-side log messages with tag and level per version."""
    rows = list(read_tsv(reference / "esp-tls-log-messages.tsv"))
    order = list(dict.fromkeys(series_of(row["tag"]) for row in rows))
    order.sort(key=lambda series: tuple(int(part) for part in series.split(".")))
    groups: dict[tuple[str, ...], _Group] = {}
    for row in rows:
        text = row["printed_message"]
        if not text:
            continue  # a format built at run time: nothing to recognise
        series = series_of(row["tag"])
        component = _component(row["file"])
        key = (component, *(words(text) or [text]))
        group = groups.setdefault(key, _Group(component, text))
        group.add(text, [text.rstrip("\n")], series, (row["file"], row["function"]))
        level = row["level"] if row["level"] in _ESP_LEVEL_ORDER else "variable"
        group.levels.add(level)
        group.logged.setdefault((row["log_tag"], level), set()).add(series)
    named = _assign_ids(groups, _esp_id)
    entries = []
    for identifier in sorted(named):
        group = named[identifier]
        entries.append(_entry({"id": identifier, "component": group.kind}, group, order, _esp_level_rank))
    return {"series": order, "message": entries}


def _esp_level_rank(level: int | str) -> int:
    index = _ESP_LEVEL_ORDER.find(str(level))
    return index if index >= 0 else len(_ESP_LEVEL_ORDER)
