"""Compiling the client against the system mbedTLS, or saying exactly why it cannot be done here.

A machine without a C compiler, without mbedTLS's headers and libraries (Debian: ``libmbedtls-dev``)
or without ``openssl`` skips the real-library tests with that reason; CI sets
``TLSDIAG_REQUIRE_REALTLS=1`` so that the same reason fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

SOURCE = Path(__file__).with_name("tlsclient.c")
LIBRARIES = ("-lmbedtls", "-lmbedx509", "-lmbedcrypto")
REQUIRE_ENV = "TLSDIAG_REQUIRE_REALTLS"


class Toolchain(NamedTuple):
    client: Path | None  # the compiled client, or None with a reason
    reason: str
    mbedtls_version: str | None  # MBEDTLS_VERSION_STRING of the headers compiled against
    openssl: str | None
    faketime: str | None


def compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def build(directory: Path) -> Toolchain:
    """Compile ``tlsclient.c`` into ``directory``; the result says why when it could not."""
    openssl = shutil.which("openssl")
    faketime = shutil.which("faketime")
    cc = compiler()
    if cc is None:
        return Toolchain(None, "no C compiler (cc, gcc or clang) on PATH", None, openssl, faketime)
    if openssl is None:
        return Toolchain(None, "no openssl command on PATH (the servers are openssl s_server)", None, None, faketime)
    version = _header_version(cc, directory)
    if version is None:
        return Toolchain(
            None, "mbedTLS headers not found (install libmbedtls-dev: mbedtls/version.h)", None, openssl, faketime
        )
    target = directory / "tlsclient"
    command = [cc, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-O1", "-o", str(target), str(SOURCE), *LIBRARIES]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip())
        return Toolchain(
            None, f"cannot build the client against mbedTLS {version}: {first}", version, openssl, faketime
        )
    return Toolchain(target, "", version, openssl, faketime)


def _header_version(cc: str, directory: Path) -> str | None:
    """MBEDTLS_VERSION_STRING as the compiler sees it, or None without the headers."""
    probe = directory / "version.c"
    probe.write_text('#include "mbedtls/version.h"\nconst char *v = MBEDTLS_VERSION_STRING;\n')
    result = subprocess.run([cc, "-E", "-P", str(probe)], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        return None
    for line in result.stdout.splitlines():
        if line.startswith("const char *v ="):
            return line.split('"')[1]
    return None
