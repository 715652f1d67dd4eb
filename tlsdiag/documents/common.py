"""What every document shares: the envelope, a decoded code, a finding and a fix (``common.schema.json``)."""

from __future__ import annotations

from typing import Annotated, Literal

from tlsdiag import __version__
from tlsdiag.documents.base import Def, Omittable, Schema, json_model

Category = Annotated[
    Literal[
        "memory",
        "record-buffer-size",
        "certificate-trust",
        "certificate-time",
        "hostname-mismatch",
        "peer-closed",
        "ciphersuite-mismatch",
        "protocol-version",
        "entropy-rng",
        "config-missing-feature",
        "network-io",
        "client-auth",
        "key-mismatch",
        "psk",
        "toolchain-or-hardware",
        "other",
    ],
    Schema(description="The contract's categories of a root cause (knowledge/categories.toml says what each covers)."),
    Def("category"),
]
Hex = Annotated[
    str,
    Schema(description="An error code as mbedTLS users see it: -0x7280, 0x8010.", pattern="^-?0x[0-9A-F]{4,}$"),
    Def("hex"),
]
#: a 16-bit TLS code point as the contract writes it (cipher suites): ``0xc02b``
CodePoint = Annotated[str, Schema(pattern="^0x[0-9a-f]{4}$")]
Severity = Literal["failure", "warning", "info"]
Applicability = Literal["safe", "unsafe", "display-only"]
PartLevel = Literal["high", "low", "psa", "esp-idf", "transport", "unknown"]
#: rule: a rule's conditions held; differential: how often the cause gives the code, weighed with the clues
Basis = Literal["rule", "differential"]
FixTarget = Literal["sdkconfig", "mbedtls-config", "zephyr-kconfig", "arduino", "code", "server", "hardware"]
#: where a value's meaning comes from: mbedTLS's tables, PSA, esp-tls, a transport's own values, a wrapper's format
CodeKind = Literal["mbedtls", "esp-tls", "psa", "transport", "wrapper"]
NonEmptyText = Annotated[str, Schema(minLength=1)]
Share = Annotated[float, Schema(minimum=0, maximum=1)]
Count = Annotated[int, Schema(minimum=0)]
LineNumber = Annotated[int, Schema(minimum=1)]


@json_model
class Envelope:
    """What opens every document: the tool, its version and the version of the document's shape."""

    tool: Literal["tlsdiag"] = "tlsdiag"
    version: str = __version__  # the tlsdiag release that wrote it
    schema: Literal[1] = 1  # the version of the documents' shape; fields may be added within one version


@json_model
class FixJson:
    """One concrete change: where (``target``), which option, which value, and what to do."""

    target: FixTarget
    option: str | None  # the option to change: CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN, MBEDTLS_SSL_IN_CONTENT_LEN...
    value: str | None  # the value to give it
    action: NonEmptyText  # what to do, in words
    # safe; unsafe: it weakens security (verification off...); display-only: shown, never applied
    applicability: Applicability
    platform: Omittable[str | None] = None  # the platform the option belongs to, when the target does not say


@json_model
class PartJson:
    """One component of a decoded value: the whole code, or the high or low half of a composite."""

    name: str | None  # MBEDTLS_ERR_RSA_PUBLIC_FAILED; null when no table of these versions names the value
    hex: Hex
    value: int
    module: str | None  # the mbedTLS module that defines it (RSA, MPI, SSL...)
    level: PartLevel
    summary: str
    strerror: Omittable[str | None] = None  # the text mbedtls_strerror prints for it
    aliases: Omittable[tuple[str, ...]] = ()  # other names of the same value in these versions


@json_model
class InterpretationJson:
    """What a value means in one set of versions where its meaning is the same."""

    kind: CodeKind
    versions: Annotated[tuple[str, ...], Schema(minItems=1)]  # mbedTLS versions (or platform versions) where it holds
    parts: Annotated[tuple[PartJson, ...], Schema(minItems=1)]
    category: Category
    meaning: str
    causes: tuple[str, ...]
    fixes: tuple[FixJson, ...]
    next_steps: tuple[str, ...]
    references: tuple[str, ...]
    plausibility: Share  # how likely this reading is next to the others of the same printed number
    platforms: Omittable[tuple[str, ...]] = ()
    notes: Omittable[tuple[str, ...]] = ()


@json_model
class CodeJson:
    """Everything tlsdiag can say about one code as the user wrote it."""

    input: str  # as written
    value: int | None  # null when the text names nothing a table defines
    hex: Hex | None
    kind: CodeKind | Literal["unknown"]
    interpretations: tuple[InterpretationJson, ...]  # one per set of versions where the meaning differs
    notes: tuple[str, ...]
    undefined_in: Omittable[tuple[str, ...]] = ()  # versions whose tables do not define the value


@json_model
class EvidenceJson:
    """A line of the input a conclusion rests on."""

    line: int
    text: str


@json_model
class FindingJson:
    """A conclusion: what rule concluded what, how sure, from which lines, and what to change."""

    rule: NonEmptyText  # stable id, e.g. TLS-BUF-001
    name: str  # readable id, e.g. client-certificate-too-large
    title: NonEmptyText
    category: Category
    severity: Severity
    confidence: Share
    evidence: tuple[EvidenceJson, ...]
    explanation: str
    fixes: tuple[FixJson, ...]
    references: tuple[str, ...]
    explains_failure: bool  # false when the finding only restates what an error code means
    # rule: a rule's conditions held; differential: how often the cause gives the code, weighed with the clues
    basis: Basis
    cause: Omittable[str | None] = None  # the root cause it names (knowledge/diagnosis/causes.toml)
    clues: Omittable[tuple[str, ...]] = ()  # what in the log moved its confidence
    assumptions: Omittable[tuple[str, ...]] = ()  # what it takes for granted that the log could not show
    confirm: Omittable[tuple[str, ...]] = ()  # what would confirm it
    rule_out: Omittable[tuple[str, ...]] = ()  # what would rule it out
    next_steps: Omittable[tuple[str, ...]] = ()  # what to print or check next
    agreeing_rules: Omittable[tuple[str, ...]] = ()  # other rules that reached the same cause, folded in here
