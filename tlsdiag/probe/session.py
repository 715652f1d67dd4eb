"""One ``tlsdiag probe`` run: get the server's profile and the device, check trust, match them.

Progress goes to standard error, and only when it is a terminal: a scan takes seconds to a minute, and
a user watching should see which step it is in, while a script reading JSON sees nothing extra.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from tlsdiag.errors import InputError
from tlsdiag.probe.device import Device, from_config, from_log, from_preset
from tlsdiag.probe.match import Verdict, match
from tlsdiag.probe.profile import ServerProfile


def run_probe(
    target: str | None,
    config: str | None,
    log: str | None,
    preset: str | None,
    server_profile: str | None,
    server_name: str | None,
    ca: str | None,
    save_scan: str | None,
    mbedtls_version: str | None,
    esp_idf_version: str | None,
    code: Sequence[str],
) -> tuple[ServerProfile, Device, Verdict]:
    chosen = [name for name, value in (("--config", config), ("--log", log), ("--device", preset)) if value]
    if len(chosen) != 1:
        raise InputError(
            "probe needs the device as exactly one of --config FILE, --log FILE or --device PRESET"
            + (f" (got {' and '.join(chosen)})" if chosen else "")
        )
    if target is None and server_profile is None:
        raise InputError("probe needs a server: HOST[:PORT], or --server-profile FILE for a saved scan")
    if target is not None and server_profile is not None:
        raise InputError("give either HOST[:PORT] to scan or --server-profile FILE, not both")
    if code and not config:
        raise InputError("--code goes with --config (it tells what the device's code does with that build)")
    if config:
        device = from_config(config, mbedtls_version, esp_idf_version, code)
    elif log:
        device = from_log(log, mbedtls_version)
    else:
        device = from_preset(str(preset))
    roots = None
    if ca is not None:
        from tlsdiag.probe.trust import read_roots

        roots = read_roots(ca)
    if server_profile is not None:
        from tlsdiag.probe.reports import read_report

        profile = read_report(server_profile)
        if server_name:
            profile.server_name = server_name
    else:
        profile = _scan(str(target), server_name, save_scan)
    trust = None
    if roots is not None:
        from tlsdiag.probe.trust import check

        trust = check(profile.certificates, roots) if profile.certificates else None
    return profile, device, match(profile, device, trust, ca)


def _scan(target: str, server_name: str | None, save_scan: str | None) -> ServerProfile:
    from tlsdiag.probe.scan import parse_target, scan

    host, port = parse_target(target)
    with _progress() as say:
        profile, document = scan(host, port, server_name, say)
    if save_scan:
        try:
            with open(save_scan, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
        except OSError as error:
            raise InputError(f"cannot write {save_scan}: {error.strerror or error}") from None
    return profile


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal (rich, which typer brings); silence otherwise."""
    if not sys.stderr.isatty():
        yield lambda _message: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("scanning") as status:
        yield lambda message: status.update(f"{message} ...")
