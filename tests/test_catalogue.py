"""The message catalogues and their matcher: real log records are recognised with the right id, behind any envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tlsdiag.analysis.parse import dispatch, envelopes
from tlsdiag.analysis.parse.catalogue import Catalogue, CatalogueEntry, debug_catalogue, esp_idf_catalogue, match
from tlsdiag.analysis.parse.printf import Conversion, parts, words
from tlsdiag.analysis.read import open_input

KNOWLEDGE = ROOT / "knowledge"
MESSAGES = json.loads((KNOWLEDGE / "debug" / "messages.json").read_text())["message"]
LIBRARY_FILES = {site["file"].rsplit("/", 1)[-1] for entry in MESSAGES for site in entry["sites"]}
SITE_FILES = {entry["id"]: {site["file"].rsplit("/", 1)[-1] for site in entry["sites"]} for entry in MESSAGES}


def _logs() -> list[Path]:
    found = [
        *sorted((FIXTURES / "corpus").glob("*/*.log")),
        *sorted((FIXTURES / "realworld").glob("*/*.log")),
        *sorted((FIXTURES / "seeds").glob("*.log")),
        *sorted((FIXTURES / "seeds").glob("*.txt")),
        *sorted((FIXTURES / "logs").glob("*.log")),
    ]
    assert found
    return found


def _series(path: Path) -> str | None:
    """The mbedTLS series a corpus log was recorded with (its folder says ``-v2.28`` / ``-v3.6``)."""
    for series in ("2.28", "3.6"):
        if path.parent.name.endswith(f"-v{series}"):
            return series
    return None


def _debug_records(path: Path):
    """Every mbedTLS debug message of a log: records whose envelope names a library file.

    Hex and number dump lines and the x509 info lines of a certificate dump continue a BUF/MPI/CRT
    record; the parser reads them itself, so they are not catalogue messages.
    """
    with open_input(str(path)) as log:
        for number, text in log:
            for record in envelopes.split_glued(text):
                env, message, debug = envelopes.frame(record, number, text)
                if not debug or env.source_file not in LIBRARY_FILES or not message.strip():
                    continue
                if dispatch.DUMP_LINE.match(message) or dispatch.MPI_LINE.fullmatch(message.rstrip()):
                    continue
                if dispatch.debug_rule(message) in ("cert_field", "san_entry"):
                    continue
                yield env, message, record


@pytest.mark.parametrize("path", _logs(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_debug_record_is_recognised_with_a_site_of_its_file(path):
    """With its envelope's hints, a record is an entry printed from that file, at that level, in that version."""
    series = _series(path)
    problems = []
    for env, message, record in _debug_records(path):
        found = debug_catalogue().match(message, env.level, env.source_file)
        if found is None:
            problems.append(f"{env.line}: not recognised: {message}")
            continue
        if found.truncated:
            problems.append(f"{env.line}: {found.id} only as a cut line: {message}")
        if not found.entry.generic and env.source_file not in SITE_FILES[found.id]:
            problems.append(f"{env.line}: {found.id} is not printed from {env.source_file}: {message}")
        if series and series not in found.versions:
            problems.append(f"{env.line}: {found.id} does not exist in {series}: {message}")
        bare = debug_catalogue().match(record)
        if bare is None or bare.id != found.id:
            problems.append(f"{env.line}: the whole line reads as {bare and bare.id}, not {found.id}: {record}")
    assert not problems, "\n".join(problems[:20])


def test_the_corpus_covers_every_kind_of_entry():
    kinds = set()
    for path in _logs():
        for env, message, _ in _debug_records(path):
            found = debug_catalogue().match(message, env.level, env.source_file)
            if found is not None:
                kinds.add(found.kind)
    assert kinds >= {"msg", "ret", "buf", "crt", "mpi"}


