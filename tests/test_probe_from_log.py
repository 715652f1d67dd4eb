"""tlsdiag probe --log: what the device offers is read from the ClientHello its log shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_cli
from tlsdiag.probe.device import from_log

FIXTURES = Path(__file__).parent / "fixtures"
LOG_2_28 = FIXTURES / "corpus" / "01-unknown-ca-v2.28" / "bad.log"
LOG_3_6 = FIXTURES / "corpus" / "01-unknown-ca-v3.6" / "bad.log"
SCAN = FIXTURES / "probe" / "scans" / "rsa-tls12-13.sslyze.json"

#: ``client hello, add ciphersuite: 0xcca8 (...)`` (``%#04x``: ``0x9f`` too): the suites the library printed
_ADDED_SUITE = re.compile(r"add ciphersuite: 0x([0-9a-fA-F]{1,4})\b")
_HEX_DUMP = re.compile(r"dumping '|[0-9a-f]{4}:  ")


def _printed_suites(text: str) -> list[int]:
    return [int(match.group(1), 16) for match in _ADDED_SUITE.finditer(text)]


def test_probe_with_a_device_log_gives_a_verdict():
    result = run_cli("probe", "--log", str(LOG_3_6), "--server-profile", str(SCAN))
    assert result.returncode == 0, result.stderr
    assert f"device: {LOG_3_6}" in result.stdout
    assert "Verdict: connects" in result.stdout


def test_a_decoded_client_hello_gives_versions_suites_and_server_name():
    observed = from_log(str(LOG_3_6)).observed
    assert observed is not None
    assert observed.versions == ["TLS1.3", "TLS1.2"]
    assert set(_printed_suites(LOG_3_6.read_text())) <= set(observed.suites or ())
    assert observed.groups, "a decoded hello shows its groups"
    assert observed.server_name == "localhost" and observed.sni_shown


def test_a_client_hello_shown_only_by_debug_lines(tmp_path):
    text = LOG_2_28.read_text()
    without_dumps = tmp_path / "no-dumps.log"
    without_dumps.write_text("".join(line for line in text.splitlines(keepends=True) if not _HEX_DUMP.search(line)))
    observed = from_log(str(without_dumps)).observed
    assert observed is not None
    assert observed.suites == _printed_suites(text)
    assert observed.versions == ["TLS1.0", "TLS1.1", "TLS1.2"]  # max version [3:3]
    assert observed.groups is None and not observed.sni_shown  # not decoded from bytes: unknown, not absent
