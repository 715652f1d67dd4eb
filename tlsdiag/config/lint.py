"""``tlsdiag config lint``: what check_config.h would reject, the silent problems it would not, buffers, RAM.

Rules are data (``knowledge/config/lint.toml``): conditions over the resolved mbedTLS macros, the code
we can see and the Kconfig symbols, texts, and the changes that fix them. This module evaluates them,
adds the violated check_config.h checks and the reader's Kconfig remarks as findings, and works out
one consistent change set: the rules' changes plus whatever check_config.h then requires.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tlsdiag.config.checks import close, violated
from tlsdiag.config.data import Check, ConfigKnowledge, load
from tlsdiag.config.effective import Effective
from tlsdiag.config.expr import evaluate, names
from tlsdiag.config.model import Change, Config, Issue
from tlsdiag.config.ram import Estimate, estimate
from tlsdiag.config.suites import Suite, cheapest, enabled, suites_of
from tlsdiag.config.targets import FIX_TARGET, MacroChange, SymbolChange, Translator, target_for_kind
from tlsdiag.model import Finding, Fix

_SEVERITY_ORDER = {"failure": 0, "warning": 1, "info": 2}
MAX_EVIDENCE = 6


@dataclass
class Context:
    """What a rule's conditions can look at."""

    config: Config
    effective: Effective
    knowledge: ConfigKnowledge
    suites: list[Suite]
    built: list[Suite]
    maybe_built: list[Suite]
    server: list[int] | None
    facts: dict[str, Any] = field(default_factory=dict)
    own_evidence: bool = False


@dataclass
class LintResult:
    config: Config
    effective: Effective
    findings: list[Finding]
    changes: list[Change]  # the recommended set, in the configuration's own terms
    macro_changes: list[MacroChange]
    symbol_changes: list[SymbolChange]
    unresolved: list[Check]
    estimate: Estimate
    built: list[Suite]
    maybe_built: list[Suite]
    notes: list[str]

    @property
    def failed(self) -> bool:
        return any(finding.severity == "failure" for finding in self.findings)


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, facts: dict[str, Any]) -> str:
    try:
        return string.Formatter().vformat(text, (), _Facts(facts))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


# --- conditions ----------------------------------------------------------------------------------------

Evidence = list[tuple[int, str]]


def _lines_of(context: Context, macros: Sequence[str]) -> Evidence:
    found: Evidence = []
    for macro in macros:
        where = context.config.setting_line(macro)
        if where is not None and where not in found:
            found.append(where)
    return found


def _condition(context: Context, argument: str) -> Evidence | None:
    if evaluate(argument, context.effective) != 1:
        return None
    if context.own_evidence:
        return []  # the rule names the lines to cite itself
    return _lines_of(context, sorted(names(argument)))


def _code(context: Context, argument: Sequence[str]) -> Evidence | None:
    facts = [context.config.code.get(name) for name in argument]
    if any(fact is None for fact in facts):
        return None
    return [(fact.line, _code_text(context, fact)) for fact in facts if fact is not None]


def _code_text(context: Context, fact: Any) -> str:
    if fact.source == context.config.path:
        return str(fact.text)
    return f"{fact.source.rsplit('/', 1)[-1]}: {fact.text}"


def _no_code(context: Context, argument: Sequence[str]) -> Evidence | None:
    return None if any(name in context.config.code for name in argument) else []


def _kind(context: Context, argument: Sequence[str]) -> Evidence | None:
    return [] if context.config.kind in argument else None


def _series(context: Context, argument: Sequence[str]) -> Evidence | None:
    return [] if context.effective.series in argument else None


def _symbols_on(context: Context, argument: Sequence[str]) -> Evidence | None:
    if not all(context.config.symbols.get(name) == "y" for name in argument):
        return None
    return [(item.line, item.text) for name in argument if (item := context.config.assignments.get(name)) is not None]


def _value_below(context: Context, argument: dict[str, Any]) -> Evidence | None:
    name = argument["name"]
    value = context.effective.value(name)
    if value is None or value >= int(argument["limit"]):
        return None
    key = {"MBEDTLS_SSL_IN_CONTENT_LEN": "in", "MBEDTLS_SSL_OUT_CONTENT_LEN": "out"}.get(name, "value")
    context.facts[f"{key}_len"] = value
    context.facts[f"{key}_cost"] = int(argument["limit"]) - value
    return _lines_of(context, [name, context.effective.setting_for_value(name), "MBEDTLS_SSL_MAX_CONTENT_LEN"])


