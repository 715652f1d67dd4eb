"""``tlsdiag config recommend``: the smallest change set, from a log, a configuration, a server, or all three.

A log is diagnosed as ``tlsdiag diagnose`` does; each failure or warning that names a configuration
option contributes its first applicable fix (the others are kept as alternatives). A configuration is
linted and contributes the changes of its failures and warnings. A server's ciphersuites contribute
what it takes to share one. The union is closed under check_config.h, translated into the target's
terms (config.h macros, sdkconfig or prj.conf symbols) and rendered as a fragment; when a configuration
was given, the patched result is linted again, so the report says whether the change set is enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlsdiag.config.checks import close
from tlsdiag.config.data import ConfigKnowledge, EspIdfRelease, load
from tlsdiag.config.effective import Effective
from tlsdiag.config.fragment import Fragment, render
from tlsdiag.config.kconfig import Resolution, run_directives
from tlsdiag.config.lint import LintResult, _platform_faults, lint
from tlsdiag.config.model import Change, Config
from tlsdiag.config.ram import Estimate, estimate
from tlsdiag.config.reader import read_config
from tlsdiag.config.suites import read_server_suites, suites_of
from tlsdiag.config.targets import (
    FIX_TARGET,
    TARGETS,
    MacroChange,
    SymbolChange,
    Translator,
    apply_to_effective,
    target_for_kind,
)
from tlsdiag.errors import InputError
from tlsdiag.model import Finding, Fix
from tlsdiag.versions import VersionError, parse_version, select_by_esp_idf, select_mbedtls

_PLATFORM = re.compile(r"ESP-IDF\s*(>=|<=|<|>|==)\s*(\d+\.\d+)")


@dataclass
class Recommendation:
    target: str
    config: Config | None
    lint: LintResult | None
    log_findings: list[Finding]
    log: dict[str, Any] | None
    changes: list[Change]
    fragment: Fragment
    after: LintResult | None
    before_estimate: Estimate | None
    after_estimate: Estimate | None
    series: str
    esp_idf_version: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [*self.log_findings, *(self.lint.findings if self.lint else [])]

    @property
    def failed(self) -> bool:
        return any(finding.severity == "failure" for finding in self.findings)


def recommend(
    log: str | None = None,
    config_path: str | None = None,
    target: str | None = None,
    server_suites: str | None = None,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code_paths: Sequence[str] = (),
    user_config: str | None = None,
    knowledge: ConfigKnowledge | None = None,
) -> Recommendation:
    if log is None and config_path is None and server_suites is None:
        raise InputError("config recommend needs --log LOG, --config FILE or --server-suites (or several of them)")
    if target is not None and target not in TARGETS:
        raise InputError(f"--target {target}: choose one of {', '.join(TARGETS)}")
    knowledge = knowledge or load()
    notes: list[str] = []
    config = None
    if config_path is not None:
        config = read_config(
            config_path,
            mbedtls_version=mbedtls_version,
            esp_idf_version=esp_idf_version,
            code_paths=code_paths,
            user_config=user_config,
            knowledge=knowledge,
        )
    analysis = None
    log_findings: list[Finding] = []
    if log is not None:
        from tlsdiag.analysis.pipeline import analyse
        from tlsdiag.rules import diagnose

        analysis = analyse(None if log == "-" else log)
        pinned = mbedtls_version or (config.series if config else None) or _bundled(esp_idf_version, knowledge)
        if pinned:
            try:
                analysis.override_version(pinned)
            except VersionError as error:
                raise InputError(str(error)) from None
        log_findings = diagnose(analysis)
    stack = analysis.context.stack if analysis is not None else "unknown"
    target = target or (target_for_kind(config.kind) if config else target_for_stack(stack))
    release, esp_idf = platform_release(target, config, esp_idf_version, analysis, knowledge, notes)
    series = _series(config, mbedtls_version, analysis, release, knowledge)
    baseline = config or platform_defaults(target, series, release, knowledge)
    suites = None
    if server_suites is not None:
        suites = read_server_suites(server_suites, suites_of(knowledge.ciphersuites, series))
    linted = lint(baseline, knowledge, suites) if (config is not None or suites) else None
    if linted is not None and config is None:  # the platform's defaults are not the user's to fix here
        linted.findings = [finding for finding in linted.findings if finding.category == "ciphersuite-mismatch"]
    effective = (
        linted.effective
        if linted
        else Effective(baseline.settings, series, knowledge, baseline.base, baseline.symbols, baseline.platform_macros)
    )
    macro_changes: list[MacroChange] = []
    symbol_changes: list[SymbolChange] = []
    alternatives: dict[str, list[str]] = {}
    remarks: dict[str, str] = {}
    for finding in log_findings:
        if finding.severity == "info":
            continue
        picked = _from_fixes(finding, target, release, knowledge, effective)
        if picked is None:
            continue
        macros, symbols, others = picked
        macro_changes += macros
        symbol_changes += symbols
        alternatives[finding.rule] = others
        facts = dict(finding.facts)
        if finding.rule.startswith("TLS-BUF") and "cert_too_large" not in facts and "input_record" not in facts:
            remarks[finding.rule] = "the log does not show the size: this is a common size, raise it if the error stays"
        elif "cert_too_large" in facts:
            remarks[finding.rule] = f"fits the {facts['cert_too_large']}-byte certificate chain the log shows"
    if linted is not None:
        keep = config is not None
        macro_changes += [change for change in linted.macro_changes if keep or change.finding.startswith("CFG-SUITE")]
        symbol_changes += [change for change in linted.symbol_changes if keep]
    faults = _platform_faults(baseline, knowledge, series)
    checks = tuple(check for check in knowledge.checks.get(series, ()) if check not in faults)
    repair_data = knowledge.lint.get("repair", {})
    never = tuple(repair_data.get("never_enable", ()))
    macro_changes, _ = close(effective, _unique(macro_changes), checks, never, None, repair_data.get("prefer", ()))
    # without a configuration the platform's defaults are only an assumption: what the log shows failed stands
    force = frozenset(finding.rule for finding in log_findings) if config is None else frozenset()
    translator = Translator(config, effective, knowledge, target, release, force)
    changes = translator.translate(macro_changes, _unique(symbol_changes))
    notes += translator.notes
    order = [finding.rule for finding in log_findings] + [
        finding.rule for finding in (linted.findings if linted else [])
    ]
    changes = sorted(changes, key=lambda change: order.index(change.finding) if change.finding in order else len(order))
    changes = _annotate(changes, alternatives, remarks)
    fragment = render(config, changes, target)
    after = None
    after_estimate = None
    if config is not None and fragment.patched is not None:
        patched = read_config(
            config.path,
            mbedtls_version=mbedtls_version or config.series,
            esp_idf_version=config.esp_idf_version,
            code_paths=code_paths,
            user_config=user_config,
            knowledge=knowledge,
            lines=fragment.patched,
        )
        patched.code = config.code
        after = lint(patched, knowledge, suites)
        after_estimate = after.estimate
    elif target == "config.h" or not fragment.text:
        after_estimate = estimate(apply_to_effective(effective, macro_changes), knowledge.costs, baseline.symbols)
    else:  # the platform's defaults with the fragment's lines
        name = "sdkconfig.defaults" if target == "sdkconfig" else "prj.conf"
        changed = read_config(
            name,
            mbedtls_version=series,
            esp_idf_version=esp_idf,
            knowledge=knowledge,
            lines=fragment.text.rstrip("\n").split("\n"),
        )
        after_estimate = lint(changed, knowledge).estimate
    if target == "sdkconfig" and config is not None and config.file_kind == "sdkconfig" and changes:
        notes.append(
            "sdkconfig.defaults only applies to options missing from sdkconfig: add these lines to sdkconfig.defaults "
            "and delete sdkconfig (or set them in idf.py menuconfig)"
        )
    return Recommendation(
        target=target,
        config=config,
        lint=linted if config is not None or suites else None,
        log_findings=log_findings,
        log=None
        if analysis is None
        else {"name": analysis.name, "lines": analysis.lines, "context": analysis.context.to_json()},
        changes=changes,
        fragment=fragment,
        after=after,
        before_estimate=linted.estimate if linted else estimate(effective, knowledge.costs, baseline.symbols),
        after_estimate=after_estimate,
        series=series,
        esp_idf_version=esp_idf,
        notes=notes,
    )


def _bundled(esp_idf_version: str | None, knowledge: ConfigKnowledge) -> str | None:
    if not esp_idf_version:
        return None
    try:
        return select_by_esp_idf(esp_idf_version, knowledge.esp_idf_releases, knowledge.series).series[-1]
    except VersionError as error:
        raise InputError(str(error)) from None


def target_for_stack(stack: str) -> str:
    return {"esp-idf": "sdkconfig", "arduino-esp32": "sdkconfig", "zephyr": "prj.conf"}.get(stack, "config.h")


def platform_release(
    target: str,
    config: Config | None,
    requested: str | None,
    analysis: Any,
    knowledge: ConfigKnowledge,
    notes: list[str],
) -> tuple[EspIdfRelease | None, str | None]:
    if target != "sdkconfig":
        return None, None
    version = None
    if config is not None and config.esp_idf_version:
        version = config.esp_idf_version
    elif requested:
        version = requested.lstrip("vV")
    elif analysis is not None and analysis.context.platform_version:
        found = re.search(r"ESP-IDF v?(\d+\.\d+(?:\.\d+)?)", analysis.context.platform_version)
        version = found.group(1) if found else None
    if version is None:
        newest = max(knowledge.esp_idf.values(), key=lambda release: parse_version(release.series))
        notes.append(
            f"the ESP-IDF version is not known: option names and defaults are those of {newest.tag} "
            "(give --esp-idf-version)"
        )
        return newest, newest.series
    try:
        release, note = knowledge.esp_idf_release(version)
    except VersionError as error:
        raise InputError(str(error)) from None
    if note:
        notes.append(note)
    return release, version


def _series(
    config: Config | None,
    requested: str | None,
    analysis: Any,
    release: EspIdfRelease | None,
    knowledge: ConfigKnowledge,
) -> str:
    if config is not None and config.series:
        return config.series
    try:
        if requested:
            return select_mbedtls(requested, knowledge.series).series[-1]
        if release is not None:
            return select_by_esp_idf(release.tag, knowledge.esp_idf_releases, knowledge.series).series[-1]
    except VersionError as error:
        raise InputError(str(error)) from None
    if analysis is not None and len(analysis.context.mbedtls_series) == 1:
        return str(analysis.context.mbedtls_series[0])
    return "3.6"


def platform_defaults(target: str, series: str, release: EspIdfRelease | None, knowledge: ConfigKnowledge) -> Config:
    """The configuration a build has when the user gave none: the platform's defaults."""
    if target == "sdkconfig" and release is not None:
        resolution = Resolution(release, {})
        settings, _ = run_directives(release.directives, resolution.values, {}, True, "ESP-IDF defaults")
        config = Config("sdkconfig", "", "sdkconfig.defaults", [], settings, base="platform", symbols=resolution.values)
        config.platform_macros = frozenset(directive.macro for directive in release.directives)
        config.esp_idf_version, config.esp_idf_tag = release.series, release.tag
    elif target == "prj.conf":
        settings, _ = run_directives(knowledge.zephyr_directives, {}, {}, False, "Zephyr defaults")
        config = Config("zephyr-kconfig", "", "prj.conf", [], settings)
    else:
        config = Config("mbedtls-config", "", "config.h", [], {}, base="defaults")
    config.series = series
    return config