@pytest.mark.parametrize(
    ("line", "entry", "values"),
    [
        ("bad message length", "ssl.bad-message-length", ()),
        ("ssl_tls.c:4094: |1| bad message length", "ssl.bad-message-length", ()),
        (r"C:\mbedtls\library\ssl_msg.c:4094: bad message length", "ssl.bad-message-length", ()),
        ("../Middlewares/Third_Party/mbedTLS/library/ssl_tls.c:4094: bad message length", "ssl.bad-message-length", ()),
        ("[00:01:02.345] <tls_task> bad message length", "ssl.bad-message-length", ()),
        ("[mbedtls] x509_verify_cert() returned -9984 (-0x2700)", "ret.x509_verify_cert", (-9984, 0x2700)),
        ("0x7ffd4dc7cdc0: dumping 'input record from network' (5 bytes)", "buf.input-record-from-network", (5,)),
        ("I (1234) mbedtls: ssl_cli.c:3400 got no certificate request", "ssl.got-certificate-request", ("no",)),
        ("ssl_tls13_client.c:2100: |3| got no certificate request", "ssl.got-no-certificate-request", ()),
        ("peer certificate #1:", "crt.peer-certificate", (1,)),
        ("value of 'crt->rsa.N' (2048 bits) is:", "mpi.any", ("crt->rsa.N", 2048)),
        ("value of 'ECDH: Q(Y)' (256 bits) is:", "ecp.ecdh-q", (256,)),
        ("mbedtls_ssl_flush_output() returned -26880 (-0x6900)", "ret.mbedtls_ssl_flush_output", (-26880, 0x6900)),
        ("some_vendor_call() returned -1 (-0x0001)", "ret.any", ("some_vendor_call", -1, 1)),
        ("in_left: 0, nb_want: 5", "ssl.in-left-nb-want", (0, 5)),
        ("in_left: zu, nb_want: zu", "ssl.in-left-nb-want", ("zu", "zu")),  # a printf without %zu
        ("DN hint: O=tlsdiag test, CN=Root", "ssl.dn-hint", ("O=tlsdiag test, CN=Root",)),
        ("=> ssl_tls13_process_server_hello", "ssl.enter.printf-b79c4ecb", ("ssl_tls13_process_server_hello",)),
    ],
)
def test_lines_behind_any_envelope(line, entry, values):
    found = match(line)
    assert found is not None and found.id == entry, found
    assert found.values == values
    assert not found.truncated
    assert line[found.start :].lstrip().startswith(found.format.split("%")[0].lstrip()[:6])


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("=> write client hel", "ssl.enter.write-client-hello"),  # serial cut in the last word
        ("bad message le", "ssl.bad-message-length"),
        ("in_left: 5", "ssl.in-left-nb-want"),  # cut after the first value
        ("dumping 'input record from netw", "buf.input-record-from-network"),
        ("value of 'crt->rsa.N' (20", "mpi.any"),
    ],
)
def test_cut_lines_are_recognised_as_cut(line, entry):
    found = match(line)
    assert found is not None and found.id == entry and found.truncated


def test_a_message_cut_at_the_debug_buffer_cap_keeps_its_id():
    name = "x" * 600
    line = f"client hello, adding server name extension: {name}"[:510]
    found = match(line)
    assert found is not None and found.id == "ssl.client-hello-adding-server-name-extension"


def test_an_ambiguous_cut_names_the_alternatives():
    found = match("dumping 'inp")
    assert found is not None and found.truncated
    assert "buf.input-record-from-network" in {found.id, *found.alternatives}
    assert len(found.alternatives) >= 1


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello world",
        "bad messa",  # too little of the message to tell
        "I am getting bad message length errors since yesterday",
        "0000:  16 03 03 00 4a 02 00 00 46 03 03 5f 6e 1d 2a 9c  ....J...F.._n.*.",
        " 00 d4 7f 12 9a",
        "(7780): SSL - A fatal alert message was received from our peer",  # a format with no words of its own
        "log: handshake write message zz",  # "message %scomplete" would need the %s to swallow the rest
    ],
)
def test_text_that_is_no_library_message(line):
    assert match(line) is None


