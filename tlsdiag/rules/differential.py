"""Ranking the causes of one failed attempt: how often each produces the code, moved by what the log shows.

A maintainer answering a paste starts from the error code: ``-0x2700`` is most often a missing trust
anchor, then a clock that is not set, then a host name, then memory. What else the paste shows moves
that ranking: a verify flag settles it, an IP address where a host name belongs or a 1970 date makes
one cause likelier, and a rule that explains the failure outright outweighs any prior. This module
does that arithmetic, in odds:

* the **prior** of each cause is its share among the causes that produce the code
  (``knowledge/diagnosis/differential.toml``); with no code, its share of all threads
  (``causes.toml``'s ``frequency``); a code no entry lists stands for itself (its own category);
* each **clue** that holds multiplies the causes it favours (``clues.toml``);
* each **rule** that fires for a cause multiplies it by the likelihood ratio that, on its own, would
  leave the cause at the rule's confidence (a rule at 0.9 says its cause is right nine times in ten
  when its conditions hold); the rule's confidence has already been lowered for every assumption it
  made and for a weak code reading, and a rule that rests on nothing but the failing value keeps a
  weak vote;
* the **confidence** of a cause is its share of the total, with room left for causes nobody listed
  and for the chance that the code was read wrongly.

The result is documented arithmetic rather than a constant: the same failure with less evidence in
the log gets a lower confidence (tests/test_confidence.py holds pairs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tlsdiag.analysis.views import AttemptView, PrintedValue
from tlsdiag.model import Fix

#: weight kept for causes the differential does not list, relative to the listed ones (total 1): more when
#: the log shows nothing but the code, since a code alone misleads often enough (a verify failure that
#: is really memory, an EOF that is really the heap)
UNLISTED = 0.1
UNLISTED_CODE_ONLY = 0.3
#: a listed cause needs at least this share to be shown as a candidate
SHOWN_SHARE = 0.04
MAX_CANDIDATES = 6
MAX_CANDIDATES_FLAT = 12
FLAT = 0.3  # a top share below this: no cause stands out
#: prior of a cause a rule names that the code's differential does not list
OFF_LIST_PRIOR = 0.03
MAX_CONFIDENCE = 0.99
#: a rule's vote when it only restates the failing value (see tlsdiag.rules._evidence_strength)
RESTATED = 0.3


@dataclass(frozen=True, slots=True)
class Cause:
    id: str
    category: str
    frequency: float
    title: str
    explanation: str
    confirm: tuple[str, ...]
    rule_out: tuple[str, ...]
    next_steps: tuple[str, ...]
    fixes: tuple[Fix, ...]
    fix_stacks: tuple[tuple[str, ...], ...]  # per fix: the stacks it is for (empty: every stack)
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Clue:
    id: str
    why: str
    when: tuple[tuple[str, Any], ...]
    favours: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Knowledge:
    causes: dict[str, Cause]
    # code name -> (cause, weight, stacks, mbedTLS series): an entry holds only on those stacks and series
    # (on all of them when empty)
    by_name: dict[str, tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...]]
    by_kind: dict[str, tuple[tuple[str, float], ...]]
    clues: tuple[Clue, ...]
    verify_failure_names: frozenset[str]
    verify_failure_context: frozenset[str]
    verify_failure_messages: frozenset[str]


@dataclass
class Candidate:
    """One cause being weighed: its prior, what moved it, and where it ended up."""

    cause: str
    prior: float
    weight: float = 0.0
    clues: list[str] = field(default_factory=list)  # why-texts of the clues that moved it
    clue_evidence: list[Any] = field(default_factory=list)
    rule: Any = None  # the strongest rule hit naming this cause
    agreeing: list[Any] = field(default_factory=list)  # the other rule hits naming it
    confidence: float = 0.0


@cache
def knowledge() -> Knowledge:
    from tlsdiag.knowledge import document, fixes_from

    data = document("diagnosis/causes.toml")
    causes = {}
    for entry in data["cause"]:
        fixes = entry.get("fixes", ())
        causes[entry["id"]] = Cause(
            id=entry["id"],
            category=entry["category"],
            frequency=float(entry["frequency"]),
            title=entry["title"],
            explanation=entry["explanation"],
            confirm=tuple(entry.get("confirm", ())),
            rule_out=tuple(entry.get("rule_out", ())),
            next_steps=tuple(entry.get("next_steps", ())),
            fixes=fixes_from(fixes),
            fix_stacks=tuple(tuple(fix.get("stacks", ())) for fix in fixes),
            sources=tuple(entry.get("sources", ())),
        )
    differential = document("diagnosis/differential.toml")
    by_name: dict[str, list[tuple[str, float, tuple[str, ...], tuple[str, ...]]]] = {}
    for entry in differential.get("code", ()):
        for name in entry["names"]:
            for item in entry["causes"]:
                by_name.setdefault(name, []).append(
                    (item["cause"], float(item["weight"]), tuple(item.get("stacks", ())), tuple(item.get("series", ())))
                )
    by_kind = {
        entry["kind"]: tuple((item["cause"], float(item["weight"])) for item in entry["causes"])
        for entry in differential.get("kind", ())
    }
    clues = tuple(
        Clue(
            id=entry["id"],
            why=entry["why"],
            when=tuple(entry["when"].items()),
            favours=tuple((cause, float(factor)) for cause, factor in entry["favours"].items()),
        )
        for entry in document("diagnosis/clues.toml")["clue"]
    )
    for cause_id in [c for entries in by_name.values() for c, *_ in entries] + [
        c for clue in clues for c, _ in clue.favours
    ]:
        if cause_id not in causes:
            raise ValueError(f"knowledge/diagnosis: unknown cause {cause_id!r}")
    return Knowledge(
        causes,
        {name: tuple(items) for name, items in by_name.items()},
        by_kind,
        clues,
        frozenset(differential.get("verify_failure_names", ())),
        frozenset(differential.get("verify_failure_context", ())),
        frozenset(differential.get("verify_failure_messages", ())),
    )


def tallied(final: PrintedValue) -> bool:
    """Whether the priors of ``final`` come from the thread tallies of its own code (else from its kind's)."""
    return any(name in knowledge().by_name for name in final.names)


def verification_failed(attempt: AttemptView) -> bool:
    """The attempt shows a failed certificate verification without a code: its flags, or a wrapper's words."""
    table = knowledge()
    return (
        bool(attempt.verify_flags)
        or any(item.kind in table.verify_failure_context for item in attempt.context)
        or any(item.id in table.verify_failure_messages for item in attempt.library_messages)
    )


def priors(
    final: PrintedValue | None, stack: str, verify_failed: bool = False, series: tuple[str, ...] = ()
) -> dict[str, float]:
    """Each candidate cause's prior share, from the code the attempt failed with (or from all threads).

    A failed verification whose flags are printed without a code stands for the code it makes the
    handshake return (``verify_failure_names``)."""
    table = knowledge()
    weights: dict[str, float] = {}
    names = final.names if final is not None else (table.verify_failure_names if verify_failed else frozenset())
    if names:
        for name in names:
            for cause, weight, stacks, versions in table.by_name.get(name, ()):
                if (not stacks or stack in stacks) and (not versions or not series or set(versions) & set(series)):
                    weights[cause] = max(weights.get(cause, 0.0), weight)
        if not weights and final is not None:
            for cause, weight in table.by_kind.get(final.kind, ()):
                weights[cause] = weight
    elif final is not None:
        for cause, weight in table.by_kind.get(final.kind, ()):
            weights[cause] = weight
    else:
        weights = {cause.id: cause.frequency for cause in table.causes.values()}
    total = sum(weights.values())
    return {cause: weight / total for cause, weight in weights.items()} if total else {}


def likelihood(confidence: float, prior: float, rest: float) -> float:
    """How much likelier a rule at ``confidence`` makes its cause, whose prior share is ``prior``.

    A rule's confidence is how often its cause is right when its conditions hold, so on its own it
    should leave its cause at that confidence whatever the prior: the ratio that does so is
    ``c (1 - p + rest) / ((1 - c) p)``. A rule never makes its own cause less likely."""
    confidence = min(confidence, MAX_CONFIDENCE)
    prior = max(prior, 1e-6)
    return max(1.0, confidence * (1.0 - prior + rest) / ((1.0 - confidence) * prior))


def weigh(
    prior: dict[str, float],
    clues: Iterable[tuple[Clue, Any]],
    rules: Iterable[tuple[str, Any, float]],
    reading_share: float = 1.0,
) -> list[Candidate]:
    """Candidates with their final confidence, likeliest first.

    ``clues`` are the clues that hold, with their match; ``rules`` are (cause, hit, confidence) of the
    failure rules that fired. ``reading_share`` is how sure the code's reading is: what it lacks goes
    to the unlisted rest, as the code may mean something else.
    """
    clues = list(clues)
    candidates = {cause: Candidate(cause, share) for cause, share in prior.items()}
    for clue, match in clues:
        for cause, _ in clue.favours:
            if cause in candidates:
                candidates[cause].clues.append(_fill(clue.why, match.facts))
                candidates[cause].clue_evidence.extend(match.evidence)
    factors: dict[str, float] = {}
    for clue, _ in clues:
        for cause, factor in clue.favours:
            factors[cause] = factors.get(cause, 1.0) * factor
    independent = bool(clues) or any(confidence > RESTATED for _, _, confidence in rules)
    rest = (UNLISTED if independent else UNLISTED_CODE_ONLY) + (1.0 - reading_share)
    strength: dict[str, float] = {}
    for cause, hit, confidence in rules:
        if cause not in candidates:
            candidates[cause] = Candidate(cause, OFF_LIST_PRIOR)
        ratio = likelihood(confidence, candidates[cause].prior, rest)
        candidate = candidates[cause]
        if ratio > strength.get(cause, 0.0):
            strength[cause] = ratio
            if candidate.rule is not None:
                candidate.agreeing.append(candidate.rule)
            candidate.rule = hit
        else:
            candidate.agreeing.append(hit)
    for candidate in candidates.values():
        candidate.weight = candidate.prior * factors.get(candidate.cause, 1.0) * strength.get(candidate.cause, 1.0)
    total = sum(candidate.weight for candidate in candidates.values()) + rest
    for candidate in candidates.values():
        candidate.confidence = min(MAX_CONFIDENCE, candidate.weight / total) if total else 0.0
    # equal shares: a cause a rule found evidence for first, then the one that comes up more often in public threads
    causes = knowledge().causes
    return sorted(
        candidates.values(),
        key=lambda item: (
            -round(item.confidence, 6),
            item.rule is None,
            -(causes[item.cause].frequency if item.cause in causes else 0.0),
        ),
    )


def _fill(text: str, facts: dict[str, Any]) -> str:
    from tlsdiag.rules.texts import fill

    return fill(text, facts)


def shown(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates worth a finding: the likeliest, and the others with a real share (more of them when the
    evidence is flat and no cause stands out)."""
    kept = [item for item in candidates if item.rule is not None or item.confidence >= SHOWN_SHARE]
    flat = bool(candidates) and candidates[0].confidence < FLAT
    limit = MAX_CANDIDATES_FLAT if flat else MAX_CANDIDATES
    return kept[:limit] if kept else candidates[:1]
