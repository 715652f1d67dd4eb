"""The rule engine: declarative rules from ``knowledge/rules/*.toml`` evaluated over a session.

A rule holds an id, a title, a category and severity, a base confidence, conditions
(``[rule.when]``: all must hold; ``[[rule.any]]``: at least one table must hold; ``[rule.unless]``:
none may hold), an explanation and fixes written as Jinja-free ``{placeholders}`` filled from the
facts the predicates found, and references. Python only supplies the predicates
(:mod:`tlsdiag.rules.predicates`); no rule is code.

Ranking: failures first; a finding that explains the failure before one that only restates the
code; then confidence, which grows with every independent signal that matched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from tlsdiag.analysis.summary import scope_for
from tlsdiag.knowledge import fixes_from
from tlsdiag.model import Finding, Fix
from tlsdiag.paths import knowledge_path
from tlsdiag.rules.predicates import PREDICATES, Match, Subject, load_predicate_modules

MAX_RECORD_CONTENT = 16384  # TLS plaintext record limit, the largest any content-length option may be
SIGNAL_BONUS = 0.03  # per extra matched condition: several signals raise confidence
MAX_CONFIDENCE = 0.99
_SEVERITY_ORDER = {"failure": 0, "warning": 1, "info": 2}


@cache
def load_rules() -> tuple[dict[str, Any], ...]:
    """Every rule of ``knowledge/rules/*.toml``, in file and then definition order."""
    from tlsdiag.cache import load_toml

    directory = knowledge_path("rules")
    rules: list[dict[str, Any]] = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".toml"):
            rules.extend(load_toml(os.path.join(directory, name)).get("rule", ()))
    return tuple(rules)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}]*))?\}")


def _fill(text: str, facts: dict[str, Any]) -> str:
    """Fill ``{name}`` and ``{name|fallback words}`` from the facts; an unknown name without a fallback stays
    visible as it is written, so that a missing fact shows instead of silently vanishing."""

    def replace(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name in facts:
            return str(facts[name])
        return fallback if fallback is not None else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _evaluate(conditions: dict[str, Any], subject: Subject) -> list[Match] | None:
    load_predicate_modules()
    matches = []
    for name, argument in conditions.items():
        check = PREDICATES.get(name)
        if check is None:
            raise KeyError(f"unknown rule condition {name!r}")
        result = check(subject, argument)
        if result is None:
            return None
        matches.append(result)
    return matches


def evaluate(rule: dict[str, Any], subject: Subject) -> Finding | None:
    matches = _evaluate(rule.get("when", {}), subject)
    if matches is None:
        return None
    alternatives = rule.get("any", ())
    if alternatives:
        chosen = next((found for table in alternatives if (found := _evaluate(table, subject)) is not None), None)
        if chosen is None:
            return None
        matches += chosen
    unless = rule.get("unless")
    if unless and any(_evaluate({name: argument}, subject) is not None for name, argument in unless.items()):
        return None
    facts: dict[str, Any] = {"stack": subject.stack}
    evidence: dict[int, str] = {}
    signals = 0
    for match in matches:
        facts.update({key: value for key, value in match.facts.items() if value is not None})
        if match.evidence:
            signals += 1
        for event in match.evidence:
            evidence.setdefault(event.env.line, event.env.text)
    _derived_facts(facts)
    confidence = min(MAX_CONFIDENCE, float(rule.get("confidence", 0.5)) + SIGNAL_BONUS * max(0, signals - 1))
    fixes = tuple(
        _fix(fix, raw, facts)
        for fix, raw in zip(fixes_from(rule.get("fixes", ())), rule.get("fixes", ()), strict=True)
        if _fix_applies(fix, raw, subject) and _facts_allow(raw, facts)
    )
    return Finding(
        rule=rule["id"],
        name=rule.get("name", rule["id"]),
        title=_fill(rule["title"], facts),
        category=rule["category"],
        severity=rule.get("severity", "failure"),
        confidence=confidence,
        evidence=tuple(sorted(evidence.items())),
        explanation=_fill(rule.get("explanation", ""), facts),
        fixes=fixes,
        references=tuple(rule.get("references", ())),
        explains=bool(rule.get("explains", True)),
        facts=tuple(sorted((key, value) for key, value in facts.items() if isinstance(value, (str, int, float)))),
    )


def _fix(fix: Fix, raw: dict[str, Any], facts: dict[str, Any]) -> Fix:
    """A fix with its placeholders filled; a value whose facts are missing falls back to ``default``."""
    value = _fill(fix.value, facts) if fix.value else None
    if value is not None and "{" in value:
        value = str(raw["default"]) if "default" in raw else None
    action = _fill(fix.action, facts if value is None else {**facts, **_value_facts(raw, value)})
    return Fix(fix.target, action, fix.option, value, fix.platform)


def _value_facts(raw: dict[str, Any], value: str) -> dict[str, Any]:
    """Let an action quote the value actually chosen (the default when the log did not give a size)."""
    placeholder = str(raw.get("value", ""))
    if placeholder.startswith("{") and placeholder.endswith("}"):
        return {placeholder[1:-1]: value}
    return {}


def _facts_allow(raw: dict[str, Any], facts: dict[str, Any]) -> bool:
    """``only_if_fact`` / ``unless_fact``: a fix that depends on what the log measured."""
    needed = raw.get("only_if_fact")
    blocked = raw.get("unless_fact")
    return (needed is None or needed in facts) and (blocked is None or blocked not in facts)


def _fix_applies(fix: Fix, raw: dict[str, Any], subject: Subject) -> bool:
    """Show ESP-IDF options to ESP-IDF users, Zephyr options to Zephyr users; a fix may name its ``stacks``."""
    per_stack = {"sdkconfig": {"esp-idf", "arduino-esp32"}, "zephyr-kconfig": {"zephyr"}, "arduino": {"arduino-esp32"}}
    stacks = set(raw.get("stacks", ())) or per_stack.get(fix.target)
    return stacks is None or subject.stack == "unknown" or subject.stack in stacks


def _derived_facts(facts: dict[str, Any]) -> None:
    """Values fixes need that are computed from facts: a buffer size that fits what was too large."""
    for key in ("cert_too_large", "record_too_large", "input_record"):
        size = facts.get(key)
        limit = facts.get(f"{key}_limit")
        if isinstance(size, int) and isinstance(limit, int):
            facts[f"{key}_text"] = f" ({size} bytes, where the buffer holds {limit})"
        if isinstance(size, int):
            if size <= MAX_RECORD_CONTENT:
                facts[f"{key}_fit"] = min(MAX_RECORD_CONTENT, ((size + 1023) // 1024) * 1024)
            else:
                facts[f"{key}_over_record_limit"] = size


def _rank(finding: Finding) -> tuple[int, int, float]:
    return (_SEVERITY_ORDER.get(finding.severity, 3), 0 if finding.explains else 1, -finding.confidence)


def diagnose(analysis: Any, comparison: Any = None) -> list[Finding]:
    """Findings for the analysis' primary session, ranked (most likely root cause first).

    With ``comparison`` (a :class:`tlsdiag.diff.Comparison` whose failing side is ``analysis``) the
    rules that read the difference to a working run can match too.
    """
    session = analysis.primary
    if session is None:
        return []
    subject = Subject(
        session=session,
        stack=analysis.context.stack,
        series=analysis.context.mbedtls_series,
        scope=scope_for(analysis.context),
        diff=comparison,
    )
    findings = [finding for rule in load_rules() if (finding := evaluate(rule, subject)) is not None]
    findings += _code_findings(subject, findings)
    findings.sort(key=_rank)
    return _dedupe(findings)


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if finding.rule in seen:
            continue
        seen.add(finding.rule)
        kept.append(finding)
    return kept


def _code_findings(subject: Subject, findings: list[Finding]) -> list[Finding]:
    """When no rule explains the final error, the code's own knowledge still says what it means."""
    final = subject.session.final_error
    if final is None:
        return []
    if any(finding.severity == "failure" and finding.explains for finding in findings):
        return []
    from tlsdiag.codes import decode_value

    decoded = decode_value(final.value, subject.scope)
    if not decoded.interpretations:
        return []
    best = decoded.interpretations[0]
    names = " + ".join(part.name or part.hex for part in best.parts)
    return [
        Finding(
            rule="TLS-CODE-000",
            name="error-code",
            title=f"{final.function or 'The call'} failed with {final.raw} ({names})",
            category=best.category,
            severity="failure",
            confidence=0.5 if len(decoded.interpretations) == 1 else 0.35,
            evidence=((final.env.line, final.env.text),),
            explanation=best.meaning or "",
            fixes=tuple(fix for fix in best.fixes if _fix_applies(fix, {}, subject)),
            references=best.references,
            explains=False,
        )
    ]


__all__ = ["diagnose", "evaluate", "load_rules"]
