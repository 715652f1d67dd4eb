"""When the recommendation depends on the version: plans that agree are merged, and the differences named.

The plans of consecutive versions that come out the same (the same findings, fragment and header)
become one variant labelled with every version it is for, so a log whose version is a range gets one
answer where the range makes no difference, and one labelled fragment per side where it does. What
makes the sides differ is said in words a user can check: the failing code's meaning per version,
the header the options live in, the options to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tlsdiag.config.plan import Plan
from tlsdiag.config.version_scope import span
from tlsdiag.versions import VersionSelection, series_key


def merge(plans: Sequence[Plan], failing: tuple[str, int] | None) -> list[Plan]:
    """Consecutive plans with the same outcome as one plan (the newest version's) standing for all of them."""
    merged: list[Plan] = []
    for plan in plans:
        if merged and outcome(merged[-1], failing) == outcome(plan, failing):
            merged[-1] = replace(plan, points=[*merged[-1].points, *plan.points])
        else:
            merged.append(plan)
    return merged


def outcome(plan: Plan, failing: tuple[str, int] | None) -> tuple[object, ...]:
    """What a user applies, and what the failing code means: the fragment, its header, the code's names.

    Findings that differ alone do not split a recommendation (they are labelled with their versions
    instead); a code whose meaning differs does, even when neither side has a change to make.
    """
    header = plan.header if plan.fragment.text else None  # an empty fragment goes into no header
    meaning = tuple(name for name, _ in _readings(failing, series_of(plan))) if failing else ()
    return header, plan.fragment.text, meaning


def applies_to(plans: Sequence[Plan]) -> dict[str, list[str]]:
    """Rule -> the versions it holds for, for the findings that hold for some of the plans only."""
    rules = list(dict.fromkeys(finding.rule for plan in plans for finding in plan.findings))
    found: dict[str, list[str]] = {}
    for rule in rules:
        holds = [plan for plan in plans if any(finding.rule == rule for finding in plan.findings)]
        if len(holds) < len(plans):
            found[rule] = labels_of(holds, plans)
    return found


def labels_of(chosen: Sequence[Plan], ordered: Sequence[Plan]) -> list[str]:
    """Labels for ``chosen`` out of ``ordered``, neighbours joined into one range (2.7 and 2.16-2.28: 2.7-2.28)."""
    runs: list[list[Plan]] = []
    previous = -2
    for index, plan in enumerate(ordered):
        if not any(plan is item for item in chosen):
            continue
        if index == previous + 1 and runs:
            runs[-1].append(plan)
        else:
            runs.append([plan])
        previous = index
    return [label(replace(run[-1], points=[point for item in run for point in item.points])) for run in runs]


def label(plan: Plan) -> str:
    """``mbedTLS 2.7-2.28``, or for ESP-IDF builds ``ESP-IDF 4.0-4.4 (mbedTLS 2.16-2.28)``."""
    mbedtls = f"mbedTLS {span(series_of(plan))}"
    minors = [minor for point in plan.points for minor in point.esp_idf]
    if not minors:
        return mbedtls
    ordered = sorted(dict.fromkeys(minors), key=series_key)
    return f"ESP-IDF {span(ordered)} ({mbedtls})"


def series_of(plan: Plan) -> list[str]:
    found = {series for point in plan.points for series in point.series}
    return sorted(found, key=series_key)


def reasons(variants: Sequence[Plan], failing: tuple[str, int] | None) -> list[str]:
    """Why the variants differ, each reason naming the versions on each side."""
    found: list[str] = []
    if failing is not None:
        meaning = _code_meaning(failing, [series for plan in variants for series in series_of(plan)])
        if meaning:
            found.append(meaning)
    headers = _by_value([(plan.header, plan) for plan in variants if plan.header])
    if len(headers) > 1 and any(plan.changes for plan in variants):
        found.append(
            "the options live in "
            + _join([f"{header} in {_versions(plans, variants)}" for header, plans in headers.items()])
        )
    options = _by_value([(", ".join(change.option for change in plan.changes) or "nothing", plan) for plan in variants])
    if len(options) > 1:
        sides = [f"{text} for {_versions(plans, variants)}" for text, plans in options.items()]
        found.append("what to change: " + "; ".join(sides))
    if not found:
        found.append("the findings that apply differ between these versions")
    return found


def _code_meaning(failing: tuple[str, int], series: list[str]) -> str | None:
    """``-0x7500 is MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE in mbedTLS 2.7-2.28 and ... in 3.0-3.6``."""
    readings = _readings(failing, series)
    if len({name for name, _ in readings}) < 2:
        return None
    sides = [f"{name or 'no mbedTLS error'} in mbedTLS {span(list(versions))}" for name, versions in readings]
    return f"the failing code {failing[0]} is " + _join(sides)


def _readings(failing: tuple[str, int] | None, series: list[str]) -> list[tuple[str | None, tuple[str, ...]]]:
    """The name the failing code has in each of these series (None where no table defines it), grouped."""
    if failing is None or not series:
        return []
    from tlsdiag.codes import Scope, decode_value

    ordered = tuple(sorted(set(series), key=series_key))
    decoded = decode_value(failing[1], Scope(VersionSelection(None, ordered)))
    names: dict[str, str | None] = dict.fromkeys(ordered)
    for item in decoded.interpretations:
        if item.kind in ("mbedtls", "psa") and item.complete:
            for version in item.versions:
                if version in names and names[version] is None:
                    names[version] = " + ".join(part.name or part.hex for part in item.parts)
    grouped: list[tuple[str | None, tuple[str, ...]]] = []
    for version, name in names.items():
        if grouped and grouped[-1][0] == name:
            grouped[-1] = (name, (*grouped[-1][1], version))
        else:
            grouped.append((name, (version,)))
    return grouped


def _by_value(items: Sequence[tuple[str, Plan]]) -> dict[str, list[Plan]]:
    grouped: dict[str, list[Plan]] = {}
    for value, plan in items:
        grouped.setdefault(value, []).append(plan)
    return grouped


def _versions(plans: Sequence[Plan], ordered: Sequence[Plan]) -> str:
    return " and ".join(labels_of(plans, ordered))


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
