"""The fast ``explain`` path and the full command line agree: same options, same output, same exit codes."""

from __future__ import annotations

import pytest

from tlsdiag import cli, entry


def _typer_explain_options() -> dict[str, tuple[tuple[str, ...], bool]]:
    import typer.main

    command = typer.main.get_command(cli.app).commands["explain"]  # type: ignore[attr-defined]
    options = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.name == "help":
            continue
        options[param.name] = (tuple(sorted(param.opts)), not param.is_flag)
    return options


def test_fast_path_knows_exactly_the_options_of_the_command():
    fast = {option.dest: (tuple(sorted(option.spellings)), option.takes_value) for option in entry.EXPLAIN_OPTIONS}
    assert fast == _typer_explain_options()


CALLS = [
    ["explain", "-0x7280"],
    ["explain", "-0x4290", "-0x3b10", "--format", "json"],
    ["explain", "-0x7500", "--mbedtls-version", "2.28"],
    ["explain", "-0x7500", "--mbedtls-version=3.6", "-f", "markdown"],
    ["explain", "0x8010", "--esp-idf-version", "4.0", "--no-color"],
    ["explain", "--format", "json", "--", "-4290"],
    ["explain", "-0x7FFF"],
    ["explain", "hello"],
    ["explain", "-0x7280", "--mbedtls-version", "1.3"],
]


@pytest.mark.parametrize("argv", CALLS, ids=[" ".join(call) for call in CALLS])
def test_fast_path_and_full_command_line_give_the_same_result(argv, capsys):
    fast_code = entry.main(argv)
    fast = capsys.readouterr()
    full_code = cli.main(argv)
    full = capsys.readouterr()
    assert (fast_code, fast.out, fast.err) == (full_code, full.out, full.err)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-0x7280", "--format"],
        ["-0x7280", "--bogus"],
        ["-0x7280", "--no-color=yes"],
        ["-0x7280", "-f", "json", "-f", "text"],
        [],
    ],
)
def test_unusual_calls_are_left_to_the_full_command_line(args):
    assert entry.parse_explain(args) is None


def test_negative_codes_are_codes_not_options():
    parsed = entry.parse_explain(["-0x7280", "-29312", "-256a", "-f", "json"])
    assert parsed == {"codes": ["-0x7280", "-29312", "-256a"], "format": "json"}
