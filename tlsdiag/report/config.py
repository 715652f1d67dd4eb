"""The config lint / recommend report: the contract's JSON document, and the text/markdown/html views of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from tlsdiag.config.fragment import Fragment
from tlsdiag.config.lint import LintResult
from tlsdiag.config.model import Config
from tlsdiag.config.plan import Plan
from tlsdiag.config.ram import Estimate
from tlsdiag.config.recommend import Recommendation
from tlsdiag.config.targets import target_for_kind
from tlsdiag.config.variants import label, series_of
from tlsdiag.config.version_scope import span
from tlsdiag.documents.base import JsonValue, plain_object
from tlsdiag.model import Finding
from tlsdiag.report import Format, render, template_document, to_json

if TYPE_CHECKING:
    from tlsdiag.documents.config import (
        AfterJson,
        ConfigFindingJson,
        ConfigSummaryJson,
        FragmentJson,
        LintDocument,
        RamJson,
        RecommendDocument,
        SuitesJson,
        VariantJson,
        VersionsJson,
    )

SUITE_EXAMPLES = 6
#: the kind of configuration each target stands for when no configuration was given
_KIND_OF_TARGET = {"config.h": "mbedtls-config", "sdkconfig": "sdkconfig", "prj.conf": "zephyr-kconfig"}


def _config_json(config: Config | None, target: str, series: str | None, esp_idf: str | None) -> ConfigSummaryJson:
    from tlsdiag.documents import config as documents

    if config is None:
        return documents.ConfigSummaryJson(
            kind=cast(documents.ConfigKind, _KIND_OF_TARGET[target]),
            path=None,
            file_kind=None,
            mbedtls_version=series,
            mbedtls_series=series,
            mbedtls_series_candidates=(series,) if series else (),
            esp_idf_version=esp_idf,
            esp_idf_tag=None,
            version_evidence=(),
            base="defaults",
            config_lines=None,
            macros_defined=None,
            macros_undecided=None,
            code=(),
            notes=("no configuration was given: the platform's defaults stand for it",),
        )
    states = [setting.state for setting in config.settings.values()]
    return documents.ConfigSummaryJson(
        kind=cast(documents.ConfigKind, config.kind),
        path=config.path,
        file_kind=config.file_kind,
        mbedtls_version=config.mbedtls_version,
        mbedtls_series=config.series,
        mbedtls_series_candidates=tuple(config.series_candidates),
        esp_idf_version=config.esp_idf_version,
        esp_idf_tag=config.esp_idf_tag,
        version_evidence=tuple(config.version_evidence),
        base=cast(documents.ConfigBase, config.base),
        config_lines=config.block or None,
        macros_defined=states.count("on"),
        macros_undecided=states.count("maybe"),
        code=tuple(
            documents.CodeFactJson(fact=fact.name, line=fact.line, text=fact.text, source=fact.source)
            for fact in config.code.values()
        ),
        notes=tuple(config.notes),
    )


def _suites_json(result: LintResult) -> SuitesJson:
    from tlsdiag.documents.config import SuitesJson

    return SuitesJson(
        series=result.effective.series,
        built=len(result.built),
        undecided=len(result.maybe_built),
        examples=tuple(suite.name for suite in result.built[:SUITE_EXAMPLES]),
    )


def _ram_json(estimate: Estimate | None) -> RamJson | None:
    return None if estimate is None else estimate.to_json()


def lint_model(result: LintResult) -> LintDocument:
    """The document of a configuration's lint."""
    from tlsdiag.documents import config as documents

    config = result.config
    return documents.LintDocument(
        command="lint",
        config=_config_json(config, "config.h", result.effective.series, config.esp_idf_version),
        target=cast(documents.Target, target_for_kind(config.kind)),
        log=None,
        findings=tuple(finding.to_json() for finding in result.findings),
        changes=tuple(change.to_json() for change in result.changes),
        fragment=None,
        after=None,
        suites=_suites_json(result),
        ram=_ram_json(result.estimate),
        ram_after=None,
        notes=tuple(result.notes),
    )


def lint_document(result: LintResult) -> dict[str, JsonValue]:
    """The JSON document of a configuration's lint, as plain values."""
    return plain_object(lint_model(result))


