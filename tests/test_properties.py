"""Bad input never crashes the pipeline: random bytes and mutated real logs give a result or an InputError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, FIXTURES, REALWORLD, SEEDS, fixture_files
from tlsdiag.errors import InputError

#: The head of every real log kept in the repository: device logs, the corpus's failing runs, forum threads
#: and real-world pastes, so that a mutation can land in any dialect tlsdiag reads.
SAMPLES = [
    path.read_bytes()[:20000]
    for path in [
        *fixture_files(FIXTURES / "logs", "*.log"),
        *fixture_files(CORPUS, "*/bad.log"),
        *fixture_files(SEEDS, "*.txt"),
        *fixture_files(REALWORLD, "*/*.log"),
    ]
]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(data: bytes, tmp_path_factory) -> None:
    from tlsdiag import core
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.report.diagnose import diagnose_document

    path = tmp_path_factory.mktemp("prop") / "input.log"
    path.write_bytes(data)
    try:
        analysis = analyse(str(path))
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    document = diagnose_document(core.diagnose(analysis))
    json.dumps(document)  # serialisable: no bytes or objects leak into the report
    assert document["input"]["recognized_lines"] <= document["input"]["lines"]


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_random_bytes(data, tmp_path_factory):
    _run(data, tmp_path_factory)


@SETTINGS
@given(
    sample=st.sampled_from(SAMPLES),
    cuts=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=200)), max_size=6),
    noise=st.binary(max_size=64),
)
def test_mutated_real_logs(sample, cuts, noise, tmp_path_factory):
    data = bytearray(sample)
    for position, length in cuts:  # cut out pieces: truncated dumps, half records, lost newlines
        if data:
            start = position % len(data)
            del data[start : start + length]
            data[start:start] = noise[: length % 16]
    _run(bytes(data), tmp_path_factory)


@SETTINGS
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "ssl_msg.c:2031: |4| dumping 'input record from network' (16389 bytes)",
                "ssl_msg.c:2031: |4| 0000:  16 03 03 40 00 0b 00 3f fc 00 3f f9 00 05 a6 30  ....@..?..?....0",
                "ssl_msg.c:2031: |4| 0000:  16 03 03 ff ff",
                "ssl_tls.c:5804: |2| 0x7ffc4dc7cdc0: => handshake",
                "E (10770) esp-tls: mbedtls_ssl_handshake returned -0x7500",
                "[E][ssl_client.cpp:36] _handle_error(): [start_ssl_client():199]: (-29312) SSL - The connection "
                "indicated an EOF",
                "-----BEGIN CERTIFICATE-----",
                "MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF",
                "peer certificate #1:",
                "subject name      : CN=x",
                "OSError: (-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')",
                "[00:00:08.217,000] <err> net_sock_tls: TLS handshake error: -4290",
                "\x1b[0;31mE (1) esp-tls: Failed to verify peer certificate!\x1b[0m",
            ]
        ),
        max_size=60,
    )
)
def test_every_dialect_mixed(lines, tmp_path_factory):
    _run("\n".join(lines).encode(), tmp_path_factory)
