"""The ``tlsdiag`` console script: a fast path for ``explain``, the full command line for the rest.

Decoding a code is a job of a few milliseconds, but importing the command-line framework and the
template engine takes several times the interpreter's own start-up. The common call,
``tlsdiag explain CODE... [options]``, is therefore recognised here with a parser for exactly the
options ``cli.explain`` declares (a test keeps the two in step), and runs the same action. Anything
else, including help, unknown options and every malformed call, goes to the typer command line,
which owns all usage messages.
"""

# No ``from __future__ import annotations`` here: the named tuples below would carry their field types
# as strings, and typing compiles each string when the class is made, a cost every start of tlsdiag pays.
import gc
import os
import sys
from typing import NamedTuple


class ExplainOption(NamedTuple):
    """One option of ``tlsdiag explain``: its spellings and whether it takes a value."""

    dest: str
    spellings: tuple[str, ...]
    takes_value: bool = True


EXPLAIN_OPTIONS = (
    ExplainOption("format", ("--format", "-f")),
    ExplainOption("mbedtls_version", ("--mbedtls-version",)),
    ExplainOption("esp_idf_version", ("--esp-idf-version",)),
    ExplainOption("output", ("--output", "-o")),
    ExplainOption("no_color", ("--no-color",), takes_value=False),
)
_BY_SPELLING = {spelling: option for option in EXPLAIN_OPTIONS for spelling in option.spellings}


def parse_explain(args: list[str]) -> dict[str, object] | None:
    """Arguments of a well-formed ``explain`` call, or None to let the full command line handle it."""
    values: dict[str, object] = {"codes": []}
    codes: list[str] = []
    index = 0
    only_codes = False
    while index < len(args):
        token = args[index]
        index += 1
        if only_codes or not token.startswith("-") or _looks_like_a_code(token):
            codes.append(token)
            continue
        if token == "--":
            only_codes = True
            continue
        name, equals, inline = token.partition("=")
        option = _BY_SPELLING.get(name)
        if option is None or option.dest in values:
            return None  # help, an unknown option or a repeated one: the full parser explains it
        if not option.takes_value:
            if equals:
                return None
            values[option.dest] = True
            continue
        if equals:
            values[option.dest] = inline
        elif index < len(args):
            values[option.dest] = args[index]
            index += 1
        else:
            return None
    if not codes:
        return None
    values["codes"] = codes
    return values


def _looks_like_a_code(token: str) -> bool:
    """``-0x7280``, ``-29312``, ``-256a``: a minus and a digit is a code, never an option."""
    return len(token) > 1 and token[1].isdigit()


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code (for tests and ``python -m tlsdiag``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["explain"]:
        parsed = parse_explain(args[1:])
        if parsed is not None:
            result = _run_explain(parsed)
            if result is not None:
                return result
    from tlsdiag.cli import main as full_command_line

    return full_command_line(args)


def run() -> None:
    """The console script: run, flush, and leave without tearing the interpreter down.

    A short command spends a noticeable part of its life freeing the knowledge tables at exit;
    the process ends anyway, so once the output is flushed it exits at once.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


def _run_explain(parsed: dict[str, object]) -> int | None:
    """Run ``explain`` without garbage collection: its few milliseconds create objects that all live
    until it ends, so a collector pass would only cost time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _explain(parsed)
    finally:
        if collecting:
            gc.enable()


def _explain(parsed: dict[str, object]) -> int | None:
    from tlsdiag import commands as actions
    from tlsdiag.errors import InputError, fail
    from tlsdiag.knowledge import KnowledgeError
    from tlsdiag.report import Format

    try:
        fmt = Format(str(parsed.get("format", Format.text.value)))
    except ValueError:
        return None  # the full parser words the error about the format
    output = parsed.get("output")
    codes = parsed["codes"]
    if not isinstance(codes, list):
        return None  # parse_explain always gives a list; anything else goes to the full parser
    try:
        return actions.explain(
            codes=[str(code) for code in codes],
            fmt=fmt,
            mbedtls_version=_text(parsed.get("mbedtls_version")),
            esp_idf_version=_text(parsed.get("esp_idf_version")),
            output=_text(output),
            no_color=bool(parsed.get("no_color", False)),
        )
    except InputError as error:
        return fail(str(error))
    except KnowledgeError as error:
        return fail(f"broken knowledge base: {error}")
    except BrokenPipeError:
        return 0


def _text(value: object) -> str | None:
    return None if value is None else str(value)