@pytest.mark.parametrize(
    ("line", "level", "entry"),
    [
        ("Failed to verify peer certificate!", "I", "esp-tls.failed-to-verify-peer-certificate"),
        ("mbedtls_ssl_handshake returned -0x7280", "E", "esp-tls.mbedtls-ssl-handshake-returned-0x"),
        ("No matching trusted root certificate found", "E", "mbedtls.no-matching-trusted-root-certificate-found"),
        ("Failed to open HTTP connection: ESP_ERR_HTTP_CONNECT", "E", "esp-https-ota.failed-to-open-http-connection"),
        ("host:global.azure-devices-provisioning.net: strlen 37", "D", "esp-tls.host-strlen"),
        ("read error :-76:", "E", "esp-tls.read-error"),
    ],
)
def test_esp_idf_tls_messages(line, level, entry):
    found = match(f"E (10770) esp-tls: {line}")
    assert found is not None and found.id == entry
    assert found.entry.source == "esp-idf"
    assert esp_idf_catalogue().match(line, level).id == entry


#: records of fixture logs from an ESP-IDF newer than the newest release the reference tables cover (v5.5.5):
#: their wording is not in the catalogue, and nothing is to be inferred from that
NEWER_THAN_THE_REFERENCE = {
    # esp-idf-19099 is a master-branch build (dated timestamps, bracketed tags): the server side's
    # "Setting server TLS version to 0x%4x" is in no tagged release up to v5.5.5
    ("esp-idf-19099.log", 8),
}


def test_the_esp_idf_records_of_the_fixtures_are_recognised():
    tags = {
        logged["tag"]
        for entry in json.loads((KNOWLEDGE / "platforms" / "esp-tls-messages.json").read_text())["message"]
        for logged in entry["logged"]
    }
    seen, missed = 0, []
    for path in _logs():
        with open_input(str(path)) as log:
            for number, text in log:
                env, message, debug = envelopes.frame(text, number, text)
                if env.dialect != "esp-idf" or debug or env.tag not in tags or env.tag == "bignum":
                    continue
                seen += 1
                if (path.name, number) in NEWER_THAN_THE_REFERENCE:
                    continue
                if esp_idf_catalogue().match(message, env.level) is None:
                    missed.append(f"{path.name}:{number}: {text}")
    assert seen >= 100
    assert not missed, "\n".join(missed)


def test_level_and_file_hints_settle_a_text_that_fits_two_entries():
    text = "got no certificate request"
    assert match(text, "3", "ssl_cli.c").id == "ssl.got-certificate-request"
    assert match(text, "3", "ssl_tls13_client.c").id == "ssl.got-no-certificate-request"


def test_ids_come_from_the_words_of_the_message():
    ids = {entry["id"] for entry in MESSAGES}
    for expected in (
        "ssl.bad-message-length",
        "ret.x509_verify_cert",
        "buf.input-record-from-network",
        "crt.peer-certificate",
        "ssl.enter.write-client-hello",
        "ssl.leave.write-client-hello",
        "ssl.unknown-record-type",
        "ssl.tls-handshake-fragmentation-not-supported",
    ):
        assert expected in ids


def test_call_sites_that_differ_only_in_conversions_share_an_entry():
    entry = next(entry for entry in MESSAGES if entry["id"] == "ssl.in-left-nb-want")
    formats = {item["text"] for item in entry["formats"]}
    assert "in_left: %d, nb_want: %d" in formats and "in_left: %zu, nb_want: %zu" in formats
    assert {"2.16", "2.28", "3.6"} <= set(entry["versions"])


def test_printf_parts_and_words():
    assert parts("%s() returned %d (-0x%04x)") == (
        Conversion("%s", "str"),
        "() returned ",
        Conversion("%d", "int"),
        " (-0x",
        Conversion("%04x", "hex"),
        ")",
    )
    assert parts("DN hint: %.*s 100%%") == ("DN hint: ", Conversion("%.*s", "str"), " 100%")
    assert parts("offset 0x%{PRIx32}, len %{PRIu32}")[1] == Conversion("%{PRIx32}", "hex")
    assert words("found max_fragment_length extension") == words("found max fragment length extension")


def test_matches_are_memoised_and_a_catalogue_can_be_built_from_entries():
    entry = CatalogueEntry("ssl.x", "msg", "mbedtls-debug", ("1",), ("3.6",), ("widget failed: %d",), ("ssl_x.c",))
    catalogue = Catalogue([entry])
    first = catalogue.match("widget failed: 7")
    assert first is not None and first.values == (7,)
    assert catalogue.match("widget failed: 7") is first
    assert catalogue.match("gadget failed: 7") is None
