"""The change set as something to paste: sdkconfig.defaults lines, prj.conf lines, or a config.h patch.

A config.h is patched in place so that the diff stays small and reviewable: an option to turn on is
uncommented where the file has it commented out (or its ``#undef`` is dropped), an option to turn off
is commented out where it is defined, a value is replaced on its own line; anything the file does not
mention is added just before ``#include "check_config.h"`` (or the closing ``#endif``).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from typing import NamedTuple

from tlsdiag.config.model import Change, Config

_DEFINE_LINE = re.compile(r"^(\s*)#(\s*)define(\s+)([A-Za-z_][A-Za-z0-9_]*)([ \t]*)(.*?)(\s*(?:/\*.*|//.*)?)$")
_COMMENTED = re.compile(r"^(\s*)(?://+|/\*+)\s*#(\s*)define(\s+)([A-Za-z_][A-Za-z0-9_]*)\b(.*?)(\s*\*/)?\s*$")


class Fragment(NamedTuple):
    target: str  # config.h | sdkconfig | prj.conf
    format: str  # unified-diff | config.h | sdkconfig.defaults | prj.conf
    text: str
    patched: list[str] | None  # the whole configuration after the changes (what the report is checked against)


def render(config: Config | None, changes: Sequence[Change], target: str, final_break: bool = True) -> Fragment:
    if target == "config.h":
        if config is not None and config.kind == "mbedtls-config":
            patched = patch_header(config, changes)
            name = os.path.basename(config.path)
            diff = difflib.unified_diff(config.lines, patched, fromfile=f"a/{name}", tofile=f"b/{name}", lineterm="")
            return Fragment(target, "unified-diff", "\n".join(diff) + "\n" if changes else "", patched)
        lines = [_define(change) for change in changes]
        return Fragment(target, "config.h", "\n".join(lines) + ("\n" if lines else ""), None)
    lines = [f"{change.option}={_kconfig_value(change.after)}" for change in changes]
    text = "\n".join(lines) + ("\n" if lines else "")
    appended: list[str] | None = None
    if config is not None and config.kind in ("sdkconfig", "zephyr-kconfig") and target in ("sdkconfig", "prj.conf"):
        appended = [*config.lines, *lines]
    file_format = "sdkconfig.defaults" if target == "sdkconfig" else "prj.conf"
    return Fragment(target, file_format, text, appended)


def _kconfig_value(value: str | None) -> str:
    if value is None:
        return "n"
    if value in ("y", "n") or re.fullmatch(r"-?(?:0x[0-9a-fA-F]+|\d+)", value):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def _define(change: Change) -> str:
    if change.after == "defined":
        return f"#define {change.option}"
    if change.after in ("undefined", None):
        return f"#undef {change.option}"
    return f"#define {change.option} {change.after}"


def patch_header(config: Config, changes: Sequence[Change]) -> list[str]:
    """The configuration's lines with ``changes`` applied in place (added lines before check_config.h)."""
    lines = list(config.lines)
    first, last = config.block or (1, len(lines))
    replaced: dict[int, str | None] = {}  # 1-based line -> new text (None: drop the line)
    added: list[str] = []
    for change in changes:
        name = change.option
        setting = config.settings.get(name)
        # the line of the user's file that sets it, when the file sets it itself (not through another option)
        own_line = setting.line if setting is not None and not setting.origin else None
        state = setting.state if setting is not None else None
        if change.after == "defined":
            if own_line is not None and state == "off":
                replaced[own_line] = None
                if name in config.commented:
                    replaced[config.commented[name]] = _uncomment(lines[config.commented[name] - 1], None)
                continue
            if name in config.commented and first <= config.commented[name] <= last:
                number = config.commented[name]
                replaced[number] = _uncomment(lines[number - 1], None)
                continue
            added.append(f"#define {name}")
        elif change.after in ("undefined", None):
            if own_line is not None and state == "on":
                replaced[own_line] = "//" + lines[own_line - 1].lstrip()
                continue
            added.append(f"#undef {name}")
        else:
            if own_line is not None and state == "on":
                number = own_line
                match = _DEFINE_LINE.match(lines[number - 1])
                if match:
                    indent, space1, space2, macro, gap, _, comment = match.groups()
                    if lines[number - 1].rstrip().endswith("\\"):  # a value over several lines: one line now
                        comment = ""
                        follow = number
                        while follow < len(lines) and lines[follow - 1].rstrip().endswith("\\"):
                            follow += 1
                            replaced[follow] = None
                    replaced[number] = f"{indent}#{space1}define{space2}{macro}{gap or ' '}{change.after}{comment}"
                    continue
            if name in config.commented and first <= config.commented[name] <= last:
                number = config.commented[name]
                replaced[number] = _uncomment(lines[number - 1], change.after)
                continue
            added.append(f"#define {name} {change.after}")
    anchor = _anchor(lines, first, last)
    result: list[str] = []
    for number, line in enumerate(lines, start=1):
        if number == anchor and added:
            result.extend(added)
        if number in replaced:
            replacement = replaced[number]
            if replacement is not None:
                result.append(replacement)
            continue
        result.append(line)
    if anchor > len(lines) and added:
        result.extend(added)
    return result


def _uncomment(line: str, value: str | None) -> str:
    match = _COMMENTED.match(line)
    if match is None:
        return line
    indent, space1, space2, name, rest, _ = match.groups()
    if value is not None:
        rest = " " + value
    return f"{indent}#{space1}define{space2}{name}{rest.rstrip()}"


def _anchor(lines: list[str], first: int, last: int) -> int:
    """Where new lines go: before check_config.h's include, else before the last #endif, else after the block."""
    for number in range(first, last + 1):
        if re.match(r"^\s*#\s*include\s+.*check_config\.h", lines[number - 1]):
            return number
    for number in range(last, first - 1, -1):
        if re.match(r"^\s*#\s*endif", lines[number - 1]):
            return number
    return last + 1
