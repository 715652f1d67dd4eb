"""Building mbedTLS from its source in several configurations, and the client against each, cached.

mbedTLS 3.6 fixes its record buffers, its protocol versions and its allocator at compile time, so a
device's failure is reproduced only by a library built the way the device builds it. The source is
what ``TLSDIAG_MBEDTLS_SRC`` names: a release tarball (``.tar.xz``, ``.tar.gz``, ``.tar.bz2``) or a
source tree, such as a user's own checkout. Each configuration is a ``MBEDTLS_USER_CONFIG_FILE``
applied on top of the source's ``mbedtls_config.h``; its build (``make lib``) lives in
``$TLSDIAG_BUILD_DIR`` (default ``~/.cache/tlsdiag``), outside the repository, under a name made of
the version and a hash of the source and the configuration, so that a second test run, or a second
test asking for the same configuration, reuses it. Builds are made in a scratch directory and
renamed into place when they succeed, under a lock, so that concurrent runs never see half a build.

Without the variable the tests skip and name it; CI sets it (and ``TLSDIAG_REQUIRE_MBEDTLS_SRC=1``)
so that a build that cannot be made fails the run instead of hiding it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tests.harness.build import compiler

SOURCE_ENV = "TLSDIAG_MBEDTLS_SRC"
BUILD_DIR_ENV = "TLSDIAG_BUILD_DIR"
REQUIRE_ENV = "TLSDIAG_REQUIRE_MBEDTLS_SRC"
CLIENT_SOURCE = Path(__file__).with_name("tlsclient.c")
LIBRARIES = ("library/libmbedtls.a", "library/libmbedx509.a", "library/libmbedcrypto.a")
BUILD_TIMEOUT = 900  # seconds: about 20 s on two idle cores, much more when the machine is shared
VERSION = re.compile(rb'#define\s+MBEDTLS_VERSION_STRING\s+"([0-9.]+)"')


class Configuration(NamedTuple):
    """One way of building the library: the lines of its ``MBEDTLS_USER_CONFIG_FILE``."""

    name: str
    why: str  # what a device with this build looks like
    lines: tuple[str, ...] = ()

    def header(self) -> str:
        body = "\n".join(self.lines)
        return f"/* tlsdiag test configuration '{self.name}': {self.why} */\n{body}\n"


class Built(NamedTuple):
    """A configuration's client, or the reason there is none."""

    configuration: Configuration
    client: Path | None
    reason: str
    version: str | None  # MBEDTLS_VERSION_STRING of the source
    directory: Path | None  # the build tree, with the user configuration it was built with


