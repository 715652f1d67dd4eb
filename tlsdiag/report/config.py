"""The config lint / recommend report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from typing import Any

from tlsdiag.config.fragment import Fragment
from tlsdiag.config.lint import LintResult
from tlsdiag.config.model import Config
from tlsdiag.config.plan import Plan
from tlsdiag.config.ram import Estimate
from tlsdiag.config.recommend import Recommendation
from tlsdiag.config.targets import target_for_kind
from tlsdiag.config.variants import label, series_of
from tlsdiag.config.version_scope import span
from tlsdiag.model import Finding
from tlsdiag.report import Format, envelope, render, to_json

SUITE_EXAMPLES = 6


def _config_json(config: Config | None, target: str, series: str | None, esp_idf: str | None) -> dict[str, Any]:
    if config is None:
        kind = {"config.h": "mbedtls-config", "sdkconfig": "sdkconfig", "prj.conf": "zephyr-kconfig"}[target]
        return {
            "kind": kind,
            "path": None,
            "file_kind": None,
            "mbedtls_version": series,
            "mbedtls_series": series,
            "mbedtls_series_candidates": [series] if series else [],
            "esp_idf_version": esp_idf,
            "esp_idf_tag": None,
            "version_evidence": [],
            "base": "defaults",
            "config_lines": None,
            "macros_defined": None,
            "macros_undecided": None,
            "code": [],
            "notes": ["no configuration was given: the platform's defaults stand for it"],
        }
    defined = sum(1 for setting in config.settings.values() if setting.state == "on")
    return {
        "kind": config.kind,
        "path": config.path,
        "file_kind": config.file_kind,
        "mbedtls_version": config.mbedtls_version,
        "mbedtls_series": config.series,
        "mbedtls_series_candidates": list(config.series_candidates),
        "esp_idf_version": config.esp_idf_version,
        "esp_idf_tag": config.esp_idf_tag,
        "version_evidence": list(config.version_evidence),
        "base": config.base,
        "config_lines": list(config.block) if config.block else None,
        "macros_defined": defined,
        "macros_undecided": sum(1 for setting in config.settings.values() if setting.state == "maybe"),
        "code": [
            {"fact": fact.name, "line": fact.line, "text": fact.text, "source": fact.source}
            for fact in config.code.values()
        ],
        "notes": list(config.notes),
    }


def _suites_json(result: LintResult) -> dict[str, Any]:
    return {
        "series": result.effective.series,
        "built": len(result.built),
        "undecided": len(result.maybe_built),
        "examples": [suite.name for suite in result.built[:SUITE_EXAMPLES]],
    }


def _ram_json(estimate: Estimate | None) -> dict[str, Any] | None:
    return None if estimate is None else estimate.to_json()


def lint_document(result: LintResult) -> dict[str, Any]:
    config = result.config
    return envelope(
        command="lint",
        config=_config_json(config, "config.h", result.effective.series, config.esp_idf_version),
        target=target_for_kind(config.kind),
        log=None,
        findings=[finding.to_json() for finding in result.findings],
        changes=[change.to_json() for change in result.changes],
        fragment=None,
        after=None,
        suites=_suites_json(result),
        ram=_ram_json(result.estimate),
        ram_after=None,
        notes=list(result.notes),
    )


def recommend_document(result: Recommendation) -> dict[str, Any]:
    config = _config_json(result.config, result.target, result.series, result.esp_idf_version)
    if result.config is None and result.scope is not None:  # the versions settled, not one assumed
        config["mbedtls_version"] = _range(result.scope.series, result.scope.basis)
        config["mbedtls_series_candidates"] = list(result.scope.series)
    return envelope(
        command="recommend",
        config=config,
        target=result.target,
        log=result.log,
        findings=[_finding_json(finding, result.applies_to) for finding in result.findings],
        changes=[change.to_json() for change in result.changes],
        fragment=_fragment_json(result.fragment, result.variants[0].header if len(result.variants) == 1 else None),
        after=_after_json(result.after),
        suites=None if result.lint is None else _suites_json(result.lint),
        ram=_ram_json(result.before_estimate),
        ram_after=_ram_json(result.after_estimate),
        notes=list(result.notes),
        versions=_versions_json(result),
    )


def _finding_json(finding: Finding, applies_to: dict[str, list[str]]) -> dict[str, Any]:
    data = finding.to_json()
    if finding.rule in applies_to:
        data["applies_to"] = list(applies_to[finding.rule])
    return data


def _fragment_json(fragment: Fragment, header: str | None) -> dict[str, Any]:
    return {"target": fragment.target, "format": fragment.format, "text": fragment.text, "header": header}


def _after_json(after: LintResult | None) -> dict[str, Any] | None:
    if after is None:
        return None
    return {
        "failures": sum(1 for finding in after.findings if finding.severity == "failure"),
        "warnings": sum(1 for finding in after.findings if finding.severity == "warning"),
        "findings": [finding.to_json() for finding in after.findings],
    }


def _range(series: tuple[str, ...], basis: str) -> str | None:
    """The versions a recommendation was for, as diagnose labels them; None when nothing said which."""
    if basis == "none" and len(series) > 1:
        return None
    return span(series)


def _versions_json(result: Recommendation) -> dict[str, Any] | None:
    """Which versions the recommendation is for, how that was decided, and one change set per variant."""
    scope = result.scope
    if scope is None:
        return None
    return {
        "basis": scope.basis,
        "stated": scope.stated,
        "log_range": scope.log_range,
        "candidates": list(scope.series),
        "depends_on_version": result.split,
        "summary": result.summary,
        "reasons": list(result.reasons),
        "variants": [_variant_json(plan) for plan in result.variants],
    }


def _variant_json(plan: Plan) -> dict[str, Any]:
    release = plan.points[-1].release
    esp_idf = [minor for point in plan.points for minor in point.esp_idf]
    return {
        "label": label(plan),
        "mbedtls_series": series_of(plan),
        "esp_idf_versions": list(dict.fromkeys(esp_idf)),
        "esp_idf_tag": release.tag if release is not None else None,
        "header": plan.header,
        "findings": [finding.rule for finding in plan.findings if finding.severity != "info"],
        "changes": [change.to_json() for change in plan.changes],
        "fragment": _fragment_json(plan.fragment, plan.header),
        "after": _after_json(plan.after),
        "ram": _ram_json(plan.before_estimate),
        "ram_after": _ram_json(plan.after_estimate),
        "notes": list(plan.notes),
    }


_TEMPLATES = {Format.text: "config.txt.j2", Format.markdown: "config.md.j2", Format.html: "config.html.j2"}


def render_lint(result: LintResult, fmt: Format, color: bool = False) -> str:
    document = lint_document(result)
    if fmt is Format.json:
        return to_json(document)
    return render(_TEMPLATES[fmt], color=color, doc=document, findings=result.findings)


def render_recommend(result: Recommendation, fmt: Format, color: bool = False) -> str:
    document = recommend_document(result)
    if fmt is Format.json:
        return to_json(document)
    return render(_TEMPLATES[fmt], color=color, doc=document, findings=result.findings, applies_to=result.applies_to)
