"""The resources / network / hardware rule family: its predicates, its ranking against other families,
that working runs stay quiet, and that every option its fixes name exists.

The real-log cases are data in tests/fixtures/rules/cases-resources.toml (run by tests/test_rules.py).
The small logs written here are synthetic on purpose: each holds exactly the lines of one documented
format (esp-tls messages from tests/fixtures/reference/esp-tls-log-messages.tsv) to test one predicate.
"""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import CORPUS, FIXTURES, REFERENCE, ROOT, SEEDS, read_tsv
from tlsdiag.analysis import events
from tlsdiag.analysis.pipeline import analyse
from tlsdiag.analysis.sessions import Session
from tlsdiag.analysis.summary import summarise
from tlsdiag.codes import default_scope
from tlsdiag.knowledge import load
from tlsdiag.rules import diagnose, subject_for
from tlsdiag.rules.predicates import PREDICATES, Subject, load_predicate_modules

load_predicate_modules()  # the family predicates register themselves on import

RULE_FILES = [ROOT / "knowledge" / "rules" / "resources.toml", ROOT / "knowledge" / "rules" / "network.toml"]
FAMILY = {rule["id"] for path in RULE_FILES for rule in tomllib.loads(path.read_text())["rule"]}


def _analysis(path, mbedtls_version=None):
    analysis = analyse(str(path))
    if mbedtls_version:
        analysis.override_version(mbedtls_version)
    return analysis


def _subject(path) -> Subject:
    load_predicate_modules()
    analysis = _analysis(path)
    return subject_for(analysis.primary_attempt, analysis.context)


def _log(tmp_path, text: str, name: str = "device.log"):
    path = tmp_path / name
    path.write_text(text)
    return path


#: an ESP-IDF mbedTLS debug line that opens an attempt (debug output on), so that the lines after it belong to it
HANDSHAKE = "I (4200) mbedtls: ssl_tls.c:8084 => handshake\n"


def _ids(findings):
    return [finding.rule for finding in findings]


# --- predicates ----------------------------------------------------------------------------------------------


def test_esp_error_reads_positive_esp_tls_codes(tmp_path):
    path = _log(tmp_path, "I (5332) MQTT_EXAMPLE: Last esp error code: 0x8001\n")
    match = PREDICATES["esp_error"](_subject(path), ["ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME"])
    assert match is not None
    assert match.facts["esp_error"] == "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME"
    assert PREDICATES["esp_error"](_subject(path), ["ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST"]) is None


def test_defined_error_ignores_half_readings():
    """MicroPython's -2880 (decimal) has no defined high part: neither predicate reads its low part alone."""
    subject = _subject(FIXTURES / "logs" / "micropython.log")
    entropy = ["MBEDTLS_ERR_ENTROPY_NO_SOURCES_DEFINED"]
    assert PREDICATES["error"](subject, entropy) is None
    assert PREDICATES["defined_error"](subject, entropy) is None
    assert "TLS-RNG-001" not in _ids(diagnose(_analysis(FIXTURES / "logs" / "micropython.log")))


def test_allocation_failed_sees_composites_texts_and_context(tmp_path):
    subject = _subject(FIXTURES / "logs" / "espruino-pico.log")
    match = PREDICATES["allocation_failed"](subject, True)
    assert match is not None and match.facts["error_name"] == "MBEDTLS_ERR_MPI_ALLOC_FAILED"
    assert PREDICATES["allocation_failed"](subject, False) is None
    path = _log(tmp_path, f"{HANDSHAKE}E (4210) esp-tls-mbedtls: alloc(16717 bytes) failed\n")
    match = PREDICATES["allocation_failed"](_subject(path), True)
    assert match is not None and match.facts["alloc_size"] == 16717


@pytest.mark.parametrize("folder", ["15-read-timeout-stalled-server-v2.28", "26-connection-refused-v2.28"])
def test_allocation_failed_is_false_without_memory_trouble(folder):
    path = CORPUS / folder / "bad.log"
    assert PREDICATES["allocation_failed"](_subject(path), False) is not None