def source() -> Path | None:
    """What ``TLSDIAG_MBEDTLS_SRC`` names, or None when it is not set."""
    value = os.environ.get(SOURCE_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    explicit = os.environ.get(BUILD_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "tlsdiag"


def unavailable_reason() -> str | None:
    """Why no build can be made here, or None when the source and a compiler are there."""
    path = source()
    if path is None:
        return f"{SOURCE_ENV} is not set (point it at an mbedTLS 3.6 source tarball or source tree)"
    if not path.exists():
        return f"{SOURCE_ENV}={path} does not exist"
    if path.is_dir() and not (path / "include" / "mbedtls" / "build_info.h").is_file():
        return f"{SOURCE_ENV}={path} is not an mbedTLS 3.x source tree (no include/mbedtls/build_info.h)"
    if compiler() is None:
        return "no C compiler (cc, gcc or clang) on PATH"
    if shutil.which("make") is None:
        return "no make on PATH"
    return None


def build(configuration: Configuration) -> Built:
    """The library built with ``configuration`` and the client compiled against it, from the cache when there."""
    reason = unavailable_reason()
    path = source()
    if reason is not None or path is None:
        return Built(configuration, None, reason or "", None, None)
    cc = compiler()
    assert cc is not None
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    identity = _source_identity(path)
    key = hashlib.sha256(f"{identity}\n{cc}\n{configuration.header()}".encode()).hexdigest()[:12]
    with _locked(root / f".lock-{key}"):
        tree = next(root.glob(f"mbedtls-*-{configuration.name}-{key}"), None)
        if tree is None or not (tree / ".built").is_file():
            try:
                tree = _build_library(path, root, configuration, key)
            except BuildError as error:
                return Built(configuration, None, str(error), None, None)
        version = _version(tree)
        try:
            client = _compile_client(cc, tree)
        except BuildError as error:
            return Built(configuration, None, str(error), version, tree)
    return Built(configuration, client, "", version, tree)


class BuildError(RuntimeError):
    """A step of the build failed; the message is its first error line."""


def _source_identity(path: Path) -> str:
    """What decides whether a cached build is still the source's: a tarball's bytes, a tree's files."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"tarball {digest.hexdigest()}"
    for directory in ("include", "library", "3rdparty"):
        for file in sorted((path / directory).rglob("*")):
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.relative_to(path)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return f"tree {path.resolve()} {digest.hexdigest()}"


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_library(path: Path, root: Path, configuration: Configuration, key: str) -> Path:
    scratch = Path(tempfile.mkdtemp(prefix=f".building-{key}-", dir=root))
    try:
        tree = scratch / "mbedtls"
        if path.is_file():
            _extract(path, scratch, tree)
        else:
            shutil.copytree(path, tree, ignore=shutil.ignore_patterns(".git", "*.o", "*.a", "build"), symlinks=True)
        (tree / "tlsdiag_user_config.h").write_text(configuration.header(), encoding="utf-8")
        # the configuration's path is baked into the flags: build where the tree will stay
        final = root / f"mbedtls-{_version(tree) or 'unknown'}-{configuration.name}-{key}"
        if final.exists():
            shutil.rmtree(final)
        tree.rename(final)
        user_config = final / "tlsdiag_user_config.h"
        flags = f'-O2 -DMBEDTLS_USER_CONFIG_FILE=\\"{user_config}\\"'
        _run(["make", "-j2", "lib", f"CFLAGS={flags}"], final, f"make lib ({configuration.name})")
        (final / ".built").write_text(configuration.header(), encoding="utf-8")
        return final
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _extract(tarball: Path, scratch: Path, tree: Path) -> None:
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(scratch / "extracted", filter="data")
    except (tarfile.TarError, OSError) as error:
        raise BuildError(f"cannot extract {tarball}: {error}") from error
    tops = [entry for entry in (scratch / "extracted").iterdir() if entry.is_dir()]
    top = tops[0] if len(tops) == 1 else scratch / "extracted"
    if not (top / "include" / "mbedtls" / "build_info.h").is_file():
        raise BuildError(f"{tarball} holds no mbedTLS 3.x source (no include/mbedtls/build_info.h)")
    top.rename(tree)


def _version(tree: Path) -> str | None:
    header = tree / "include" / "mbedtls" / "build_info.h"
    found = VERSION.search(header.read_bytes()) if header.is_file() else None
    return found[1].decode() if found else None


def _compile_client(cc: str, tree: Path) -> Path:
    """The client compiled against the tree, with the tree's user configuration: cached per client source."""
    text = CLIENT_SOURCE.read_bytes()
    target = tree / f"tlsclient-{hashlib.sha256(text).hexdigest()[:12]}"
    if target.is_file():
        return target
    user_config = tree / "tlsdiag_user_config.h"
    scratch = target.with_name(target.name + f".{os.getpid()}.tmp")
    command = [
        cc,
        "-std=c99",
        "-D_POSIX_C_SOURCE=200809L",
        "-O1",
        f'-DMBEDTLS_USER_CONFIG_FILE="{user_config}"',
        f"-I{tree / 'include'}",
        "-o",
        str(scratch),
        str(CLIENT_SOURCE),
        *(str(tree / library) for library in LIBRARIES),
    ]
    _run(command, tree, "compiling the client")
    scratch.rename(target)
    return target


def _run(command: list[str], directory: Path, what: str) -> None:
    try:
        result = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BuildError(f"{what} took longer than {BUILD_TIMEOUT} s") from error
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).splitlines()
        first = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
        raise BuildError(f"{what} failed: {first.strip()}")
