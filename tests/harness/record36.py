"""Record every mbedTLS 3.6 scenario's runs as fixtures, so that rule tests need no build.

``python -m tests.harness.record36 tests/fixtures/realtls36`` (with ``TLSDIAG_MBEDTLS_SRC`` set) runs
each scenario's failing and working run at debug levels 1 and 4, writes the logs as
``<scenario>/{bad,good}.level{1,4}.log`` (``.log.xz`` past :data:`COMPRESS_ABOVE` bytes; nothing is
trimmed) and a ``case.json`` beside them: what differs, the call and code the library printed, the
alerts, the right category, cause and fix, what the runs really show, and what tlsdiag said about
the logs when they were recorded.
"""

from __future__ import annotations

import json
import lzma
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.harness import pki, scenarios36, source_build
from tests.harness.scenarios36 import SCENARIOS, Capture, Scenario, Side

LEVELS = (1, 4)
COMPRESS_ABOVE = 64 * 1024
ALERT_SENT = re.compile(r"send alert level=(\d) message=(\d+)")
ALERT_RECEIVED = re.compile(r"got an alert message, type: \[(\d):(\d+)\]")


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print("usage: python -m tests.harness.record36 OUTPUT_DIRECTORY", file=sys.stderr)
        return 2
    reason = source_build.unavailable_reason()
    if reason:
        print(f"cannot record: {reason}", file=sys.stderr)
        return 2
    output = Path(arguments[0])
    with tempfile.TemporaryDirectory(prefix="record36-") as scratch:
        work = Path(scratch)
        tools = scenarios36.Tools(_clients(), pki.generate(work / "certs"), shutil.which("openssl") or "openssl")
        for scenario in SCENARIOS:
            _record(scenario, tools, work, output / scenario.name)
            print(f"recorded {scenario.name}")
    return 0


def _clients() -> dict[str, Path]:
    clients = {}
    for name, configuration in scenarios36.CONFIGURATIONS.items():
        built = source_build.build(configuration)
        if built.client is None:
            raise SystemExit(f"cannot build {name}: {built.reason}")
        clients[name] = built.client
    return clients


def _record(scenario: Scenario, tools: scenarios36.Tools, work: Path, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.log*"):
        stale.unlink()
    files, captures = [], {}
    for level in LEVELS:
        for which in ("bad", "good"):
            side: Side = getattr(scenario, which)
            log = work / f"{which}.level{level}.log"
            capture = scenarios36.run(side, tools, log, {"debug_level": str(level)})
            captures[(which, level)] = capture
            files.append(_save(capture, side, tools, directory, f"{which}.level{level}.log", level))
    bad4 = captures[("bad", 4)].text
    case = {
        "scenario": scenario.differs,
        "name": scenario.name,
        "mbedtls_version": f"{_version()} (built from source with tests/harness/source_build.py)",
        "client": "tlsclient (tests/harness/tlsclient.c) linked statically against that build",
        "configuration": {"bad": _configuration(scenario.bad), "good": _configuration(scenario.good)},
        "what_differs": scenario.differs,
        "expected_error_codes": [scenario.code] if scenario.code else [],
        "expected_code_names": [scenario.code_name] if scenario.code_name else [],
        "final_return": [{"call": scenario.call, "printed": scenario.code}] if scenario.call else [],
        "good_final_return": [],
        "category": scenario.category,
        "cause": scenario.cause,
        "fix": scenario.fix,
        "step": scenario.step,
        "alert": _alerts(bad4),
        "notes": scenario.notes,
        "files": files,
        "tlsdiag_at_recording": _tlsdiag(directory, captures),
    }
    (directory / "case.json").write_text(json.dumps(case, indent=2) + "\n", encoding="utf-8")


def _save(capture: Capture, side: Side, tools: scenarios36.Tools, directory: Path, name: str, level: int) -> dict:
    data = capture.text.encode("utf-8")
    target = directory / name
    if len(data) > COMPRESS_ABOVE:
        target = directory / f"{name}.xz"
        target.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    else:
        target.write_bytes(data)
    command = scenarios36.client_command(side, tools, 0, {"debug_level": str(level)})
    certificates = str(tools.pki.ca.parent)
    return {
        "file": target.name,
        "bytes": len(data),
        "debug_level": level,
        "client_exit": capture.exit_code,
        "client_cmd": " ".join(["tlsclient", *command[2:]]).replace(certificates, "certs"),
        "server_cmd": _server_command(side, capture).replace(certificates, "certs"),
        "final_return": [capture.returned] if capture.returned else [],
    }


def _server_command(side: Side, capture: Capture) -> str:
    kind, arguments = side.server
    if kind == "listener":
        return f"python listener ({arguments[0]}), tests/harness/servers.py"
    first = capture.server[0] if capture.server else ""
    return re.sub(r"-accept \S+", "-accept 127.0.0.1:PORT", first.replace(shutil.which("openssl") or "", "openssl"))


def _configuration(side: Side) -> dict:
    configuration = scenarios36.CONFIGURATIONS[side.configuration]
    return {"name": configuration.name, "why": configuration.why, "user_config": list(configuration.lines)}


def _alerts(text: str) -> list[dict]:
    alerts = [
        {"direction": "sent", "level": int(level), "number": int(number)} for level, number in ALERT_SENT.findall(text)
    ]
    alerts += [
        {"direction": "received", "level": int(level), "number": int(number)}
        for level, number in ALERT_RECEIVED.findall(text)
    ]
    return alerts


def _tlsdiag(directory: Path, captures: dict[tuple[str, int], Capture]) -> dict:
    """Top finding and diff step per level, as tlsdiag reported them when the fixtures were recorded."""
    said = {}
    for level in LEVELS:
        bad = directory / _stored(directory, f"bad.level{level}.log")
        good = directory / _stored(directory, f"good.level{level}.log")
        diagnosis = _json("diagnose", str(bad))
        diff = _json("diff", str(good), str(bad))
        findings = diagnosis.get("findings") or []
        top = findings[0] if findings else {}
        divergence = diff.get("first_divergence") or {}
        said[f"level{level}"] = {
            "top_rule": top.get("rule"),
            "category": top.get("category"),
            "confidence": top.get("confidence"),
            "diff_step": divergence.get("step"),
            "diff_description": divergence.get("description"),
        }
    return said


def _stored(directory: Path, name: str) -> str:
    return name if (directory / name).exists() else f"{name}.xz"


def _json(*arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tlsdiag", *arguments, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}


def _version() -> str:
    built = source_build.build(scenarios36.CONFIGURATIONS["default"])
    return built.version or "unknown"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
