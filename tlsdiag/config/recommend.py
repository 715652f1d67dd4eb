"""``tlsdiag config recommend``: the smallest change set, from a log, a configuration, a server, or all three.

The versions come first (:mod:`tlsdiag.config.version_scope`): what the user stated, else what the log
shows, never widened beyond it. A log is diagnosed for each version it may come from, as ``tlsdiag
diagnose`` does, and a change set is worked out for each (:mod:`tlsdiag.config.plan`). Versions whose
change sets agree are merged; when they do not, the report gives one labelled fragment per side and
says why they differ (:mod:`tlsdiag.config.variants`), instead of silently assuming the newest version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tlsdiag.config.data import ConfigKnowledge, EspIdfRelease, load
from tlsdiag.config.fragment import Fragment, render
from tlsdiag.config.lint import LintResult
from tlsdiag.config.model import Change, Config
from tlsdiag.config.plan import Inputs, Plan, fitting, plan_for, platform_defaults
from tlsdiag.config.ram import Estimate
from tlsdiag.config.reader import read_config
from tlsdiag.config.targets import TARGETS, target_for_kind
from tlsdiag.config.variants import applies_to, label, merge, reasons
from tlsdiag.config.version_scope import VersionScope, settle, span
from tlsdiag.errors import InputError
from tlsdiag.model import Finding
from tlsdiag.versions import VersionError, parse_version

if TYPE_CHECKING:
    from tlsdiag.documents.config import LogSummaryJson

__all__ = ["Recommendation", "platform_defaults", "platform_release", "recommend", "target_for_stack"]


@dataclass
class Recommendation:
    target: str
    config: Config | None
    lint: LintResult | None
    log_findings: list[Finding]
    log: LogSummaryJson | None  # the log it was made from, as the document shows it
    changes: list[Change]  # with several variants: the changes every one of them makes
    fragment: Fragment
    after: LintResult | None
    before_estimate: Estimate | None
    after_estimate: Estimate | None
    series: str | None  # the series the change set is for; None when it depends on the version
    esp_idf_version: str | None
    notes: list[str] = field(default_factory=list)
    scope: VersionScope | None = None
    variants: list[Plan] = field(default_factory=list)  # one per set of versions with its own change set
    summary: str | None = None  # what the inputs settle about the version, when they do not name one
    reasons: list[str] = field(default_factory=list)  # why the variants differ
    applies_to: dict[str, list[str]] = field(default_factory=dict)  # rule -> variant labels, when not all
    variant_findings: list[Finding] = field(default_factory=list)  # findings only some variants have

    @property
    def findings(self) -> list[Finding]:
        return [*self.log_findings, *(self.lint.findings if self.lint else []), *self.variant_findings]

    @property
    def failed(self) -> bool:
        return any(finding.severity == "failure" for finding in self.findings)

    @property
    def split(self) -> bool:
        """The change set depends on a version the inputs do not settle."""
        return len(self.variants) > 1


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
    analysis = None
    if log is not None:
        from tlsdiag.analysis.pipeline import analyse

        analysis = analyse(None if log == "-" else log)
    context = analysis.context if analysis is not None else None
    config = None
    if config_path is not None:
        config = _read_within_log(
            config_path, mbedtls_version, esp_idf_version, code_paths, user_config, context, knowledge
        )
    stack = context.stack if context is not None else "unknown"
    target = target or (target_for_kind(config.kind) if config else target_for_stack(stack))
    scope = settle(target, config, mbedtls_version, esp_idf_version, context, knowledge)
    inputs = Inputs(target, config, server_suites, mbedtls_version, code_paths, user_config, knowledge)
    plans = [plan_for(point, _diagnose(analysis, point.series), inputs) for point in scope.points]
    failing = _failing(analysis)
    variants = merge(plans, failing)
    log_findings = _diagnose(analysis, scope.series)
    opening = _allowed(scope, target, analysis is not None)
    if analysis is not None and scope.basis not in ("log", "none"):
        analysis = _pinned(analysis, scope, mbedtls_version)
    chosen = variants[0] if len(variants) == 1 else None
    shown = [*log_findings, *(chosen.lint.findings if chosen and chosen.lint else [])]
    result = Recommendation(
        target=target,
        config=config,
        lint=None,
        log_findings=log_findings,
        log=_log_json(analysis),
        changes=[],
        fragment=render(None, [], target),
        after=None,
        before_estimate=None,
        after_estimate=None,
        series=None,
        esp_idf_version=None,
        notes=list(scope.notes),
        scope=scope,
        variants=variants,
        applies_to=applies_to(plans),
        variant_findings=_not_shown(plans, shown),
    )
    return _single(result, chosen, opening) if chosen is not None else _split(result, failing, opening)


def _single(result: Recommendation, plan: Plan, opening: str) -> Recommendation:
    """One change set holds for every version the inputs allow; fixes for other versions are left out."""
    scope = result.scope
    result.lint = plan.lint
    result.log_findings = [fitting(finding, plan.points) for finding in result.log_findings]
    result.changes, result.fragment, result.after = plan.changes, plan.fragment, plan.after
    result.before_estimate, result.after_estimate = plan.before_estimate, plan.after_estimate
    result.series, result.esp_idf_version = plan.series, plan.esp_idf_version
    result.notes += plan.notes
    undecided = scope is not None and scope.basis in ("log", "none") and len(scope.series) > 1
    if scope is not None and (len(scope.points) > 1 or undecided):
        result.summary = f"{opening}; the change is the same for {label(plan)}"
    return result


def _split(result: Recommendation, failing: tuple[str, int] | None, opening: str) -> Recommendation:
    """The change set depends on the version: the changes every variant shares, and each variant labelled."""
    variants = result.variants
    result.changes = [change for change in variants[0].changes if all(change in plan.changes for plan in variants)]
    result.fragment = render(None, result.changes, result.target)
    result.config = None
    sdkconfig = result.target == "sdkconfig"
    give = f"give {'--esp-idf-version or ' if sdkconfig else ''}--mbedtls-version for one answer"
    result.summary = f"{opening}, and the change depends on which: one fragment per version below ({give})"
    result.reasons = reasons(variants, failing)
    return result


def _not_shown(plans: Sequence[Plan], shown: Sequence[Finding]) -> list[Finding]:
    """Findings that only some versions have and the whole-range diagnosis did not give (first occurrence each)."""
    seen = {finding.rule for finding in shown}
    found: list[Finding] = []
    for plan in plans:
        for finding in plan.findings:
            if finding.rule not in seen:
                seen.add(finding.rule)
                found.append(finding)
    return found


def _allowed(scope: VersionScope, target: str, has_log: bool) -> str:
    """What the inputs say about the version, in words."""
    if scope.basis == "none":
        what = "ESP-IDF or mbedTLS version" if target == "sdkconfig" else "mbedTLS version"
        if has_log:
            return f"nothing in the log says which {what} it comes from"
        return f"nothing given says which {what} the build has"
    if scope.basis == "log":
        return f"the log shows mbedTLS {scope.log_range}" if scope.log_range else "the log names the ESP-IDF release"
    return f"{scope.stated} allows mbedTLS {span(scope.series)}"


def _read_within_log(
    path: str,
    mbedtls_version: str | None,
    esp_idf_version: str | None,
    code_paths: Sequence[str],
    user_config: str | None,
    context: Any,
    knowledge: ConfigKnowledge,
) -> Config:
    """The configuration, read as the newest series that both it and the log allow when it alone is not sure."""
    config = read_config(
        path,
        mbedtls_version=mbedtls_version,
        esp_idf_version=esp_idf_version,
        code_paths=code_paths,
        user_config=user_config,
        knowledge=knowledge,
    )
    if mbedtls_version or context is None or not context.mbedtls_version or len(config.series_candidates) < 2:
        return config
    both = [series for series in config.series_candidates if series in context.mbedtls_series]
    if not both or config.series == both[-1]:
        return config
    narrowed = read_config(
        path,
        mbedtls_version=both[-1],
        esp_idf_version=esp_idf_version,
        code_paths=code_paths,
        user_config=user_config,
        knowledge=knowledge,
    )
    narrowed.notes.append(
        f"{config.file_kind} fits mbedTLS {span(list(config.series_candidates))} and the log shows "
        f"{context.mbedtls_version}: read as {both[-1]}"
    )
    return narrowed


def _diagnose(analysis: Any, series: tuple[str, ...]) -> list[Finding]:
    """The log's findings for a build of these series (the rules' ``mbedtls`` conditions see only them)."""
    if analysis is None:
        return []
    from tlsdiag.rules import diagnose

    label_text = series[0] if len(series) == 1 else f"{series[0]}-{series[-1]}"
    context = analysis.context._replace(mbedtls_series=tuple(series), mbedtls_version=label_text)
    return list(diagnose(replace(analysis, context=context)))


def _pinned(analysis: Any, scope: VersionScope, requested: str | None) -> Any:
    """The analysis with the version the user stated, and that statement as the first evidence."""
    evidence = ((0, str(scope.stated), "given by the user"),)
    context = analysis.context._replace(
        mbedtls_version=requested or span(scope.series),
        mbedtls_series=scope.series,
        evidence=evidence + tuple(analysis.context.evidence),
    )
    return replace(analysis, context=context)


def _failing(analysis: Any) -> tuple[str, int] | None:
    """The failing call's code as printed, and its value."""
    session = analysis.primary if analysis is not None else None
    final = session.final_error if session is not None else None
    return None if final is None else (str(final.raw), int(final.value))


def _log_json(analysis: Any) -> LogSummaryJson | None:
    if analysis is None:
        return None
    from tlsdiag.documents.config import LogSummaryJson

    return LogSummaryJson(name=analysis.name, lines=analysis.lines, context=analysis.context.to_json())


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
    """The examined ESP-IDF release whose Kconfig names the options (the newest, with a note, when unknown)."""
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
