"""The ``config lint`` and ``config recommend`` documents: the configuration, its findings, the change set."""

from __future__ import annotations

from typing import Annotated, Literal

from tlsdiag.documents.base import Omittable, Schema, json_model
from tlsdiag.documents.common import Count, Envelope, FindingJson, LineNumber, NonEmptyText
from tlsdiag.documents.diagnose import ContextJson

ConfigKind = Literal["mbedtls-config", "sdkconfig", "zephyr-kconfig"]
#: the file a change set is written for
Target = Literal["config.h", "sdkconfig", "prj.conf"]
FragmentFormat = Literal["unified-diff", "config.h", "sdkconfig.defaults", "prj.conf"]
# complete: options it does not define are off; defaults: it amends the default configuration;
# platform: what the platform's header does not touch is unknown
ConfigBase = Literal["complete", "defaults", "platform"]
#: what decided the versions a recommendation is for
ScopeBasis = Literal["option", "configuration", "esp-idf-option", "log", "none"]


@json_model
class CodeFactJson:
    """Something the application's code does that bears on the configuration, with the line that shows it."""

    fact: str  # uses_ctr_drbg, verify_optional...
    line: int
    text: str
    source: str  # the file


@json_model
class ConfigSummaryJson:
    """The configuration as read: its kind, its version, and how complete it is."""

    kind: ConfigKind
    path: str | None  # null: no configuration was given, the platform's defaults stand for it
    file_kind: str | None  # config.h, mbedtls_config.h, sdkconfig, sdkconfig.defaults, prj.conf, pasted text
    mbedtls_version: str | None
    mbedtls_series: str | None  # the series its options are read with
    mbedtls_series_candidates: tuple[str, ...]
    esp_idf_version: str | None  # the ESP-IDF release its Kconfig is read with
    esp_idf_tag: str | None
    version_evidence: tuple[str, ...]
    # complete: options it does not define are off; defaults: it amends the default configuration;
    # platform: what the platform's header does not touch is unknown
    base: ConfigBase
    config_lines: tuple[LineNumber, LineNumber] | None  # the first and last line of a configuration pasted in text
    macros_defined: int | None
    macros_undecided: int | None  # macros whose state depends on something the file alone does not decide
    code: tuple[CodeFactJson, ...]
    notes: tuple[str, ...]


@json_model
class LogSummaryJson:
    """The log a recommendation was made from."""

    name: str
    lines: Count
    context: ContextJson


@json_model
class ConfigFindingJson(FindingJson):
    """A finding about the configuration; with several version variants, the ones it applies to."""

    # the labels of the variants it applies to, when not every variant has it
    applies_to: Omittable[Annotated[tuple[NonEmptyText, ...], Schema(minItems=1)]] = ()


@json_model
class ChangeJson:
    """One option to change, in the terms of the target (a macro, or a CONFIG_ symbol), and why."""

    option: NonEmptyText
    from_: str | None  # the current value: on/off for a macro, y/n/a value for a symbol; null when unset
    to: str | None  # null: remove it
    why: NonEmptyText
    finding: NonEmptyText  # the rule of the finding it answers
    macro: str | None  # the mbedTLS macro the change is about, when the option is a Kconfig symbol
    alternatives: tuple[str, ...]
    note: str | None


@json_model
class FragmentJson:
    """The change set as a fragment to apply."""

    target: Target
    format: FragmentFormat
    text: str
    # the header a config.h fragment goes into (config.h, mbedtls_config.h, or the given file's kind); null for
    # sdkconfig and prj.conf
    header: str | None


@json_model
class AfterJson:
    """What a lint of the configuration finds once the changes are applied."""

    failures: Count
    warnings: Count
    findings: tuple[FindingJson, ...]


@json_model
class SuitesJson:
    """The cipher suites the configuration builds."""

    series: str
    built: int
    undecided: int  # suites that depend on options the file alone does not decide
    examples: tuple[str, ...]


@json_model
class BufferJson:
    """A record buffer: its content length and the bytes it takes."""

    content: int | None
    bytes: int | None


@json_model
class ExpansionJson:
    """What a cipher adds to each record buffer."""

    name: str
    bytes: int


@json_model
class BuffersJson:
    """The record buffers, exact as mbedTLS sizes them."""

    in_: BufferJson
    out: BufferJson
    expansion: tuple[ExpansionJson, ...]


@json_model
class AllowanceJson:
    """A share of the handshake's RAM, with what the figure rests on."""

    name: str
    bytes: Count
    basis: NonEmptyText


@json_model
class RamJson:
    """The RAM one TLS connection with this configuration needs: a guide to what dominates, not a measurement."""

    peak_bytes: Annotated[int | None, Schema(minimum=0)]  # during the handshake
    after_handshake_bytes: Annotated[int | None, Schema(minimum=0)]
    buffers: BuffersJson
    allowances: tuple[AllowanceJson, ...]
    basis: Annotated[tuple[str, ...], Schema(minItems=1)]
    notes: tuple[str, ...]


@json_model
class VariantJson:
    """The change set for one set of versions that needs its own."""

    label: NonEmptyText  # mbedTLS 2.7-2.28, or ESP-IDF 4.0-4.4 (mbedTLS 2.16-2.28)
    mbedtls_series: Annotated[tuple[str, ...], Schema(minItems=1)]
    esp_idf_versions: tuple[str, ...]
    esp_idf_tag: str | None
    header: str | None
    findings: tuple[str, ...]  # the rules of its failure and warning findings
    changes: tuple[ChangeJson, ...]
    fragment: FragmentJson
    after: AfterJson | None
    ram: RamJson | None
    ram_after: RamJson | None
    notes: tuple[str, ...]


@json_model
class VersionsJson:
    """Which versions a recommendation is for, how that was decided, and one change set per set of versions."""

    basis: ScopeBasis
    stated: str | None  # what decided, in words: --mbedtls-version 2.28, the configuration (config.h), the log
    log_range: str | None  # the mbedTLS versions the log shows (2.28-3.0)
    candidates: Annotated[tuple[str, ...], Schema(minItems=1)]
    depends_on_version: bool  # the change set differs between the candidates
    summary: str | None
    reasons: tuple[NonEmptyText, ...]  # why the variants differ
    variants: Annotated[tuple[VariantJson, ...], Schema(minItems=1)]


@json_model
class LintDocument(Envelope):
    """``tlsdiag config lint --format json``: what is wrong with one configuration, and what it costs in RAM."""

    command: Literal["lint"]
    config: ConfigSummaryJson
    target: Target
    log: None
    findings: tuple[FindingJson, ...]
    changes: tuple[ChangeJson, ...]
    fragment: None
    after: None
    suites: SuitesJson
    ram: RamJson | None
    ram_after: None
    notes: tuple[str, ...]


@json_model
class RecommendDocument(Envelope):
    """``tlsdiag config recommend --format json``: the change set to apply, and what it fixes."""

    command: Literal["recommend"]
    config: ConfigSummaryJson
    target: Target
    log: LogSummaryJson | None
    findings: tuple[ConfigFindingJson, ...]
    changes: tuple[ChangeJson, ...]
    fragment: FragmentJson
    after: AfterJson | None
    suites: SuitesJson | None
    ram: RamJson | None
    ram_after: RamJson | None
    notes: tuple[str, ...]
    versions: VersionsJson | None