def _suites(context: Context, argument: str) -> Evidence | None:
    key_exchanges = [suite.key_exchange_macro for suite in context.suites if suite.key_exchange_macro]
    some_key_exchange = any(context.effective.defined(name) is True for name in set(key_exchanges))
    tls13 = context.effective.defined("MBEDTLS_SSL_PROTO_TLS1_3") is True
    if argument == "none":
        if context.built or context.maybe_built or not (some_key_exchange or tls13):
            return None
        return []
    if argument == "none_shared":
        if not context.server:
            return None
        context.facts["server_count"] = len(context.server)
        shared = [suite for suite in context.built + context.maybe_built if suite.value in context.server]
        if shared:
            context.facts["shared"] = shared[0].name
            return None
        return []
    return None


PREDICATES: dict[str, Callable[[Context, Any], Evidence | None]] = {
    "condition": _condition,
    "code": _code,
    "no_code": _no_code,
    "kind": _kind,
    "series": _series,
    "symbols_on": _symbols_on,
    "value_below": _value_below,
    "suites": _suites,
}


def _evaluate(conditions: dict[str, Any], context: Context) -> Evidence | None:
    evidence: Evidence = []
    for name, argument in conditions.items():
        found = PREDICATES[name](context, argument)
        if found is None:
            return None
        evidence.extend(item for item in found if item not in evidence)
    return evidence


def matches(rule: dict[str, Any], context: Context) -> Evidence | None:
    evidence = _evaluate(rule.get("when", {}), context)
    if evidence is None:
        return None
    alternatives = rule.get("any", ())
    if alternatives:
        chosen = next((found for table in alternatives if (found := _evaluate(table, context)) is not None), None)
        if chosen is None:
            return None
        evidence.extend(item for item in chosen if item not in evidence)
    unless = rule.get("unless")
    if unless and any(_evaluate({name: argument}, context) is not None for name, argument in unless.items()):
        return None
    return evidence


# --- computed changes ------------------------------------------------------------------------------------


def _computed(name: str, context: Context, rule_id: str, why: str) -> list[MacroChange]:
    through = context.knowledge.enable_through
    checks = context.knowledge.checks.get(context.effective.series, ())
    never = tuple(context.knowledge.lint.get("repair", {}).get("never_enable", ()))

    def cost(missing: list[str]) -> int:
        wanted = [MacroChange(macro, "on", rule_id, why) for macro in missing]
        return len(close(context.effective, wanted, checks, never)[0])

    if name == "best_suite":
        found = cheapest(context.suites, context.effective, through, need_key_exchange=True, cost=cost)
    elif name == "server_suite":
        offered = [suite for suite in context.suites if context.server and suite.value in context.server]
        found = cheapest(offered, context.effective, through, need_key_exchange=False, cost=cost)
        context.facts["server_count"] = len(context.server or ())
    else:
        return []
    if found is None:
        context.facts.setdefault("best_suite", "none that options alone can enable")
        return []
    suite, missing, listed = found
    context.facts["best_suite"] = suite.name
    changes = [MacroChange(macro, "on", rule_id, why) for macro in missing]
    if listed is not None:
        changes.append(MacroChange("MBEDTLS_SSL_CIPHERSUITES", listed, rule_id, why))
    return changes


# --- the lint -------------------------------------------------------------------------------------------


