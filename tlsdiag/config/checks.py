"""check_config.h, evaluated: which ``#error`` a configuration would hit, and the smallest repair.

A check is violated only when its condition is decided true; a condition that depends on something
unknown is left alone. The repair of a violated check turns on the fewest of the options it names that
make the condition false, or, failing that, turns off the option that needs them; repairs are repeated
until no check is violated, so that a recommended configuration also compiles.
"""

from __future__ import annotations

from collections.abc import Sequence

from tlsdiag.config.data import Check
from tlsdiag.config.effective import Effective
from tlsdiag.config.expr import evaluate
from tlsdiag.config.targets import MacroChange, apply_to_effective

MAX_ROUNDS = 12


def violated(effective: Effective, checks: Sequence[Check]) -> list[Check]:
    return [check for check in checks if evaluate(check.condition, effective) == 1]


def repair(
    check: Check,
    effective: Effective,
    never_enable: Sequence[str],
    finding: str,
    protected: Sequence[str] = (),
    prefer: Sequence[str] = (),
) -> list[MacroChange]:
    """The fewest changes that make ``check`` pass (empty when none is found).

    First every option the check names that is off is turned on (a derived macro through the option
    behind it); if that satisfies the check, options are taken back one by one while it stays satisfied,
    the ``prefer``red ones last (so that of several curves, P-256 stays). Otherwise the option that needs
    the missing ones is turned off, unless the change set asked for it.
    """
    why = f"check_config.h: {check.error}"
    knowledge = effective.knowledge
    candidates: list[str] = []
    for macro in check.macros:
        if effective.defined(macro) is not False:
            continue
        target = knowledge.enable_through.get(macro, macro)
        option = knowledge.options.get(target)
        if option is None or not option.exists_in(effective.series) or option.value.get(effective.series):
            continue
        if target.startswith(tuple(never_enable)) or any(part in target for part in ("_ALT", "TEST_", "_NO_")):
            continue
        if effective.defined(target) is False and target not in candidates:
            candidates.append(target)
    if candidates:
        chosen = list(candidates)
        if evaluate(check.condition, apply_to_effective(effective, _on(chosen, finding, why))) == 0:
            rank = {name: index for index, name in enumerate(prefer)}
            for macro in sorted(candidates, key=lambda name: (name in rank, -rank.get(name, 0))):
                fewer = [name for name in chosen if name != macro]
                if evaluate(check.condition, apply_to_effective(effective, _on(fewer, finding, why))) == 0:
                    chosen = fewer
            return _on(chosen, finding, why)
    for macro in check.macros:
        if macro in protected or effective.defined(macro) is not True:
            continue
        change = MacroChange(macro, "off", finding, why)
        if evaluate(check.condition, apply_to_effective(effective, [change])) == 0:
            return [change]
    return []


def _on(macros: Sequence[str], finding: str, why: str) -> list[MacroChange]:
    return [MacroChange(macro, "on", finding, why) for macro in macros]


def close(
    effective: Effective,
    changes: Sequence[MacroChange],
    checks: Sequence[Check],
    never_enable: Sequence[str],
    check_ids: dict[Check, str] | None = None,
    prefer: Sequence[str] = (),
) -> tuple[list[MacroChange], list[Check]]:
    """``changes`` plus the repairs check_config.h needs after them; the checks still violated at the end."""
    result = list(changes)
    protected = [change.macro for change in changes if change.to == "on"]
    current = apply_to_effective(effective, result)
    for _ in range(MAX_ROUNDS):
        failing = violated(current, checks)
        if not failing:
            return result, []
        progress = False
        for check in failing:
            if evaluate(check.condition, current) != 1:
                continue
            finding = (check_ids or {}).get(check) or next(
                (change.finding for change in result if change.macro in check.macros), "CFG-CHECK"
            )
            changes = repair(check, current, never_enable, finding, protected, prefer)
            if not changes:
                continue
            result.extend(changes)
            current = apply_to_effective(current, changes)
            progress = True
        if not progress:
            break
    return result, violated(current, checks)