def _platform_ok(fix: Fix, release: EspIdfRelease | None) -> bool:
    if not fix.platform or release is None:
        return True
    match = _PLATFORM.search(fix.platform)
    if match is None:
        return True
    have, bound = parse_version(release.series), parse_version(match.group(2))
    return {">=": have >= bound, "<=": have <= bound, "<": have < bound, ">": have > bound, "==": have == bound}[
        match.group(1)
    ]


def _from_fixes(
    finding: Finding, target: str, release: EspIdfRelease | None, knowledge: ConfigKnowledge, effective: Effective
) -> tuple[list[MacroChange], list[SymbolChange], list[str]] | None:
    """The first fix of a finding that this target can express, and the others as alternatives."""
    picked: tuple[list[MacroChange], list[SymbolChange]] | None = None
    others: list[str] = []
    for fix in finding.fixes:
        if fix.option is None or fix.target not in ("sdkconfig", "mbedtls-config", "zephyr-kconfig"):
            continue
        if not _platform_ok(fix, release):
            continue
        expressed = _express(fix, finding, target, release, knowledge, effective)
        if expressed is None:
            continue
        if picked is None:
            picked = expressed
        elif fix.target == FIX_TARGET[target]:
            text = f"{fix.option}={fix.value}" if fix.value else fix.option
            if text not in others and not _same_as(expressed, picked):
                others.append(text)
    if picked is None:
        return None
    return picked[0], picked[1], others