def lint(
    config: Config, knowledge: ConfigKnowledge | None = None, server_suites: Sequence[int] | None = None
) -> LintResult:
    knowledge = knowledge or load()
    series = config.series or "2.28"
    effective = Effective(config.settings, series, knowledge, config.base, config.symbols, config.platform_macros)
    all_suites = suites_of(knowledge.ciphersuites, series)
    built, maybe_built = enabled(all_suites, effective)
    context = Context(config, effective, knowledge, all_suites, built, maybe_built, list(server_suites or []) or None)
    context.facts.update({"series": series, "suites_series": series})
    lint_data = knowledge.lint
    matched: list[tuple[dict[str, Any], Evidence, dict[str, Any]]] = []
    for rule in lint_data.get("rule", ()):
        context.facts = {"series": series, "suites_series": series, **_size_facts(effective)}
        context.own_evidence = bool(rule.get("evidence"))
        evidence = matches(rule, context)
        if evidence is None:
            continue
        if rule.get("evidence"):
            evidence = sorted({*evidence, *_lines_of(context, rule["evidence"])})
        facts = dict(context.facts)
        why = fill(rule["title"], facts)
        facts["severity"] = rule.get("severity", "failure")
        if rule.get("default_severity") and config.kind != "mbedtls-config" and not evidence:
            facts["severity"] = rule["default_severity"]  # the platform's default, not a line of the file
        facts["computed"] = _computed(rule["compute"], context, rule["id"], why) if rule.get("compute") else []
        facts.update(context.facts)
        matched.append((rule, evidence, facts))
    covered = [text for rule, _, _ in matched for text in rule.get("covers_checks", ())]
    platform_faults = _platform_faults(config, knowledge, series)
    checks = tuple(check for check in knowledge.checks.get(series, ()) if check not in platform_faults)
    failing = [check for check in violated(effective, checks) if not any(text in check.error for text in covered)]
    check_ids = {check: _check_id(check, failing) for check in failing}
    # the change set: failures and warnings whose rule recommends its changes, then what check_config.h needs
    wanted: list[MacroChange] = []
    symbol_changes: list[SymbolChange] = []
    advice: dict[str, list[MacroChange]] = {}
    for rule, _, facts in matched:
        why = fill(rule["title"], facts)
        rule_changes = [
            MacroChange(item["macro"], str(item["to"]), rule["id"], why) for item in rule.get("changes", ())
        ]
        rule_changes += facts["computed"]
        if facts["severity"] == "info" or rule.get("recommend", True) is False:
            advice[rule["id"]] = rule_changes
            continue
        wanted.extend(rule_changes)
        symbol_changes.extend(
            SymbolChange(item["symbol"], str(item["to"]), rule["id"], why) for item in rule.get("symbol_changes", ())
        )
    repair_data = lint_data.get("repair", {})
    never = tuple(repair_data.get("never_enable", ()))
    macro_changes, unresolved = close(effective, wanted, checks, never, check_ids, repair_data.get("prefer", ()))
    target = target_for_kind(config.kind)
    release = None
    if config.kind == "sdkconfig" and config.esp_idf_version:
        release, _ = knowledge.esp_idf_release(config.esp_idf_version)
    translator = Translator(config, effective, knowledge, target, release)
    changes = translator.translate(macro_changes, symbol_changes)
    findings = [
        _rule_finding(rule, evidence, facts, changes, advice.get(rule["id"], []), config, effective, knowledge, release)
        for rule, evidence, facts in matched
    ]
    findings += [_check_finding(check, check_ids[check], context, changes, lint_data) for check in failing]
    findings += [_issue_finding(issue, lint_data, config) for issue in config.issues]
    if (
        config.kind == "mbedtls-config"
        and series.startswith("2.")
        and config.base == "complete"
        and not config.includes_check_config
        and effective.defined("MBEDTLS_SSL_TLS_C") is not False
    ):
        findings.append(_message_finding("no_check_include", lint_data, {}, []))
    findings.sort(key=lambda finding: (_SEVERITY_ORDER.get(finding.severity, 3), -finding.confidence))
    cost = estimate(effective, knowledge.costs, config.symbols)
    return LintResult(
        config=config,
        effective=effective,
        findings=findings,
        changes=changes,
        macro_changes=macro_changes,
        symbol_changes=symbol_changes,
        unresolved=unresolved,
        estimate=cost,
        built=built,
        maybe_built=maybe_built,
        notes=list(translator.notes),
    )


def _platform_faults(config: Config, knowledge: ConfigKnowledge, series: str) -> set[Check]:
    """Checks that ESP-IDF's own default configuration already fails as modelled here.

    ESP-IDF builds with its defaults, so such a check points at a setting esp_config.h makes outside
    Kconfig that the reference does not show; it is not the project's problem and is left out.
    """
    if config.kind != "sdkconfig" or not config.esp_idf_version:
        return set()
    from tlsdiag.config.kconfig import Resolution, run_directives

    release, _ = knowledge.esp_idf_release(config.esp_idf_version)
    resolution = Resolution(release, {})
    settings, _ = run_directives(release.directives, resolution.values, {}, True, "")
    touched = frozenset(directive.macro for directive in release.directives)
    defaults = Effective(settings, series, knowledge, "platform", resolution.values, touched)
    return set(violated(defaults, knowledge.checks.get(series, ())))


