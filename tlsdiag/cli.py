"""The ``tlsdiag`` command line: parse options, call the pipeline, hand the result to a reporter.

Exit codes (the contract): 0 ran and found no failure, 1 ran and found a failure-level finding,
2 usage or input error, reported as one line on stderr and never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from tlsdiag import __version__
from tlsdiag.errors import EXIT_OK, InputError, fail
from tlsdiag.knowledge import KnowledgeError
from tlsdiag.report import Format

app = typer.Typer(
    name="tlsdiag",
    help="Tells you why an mbedTLS connection failed and what to change.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FormatOption = Annotated[
    Optional[Format],  # noqa: UP045 - typer needs Optional on Python 3.9-style annotations
    typer.Option("--format", "-f", help="Report format (text is the default)."),
]
VersionOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--mbedtls-version", help="mbedTLS version of the build, e.g. 2.28 or 3.6.2."),
]
OutputOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--output", "-o", help="Write the report to this file instead of standard output."),
]
EspIdfVersionOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--esp-idf-version", help="ESP-IDF version (selects esp-tls values and the bundled mbedTLS)."),
]
NoColorOption = Annotated[
    bool, typer.Option("--no-color", help="Plain text without colours (NO_COLOR is honoured too).")
]
NoRedactOption = Annotated[
    bool,
    typer.Option("--no-redact", help="Keep secrets (keys, PSKs, passwords, tokens) in markdown and html reports."),
]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tlsdiag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Tells you why an mbedTLS connection failed and what to change."""


@app.command(context_settings={"ignore_unknown_options": True})
def explain(
    codes: Annotated[
        list[str],
        typer.Argument(
            metavar="CODE...",
            help="Codes in any written form: -0x7280, -29312, FFFF8D80, MBEDTLS_ERR_SSL_CONN_EOF, 0x8010 ...",
        ),
    ],
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    esp_idf_version: EspIdfVersionOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
) -> int:
    """Decode error codes: names per mbedTLS version, composite parts, causes and fixes."""
    from tlsdiag import commands as actions

    return actions.explain(codes, format or Format.text, mbedtls_version, esp_idf_version, output, no_color)


LogArgument = Annotated[
    Optional[str],  # noqa: UP045
    typer.Argument(metavar="[LOG]", help="A log file; '-' or nothing reads standard input."),
]


@app.command()
def diagnose(
    log: LogArgument = None,
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    no_redact: NoRedactOption = False,
) -> int:
    """Diagnose one log: the root cause first, the evidence, and the exact fix."""
    from tlsdiag import commands as actions

    return actions.diagnose(log, format or Format.text, mbedtls_version, output, no_color, redact=not no_redact)


@app.command()
def diff(
    good: Annotated[str, typer.Argument(metavar="GOOD", help="The log of a working run.")],
    bad: Annotated[str, typer.Argument(metavar="BAD", help="The log of a failing run of the same connection.")],
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    no_redact: NoRedactOption = False,
) -> int:
    """Compare a working and a failing run: where they diverge, and why, in TLS terms."""
    from tlsdiag import commands as actions

    return actions.diff(good, bad, format or Format.text, mbedtls_version, output, no_color, redact=not no_redact)


@app.command()
def parse(
    log: LogArgument = None,
    format: FormatOption = None,
    output: OutputOption = None,
) -> int:
    """Show the events the parser and the fold stage read from a log (a debugging view)."""
    from tlsdiag import commands as actions

    return actions.parse(log, format or Format.text, output)


@app.command()
def redact(
    log: LogArgument = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Write the copy to this file instead of standard output."),
    ] = None,
) -> int:
    """Write a copy of a log that is safe to share: private keys, PSKs, passwords and tokens masked."""
    from tlsdiag import commands as actions

    return actions.redact(log, output)


@app.command(context_settings={"allow_interspersed_args": False})
def capture(
    command: Annotated[
        list[str],
        typer.Argument(metavar="-- COMMAND [ARGS]...", help="The program to run, e.g. idf.py monitor."),
    ],
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    no_redact: NoRedactOption = False,
    save: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--save", help="Also write the program's whole output to this file."),
    ] = None,
    settle: Annotated[
        float,
        typer.Option("--settle", min=0.05, help="Seconds of quiet after which a failed attempt is diagnosed."),
    ] = 1.0,
) -> int:
    """Run a program, pass its output through, and diagnose each failed connection as it happens (on stderr)."""
    from tlsdiag import commands as actions

    return actions.capture(
        command, format or Format.text, mbedtls_version, output, no_color, not no_redact, save, settle
    )


CodeOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--code", metavar="FILE", help="Source code to check too (RNG, authmode, role); repeatable."),
]