def _same_as(
    left: tuple[list[MacroChange], list[SymbolChange]], right: tuple[list[MacroChange], list[SymbolChange]]
) -> bool:
    def key(item: tuple[list[MacroChange], list[SymbolChange]]) -> set[tuple[str, str]]:
        return {(change.macro, change.to) for change in item[0]} | {(change.symbol, change.to) for change in item[1]}

    return key(left) == key(right)


def _express(
    fix: Fix,
    finding: Finding,
    target: str,
    release: EspIdfRelease | None,
    knowledge: ConfigKnowledge,
    effective: Effective,
) -> tuple[list[MacroChange], list[SymbolChange]] | None:
    option = str(fix.option)
    why = finding.title
    if fix.target == "mbedtls-config":
        known = option in knowledge.options or option in knowledge.derived_values.get(effective.series, {})
        if not option.startswith("MBEDTLS_") or not known:
            return None
        value = fix.value or "on"
        return [MacroChange(option, _macro_value(value), finding.rule, why)], []
    if fix.target == "sdkconfig":
        if target == "sdkconfig":
            if release is not None and option not in release.symbols:
                return None
            return [], [SymbolChange(option, fix.value or "y", finding.rule, why)]
        directives = release.directives if release is not None else ()
        return _symbol_to_macros(option, fix.value, directives, finding, why)
    if fix.target == "zephyr-kconfig":
        if target == "prj.conf":
            return [], [SymbolChange(option, fix.value or "y", finding.rule, why)]
        return _symbol_to_macros(option, fix.value, knowledge.zephyr_directives, finding, why)
    return None


def _macro_value(value: str) -> str:
    return {"defined": "on", "undefined": "off", "y": "on", "n": "off"}.get(value, value)


def _symbol_to_macros(
    symbol: str, value: str | None, directives: Sequence[Any], finding: Finding, why: str
) -> tuple[list[MacroChange], list[SymbolChange]] | None:
    for directive in directives:
        if directive.action == "define" and directive.value == symbol and value:
            return [MacroChange(directive.macro, value, finding.rule, why)], []
    for directive in directives:
        condition = directive.condition.replace(" ", "")
        if condition == f"defined({symbol})" and directive.action == "define":
            return [MacroChange(directive.macro, "off" if value == "n" else "on", finding.rule, why)], []
    return None


def _unique(items: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _annotate(changes: list[Change], alternatives: dict[str, list[str]], remarks: dict[str, str]) -> list[Change]:
    result = []
    used: set[str] = set()
    for change in changes:
        if change.finding in alternatives and change.finding not in used:
            change = change._replace(alternatives=tuple(alternatives[change.finding]))
            used.add(change.finding)
        if change.finding in remarks and change.after not in ("y", "n", "defined", "undefined"):
            change = change._replace(note=remarks[change.finding])
        result.append(change)
    return result
