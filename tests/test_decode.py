"""Decoding: composites, version awareness, PSA, ESP-IDF and values from below TLS."""

from __future__ import annotations

import pytest

from tlsdiag import codes
from tlsdiag.knowledge import load
from tlsdiag.versions import VersionError


def decode(text: str, **scope_args: str):
    knowledge = load()
    return codes.explain(text, codes.default_scope(knowledge, **scope_args), knowledge)[0]


@pytest.mark.parametrize(
    ("text", "high", "low"),
    [
        ("-0x4290", "MBEDTLS_ERR_RSA_PUBLIC_FAILED", "MBEDTLS_ERR_MPI_ALLOC_FAILED"),
        ("-0x3b10", "MBEDTLS_ERR_PK_INVALID_PUBKEY", "MBEDTLS_ERR_MPI_ALLOC_FAILED"),
        ("-0x256a", "MBEDTLS_ERR_X509_INVALID_EXTENSIONS", "MBEDTLS_ERR_ASN1_ALLOC_FAILED"),
        ("-0x262e", "MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG", "MBEDTLS_ERR_OID_NOT_FOUND"),
    ],
)
def test_composites_split_into_high_and_low(text, high, low):
    decoded = decode(text)
    best = decoded.interpretations[0]
    assert [part.name for part in best.parts] == [high, low]
    assert [part.level for part in best.parts] == ["high", "low"]
    assert best.composite and best.plausibility > 0.9


@pytest.mark.parametrize("text", ["-0x4290", "-0x3b10", "-0x256a"])
def test_pico_thread_composites_are_out_of_memory(text):
    decoded = decode(text)
    assert decoded.interpretations[0].category == "memory"
    assert decoded.kind == "mbedtls"


def test_composite_cannot_come_from_4x_where_alloc_failures_are_psa_values():
    decoded = decode("-0x4290")
    assert "4.0" in decoded.undefined_in
    assert any("-141" in note and "MBEDTLS_ERR_MPI_ALLOC_FAILED" in note for note in decoded.notes)


def test_7500_without_version_shows_both_meanings():
    decoded = decode("-0x7500")
    names = [interpretation.parts[0].name for interpretation in decoded.interpretations]
    assert names == ["MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"]


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("2.28", "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE"),
        ("2.16.11", "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE"),
        ("3.6", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"),
        ("3.4.0", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"),
    ],
)
def test_7500_with_version_shows_one_meaning(version, name):
    decoded = decode("-0x7500", mbedtls_version=version)
    assert [interpretation.parts[0].name for interpretation in decoded.interpretations] == [name]


def test_esp_idf_version_selects_the_bundled_mbedtls():
    decoded = decode("-0x7500", esp_idf_version="4.0")
    assert [interpretation.parts[0].name for interpretation in decoded.interpretations] == [
        "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE"
    ]
    later = decode("-0x7500", esp_idf_version="v5.1.7")
    assert [interpretation.parts[0].name for interpretation in later.interpretations] == [
        "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"
    ]


def test_approximate_version_is_noted():
    decoded = decode("-0x7280", mbedtls_version="3.4")
    assert any("3.3 tables" in note for note in decoded.notes)


@pytest.mark.parametrize("version", ["1.3", "9.0", "abc"])
def test_versions_outside_the_tables_are_refused(version):
    with pytest.raises(VersionError):
        decode("-0x7280", mbedtls_version=version)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("-134", "PSA_ERROR_NOT_SUPPORTED"),
        ("-151", "PSA_ERROR_CORRUPTION_DETECTED"),
        ("-141", "PSA_ERROR_INSUFFICIENT_MEMORY"),
    ],
)
def test_psa_status_codes(text, name):
    decoded = decode(text)
    assert decoded.kind == "psa"
    assert decoded.interpretations[0].parts[0].name == name


def test_psa_aliases_in_4x_list_the_legacy_names():
    decoded = decode("-141", mbedtls_version="4.0")
    part = decoded.interpretations[0].parts[0]
    assert part.name == "PSA_ERROR_INSUFFICIENT_MEMORY"
    assert "MBEDTLS_ERR_SSL_ALLOC_FAILED" in part.aliases


def test_nsapi_value_is_a_transport_value():
    decoded = decode("-3011")
    assert decoded.kind == "transport"
    assert decoded.interpretations[0].parts[0].name == "NSAPI_ERROR_AUTH_FAILURE"


def test_espruino_minus_seven_is_not_reported_as_a_tls_error():
    decoded = decode("-0x7")
    assert decoded.kind == "transport"
    kinds = [interpretation.kind for interpretation in decoded.interpretations]
    assert "mbedtls" in kinds  # the library's own meaning is still shown, ranked below
    assert kinds.index("transport") < kinds.index("mbedtls")


def test_value_no_table_defines_is_reported_as_unknown():
    decoded = decode("-0x0B00")
    assert decoded.kind == "unknown"
    assert not decoded.interpretations and not decoded.defined
    assert any("vendor fork" in note for note in decoded.notes)


def test_value_with_only_one_defined_half_is_unknown_but_shows_the_half():
    decoded = decode("-0x7FFF")
    assert decoded.kind == "unknown" and not decoded.defined
    assert decoded.interpretations[0].parts[0].name is not None
    assert any("only one half" in note for note in decoded.notes)


def test_high_part_unknown_is_reported_as_partly_defined():
    decoded = decode("-0x0B40")
    best = decoded.interpretations[0]
    assert best.parts[0].name is None and best.parts[1].name is not None
    assert best.plausibility < 0.5


def test_unlikely_pairs_are_ranked_below_plausible_ones():
    decoded = decode("-0x10C2")  # PEM + NET: a pair mbedTLS never builds
    assert decoded.interpretations[0].plausibility < 0.5
    assert any("unlikely" in note for note in decoded.interpretations[0].notes)


def test_common_codes_have_handwritten_explanations():
    knowledge = load()
    common = [
        "-0x7500",
        "-0x7280",
        "-0x7200",
        "-0x7780",
        "-0x7F00",
        "-0x7080",
        "-0x7100",
        "-0x7180",
        "-0x6C00",
        "-0x6D00",
        "-0x2700",
        "-0x2180",
        "-0x2880",
        "-0x3000",
        "-0x0034",
        "-0x0010",
        "-0x0052",
        "-0x004C",
        "-0x0050",
        "-0x5180",
        "-0x7B00",
        "-0x7800",
        "-0x6E00",
    ]
    missing = []
    for text in common:
        decoded = codes.explain(text, codes.default_scope(knowledge), knowledge)[0]
        for interpretation in decoded.interpretations:
            if interpretation.kind != "mbedtls":
                continue
            name = interpretation.parts[0].name
            explanation = knowledge.explanations.get(name)
            if not explanation or not explanation.causes or not explanation.fixes:
                missing.append(f"{text} {name}")
            elif not any(fix.option for fix in explanation.fixes):
                missing.append(f"{text} {name}: no fix names an option")
    assert not missing, missing


def test_every_code_has_at_least_a_module_summary():
    knowledge = load()
    missing = [
        entry.name
        for entry in knowledge.mbedtls.entries
        if not (entry.name in knowledge.explanations or entry.module in knowledge.modules)
    ]
    assert not missing
