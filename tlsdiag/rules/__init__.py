"""The diagnosis: declarative rules, and a differential of causes weighed by what the log shows.

Rules (``knowledge/rules/*.toml``) hold an id, a title, a category, the root cause they diagnose
(``cause``, an id of ``knowledge/diagnosis/causes.toml``), a severity and a confidence, conditions
(``[rule.when]``: all must hold; ``[[rule.any]]``: at least one table must hold; ``[rule.unless]``:
none may hold), an explanation with ``{placeholders}`` filled from the facts the predicates found,
notes shown only when their facts hold, fixes and references. Python only supplies the predicates
(:mod:`tlsdiag.rules.predicates`); no rule is code.

A rule's confidence is lowered for everything it had to assume (an absence the log could not show,
a version the log does not state, a code read with doubt). For a failed attempt, the failure rules
that fired are then weighed against the differential of the code it failed with
(:mod:`tlsdiag.rules.differential`): each candidate cause ends with its share of the evidence as its
confidence. A log with nothing but the code gets the differential itself: the likely causes, ranked,
each with what would confirm it and what to print next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tlsdiag.analysis.views import AttemptView
from tlsdiag.knowledge import document, fixes_from, listing, load
from tlsdiag.model import Finding, Fix
from tlsdiag.rules import differential
from tlsdiag.rules.diagnosis import Diagnosis, FailureDiagnosis, group_key, is_thin
from tlsdiag.rules.predicates import PREDICATES, Match, Subject, load_predicate_modules
from tlsdiag.rules.texts import fill

SIGNAL_BONUS = 0.03  # per extra matched condition: several signals raise confidence
ASSUMPTION_PENALTY = 0.6  # per thing a rule had to take for granted (an absence the log could not show...)
MAX_CONFIDENCE = 0.99
_SEVERITY_ORDER = {"failure": 0, "warning": 1, "info": 2}


@cache
def load_rules() -> tuple[dict[str, Any], ...]:
    """Every rule of ``knowledge/rules/*.toml``, in file and then definition order."""
    rules: list[dict[str, Any]] = []
    for name in listing("rules"):
        rules.extend(document(name).get("rule", ()))
    return tuple(rules)


@dataclass
class Hit:
    """A rule whose conditions held: its finding before it is weighed against the other causes."""

    rule: dict[str, Any]
    finding: Finding
    matches: list[Match]


def _evaluate(conditions: dict[str, Any] | Iterable[tuple[str, Any]], subject: Subject) -> list[Match] | None:
    load_predicate_modules()
    matches = []
    items = conditions.items() if isinstance(conditions, dict) else conditions
    for name, argument in items:
        check = PREDICATES.get(name)
        if check is None:
            raise KeyError(f"unknown rule condition {name!r}")
        result = check(subject, argument)
        if result is None:
            return None
        matches.append(result)
    return matches


def evaluate(rule: dict[str, Any], subject: Subject) -> Finding | None:
    """The rule's finding on ``subject`` with its own confidence, or None when its conditions do not hold."""
    hit = _hit(rule, subject)
    return None if hit is None else hit.finding


def _hit(rule: dict[str, Any], subject: Subject) -> Hit | None:
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
    assumptions: list[str] = []
    brought: list[Any] = []  # fixes, next steps and references the matches brought from the knowledge they read
    next_steps: list[str] = []
    references = list(rule.get("references", ()))
    signals = 0
    for match in matches:
        brought.extend(match.fixes)
        next_steps.extend(match.next_steps)
        references.extend(match.references)
        facts.update({key: value for key, value in match.facts.items() if value is not None})
        if match.evidence:
            signals += 1
        for item in match.evidence:
            evidence.setdefault(item.line, item.quote)
        assumptions.extend(match.assumptions)
    assumptions = list(dict.fromkeys(assumptions))
    confidence = min(MAX_CONFIDENCE, float(rule.get("confidence", 0.5)) + SIGNAL_BONUS * max(0, signals - 1))
    confidence *= ASSUMPTION_PENALTY ** len(assumptions)
    confidence *= _reading_doubt(rule, subject)
    explanation = fill(rule.get("explanation", ""), facts)
    notes = [fill(note["text"], facts) for note in rule.get("notes", ()) if _note_holds(note, subject, facts)]
    if notes:
        explanation = " ".join([explanation, *notes]).strip()
    fixes = tuple(
        _fix(fix, raw, facts)
        for fix, raw in zip(fixes_from(rule.get("fixes", ())), rule.get("fixes", ()), strict=True)
        if load().fix_applies(fix, subject.stack) and _facts_allow(raw, facts)
    ) + tuple(fix for fix in brought if load().fix_applies(fix, subject.stack))
    finding = Finding(
        rule=rule["id"],
        name=rule.get("name", rule["id"]),
        title=fill(rule["title"], facts),
        category=_category(rule["category"], facts),
        severity=rule.get("severity", "failure"),
        confidence=confidence,
        evidence=tuple(sorted(evidence.items())),
        explanation=explanation,
        fixes=fixes,
        references=tuple(dict.fromkeys(references)),
        explains=bool(rule.get("explains", True)),
        facts=tuple(sorted((key, value) for key, value in facts.items() if isinstance(value, (str, int, float)))),
        cause=rule.get("cause"),
        basis="differential" if rule.get("fallback") else "rule",
        assumptions=tuple(assumptions),
        next_steps=tuple(dict.fromkeys(next_steps)),
    )
    return Hit(rule, finding, matches)


def _category(declared: str, facts: dict[str, Any]) -> str:
    """A rule's category, or the one a fact gives (``{error_category|other}``: the code's own category)."""
    if "{" not in declared:
        return declared
    filled = fill(declared, facts)
    return filled if filled in load().category_precedence else "other"


def _reading_doubt(rule: dict[str, Any], subject: Subject) -> float:
    """A rule that rests on the final error's name is as sure as the reading of that value."""
    final = subject.attempt.final
    names = {name for table in (rule.get("when", {}), *rule.get("any", ())) for name in table}
    if final is None or not names & {"error", "final_error", "error_category", "defined_error"}:
        return 1.0
    return max(0.5, final.reading_share)


def _note_holds(note: dict[str, Any], subject: Subject, facts: dict[str, Any]) -> bool:
    """A note of an explanation is shown only where its facts hold (the stack, the mbedTLS series the log may come
    from, a fact the rule found)."""
    stacks = note.get("stacks")
    if stacks and subject.stack not in stacks:
        return False
    series = note.get("series")
    if series and not set(series) & set(subject.series):
        return False
    needed = note.get("only_if_fact")
    return needed is None or needed in facts


def _fix(fix: Fix, raw: dict[str, Any], facts: dict[str, Any]) -> Fix:
    """A fix with its placeholders filled; a value whose facts are missing falls back to ``default``."""
    value = fill(fix.value, facts) if fix.value else None
    if value is not None and "{" in value:
        value = str(raw["default"]) if "default" in raw else None
    action = fill(fix.action, facts if value is None else {**facts, **_value_facts(raw, value)})
    return fix._replace(action=action, value=value)


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


# --- the diagnosis of one attempt -----------------------------------------------------------------------------


def subject_for(
    attempt: AttemptView, context: Any, comparison: Any = None, earlier: tuple[AttemptView, ...] = ()
) -> Subject:
    return Subject(
        attempt=attempt,
        stack=context.stack,
        series=context.mbedtls_series,
        scope=context.scope(),
        version_known=len(context.mbedtls_series) <= 2,
        platform_version=context.platform_version,
        earlier_success=any(item.handshake_done is not None and not item.failed for item in earlier),
        diff=comparison,
        features=context.features,
        pasted_config=context.pasted_config,
    )


def diagnose(analysis: Any, comparison: Any = None) -> list[Finding]:
    """Findings for the analysis' primary attempt, ranked (most likely root cause first).

    With ``comparison`` (a :class:`tlsdiag.diff.Comparison` whose failing side is ``analysis``) the
    rules that read the difference to a working run can match too.
    """
    attempt = analysis.primary_attempt
    if attempt is None:
        return []
    earlier = tuple(item for item in analysis.attempts if item.index < attempt.index)
    return diagnose_attempt(attempt, analysis.context, comparison, earlier)


#: the causes shown for a verification that failed under authmode optional (the handshake went on)
MAX_OPTIONAL_CAUSES = 2

#: at most this many failed attempts are diagnosed one by one (the latest); older ones are only counted
MAX_DIAGNOSED_ATTEMPTS = 24


def diagnose_log(analysis: Any, comparison: Any = None) -> Diagnosis:
    """Every distinct failure of the log, the latest first, and its verdict (see :mod:`.diagnosis`)."""
    attempts = analysis.attempts
    primary = analysis.primary_attempt
    failed = [item for item in attempts if item.failed]
    groups: dict[Any, list[tuple[AttemptView, tuple[Finding, ...]]]] = {}
    for attempt in reversed(failed[-MAX_DIAGNOSED_ATTEMPTS:]):
        earlier = tuple(item for item in attempts if item.index < attempt.index)
        given = comparison if primary is not None and attempt.index == primary.index else None
        findings = tuple(diagnose_attempt(attempt, analysis.context, given, earlier))
        groups.setdefault(group_key(attempt, findings), []).append((attempt, findings))
    failures = []
    for members in groups.values():
        latest, findings = members[0]
        failures.append(
            FailureDiagnosis(
                attempts=tuple(sorted(item.index for item, _ in members)),
                first_line=latest.first_line,
                last_line=latest.last_line,
                error=None if latest.final is None else latest.final.raw,
                error_line=None if latest.final is None else latest.final.line,
                findings=findings,
                thin=is_thin(findings),
            )
        )
    if failures:
        findings = failures[0].findings
    elif primary is not None:
        earlier = tuple(item for item in attempts if item.index < primary.index)
        findings = tuple(diagnose_attempt(primary, analysis.context, comparison, earlier))
    else:
        findings = ()
    dropped = getattr(getattr(analysis, "builder", None), "dropped_sessions", 0)
    return Diagnosis(
        verdict=_verdict(primary, attempts, findings),
        findings=findings,
        failures=tuple(failures),
        attempts_seen=len(attempts) + dropped,
        attempts_failed=len(failed),
    )


def _verdict(primary: AttemptView | None, attempts: tuple[AttemptView, ...], findings: tuple[Finding, ...]) -> str:
    if primary is not None and primary.failed:
        explained = any(item.severity == "failure" and item.explains and item.basis == "rule" for item in findings)
        return "failed-explained" if explained else "failed-unexplained"
    return "ok" if attempts else "no-tls"


def diagnose_attempt(
    attempt: AttemptView, context: Any, comparison: Any = None, earlier: tuple[AttemptView, ...] = ()
) -> list[Finding]:
    """Findings for one attempt; ``earlier`` are the attempts before it in the same log."""
    subject = subject_for(attempt, context, comparison, earlier)
    hits = [hit for rule in load_rules() if (hit := _hit(rule, subject)) is not None]
    failures = [hit for hit in hits if hit.finding.severity == "failure"]
    others = sorted((hit.finding for hit in hits if hit.finding.severity != "failure"), key=_rank)
    if not attempt.failed and not failures:
        if attempt.verify_flags and attempt.handshake_done is not None:
            # verification failed and the handshake went on (authmode optional): what the flags say is wrong
            # with the certificate comes first, as a warning, then the finding about the authentication mode
            flagged = [
                finding._replace(severity="warning")
                for finding in _weigh(subject, [])[:MAX_OPTIONAL_CAUSES]
                if finding.basis == "differential"
            ]
            return _dedupe([*flagged, *others])
        return others
    weighed = _weigh(subject, failures)
    return _dedupe([*weighed, *others])


def _weigh(subject: Subject, failures: list[Hit]) -> list[Finding]:
    """The failure findings: rules and the differential of the final error, each with its share of the evidence."""
    attempt = subject.attempt
    final = attempt.final
    prior = differential.priors(
        final, subject.stack, verify_failed=differential.verification_failed(attempt), series=subject.series
    )
    # fallback rules (the code's own meaning) stand in for the differential of a code it does not list
    fallbacks = [hit for hit in failures if hit.rule.get("fallback")]
    failures = [hit for hit in failures if not hit.rule.get("fallback")]
    if not prior and fallbacks:
        prior = {_cause_of(fallbacks[0]): 1.0}
        failures.append(fallbacks[0])
    clues = [
        (clue, _combined(matches))
        for clue in differential.knowledge().clues
        if (matches := _evaluate(clue.when, subject)) is not None
    ]
    # of two rules naming the same cause with the same strength, the one that read a working run says more
    failures = sorted(failures, key=lambda hit: not _reads_comparison(hit.rule))
    rules = [(_cause_of(hit), hit, _evidence_strength(hit, attempt)) for hit in failures]
    share = final.reading_share if final is not None else 1.0
    candidates = differential.weigh(prior, clues, rules, share)
    findings = []
    for candidate in differential.shown(candidates):
        if candidate.rule is not None:
            finding = candidate.rule.finding
            agreeing = [f"{hit.finding.rule} reaches the same cause: {hit.finding.title}" for hit in candidate.agreeing]
            findings.append(
                finding._replace(
                    confidence=candidate.confidence,
                    clues=tuple(dict.fromkeys([*candidate.clues, *agreeing])),
                    agreeing=tuple(dict.fromkeys(hit.finding.rule for hit in candidate.agreeing)),
                )
            )
        elif candidate.cause in differential.knowledge().causes:
            findings.append(_differential_finding(subject, candidate))
    findings.sort(key=lambda item: -item.confidence)
    return findings


def _evidence_strength(hit: Hit, attempt: AttemptView) -> float:
    """The confidence a rule brings beyond the code itself.

    A rule whose every piece of evidence is the failing value (a thin paste of ``-0x7280`` matches a
    "server closed" rule) tells nothing the code's differential does not already say: it keeps a
    weak vote, so that the prior decides. A rule that rests on other lines keeps its confidence."""
    final = attempt.final
    if final is None:
        return hit.finding.confidence
    own = {item.line for item in attempt.errors if item.value == final.value}
    lines = {line for line, _ in hit.finding.evidence}
    if lines and not lines <= own:
        return hit.finding.confidence
    # a rule that restates the code and also rests on what the log could not show says even less
    return min(hit.finding.confidence, differential.RESTATED * ASSUMPTION_PENALTY ** len(hit.finding.assumptions))


def _reads_comparison(rule: dict[str, Any]) -> bool:
    """Whether a rule's conditions read the difference to a working run (``diff_*`` predicates)."""
    return any(str(name).startswith("diff_") for name in rule.get("when", {}))


def _cause_of(hit: Hit) -> str:
    cause = hit.rule.get("cause")
    return str(cause) if cause else f"rule:{hit.rule['id']}"


def _combined(matches: list[Match]) -> Match:
    combined = Match()
    for match in matches:
        combined.evidence.extend(match.evidence)
        combined.facts.update({key: value for key, value in match.facts.items() if value is not None})
    return combined


def _differential_finding(subject: Subject, candidate: differential.Candidate) -> Finding:
    """A cause of the differential that no rule confirmed: how often it gives this code, and how to tell."""
    cause = differential.knowledge().causes[candidate.cause]
    final = subject.attempt.final
    facts: dict[str, Any] = {"stack": subject.stack}
    evidence: dict[int, str] = {}
    if final is not None:
        name = sorted(final.names)[0] if final.names else final.hex
        facts.update({"error": final.raw, "error_name": name})
        evidence[final.line] = final.quote
    for item in candidate.clue_evidence:
        evidence.setdefault(item.line, item.quote)
    fixes = tuple(
        fix for fix in cause.fixes if load().fix_applies(fix, subject.stack) and fix.applicability != "unsafe"
    )
    return Finding(
        rule=f"TLS-DX-{cause.id}",
        name=cause.id,
        title=cause.title,
        category=cause.category,
        severity="failure",
        confidence=candidate.confidence,
        evidence=tuple(sorted(evidence.items())),
        explanation=fill(cause.explanation, facts),
        fixes=fixes,
        references=cause.sources,
        explains=False,
        cause=cause.id,
        basis="differential",
        clues=tuple(dict.fromkeys([*_prior_clue(subject, candidate), *candidate.clues])),
        confirm=cause.confirm,
        rule_out=cause.rule_out,
        next_steps=(*cause.next_steps, *_wrapper_steps(subject)),
    )


def _wrapper_steps(subject: Subject) -> tuple[str, ...]:
    """What a wrapper's own value says to do whatever the cause: how to see the mbedTLS code it stands in for
    (PubSubClient: WiFiClientSecure::lastError(); HTTPClient: ssl_client's earlier line). A socket layer's value
    is not one: its fixes are about the transport callbacks, which the rule on such values gives."""
    final = subject.attempt.final
    if final is None or final.kind != "wrapper" or not final.interpretations:
        return ()
    fixes = final.interpretations[0].fixes
    return tuple(fix.action for fix in fixes if fix.action and load().fix_applies(fix, subject.stack))


def _prior_clue(subject: Subject, candidate: differential.Candidate) -> list[str]:
    """Why a cause of the differential is there at all: the code, and how often the cause is behind it."""
    final = subject.attempt.final
    if final is None or candidate.prior <= differential.OFF_LIST_PRIOR:
        return []
    name = sorted(final.names)[0] if final.names else final.hex
    share = max(1, round(candidate.prior * 100))
    if differential.tallied(final):
        return [f"{final.raw} is {name}; this cause is behind about {share} % of the public threads that show it"]
    # no thread tally for this value: its priors are those of its kind (a wrapper's own value, a socket error)
    return [f"{final.raw} is {name}; for a value of this kind, this cause has a prior share of about {share} %"]


def _rank(finding: Finding) -> tuple[int, int, float]:
    return (_SEVERITY_ORDER.get(finding.severity, 3), 0 if finding.explains else 1, -finding.confidence)


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if finding.rule in seen:
            continue
        seen.add(finding.rule)
        kept.append(finding)
    return kept


__all__ = ["Diagnosis", "diagnose", "diagnose_attempt", "diagnose_log", "evaluate", "load_rules"]
