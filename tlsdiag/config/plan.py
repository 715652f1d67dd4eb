"""The change set for one build version: findings, changes, the fragment, and what they cost in RAM.

Each failure or warning the log shows that names a configuration option contributes its first fix that
the version can express (a fix whose ``platform`` names other versions is skipped; the others are kept
as alternatives). A configuration is linted and contributes the changes of its failures and warnings,
a server's ciphersuites what it takes to share one. The union is closed under check_config.h,
translated into the target's terms (config.h macros, sdkconfig or prj.conf symbols) and rendered as a
fragment; when a configuration was given, the patched result is linted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlsdiag.config.bounds import fits
from tlsdiag.config.checks import close, violated
from tlsdiag.config.data import ConfigKnowledge, EspIdfRelease
from tlsdiag.config.effective import Effective
from tlsdiag.config.fragment import Fragment, render
from tlsdiag.config.kconfig import Resolution, run_directives
from tlsdiag.config.lint import LintResult, _platform_faults, lint
from tlsdiag.config.model import Change, Config
from tlsdiag.config.ram import Estimate, estimate
from tlsdiag.config.reader import read_config
from tlsdiag.config.suites import read_server_suites, suites_of
from tlsdiag.config.targets import FIX_TARGET, MacroChange, SymbolChange, Translator, apply_to_effective
from tlsdiag.config.version_scope import Point, span
from tlsdiag.model import Finding, Fix
from tlsdiag.versions import series_key


@dataclass
class Plan:
    """What to change for the builds of ``points`` (one point, or several whose plans came out the same)."""

    points: list[Point]
    findings: list[Finding]  # the log's findings for these versions, then the linter's
    lint: LintResult | None
    changes: list[Change]
    fragment: Fragment
    after: LintResult | None
    before_estimate: Estimate | None
    after_estimate: Estimate | None
    header: str | None  # config.h or mbedtls_config.h for a config.h target
    notes: list[str] = field(default_factory=list)

    @property
    def series(self) -> str:
        """The series the plan was worked out with: the newest its versions may have."""
        return self.points[-1].newest

    @property
    def esp_idf_version(self) -> str | None:
        return self.points[-1].esp_idf_version


@dataclass
class Inputs:
    """What every plan of one recommendation shares."""

    target: str
    config: Config | None
    server_suites: str | None
    mbedtls_version: str | None
    code_paths: Sequence[str]
    user_config: str | None
    knowledge: ConfigKnowledge


def plan_for(point: Point, log_findings: list[Finding], inputs: Inputs) -> Plan:
    """The change set for one point, from the findings the log gives for its versions."""
    knowledge, config, target = inputs.knowledge, inputs.config, inputs.target
    release, series = point.release, point.newest
    log_findings = [fitting(finding, [point]) for finding in log_findings]
    baseline = config or platform_defaults(target, series, release, knowledge)
    suites = None
    if inputs.server_suites is not None:
        suites = read_server_suites(inputs.server_suites, suites_of(knowledge.ciphersuites, series))
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
    notes: list[str] = []
    alternatives: dict[str, list[str]] = {}
    remarks: dict[str, str] = {}
    for finding in log_findings:
        if finding.severity == "info":
            continue
        picked = _from_fixes(finding, target, point, knowledge, effective)
        if picked is None:
            notes += [f"{finding.rule}: {text}" for text in _missing_options(finding, knowledge, series)]
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
    checks = _checks_to_keep(baseline, effective, knowledge, series, config is None)
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
    after, after_estimate = _after(inputs, point, effective, macro_changes, fragment, suites, baseline.symbols)
    if target == "sdkconfig" and config is not None and config.file_kind == "sdkconfig" and changes:
        notes.append(
            "sdkconfig.defaults only applies to options missing from sdkconfig: add these lines to sdkconfig.defaults "
            "and delete sdkconfig (or set them in idf.py menuconfig)"
        )
    return Plan(
        points=[point],
        findings=[*log_findings, *(linted.findings if linted is not None else [])],
        lint=linted,
        changes=changes,
        fragment=fragment,
        after=after,
        before_estimate=linted.estimate if linted else estimate(effective, knowledge.costs, baseline.symbols),
        after_estimate=after_estimate,
        header=header_file(target, config, series, knowledge),
        notes=notes,
    )


def header_file(target: str, config: Config | None, series: str, knowledge: ConfigKnowledge) -> str | None:
    """The header a config.h fragment goes into for this series (the user's own file when one was given)."""
    if target != "config.h":
        return None
    if config is not None and config.kind == "mbedtls-config":
        return str(config.file_kind)
    entry = knowledge.headers.get(series)
    return str(entry["file"]) if entry else None


def _after(
    inputs: Inputs,
    point: Point,
    effective: Effective,
    macro_changes: list[MacroChange],
    fragment: Fragment,
    suites: list[int] | None,
    symbols: dict[str, str],
) -> tuple[LintResult | None, Estimate | None]:
    """The configuration linted again with the changes applied, or (without one) its RAM estimate."""
    config, knowledge, target = inputs.config, inputs.knowledge, inputs.target
    if config is not None and fragment.patched is not None:
        patched = read_config(
            config.path,
            mbedtls_version=inputs.mbedtls_version or config.series,
            esp_idf_version=config.esp_idf_version,
            code_paths=inputs.code_paths,
            user_config=inputs.user_config,
            knowledge=knowledge,
            lines=fragment.patched,
        )
        patched.code = config.code
        after = lint(patched, knowledge, suites)
        return after, after.estimate
    if target == "config.h" or not fragment.text:
        return None, estimate(apply_to_effective(effective, macro_changes), knowledge.costs, symbols)
    name = "sdkconfig.defaults" if target == "sdkconfig" else "prj.conf"  # the platform's defaults with the lines
    changed = read_config(
        name,
        mbedtls_version=point.newest,
        esp_idf_version=point.esp_idf_version,
        knowledge=knowledge,
        lines=fragment.text.rstrip("\n").split("\n"),
    )
    return None, lint(changed, knowledge).estimate


def _checks_to_keep(
    baseline: Config, effective: Effective, knowledge: ConfigKnowledge, series: str, defaults_only: bool
) -> tuple[Any, ...]:
    """check_config.h checks the change set is closed under, less those the defaults already fail as modelled.

    A platform's or the library's own default configuration builds, so a check it fails here points
    at a setting the model does not see (4.x's PSA_WANT_ macros, esp_config.h's fixed settings); a
    repair for it would change what the user never touched.
    """
    checks = knowledge.checks.get(series, ())
    faults = _platform_faults(baseline, knowledge, series)
    if defaults_only:
        faults |= set(violated(effective, checks))
    return tuple(check for check in checks if check not in faults)


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


def fitting(finding: Finding, points: Sequence[Point]) -> Finding:
    """The finding with only the fixes whose platform fits the versions of at least one of ``points``."""
    kept = tuple(
        fix
        for fix in finding.fixes
        if any(
            fits(fix.platform, point.series, point.release.series if point.release is not None else None)
            for point in points
        )
    )
    return finding if len(kept) == len(finding.fixes) else finding._replace(fixes=kept)


def _from_fixes(
    finding: Finding, target: str, point: Point, knowledge: ConfigKnowledge, effective: Effective
) -> tuple[list[MacroChange], list[SymbolChange], list[str]] | None:
    """The first fix of a finding that this target can express, and the others as alternatives."""
    picked: tuple[list[MacroChange], list[SymbolChange]] | None = None
    others: list[str] = []
    for fix in finding.fixes:
        if fix.option is None or fix.target not in ("sdkconfig", "mbedtls-config", "zephyr-kconfig"):
            continue
        expressed = _express(fix, finding, target, point.release, knowledge, effective)
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


def _missing_options(finding: Finding, knowledge: ConfigKnowledge, series: str) -> list[str]:
    """What stops a finding's mbedTLS options from being a change here: options this series' header lacks."""
    found = []
    for fix in finding.fixes:
        entry = knowledge.options.get(fix.option or "") if fix.target == "mbedtls-config" else None
        if entry is None or entry.exists_in(series) or entry.name in knowledge.derived_values.get(series, {}):
            continue
        have = sorted(entry.state, key=series_key)
        text = f"{entry.name} is not an option of this mbedTLS version (mbedTLS {span(have)} has it)"
        if text not in found:
            found.append(text)
    return found


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
        derived = option in knowledge.derived_values.get(effective.series, {})
        known = derived or (option in knowledge.options and knowledge.options[option].exists_in(effective.series))
        if not option.startswith("MBEDTLS_") or not known:  # the option is not in this version's header
            return None
        takes_value = derived or bool(knowledge.options[option].value if option in knowledge.options else None)
        if fix.value is None and takes_value:  # "lower MBEDTLS_SSL_IN_CONTENT_LEN" names no value to write
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