@app.command()
def probe(
    target: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(metavar="HOST[:PORT]", help="The server to scan (port 443 by default)."),
    ] = None,
    config: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--config", metavar="FILE", help="The device's config.h, mbedtls_config.h, sdkconfig or prj.conf."
        ),
    ] = None,
    log: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--log", metavar="LOG", help="A log of the device's handshake (its ClientHello)."),
    ] = None,
    device: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--device", metavar="PRESET", help="A named build: mbedtls-3.6, esp-idf-5.5, arduino-esp32-3.0 ..."
        ),
    ] = None,
    server_profile: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--server-profile", metavar="FILE", help="A saved sslyze --json_out or testssl.sh --jsonfile."),
    ] = None,
    server_name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--server-name", metavar="NAME", help="The name the device sends as SNI (default: HOST)."),
    ] = None,
    ca: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--ca", metavar="FILE", help="The device's CA file or PEM bundle: does the chain lead to it?"),
    ] = None,
    save_scan: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--save-scan", metavar="FILE", help="Keep the scan as JSON, to check it again offline."),
    ] = None,
    code: CodeOption = None,
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    esp_idf_version: EspIdfVersionOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
) -> int:
    """Hold a server's real TLS profile against a device's build: will it connect, and what blocks it."""
    from tlsdiag import commands as actions

    return actions.probe(
        target,
        config,
        log,
        device,
        server_profile,
        server_name,
        ca,
        save_scan,
        format or Format.text,
        mbedtls_version,
        esp_idf_version,
        code or [],
        output,
        no_color,
    )


config_app = typer.Typer(
    name="config",
    help="Read, lint and repair mbedTLS, ESP-IDF and Zephyr TLS configurations.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(config_app, name="config")
UserConfigOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--user-config", metavar="FILE", help="A MBEDTLS_USER_CONFIG_FILE applied after the configuration."),
]


@config_app.command("lint")
def config_lint(
    file: Annotated[str, typer.Argument(metavar="FILE", help="config.h, sdkconfig(.defaults) or prj.conf.")],
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    esp_idf_version: EspIdfVersionOption = None,
    code: CodeOption = None,
    user_config: UserConfigOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
) -> int:
    """Check a configuration: what check_config.h rejects, silent problems, buffers, and the RAM a handshake needs."""
    from tlsdiag import commands as actions

    return actions.config_lint(
        file, format or Format.text, mbedtls_version, esp_idf_version, code or [], user_config, output, no_color
    )


@config_app.command("recommend")
def config_recommend(
    log: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--log", metavar="LOG", help="A failing log to repair."),
    ] = None,
    config: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--config", metavar="FILE", help="The configuration to change."),
    ] = None,
    target: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--target", metavar="sdkconfig|config.h|prj.conf", help="What to write the changes for."),
    ] = None,
    server_suites: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--server-suites", metavar="LIST|FILE", help="Server suites, or a testssl.sh/sslyze JSON file."),
    ] = None,
    format: FormatOption = None,
    mbedtls_version: VersionOption = None,
    esp_idf_version: EspIdfVersionOption = None,
    code: CodeOption = None,
    user_config: UserConfigOption = None,
    output: OutputOption = None,
    no_color: NoColorOption = False,
) -> int:
    """The smallest change set, as a ready fragment: sdkconfig.defaults lines, a config.h patch, prj.conf lines."""
    from tlsdiag import commands as actions

    return actions.config_recommend(
        log,
        config,
        target,
        server_suites,
        format or Format.text,
        mbedtls_version,
        esp_idf_version,
        code or [],
        user_config,
        output,
        no_color,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and ``python -m tlsdiag``; returns the exit code."""
    try:
        result = app(args=argv, prog_name="tlsdiag", standalone_mode=False)
    except InputError as error:
        return fail(str(error))
    except KnowledgeError as error:  # an installation or a knowledge edit gone wrong: say where, never a traceback
        return fail(f"broken knowledge base: {error}")
    except (KeyboardInterrupt, typer.Abort):
        return fail("interrupted")
    except typer.Exit as done:
        return int(getattr(done, "exit_code", EXIT_OK) or EXIT_OK)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # the command-line parser's own errors, whatever its version names them
        message = _usage_message(error)
        if message is None:
            raise
        return fail(message)
    return result if isinstance(result, int) else EXIT_OK


def _usage_message(error: Exception) -> str | None:
    """The one-line message of a command-line usage error (click-style exceptions), or None."""
    format_message = getattr(error, "format_message", None)
    if not callable(format_message) or getattr(error, "exit_code", None) is None:
        return None
    if type(error).__name__ == "NoArgsIsHelpError":
        return "no command given (try: tlsdiag --help)"
    lines = [line.strip() for line in str(format_message()).splitlines() if line.strip()]
    return lines[0] if lines else "usage error (try: tlsdiag --help)"
