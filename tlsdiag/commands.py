"""What each command does once its arguments are known, independent of how they were parsed.

Both the typer command line (``cli.py``) and the fast ``explain`` path (``entry.py``) call these, so a
command behaves the same whichever parser read its arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from tlsdiag.errors import EXIT_FAILURE_FOUND, EXIT_OK, InputError
from tlsdiag.report import Format, use_color


def explain(
    codes: Sequence[str],
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
) -> int:
    """Decode ``codes`` and write the report; unknown or malformed codes raise :class:`InputError`."""
    from tlsdiag import codes as decoding
    from tlsdiag.forms import CodeSyntaxError
    from tlsdiag.knowledge import load
    from tlsdiag.report.explain import render_explain
    from tlsdiag.versions import VersionError

    knowledge = load()
    try:
        scope = decoding.default_scope(knowledge, mbedtls_version, esp_idf_version)
        decoded = [item for text in codes for item in decoding.explain(text, scope, knowledge)]
    except (CodeSyntaxError, VersionError) as error:
        raise InputError(str(error)) from None
    emit(lambda color: render_explain(decoded, fmt, knowledge.mbedtls.series, color), output, no_color)
    unknown = [item for item in decoded if not item.defined]
    if unknown:
        reason = next((note for note in unknown[0].notes if "is not defined by" in note), "no table defines it")
        raise InputError(f"{unknown[0].input}: {reason}")
    return EXIT_OK


def emit(build: Callable[[bool], str], output: str | os.PathLike[str] | None, no_color: bool) -> None:
    """Render once for the destination (colour only on a terminal) and write it."""
    if output is None:
        sys.stdout.write(build(use_color(sys.stdout, no_color)))
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(build(False))
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None


def diagnose(
    log: str | None,
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
    redact: bool = True,
) -> int:
    """Analyse one log and report every failure in it; exit 1 when a failure-level finding exists."""
    from tlsdiag import core
    from tlsdiag.report.diagnose import render_diagnose

    diagnosed = core.diagnose(core.analyse_input(log, mbedtls_version))
    emit(lambda color: render_diagnose(diagnosed, fmt, color, redact), output, no_color)
    return core.exit_code(diagnosed.diagnosis)


def parse(log: str | None, fmt: Format = Format.text, output: str | os.PathLike[str] | None = None) -> int:
    """Print every event of a log, one per line (text) or one JSON object per line (json)."""
    from tlsdiag.analysis.pipeline import EventStream
    from tlsdiag.report.events import event_line

    def build(color: bool) -> str:
        stream = EventStream(None if log in (None, "-") else log)
        lines = [event_line(event, fmt) for event in stream]
        if fmt is not Format.json:
            stats = stream.parser.stats
            lines.append(f"# {stats.lines} lines, {stream.recognized_lines} recognised, {_dialects(stats.dialects)}")
        return "\n".join(lines) + "\n"

    emit(build, output, False)
    return EXIT_OK


def _dialects(counts: dict[str, int]) -> str:
    """``dialects: mbedtls-debug 312 lines, text 24 lines``, the most frequent first."""
    if not counts:
        return "no dialect recognised"
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "dialects: " + ", ".join(f"{name} {count} line{'s' if count != 1 else ''}" for name, count in ranked)


def diff(
    good: str,
    bad: str,
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
    redact: bool = True,
) -> int:
    """Compare a working and a failing run; exit 1 when a failure-level finding exists."""
    from tlsdiag import core
    from tlsdiag.diff import compare
    from tlsdiag.report.diff import render_diff

    if good == bad == "-":
        raise InputError("standard input can be only one of GOOD and BAD: give the other log as a file")
    if os.path.realpath(good) == os.path.realpath(bad):
        raise InputError(f"{good} and {bad} are the same file: give a working and a failing log")
    good_analysis = core.analyse_input(good, mbedtls_version)
    bad_analysis = core.analyse_input(bad, mbedtls_version)
    comparison = compare(good_analysis, bad_analysis)
    findings = list(core.diagnose(bad_analysis, comparison).diagnosis.findings) if comparison.same_connection else []
    emit(lambda color: render_diff(comparison, findings, fmt, color, redact), output, no_color)
    return EXIT_FAILURE_FOUND if any(finding.severity == "failure" for finding in findings) else EXIT_OK


def redact(log: str | None, output: str | os.PathLike[str] | None = None) -> int:
    """Write a shareable copy of a log, secrets masked; the counts go to standard error."""
    from tlsdiag.redact_log import redact_log

    counts = redact_log(None if log in (None, "-") else log, output)
    total = sum(counts.values())
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    sys.stderr.write(f"tlsdiag: masked {total} secret{'s' if total != 1 else ''}{f' ({summary})' if total else ''}\n")
    return EXIT_OK


def capture(
    command: Sequence[str],
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
    redact: bool = True,
    save: str | os.PathLike[str] | None = None,
    settle: float = 1.0,
) -> int:
    """Run ``command`` with its output passed through; exit 1 when a failed attempt was diagnosed."""
    from tlsdiag.capture import Settings, run

    return run(Settings(tuple(command), fmt, mbedtls_version, output, no_color, redact, save, settle))


def config_lint(
    file: str,
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code: Sequence[str] = (),
    user_config: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
) -> int:
    """Lint one configuration file; exit 1 when a failure-level finding exists."""
    from tlsdiag.config import lint, read_config
    from tlsdiag.report.config import render_lint

    config = read_config(
        file, mbedtls_version=mbedtls_version, esp_idf_version=esp_idf_version, code_paths=code, user_config=user_config
    )
    result = lint(config)
    emit(lambda color: render_lint(result, fmt, color), output, no_color)
    return EXIT_FAILURE_FOUND if result.failed else EXIT_OK


def config_recommend(
    log: str | None,
    config: str | None,
    target: str | None,
    server_suites: str | None,
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code: Sequence[str] = (),
    user_config: str | None = None,
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
) -> int:
    """The change set for a log, a configuration and/or a server; exit 1 when a failure-level finding exists."""
    from tlsdiag.config import recommend
    from tlsdiag.report.config import render_recommend

    result = recommend(
        log=log,
        config_path=config,
        target=target,
        server_suites=server_suites,
        mbedtls_version=mbedtls_version,
        esp_idf_version=esp_idf_version,
        code_paths=code,
        user_config=user_config,
    )
    emit(lambda color: render_recommend(result, fmt, color), output, no_color)
    return EXIT_FAILURE_FOUND if result.failed else EXIT_OK


def probe(
    target: str | None,
    config: str | None = None,
    log: str | None = None,
    device: str | None = None,
    server_profile: str | None = None,
    server_name: str | None = None,
    ca: str | None = None,
    save_scan: str | None = None,
    fmt: Format = Format.text,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code: Sequence[str] = (),
    output: str | os.PathLike[str] | None = None,
    no_color: bool = False,
) -> int:
    """Hold a server's TLS profile against a device's build; exit 0 connects, 1 fails, 2 not scanned or bad input."""
    from tlsdiag.probe.session import run_probe

    profile, built, verdict = run_probe(
        target, config, log, device, server_profile, server_name, ca, save_scan, mbedtls_version, esp_idf_version, code
    )
    from tlsdiag.report.probe import render_probe

    emit(lambda color: render_probe(profile, built, verdict, fmt, color), output, no_color)
    return EXIT_FAILURE_FOUND if verdict.verdict == "fails" else EXIT_OK