def test_final_error_kind_prefers_the_reading_of_the_stack():
    """-0x7 is lwIP's ERR_WOULDBLOCK elsewhere, WIZnet's SOCKERR_SOCKSTATUS on Espruino."""
    match = PREDICATES["final_error_kind"](_subject(FIXTURES / "logs" / "espruino-wiznet-7.log"), ["transport"])
    assert match is not None
    assert match.facts["transport_name"] == "SOCKERR_SOCKSTATUS"
    assert PREDICATES["final_error_kind"](_subject(FIXTURES / "logs" / "espruino-pico.log"), ["transport"]) is None


def test_wrapper_error_finds_the_socket_api_summary():
    subject = _subject(FIXTURES / "logs" / "mbed-os.log")
    match = PREDICATES["wrapper_error"](subject, ["transport"])
    assert match is not None
    assert (match.facts["wrapper_name"], match.facts["error"]) == ("NSAPI_ERROR_AUTH_FAILURE", "-0x7200")


def test_handshake_progress_names_the_message_never_received():
    path = CORPUS / "15-read-timeout-stalled-server-v2.28" / "bad.log"
    assert PREDICATES["handshake_progress"](_subject(path), True).facts.get("waiting_for") == "ServerHello"
    level1 = PREDICATES["handshake_progress"](_subject(path.with_name("bad.level1.log")), True)
    assert level1 is not None and "waiting_for" not in level1.facts


def test_context_detail_gives_the_host():
    session = Session(index=0, first_line=1)
    envelope = events.Envelope(1, "esp-idf", "E (5312) esp-tls: couldn't get hostname for :broker.example.invalid:")
    session.context_events.append(events.Context(envelope, "dns-failed", None, "broker.example.invalid"))
    load_predicate_modules()
    subject = Subject(summarise(session, default_scope(load())), "esp-idf", (), default_scope(load()))
    match = PREDICATES["context_detail"](subject, ["dns-failed"])
    assert match is not None and match.facts["context_detail"] == "broker.example.invalid"
    assert PREDICATES["context_detail"](subject, ["connect-failed"]) is None


# --- rules on esp-tls formats (synthetic lines in the documented esp-tls wording) ----------------------------

ESP_TLS_DNS_FAILURE = (
    "E (5312) esp-tls: couldn't get hostname for :broker.example.invalid: getaddrinfo() returns 202, addrinfo=0x0\n"
    "E (5312) esp-tls: Failed to open new connection\n"
    "E (5322) TRANS_SSL: Failed to open a new connection\n"
    "E (5322) MQTT_CLIENT: Error transport connect\n"
    "I (5332) MQTT_EXAMPLE: Last esp error code: 0x8001\n"
)
ESP_TLS_CONNECT_FAILURE = (
    "E (7413) esp-tls: Failed to connect to host (errno 113)\nE (7413) esp-tls: Failed to open new connection\n"
)


def test_esp_tls_dns_failure_by_its_esp_err_code(tmp_path):
    assert diagnose(_analysis(_log(tmp_path, ESP_TLS_DNS_FAILURE)))[0].rule == "TLS-NET-001"


def test_esp_tls_context_lines_make_an_attempt(tmp_path):
    dns = diagnose(_analysis(_log(tmp_path, ESP_TLS_DNS_FAILURE, "dns.log")))
    assert "broker.example.invalid" in dns[0].explanation
    connect = diagnose(_analysis(_log(tmp_path, ESP_TLS_CONNECT_FAILURE, "connect.log")))
    assert connect and connect[0].rule == "TLS-NET-002"


def test_esp_tls_connect_failure_inside_an_attempt(tmp_path):
    path = _log(tmp_path, HANDSHAKE + ESP_TLS_CONNECT_FAILURE)
    assert diagnose(_analysis(path))[0].rule == "TLS-NET-002"


