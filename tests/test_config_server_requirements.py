"""config lint learns what today's servers require: TLS 1.2, SNI, common curves and signature hashes, and an
input buffer that does not count on max_fragment_length. Checked on real shipped configurations and on
small device configurations that each leave one of them out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_config_lint import SERVER_REQUIREMENTS
from tlsdiag.config import lint, read_config

FIXTURES = Path(__file__).parent / "fixtures"
CONFIGS = FIXTURES / "config"
DEVICES = FIXTURES / "probe" / "devices"


def _findings(path: Path, **options):
    return {finding.rule: finding for finding in lint(read_config(str(path), **options)).findings}


@pytest.mark.parametrize("name", sorted(SERVER_REQUIREMENTS))
def test_shipped_configuration_misses_what_servers_require(name):
    found = _findings(CONFIGS / name)
    for rule in SERVER_REQUIREMENTS[name]:
        assert rule in found, sorted(found)
        finding = found[rule]
        assert finding.severity == "warning"
        assert finding.references


def test_sni_off_names_the_option():
    finding = _findings(DEVICES / "user-no-sni.h", mbedtls_version="2.28")["CFG-SNI-001"]
    assert "MBEDTLS_SSL_SERVER_NAME_INDICATION" in [fix.option for fix in finding.fixes]
    assert any("MBEDTLS_SSL_SERVER_NAME_INDICATION" in text for _, text in finding.evidence)


def test_one_curve_is_a_warning_with_the_curves_to_add():
    finding = _findings(DEVICES / "user-p256-only.h", mbedtls_version="2.28")["CFG-CURVE-001"]
    assert {"MBEDTLS_ECP_DP_SECP384R1_ENABLED", "MBEDTLS_ECP_DP_CURVE25519_ENABLED"} <= {
        fix.option for fix in finding.fixes
    }


def test_a_default_configuration_has_none_of_these():
    found = _findings(DEVICES / "debian-libmbedtls-2.28.3-config.h")
    assert not {"CFG-PROTO-003", "CFG-PROTO-004", "CFG-SNI-001", "CFG-CURVE-001", "CFG-CURVE-002", "CFG-SIG-001"} & set(
        found
    )


def test_tls13_only_is_a_warning(tmp_path):
    config = tmp_path / "user_config.h"
    config.write_text("#undef MBEDTLS_SSL_PROTO_TLS1_2\n#define MBEDTLS_SSL_PROTO_TLS1_3\n")
    found = _findings(config, mbedtls_version="3.6")
    assert found["CFG-PROTO-004"].severity == "warning"
    assert "CFG-PROTO-003" not in found


def test_small_input_buffer_that_relies_on_max_fragment_length(tmp_path):
    config = tmp_path / "user_config.h"
    config.write_text("#undef MBEDTLS_SSL_IN_CONTENT_LEN\n#define MBEDTLS_SSL_IN_CONTENT_LEN 4096\n")
    code = tmp_path / "main.c"
    code.write_text("mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_4096);\n")
    with_code = _findings(config, mbedtls_version="2.28", code_paths=[str(code)])
    assert "CFG-BUF-004" in with_code
    assert "4096" in with_code["CFG-BUF-004"].title
    assert "CFG-BUF-004" not in _findings(config, mbedtls_version="2.28")
