"""Every written form of a code from the contract is read, and ambiguous forms give every reading."""

from __future__ import annotations

import pytest

from tlsdiag import codes
from tlsdiag.forms import CodeSyntaxError
from tlsdiag.knowledge import load

CONN_EOF = -0x7280


def first(text: str, **scope_args: str):
    knowledge = load()
    return codes.explain(text, codes.default_scope(knowledge, **scope_args), knowledge)


@pytest.mark.parametrize(
    "text",
    [
        "-0x7280",
        "-0X7280",
        "0x7280",
        "-7280",
        "-29312",
        "29312",
        "FFFF8D80",
        "0xFFFF8D80",
        "ffff8d80",
        "4294937984",
        "MBEDTLS_ERR_SSL_CONN_EOF",
        "SSL_CONN_EOF",
        "mbedtls_err_ssl_conn_eof",
        "SSL - The connection indicated an EOF",
        "(-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')",
        "`-0x7280`",
        "(-0x7280)",
        "-0x7280.",
    ],
)
def test_all_forms_of_conn_eof(text):
    decoded = first(text)
    assert decoded[0].value == CONN_EOF
    names = [part.name for part in decoded[0].interpretations[0].parts]
    assert names == ["MBEDTLS_ERR_SSL_CONN_EOF"]


def test_hex_without_0x_and_decimal_are_both_offered_likeliest_first():
    decoded = first("-4290")
    assert [item.value for item in decoded] == [-0x4290, -4290]
    assert any("read as" in note for note in decoded[0].notes)
    assert decoded[1].interpretations[0].plausibility < decoded[0].interpretations[0].plausibility


def test_decimal_reading_wins_when_it_is_the_defined_one():
    decoded = first("-29312")
    assert [item.value for item in decoded] == [CONN_EOF]


def test_esp_tls_codes_by_value_and_name():
    by_value = first("0x8010")
    assert by_value[0].kind == "esp-tls"
    names = {part.name for interpretation in by_value[0].interpretations for part in interpretation.parts}
    assert names == {"ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED", "ESP_ERR_MBEDTLS_CERT_PARTLY_OK"}
    by_name = first("ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED")
    assert {item.value for item in by_name} == {0x8010, 0x801A}


def test_esp_idf_version_pins_the_esp_tls_value():
    decoded = first("0x8010", esp_idf_version="4.0")
    assert [part.name for part in decoded[0].interpretations[0].parts] == ["ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED"]
    assert len(decoded[0].interpretations) == 1


def test_composite_printed_text():
    decoded = first("RSA - The public key operation failed : BIGNUM - Memory allocation failed")
    assert decoded[0].value == -0x4290


def test_unknown_error_code_text():
    decoded = first("UNKNOWN ERROR CODE (0007)")
    assert decoded[0].value == -0x0007


def test_micropython_tuple_with_wrong_name_says_so():
    decoded = first("(-29312, 'MBEDTLS_ERR_SSL_WANT_READ')")
    assert decoded[0].value == CONN_EOF
    assert any("MBEDTLS_ERR_SSL_WANT_READ" in note for note in decoded[0].notes)


def test_name_with_a_different_value_in_4x_gives_both_values():
    decoded = first("MBEDTLS_ERR_SSL_ALLOC_FAILED")
    assert [item.value for item in decoded] == [-0x7F00, -141]
    assert decoded[0].interpretations[0].versions[-1] == "3.6"
    assert decoded[1].interpretations[0].versions == ("4.0", "4.1")


@pytest.mark.parametrize(
    "text", ["", "   ", "hello", "MBEDTLS_ERR_NO_SUCH_THING", "0x", "--", "12.5", "-0xZZ", "0x1FFFFFFFFF"]
)
def test_malformed_or_unknown_forms_raise(text):
    with pytest.raises(CodeSyntaxError):
        first(text)


def test_every_printed_text_sample_reads_back_to_its_value():
    """What mbedtls_strerror prints for sample codes (composites, PSA values, unknown parts), per version."""
    from tests.conftest import REFERENCE, read_tsv

    series = {"2.7.19": "2.7", "2.16.12": "2.16", "2.28.10": "2.28", "3.0.0": "3.0", "3.3.0": "3.3"}
    series |= {"3.5.2": "3.5", "3.6.6": "3.6", "4.0.0": "4.0"}
    failures = []
    for row in read_tsv(REFERENCE / "mbedtls-strerror-samples.tsv"):
        decoded = first(row["mbedtls_strerror"], mbedtls_version=series[row["version"]])
        if int(row["value_dec"]) not in {item.value for item in decoded}:
            failures.append(f"{row['version']} {row['mbedtls_strerror']!r}: {[item.hex for item in decoded]}")
    assert not failures, "\n".join(failures[:10])
