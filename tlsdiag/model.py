"""Result types shared by decoding, diagnosis and the reporters.

They are immutable named tuples (cheap to define, which keeps start-up fast): analysis builds
them, reporters read them, and ``to_json`` gives the contract's JSON shape. Nothing here knows how a
value was found or how it will be printed.
"""

# No ``from __future__ import annotations`` here: the named tuples below would carry their field types
# as strings, and typing compiles each string when the class is made, a cost every start of tlsdiag pays.
# The JSON models are named in quotes: they are imported only for the type checker.
from typing import TYPE_CHECKING, NamedTuple, cast

if TYPE_CHECKING:
    from tlsdiag.documents.common import CodeJson, FindingJson, FixJson, InterpretationJson, PartJson


class Fix(NamedTuple):
    """One concrete change: where (``target``), which option, which value, and what to do."""

    target: str
    action: str
    option: str | None = None
    value: str | None = None
    platform: str | None = None
    stacks: tuple[str, ...] = ()  # the software stacks it is for (empty: every stack)
    applicability: str = "safe"  # safe | unsafe (weakens security: verification off...) | display-only

    def to_json(self) -> "FixJson":
        from tlsdiag.documents import common

        return common.FixJson(
            target=cast(common.FixTarget, self.target),
            option=self.option,
            value=self.value,
            action=self.action,
            applicability=cast(common.Applicability, self.applicability),
            platform=self.platform,
        )


class Explanation(NamedTuple):
    """Hand-written knowledge about one named code, flag or alert (from ``knowledge/**/explained``)."""

    name: str
    category: str
    meaning: str
    causes: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    references: tuple[str, ...] = ()
    tls_reachable: bool = True


class Part(NamedTuple):
    """One component of a decoded value: the whole code, or the high or low half of a composite."""

    value: int
    level: str  # high | low | psa | esp-idf | transport | unknown
    name: str | None
    module: str | None = None
    summary: str = ""
    strerror: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def hex(self) -> str:
        return hex_of(self.value)

    @property
    def known(self) -> bool:
        return self.name is not None

    def to_json(self) -> "PartJson":
        from tlsdiag.documents import common

        return common.PartJson(
            name=self.name,
            hex=self.hex,
            value=self.value,
            module=self.module,
            level=cast(common.PartLevel, self.level),
            summary=self.summary,
            strerror=self.strerror,
            aliases=self.aliases,
        )


class Interpretation(NamedTuple):
    """What a value means in a set of versions (mbedTLS series, or platform releases)."""

    kind: str  # mbedtls | psa | esp-tls | transport
    versions: tuple[str, ...]
    parts: tuple[Part, ...]
    category: str
    causes: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    next_steps: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    meaning: str = ""
    platforms: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    plausibility: float = 1.0

    @property
    def composite(self) -> bool:
        return len(self.parts) > 1

    @property
    def complete(self) -> bool:
        return all(part.known for part in self.parts)

    def to_json(self) -> "InterpretationJson":
        from tlsdiag.documents import common

        return common.InterpretationJson(
            kind=cast(common.CodeKind, self.kind),
            versions=self.versions,
            parts=tuple(part.to_json() for part in self.parts),
            category=cast(common.Category, self.category),
            meaning=self.meaning,
            causes=self.causes,
            fixes=tuple(fix.to_json() for fix in self.fixes),
            next_steps=self.next_steps,
            references=self.references,
            plausibility=round(self.plausibility, 2),
            platforms=self.platforms,
            notes=self.notes,
        )


class DecodedCode(NamedTuple):
    """Everything tlsdiag can say about one code as the user wrote it."""

    input: str
    value: int | None
    kind: str  # mbedtls | esp-tls | psa | transport | unknown
    interpretations: tuple[Interpretation, ...]
    notes: tuple[str, ...] = ()
    undefined_in: tuple[str, ...] = ()

    @property
    def hex(self) -> str | None:
        return None if self.value is None else hex_of(self.value)

    @property
    def defined(self) -> bool:
        """True when some table defines the whole value (not just one half of a composite)."""
        return any(item.complete for item in self.interpretations)

    def to_json(self) -> "CodeJson":
        from tlsdiag.documents import common

        return common.CodeJson(
            input=self.input,
            value=self.value,
            hex=self.hex,
            kind=cast(common.CodeKind, self.kind),
            interpretations=tuple(item.to_json() for item in self.interpretations),
            notes=self.notes,
            undefined_in=self.undefined_in,
        )


class CodeReading(NamedTuple):
    """One way to read the text of a code: a value (and optionally the name the text gave)."""

    value: int
    how: str  # how the text was read, e.g. "hex", "decimal", "unsigned 32-bit", "name"
    name: str | None = None
    notes: tuple[str, ...] = ()
    only_versions: frozenset[str] | None = None  # a name read from the text holds only in these versions
    table: str | None = None  # a name pins its table: mbedtls | psa | esp-idf | transport:<family id>
    prior: float = 1.0  # how likely the printed form makes this reading (see tlsdiag.readings)


def hex_of(value: int) -> str:
    """Format a code the way mbedTLS users see it: ``-0x7280``, ``0x8010``."""
    sign = "-" if value < 0 else ""
    return f"{sign}0x{abs(value):04X}"


class Finding(NamedTuple):
    """A diagnosis: what rule concluded what, how sure, from which lines, and what to change."""

    rule: str  # stable id, e.g. "TLS-BUF-001"
    name: str  # readable name, e.g. "client-certificate-too-large"
    title: str
    category: str
    severity: str  # failure | warning | info
    confidence: float
    evidence: tuple[tuple[int, str], ...]
    explanation: str
    fixes: tuple[Fix, ...] = ()
    references: tuple[str, ...] = ()
    explains: bool = True  # False when the finding only restates an error code
    facts: tuple[tuple[str, object], ...] = ()
    cause: str | None = None  # the root cause it names (knowledge/diagnosis/causes.toml)
    basis: str = "rule"  # rule: a rule's conditions held | differential: how often the cause gives the code
    clues: tuple[str, ...] = ()  # what in the log moved its confidence
    assumptions: tuple[str, ...] = ()  # what it takes for granted that the log could not show
    confirm: tuple[str, ...] = ()  # what would confirm it
    rule_out: tuple[str, ...] = ()  # what would rule it out
    next_steps: tuple[str, ...] = ()  # what to print or check next
    agreeing: tuple[str, ...] = ()  # other rules that reached the same cause (their findings are folded in here)

    def to_json(self) -> "FindingJson":
        from tlsdiag.documents import common

        return common.FindingJson(
            rule=self.rule,
            name=self.name,
            title=self.title,
            category=cast(common.Category, self.category),
            severity=cast(common.Severity, self.severity),
            confidence=round(self.confidence, 2),
            evidence=tuple(common.EvidenceJson(line=line, text=text) for line, text in self.evidence),
            explanation=self.explanation,
            fixes=tuple(fix.to_json() for fix in self.fixes),
            references=self.references,
            explains_failure=self.explains,
            basis=cast(common.Basis, self.basis),
            cause=self.cause,
            clues=self.clues,
            assumptions=self.assumptions,
            confirm=self.confirm,
            rule_out=self.rule_out,
            next_steps=self.next_steps,
            agreeing_rules=self.agreeing,
        )