# --- ranking against other families --------------------------------------------------------------------------


def test_verify_failure_with_allocation_failures_is_memory(tmp_path):
    """-0x2700 next to failed allocations: the heap ran out, the trust problem is only what it looked like."""
    path = _log(
        tmp_path,
        f"{HANDSHAKE}E (4210) esp-tls-mbedtls: alloc(16717 bytes) failed\n"
        "E (4230) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\n"
        "I (4231) esp-tls-mbedtls: Failed to verify peer certificate!\n"
        "I (4232) esp-tls-mbedtls: verification info:   ! The certificate is not correctly signed by the trusted CA\n"
        "E (4240) esp-tls: Failed to open new connection\n",
    )
    findings = diagnose(_analysis(path))
    assert findings[0].rule == "TLS-MEM-001", [(f.rule, f.confidence) for f in findings]


def test_watchdog_ranks_above_the_crash_it_causes():
    findings = diagnose(_analysis(SEEDS / "004_c3193eb0ee660454.txt"))
    ids = _ids(findings)
    assert ids.index("TLS-HW-001") < ids.index("TLS-HW-003")
    # the crash is the same cause as the watchdog: one finding, which names the crash rule as agreeing
    assert any(clue.startswith("TLS-HW-002 ") for clue in findings[ids.index("TLS-HW-001")].clues)


def test_platform_fixes_follow_the_stack():
    """Espruino sees no sdkconfig or Zephyr option; the memory finding keeps the config.h and code fixes."""
    top = diagnose(_analysis(FIXTURES / "logs" / "espruino-pico.log"))[0]
    targets = {fix.target for fix in top.fixes}
    assert "sdkconfig" not in targets and "zephyr-kconfig" not in targets
    assert {"mbedtls-config", "code", "server"} <= targets


# --- working runs stay quiet ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder",
    [
        "15-read-timeout-stalled-server-v2.28",
        "15-read-timeout-stalled-server-v3.6",
        "25-entropy-source-failed-v2.28",
        "26-connection-refused-v2.28",
    ],
)
def test_good_runs_have_no_failure_of_this_family(folder):
    path = CORPUS / folder / "good.log"
    failures = [f.rule for f in diagnose(_analysis(path)) if f.rule in FAMILY and f.severity == "failure"]
    assert not failures


# --- every option named in a fix exists ----------------------------------------------------------------------

#: ESP-IDF options outside the mbedTLS / esp-tls Kconfig extracted in tests/fixtures/reference, checked by hand
#: against ESP-IDF's Kconfig files: task watchdog (esp_common 4.x, esp_system 5.x), main task stack,
#: and the ESP32 PSRAM cache workaround (esp32 4.x, esp_psram 5.x).
OTHER_ESP_IDF_OPTIONS = {
    "CONFIG_ESP_TASK_WDT_TIMEOUT_S",
    "CONFIG_ESP_MAIN_TASK_STACK_SIZE",
    "CONFIG_SPIRAM_CACHE_WORKAROUND",
}


def _fixes():
    for path in RULE_FILES:
        for rule in tomllib.loads(path.read_text())["rule"]:
            for fix in rule.get("fixes", ()):
                if fix.get("option"):
                    yield rule["id"], fix["target"], fix["option"]


def test_sdkconfig_options_exist():
    tables = ["esp-idf-mbedtls-kconfig.tsv", "esp-idf-other-kconfig.tsv"]
    known = {row["name"] for table in tables for row in read_tsv(REFERENCE / table)} | OTHER_ESP_IDF_OPTIONS
    unknown = [(rule, option) for rule, target, option in _fixes() if target == "sdkconfig" and option not in known]
    assert not unknown


def test_mbedtls_config_options_exist():
    table = REFERENCE / "mbedtls-config-options.tsv"
    known = {row["name"] for row in read_tsv(table)}
    unknown = [
        (rule, option) for rule, target, option in _fixes() if target == "mbedtls-config" and option not in known
    ]
    assert not unknown