def _size_facts(effective: Effective) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key, name in (("in_len", "MBEDTLS_SSL_IN_CONTENT_LEN"), ("out_len", "MBEDTLS_SSL_OUT_CONTENT_LEN")):
        value = effective.value(name)
        if value is not None:
            facts[key] = value
    return facts


def _check_id(check: Check, failing: Sequence[Check]) -> str:
    subject = next((macro for macro in check.macros if macro in check.error), check.macros[0] if check.macros else "")
    base = "CFG-CHECK-" + (subject.removeprefix("MBEDTLS_") or str(check.line))
    same = [other for other in failing if other is not check and _check_base(other) == base]
    return base if not same else f"{base}-{check.line}"


def _check_base(check: Check) -> str:
    subject = next((macro for macro in check.macros if macro in check.error), check.macros[0] if check.macros else "")
    return "CFG-CHECK-" + (subject.removeprefix("MBEDTLS_") or str(check.line))


def _fixes_for(finding_id: str, changes: Sequence[Change], target: str, advice: Sequence[Change] = ()) -> list[Fix]:
    fixes = []
    for change in [*changes, *advice]:
        if change.finding != finding_id:
            continue
        if change.after in ("defined", "undefined"):
            verb = "Define" if change.after == "defined" else "Remove (or #undef)"
            needed = change.why.startswith("check_config.h")
            action = f"{verb} {change.option}" + (f" ({change.why})" if needed else "")
        elif change.after in ("y", "n"):
            action = f"Set {change.option}={change.after}"
        else:
            action = f"Set {change.option} to {change.after}"
        fixes.append(Fix(FIX_TARGET[target], action, change.option, change.after))
    return fixes


def _rule_finding(
    rule: dict[str, Any],
    evidence: Evidence,
    facts: dict[str, Any],
    changes: Sequence[Change],
    advice: Sequence[MacroChange],
    config: Config,
    effective: Effective,
    knowledge: ConfigKnowledge,
    release: Any,
) -> Finding:
    target = target_for_kind(config.kind)
    advised: list[Change] = []
    if advice:
        advised = Translator(config, effective, knowledge, target, release).translate(advice, [])
    fixes = _fixes_for(rule["id"], changes, target, advised)
    for item in rule.get("fixes", ()):
        fixes.append(Fix(item["target"], fill(item["action"], facts), item.get("option"), item.get("value")))
    return Finding(
        rule=rule["id"],
        name=rule["name"],
        title=fill(rule["title"], facts),
        category=rule["category"],
        severity=str(facts.get("severity", rule.get("severity", "failure"))),
        confidence=float(rule.get("confidence", 0.8)),
        evidence=tuple(sorted(evidence)[:MAX_EVIDENCE]),
        explanation=" ".join(fill(rule.get("explanation", ""), facts).split()),
        fixes=tuple(fixes),
        references=tuple(rule.get("references", ())),
        facts=tuple(sorted((key, value) for key, value in facts.items() if isinstance(value, (str, int, float)))),
    )


def _check_finding(
    check: Check, finding_id: str, context: Context, changes: Sequence[Change], lint_data: Any
) -> Finding:
    effective = context.effective
    states = []
    for macro in check.macros[:6]:
        state = effective.defined(macro)
        if state is not None:
            states.append(f"{macro} {'on' if state else 'off'}")
    facts = {
        "error": check.error,
        "series": effective.series,
        "condition_text": ", ".join(states) or check.condition[:160],
    }
    evidence = _lines_of(context, check.macros)
    finding = _message_finding("check", lint_data, facts, evidence)
    target = target_for_kind(context.config.kind)
    return finding._replace(rule=finding_id, fixes=tuple(_fixes_for(finding_id, changes, target)))


def _issue_finding(issue: Issue, lint_data: Any, config: Config) -> Finding:
    evidence = [(issue.line, issue.text)] if issue.line else []
    return _message_finding(issue.message, lint_data, dict(issue.facts), evidence)


def _message_finding(key: str, lint_data: Any, facts: dict[str, Any], evidence: Evidence) -> Finding:
    message = lint_data["message"][key]
    return Finding(
        rule=message["id"],
        name=key.replace("_", "-"),
        title=fill(message["title"], facts),
        category=message["category"],
        severity=message["severity"],
        confidence=float(message.get("confidence", 0.8)),
        evidence=tuple(evidence[:MAX_EVIDENCE]),
        explanation=" ".join(fill(message.get("explanation", ""), facts).split()),
        fixes=(),
        references=tuple(message.get("references", ())),
    )


__all__ = ["LintResult", "lint"]
