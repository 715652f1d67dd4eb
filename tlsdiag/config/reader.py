"""One entry point for every configuration: recognise the kind, read it, settle the versions.

The kind comes from the content (Kconfig assignment lines, or preprocessor lines) and the name
(``prj.conf``, ``sdkconfig*``); the versions from what the user says, then what the file says (the
ESP-IDF header of a generated sdkconfig, a version quoted in a pasted text), then which versions know
every option the file names. Whatever is assumed is said in ``version_evidence``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from tlsdiag.config.data import ConfigKnowledge, load
from tlsdiag.config.header import HeaderReader, config_block
from tlsdiag.config.kconfig import Resolution, esp_idf_version_in_header, read_assignments, run_directives
from tlsdiag.config.model import Assignment, CodeFact, Config, Issue
from tlsdiag.config.source import read_lines
from tlsdiag.errors import InputError
from tlsdiag.versions import VersionError, parse_version, select_by_esp_idf, select_mbedtls, series_key

_HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".hxx")
_STATED_VERSION = re.compile(r"\bmbed\s?tls[-_ /]v?(\d+\.\d+(?:\.\d+)?)\b", re.IGNORECASE)
_ZEPHYR_HINTS = ("CONFIG_NET_", "CONFIG_NETWORKING", "CONFIG_BOARD", "CONFIG_ZEPHYR", "CONFIG_MBEDTLS_BUILTIN")
_ESP_HINTS = ("CONFIG_IDF_", "CONFIG_ESP", "CONFIG_FREERTOS_", "CONFIG_SPIRAM", "CONFIG_PARTITION_TABLE")
FULL_SDKCONFIG = 300  # a generated sdkconfig lists every visible symbol: hundreds of lines


def read_config(
    path: str,
    *,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code_paths: Sequence[str] = (),
    user_config: str | None = None,
    knowledge: ConfigKnowledge | None = None,
    lines: list[str] | None = None,
) -> Config:
    """Read ``path`` as whatever configuration it is; versions given here override what is inferred.

    ``lines`` replaces the file's content (a patched configuration is read this way, in place of the file).
    """
    knowledge = knowledge or load()
    if lines is None:
        lines, _ = read_lines(path)
    assignments = read_assignments(lines)
    meaningful = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    kconfig_file = bool(assignments) and len([a for a in assignments.values() if "=" in a.text]) >= 0.5 * max(
        1, len(meaningful)
    )
    if kconfig_file:
        if _is_zephyr(path, assignments, knowledge):
            config = _read_prj_conf(path, lines, assignments, mbedtls_version, knowledge)
        else:
            config = _read_sdkconfig(path, lines, assignments, mbedtls_version, esp_idf_version, knowledge)
    else:
        config = _read_header(path, lines, mbedtls_version, user_config, knowledge)
    for code_path in code_paths:
        code_lines, _ = read_lines(code_path, what="source file")
        _scan_code(config, code_lines, code_path, knowledge, skip=None)
    return config


# --- headers ------------------------------------------------------------------------------------------


def _read_header(
    path: str, lines: list[str], mbedtls_version: str | None, user_config: str | None, knowledge: ConfigKnowledge
) -> Config:
    is_header = path.lower().endswith(_HEADER_SUFFIXES)
    block = None if is_header else config_block(lines)
    reader = HeaderReader(path)
    state = reader.read(lines, *(block or (1, None)))
    if user_config:
        reader.add_file(user_config)
    options = [name for name, setting in state.settings.items() if name in knowledge.options]
    if not options and not state.commented:
        raise InputError(f"{path} has no mbedTLS options: not a config.h, mbedtls_config.h, sdkconfig or prj.conf")
    name = os.path.basename(path)
    file_kind = "pasted text" if block else ("mbedtls_config.h" if "mbedtls_config" in name else "config.h")
    config = Config(
        kind="mbedtls-config",
        path=path,
        file_kind=file_kind,
        lines=lines,
        settings=state.settings,
        commented=state.commented,
        includes_check_config=state.includes_check_config,
        block=block,
        notes=list(state.notes),
        conditional=state.conditional,
    )
    on = [name for name, setting in state.settings.items() if setting.state == "on" and name in knowledge.options]
    user_named = "user" in name.lower()
    if (state.undefs and len(on) < 15 and not state.guard) or (user_named and len(on) < 15 and not state.guard):
        config.base = "defaults"
        config.notes.append(
            "read as a user configuration that amends mbedTLS's default config.h (few options, #undef lines); "
            "options it does not mention keep their defaults"
        )
    if block:
        config.notes.append(f"the configuration is lines {block[0]}-{block[1]} of the text; the rest is read as code")
        _scan_code(config, lines, path, knowledge, skip=block)
    if state.conditional:
        config.issues.append(
            Issue(
                "conditional",
                {"count": state.conditional, "example": _example_condition(lines) or "CONFIG_MBEDTLS_..."},
            )
        )
    stated = None if mbedtls_version else _stated_version(lines, block)
    _settle_series(config, mbedtls_version, stated, knowledge)
    return config


def _example_condition(lines: list[str]) -> str | None:
    for line in lines:
        match = re.search(r"defined\s*\(\s*(CONFIG_[A-Z0-9_]+)\s*\)", line)
        if match:
            return match.group(1)
    return None


def _stated_version(lines: list[str], block: tuple[int, int] | None) -> str | None:
    """A version a pasted text states (``mbedtls-2.16.5``): only texts, not headers, say it this way."""
    if block is None:
        return None
    for line in lines:
        match = _STATED_VERSION.search(line)
        if match:
            return match.group(1)
    return None


def _settle_series(config: Config, requested: str | None, stated: str | None, knowledge: ConfigKnowledge) -> None:
    known = knowledge.series
    if requested:
        try:
            selection = select_mbedtls(requested, known)
        except VersionError as error:
            raise InputError(str(error)) from None
        config.series = selection.series[-1]
        config.series_candidates = (config.series,)
        config.mbedtls_version = requested
        config.version_evidence.append(f"--mbedtls-version {requested}")
        if selection.note:
            config.version_evidence.append(selection.note)
        return
    candidates = _series_by_options(config, knowledge)
    config.series_candidates = tuple(candidates)
    if stated:
        try:
            chosen = select_mbedtls(stated, known).series[-1]
        except VersionError:
            chosen = None
        if chosen:
            config.series = chosen
            config.mbedtls_version = stated
            config.version_evidence.append(f"the text names mbedTLS {stated}")
            return
    config.series = candidates[-1]
    config.mbedtls_version = config.series
    span = candidates[0] if len(candidates) == 1 else f"{candidates[0]} - {candidates[-1]}"
    config.version_evidence.append(
        f"every option it names exists in mbedTLS {span}"
        + ("" if len(candidates) == 1 else f"; read as {config.series} (give --mbedtls-version to choose)")
    )


def _series_by_options(config: Config, knowledge: ConfigKnowledge) -> list[str]:
    """The examined series in which every option the file names exists (the best-fitting ones).

    Only options the file decides count (defined, undefined or commented out): a Zephyr-style header
    keeps legacy options under Kconfig conditions that a newer version simply never enables.
    """
    decided = {name for name, setting in config.settings.items() if setting.state != "maybe"}
    names = {name for name in decided | set(config.commented) if name in knowledge.options}
    best: list[str] = []
    best_score: int | None = None
    for series in knowledge.series:
        present = sum(1 for name in names if knowledge.options[name].exists_in(series))
        score = present - 3 * (len(names) - present)
        if best_score is None or score > best_score:
            best, best_score = [series], score
        elif score == best_score:
            best.append(series)
    majors = sorted({series.split(".")[0] for series in best})
    if len(majors) > 1:
        # options alone do not decide the major version. A configuration that includes check_config.h
        # itself was written for 2.x (3.x includes it from build_info.h); otherwise take the newest major
        # that still has a single configuration header (4.x splits it in two)
        if config.includes_check_config and "2" in majors:
            preferred = ["2"]
        else:
            preferred = [major for major in majors if major != "4"] or majors
        best = [series for series in best if series.split(".")[0] == preferred[-1]]
    return sorted(best, key=series_key)


# --- code ---------------------------------------------------------------------------------------------


def _scan_code(
    config: Config, lines: list[str], source: str, knowledge: ConfigKnowledge, skip: tuple[int, int] | None
) -> None:
    """Record what the code around a pasted configuration (or given with --code) does."""
    kept = [
        "" if skip is not None and skip[0] <= number <= skip[1] else line for number, line in enumerate(lines, start=1)
    ]
    text = "\n".join(kept)
    for fact in knowledge.lint.get("code", ()):
        if fact["name"] in config.code:
            continue
        match = re.search(fact["pattern"], text)
        if match is None:
            continue
        number = text.count("\n", 0, match.start()) + 1
        config.code[fact["name"]] = CodeFact(fact["name"], number, lines[number - 1].strip(), source)


# --- Kconfig files --------------------------------------------------------------------------------------


def _is_zephyr(path: str, assignments: dict[str, Assignment], knowledge: ConfigKnowledge) -> bool:
    name = os.path.basename(path).lower()
    if "sdkconfig" in name or "defconfig" in name:
        return False
    if name == "prj.conf" or name.endswith(("prj.conf", ".prj.conf")) or "zephyr" in name:
        return True
    zephyr_symbols = {config for directive in knowledge.zephyr_directives for config in directive.configs}
    esp_symbols = knowledge.esp_idf_symbols_anywhere
    zephyr = sum(1 for symbol in assignments if symbol in zephyr_symbols and symbol not in esp_symbols)
    zephyr += sum(3 for symbol in assignments if symbol.startswith(_ZEPHYR_HINTS))
    esp = sum(1 for symbol in assignments if symbol in esp_symbols and symbol not in zephyr_symbols)
    esp += sum(3 for symbol in assignments if symbol.startswith(_ESP_HINTS))
    return zephyr > esp


def _read_sdkconfig(
    path: str,
    lines: list[str],
    assignments: dict[str, Assignment],
    mbedtls_version: str | None,
    esp_idf_version: str | None,
    knowledge: ConfigKnowledge,
) -> Config:
    name = os.path.basename(path).lower()
    generated = any("Project Configuration" in line for line in lines[:5]) or len(assignments) >= FULL_SDKCONFIG
    defaults = "defaults" in name or "defconfig" in name or ".ci" in name or not generated
    config = Config(
        kind="sdkconfig",
        path=path,
        file_kind="sdkconfig.defaults" if defaults else "sdkconfig",
        lines=lines,
        settings={},
        base="platform",
        assignments=dict(assignments),
    )
    version, evidence = _esp_idf_version(lines, config, esp_idf_version, knowledge)
    try:
        release, note = knowledge.esp_idf_release(version)
    except VersionError as error:
        raise InputError(str(error)) from None
    config.esp_idf_version = version
    config.esp_idf_tag = release.tag
    config.version_evidence.append(evidence)
    if note:
        config.version_evidence.append(note)
    resolution = Resolution(release, config.assignments, hand_written=defaults)
    config.symbols = resolution.values
    config.issues.extend(resolution.issues)
    config.notes.extend(resolution.notes)
    config.settings, _ = run_directives(release.directives, resolution.values, resolution.assignments, True, path)
    config.platform_macros = frozenset(directive.macro for directive in release.directives)
    if defaults:
        _unknown_symbols(config, release.symbols, knowledge)
    if mbedtls_version:
        _settle_series(config, mbedtls_version, None, knowledge)
    else:
        selection = select_by_esp_idf(release.tag, knowledge.esp_idf_releases, knowledge.series)
        config.series = selection.series[-1]
        config.series_candidates = (config.series,)
        config.mbedtls_version = config.series
        config.version_evidence.append(f"{selection.note} (read with the mbedTLS {config.series} tables)")
    if not defaults:
        config.notes.append("a complete generated sdkconfig: every value is as the build used it")
    return config


def _esp_idf_version(
    lines: list[str], config: Config, requested: str | None, knowledge: ConfigKnowledge
) -> tuple[str, str]:
    if requested:
        try:
            parse_version(requested)
        except VersionError as error:
            raise InputError(str(error)) from None
        return requested.lstrip("vV"), f"--esp-idf-version {requested}"
    stated = esp_idf_version_in_header(lines)
    if stated:
        return stated, f"the sdkconfig header names ESP-IDF {stated}"
    anywhere = knowledge.esp_idf_symbols_anywhere
    named = [symbol for symbol in config.assignments if symbol in anywhere]
    scores: list[tuple[int, str]] = []
    for series, release in knowledge.esp_idf.items():
        present = sum(1 for symbol in named if symbol in release.symbols)
        scores.append((present - 2 * (len(named) - present), series))
    best = max(score for score, _ in scores)
    tied = sorted((series for score, series in scores if score == best), key=series_key)
    span = tied[0] if len(tied) == 1 else f"{tied[0]} - {tied[-1]}"
    assumed = "" if len(tied) == 1 else f"; read as {tied[0]}, the oldest (give --esp-idf-version to choose)"
    return tied[0], f"the ESP-IDF options it sets exist in ESP-IDF {span}{assumed}"


def _unknown_symbols(config: Config, symbols: Iterable[str], knowledge: ConfigKnowledge) -> None:
    present = set(symbols)
    anywhere = knowledge.esp_idf_symbols_anywhere
    for name, assigned in config.assignments.items():
        if name in present:
            continue
        if name in anywhere:
            known_in = "it exists in ESP-IDF " + ", ".join(anywhere[name])
        elif name.startswith("CONFIG_MBEDTLS_"):
            known_in = "no examined ESP-IDF release has it"
        else:
            continue
        facts = {"symbol": name, "esp_idf": config.esp_idf_version or "", "known_in": known_in}
        config.issues.append(Issue("unknown_symbol", facts, assigned.line, assigned.text))


def _read_prj_conf(
    path: str,
    lines: list[str],
    assignments: dict[str, Assignment],
    mbedtls_version: str | None,
    knowledge: ConfigKnowledge,
) -> Config:
    config = Config(
        kind="zephyr-kconfig",
        path=path,
        file_kind="prj.conf",
        lines=lines,
        settings={},
        assignments=dict(assignments),
    )
    config.symbols = {name: item.value for name, item in config.assignments.items()}
    config.settings, undecided = run_directives(
        knowledge.zephyr_directives, config.symbols, config.assignments, False, path
    )
    config.conditional = undecided
    config.notes.append(
        f"read through Zephyr's {knowledge.zephyr.get('header', 'config-tls-generic.h')} "
        f"({knowledge.zephyr.get('source', '')}); symbols the prj.conf does not set are unknown, "
        "so checks that need them are skipped"
    )
    if not any(name.startswith("CONFIG_MBEDTLS") for name in config.assignments):
        config.notes.append("the prj.conf sets no CONFIG_MBEDTLS_ option")
    if mbedtls_version:
        _settle_series(config, mbedtls_version, None, knowledge)
    else:
        config.series = "3.6"
        config.series_candidates = ("3.6",)
        config.mbedtls_version = "3.6"
        config.version_evidence.append(
            "Zephyr's generic configuration is read with the mbedTLS 3.6 tables (give --mbedtls-version to choose)"
        )
    return config