def recommend_model(result: Recommendation) -> RecommendDocument:
    """The document of a recommendation."""
    from dataclasses import replace

    from tlsdiag.documents import config as documents

    config = _config_json(result.config, result.target, result.series, result.esp_idf_version)
    if result.config is None and result.scope is not None:  # the versions settled, not one assumed
        config = replace(
            config,
            mbedtls_version=_range(result.scope.series, result.scope.basis),
            mbedtls_series_candidates=tuple(result.scope.series),
        )
    return documents.RecommendDocument(
        command="recommend",
        config=config,
        target=cast(documents.Target, result.target),
        log=result.log,
        findings=tuple(_finding_json(finding, result.applies_to) for finding in result.findings),
        changes=tuple(change.to_json() for change in result.changes),
        fragment=_fragment_json(result.fragment, result.variants[0].header if len(result.variants) == 1 else None),
        after=_after_json(result.after),
        suites=None if result.lint is None else _suites_json(result.lint),
        ram=_ram_json(result.before_estimate),
        ram_after=_ram_json(result.after_estimate),
        notes=tuple(result.notes),
        versions=_versions_json(result),
    )


def recommend_document(result: Recommendation) -> dict[str, JsonValue]:
    """The JSON document of a recommendation, as plain values."""
    return plain_object(recommend_model(result))


def _finding_json(finding: Finding, applies_to: dict[str, list[str]]) -> ConfigFindingJson:
    from tlsdiag.documents.base import extended
    from tlsdiag.documents.config import ConfigFindingJson

    return extended(finding.to_json(), ConfigFindingJson, applies_to=tuple(applies_to.get(finding.rule, ())))


def _fragment_json(fragment: Fragment, header: str | None) -> FragmentJson:
    from tlsdiag.documents import config as documents

    return documents.FragmentJson(
        target=cast(documents.Target, fragment.target),
        format=cast(documents.FragmentFormat, fragment.format),
        text=fragment.text,
        header=header,
    )


def _after_json(after: LintResult | None) -> AfterJson | None:
    if after is None:
        return None
    from tlsdiag.documents.config import AfterJson

    severities = [finding.severity for finding in after.findings]
    return AfterJson(
        failures=severities.count("failure"),
        warnings=severities.count("warning"),
        findings=tuple(finding.to_json() for finding in after.findings),
    )


def _range(series: tuple[str, ...], basis: str) -> str | None:
    """The versions a recommendation was for, as diagnose labels them; None when nothing said which."""
    if basis == "none" and len(series) > 1:
        return None
    return span(series)


def _versions_json(result: Recommendation) -> VersionsJson | None:
    """Which versions the recommendation is for, how that was decided, and one change set per variant."""
    scope = result.scope
    if scope is None:
        return None
    from tlsdiag.documents import config as documents

    return documents.VersionsJson(
        basis=cast(documents.ScopeBasis, scope.basis),
        stated=scope.stated,
        log_range=scope.log_range,
        candidates=tuple(scope.series),
        depends_on_version=result.split,
        summary=result.summary,
        reasons=tuple(result.reasons),
        variants=tuple(_variant_json(plan) for plan in result.variants),
    )


def _variant_json(plan: Plan) -> VariantJson:
    from tlsdiag.documents.config import VariantJson

    release = plan.points[-1].release
    esp_idf = [minor for point in plan.points for minor in point.esp_idf]
    return VariantJson(
        label=label(plan),
        mbedtls_series=tuple(series_of(plan)),
        esp_idf_versions=tuple(dict.fromkeys(esp_idf)),
        esp_idf_tag=release.tag if release is not None else None,
        header=plan.header,
        findings=tuple(finding.rule for finding in plan.findings if finding.severity != "info"),
        changes=tuple(change.to_json() for change in plan.changes),
        fragment=_fragment_json(plan.fragment, plan.header),
        after=_after_json(plan.after),
        ram=_ram_json(plan.before_estimate),
        ram_after=_ram_json(plan.after_estimate),
        notes=tuple(plan.notes),
    )


_TEMPLATES = {Format.text: "config.txt.j2", Format.markdown: "config.md.j2", Format.html: "config.html.j2"}


def render_lint(result: LintResult, fmt: Format, color: bool = False) -> str:
    document = lint_model(result)
    if fmt is Format.json:
        return to_json(document)
    return render(_TEMPLATES[fmt], color=color, doc=template_document(document), findings=result.findings)


def render_recommend(result: Recommendation, fmt: Format, color: bool = False) -> str:
    document = recommend_model(result)
    if fmt is Format.json:
        return to_json(document)
    return render(
        _TEMPLATES[fmt],
        color=color,
        doc=template_document(document),
        findings=result.findings,
        applies_to=result.applies_to,
    )
