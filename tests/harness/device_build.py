"""The mbedTLS 3.6 build that stands for one probe device: a user's configuration file, or a preset's options.

``tlsdiag probe`` predicts from a device's configuration whether it connects to a server; only a client
built with exactly that configuration can confirm the prediction. Both kinds of device become a
:class:`~tests.harness.source_build.Configuration`, that is an ``MBEDTLS_USER_CONFIG_FILE`` applied on top
of the source's ``mbedtls_config.h``:

- a user configuration (``#define`` / ``#undef`` lines, as users amend ``mbedtls_config.h``) is taken line
  for line, so the probe reads the very file the library is compiled with;
- a preset (``knowledge/devices/presets.toml``: a platform's default build, as tlsdiag reads it) becomes one
  line per mbedTLS option the preset decides, in the order tlsdiag resolved them. What only ports the
  library to the platform (hardware accelerators, its entropy source, its allocator and clock) cannot be
  built for a PC and does not change what the handshake offers, so it is left out; ``MBEDTLS_DEBUG_C``
  stays on because the confirming test reads the handshake step from the debug output.

Builds are slow (about half a minute each on a shared machine), so a device whose directives leave the
library exactly as one of ``tests/test_realtls36.py``'s configurations does reuses that build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.harness.source_build import Configuration

DIRECTIVE = re.compile(r"^\s*#\s*(define|undef)\s+([A-Za-z_]\w*)(?:\s+(.*?))?\s*$")
# what ports mbedTLS to a platform: accelerator drivers (*_ALT and their software fallbacks), the
# platform layer (allocator, clock, exit, printf), and the entropy source
PORTING = re.compile(r"_ALT$|_ALT_|_SOFT_FALLBACK$|^MBEDTLS_PLATFORM_|^MBEDTLS_NO_PLATFORM_ENTROPY$")
OBSERVED_THROUGH = ("MBEDTLS_DEBUG_C",)  # kept as the source has it: the test reads the steps it prints


def directives(lines: Iterable[str]) -> dict[str, str | None]:
    """What the lines leave each macro they touch at: its value text ("" for a flag), or None (undefined)."""
    state: dict[str, str | None] = {}
    for line in lines:
        found = DIRECTIVE.match(_without_comments(line))
        if found is None:
            continue
        kind, name, value = found.groups()
        state[name] = (value or "") if kind == "define" else None
    return state


def _without_comments(line: str) -> str:
    return re.sub(r"/\*.*?\*/|//.*$", "", line)


def from_file(path: Path) -> Configuration:
    """A user configuration file as the build's user configuration, line for line."""
    lines = tuple(path.read_text(encoding="utf-8").splitlines())
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", path.name.removesuffix(".h"))
    return Configuration(f"device-{name}", f"the device configuration {path.name}", lines)


def from_preset(name: str, series: str) -> Configuration:
    """A preset's options for mbedTLS ``series`` as user configuration lines (the platform port left out)."""
    from tlsdiag.probe.device import from_preset as preset_device

    device = preset_device(name)
    options = device.knowledge.options
    lines = []
    for macro, setting in device.config.settings.items():
        option = options.get(macro)
        if option is None or not option.exists_in(series) or PORTING.search(macro) or macro in OBSERVED_THROUGH:
            continue
        if setting.state == "off":
            lines.append(f"#undef {macro}")
        elif setting.state == "on" and setting.value:
            lines += [f"#undef {macro}", f"#define {macro} {setting.value}"]  # the source may set another value
        elif setting.state == "on":
            lines.append(f"#define {macro}")
    return Configuration(f"preset-{name}", f"the options of tlsdiag's preset {name} for mbedTLS {series}", tuple(lines))


def reusing(configuration: Configuration, known: Mapping[str, Configuration]) -> Configuration:
    """The known configuration that leaves the library as ``configuration`` does, else ``configuration``."""
    wanted = directives(configuration.lines)
    return next((other for other in known.values() if directives(other.lines) == wanted), configuration)
