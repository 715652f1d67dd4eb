"""What the readers produce: the settings of one configuration, resolved to mbedTLS macros.

Every reader (a config.h, an sdkconfig, a Zephyr prj.conf) ends in the same shape: the mbedTLS macros
the build will see, each with its state, its value, and the line of the user's file it comes from. The
linter and the recommender work on that shape only, so a rule is written once for all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tlsdiag.documents.config import ChangeJson


class Setting(NamedTuple):
    """The state of one macro: ``on`` (defined), ``off`` (undefined), ``maybe`` (depends on something unknown)."""

    name: str
    state: str
    value: str | None = None
    line: int | None = None  # line of the user's file that decides it (None: a default)
    text: str = ""  # that line as written
    origin: str = ""  # the option that set it (CONFIG_X for Kconfig-driven builds), or the file


class Assignment(NamedTuple):
    """One ``CONFIG_X=value`` line (or ``# CONFIG_X is not set``) of an sdkconfig or prj.conf."""

    name: str
    value: str  # y, n, a number or a string as written (without quotes)
    line: int
    text: str


class Issue(NamedTuple):
    """Something a reader noticed that becomes a finding: a message id of lint.toml and its facts."""

    message: str
    facts: dict[str, Any]
    line: int | None = None
    text: str = ""


class CodeFact(NamedTuple):
    """Something the code we can see does (``uses_ctr_drbg``), with the first line that shows it."""

    name: str
    line: int
    text: str
    source: str


@dataclass
class Config:
    """One configuration as read: its kind, its version, and the mbedTLS macros it produces."""

    kind: str  # mbedtls-config | sdkconfig | zephyr-kconfig
    path: str
    file_kind: str  # config.h | mbedtls_config.h | sdkconfig | sdkconfig.defaults | prj.conf | pasted text
    lines: list[str]  # the file's lines as read (without line ends), for patches and evidence
    settings: dict[str, Setting]
    # complete: options it does not define are off; defaults: it amends the default config; platform: what
    # the platform's header does not touch is unknown
    base: str = "complete"
    series: str | None = None  # the mbedTLS series its options are read with
    series_candidates: tuple[str, ...] = ()
    version_evidence: list[str] = field(default_factory=list)
    mbedtls_version: str | None = None  # as given or inferred, for the report
    esp_idf_version: str | None = None  # ESP-IDF release the Kconfig is read with (4.0)
    esp_idf_tag: str | None = None  # v4.0.4
    assignments: dict[str, Assignment] = field(default_factory=dict)  # as written in the file
    symbols: dict[str, str] = field(default_factory=dict)  # Kconfig symbols after resolution: CONFIG_X -> y/n/value
    commented: dict[str, int] = field(default_factory=dict)  # //#define MBEDTLS_X lines: name -> line
    includes_check_config: bool = False
    block: tuple[int, int] | None = None  # 1-based first and last line of the configuration in a pasted text
    code: dict[str, CodeFact] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conditional: int = 0  # options whose #if this file alone does not decide
    platform_macros: frozenset[str] = frozenset()  # macros the platform's header sets (base "platform")

    def setting_line(self, name: str) -> tuple[int, str] | None:
        setting = self.settings.get(name)
        if setting is not None and setting.line is not None:
            return setting.line, setting.text
        if name in self.commented:
            number = self.commented[name]
            return number, self.lines[number - 1].strip() if 0 < number <= len(self.lines) else ""
        return None


class Change(NamedTuple):
    """One option to change, in the terms of the target (a macro, or a CONFIG_ symbol), and why."""

    option: str
    before: str | None  # the current value: "on"/"off" for a macro, y/n/value for a symbol, None when unset
    after: str | None  # None: remove
    why: str
    finding: str
    macro: str | None = None  # the mbedTLS macro this change is about, when the option is a Kconfig symbol
    alternatives: tuple[str, ...] = ()
    note: str = ""

    def to_json(self) -> ChangeJson:
        from tlsdiag.documents.config import ChangeJson

        return ChangeJson(
            option=self.option,
            from_=self.before,
            to=self.after,
            why=self.why,
            finding=self.finding,
            macro=self.macro if self.macro and self.macro != self.option else None,
            alternatives=self.alternatives,
            note=self.note or None,
        )
