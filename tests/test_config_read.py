"""Reading configurations: config.h / mbedtls_config.h, sdkconfig and sdkconfig.defaults, Zephyr prj.conf."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES
from tlsdiag.config import read_config
from tlsdiag.config.effective import Effective
from tlsdiag.config.expr import evaluate
from tlsdiag.config.header import config_block
from tlsdiag.config.kconfig import read_assignments
from tlsdiag.errors import InputError

CONFIGS = FIXTURES / "config"
SEED = CONFIGS / "seed-003-nucleo-f401re-sim800.txt"


class _Env:
    def __init__(self, defined: dict[str, bool | None], values: dict[str, int | None] | None = None) -> None:
        self._defined = defined
        self._values = values or {}

    def defined(self, name):
        return self._defined.get(name)

    def value(self, name):
        return self._values.get(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("defined(A) && !defined(B)", 1),
        ("defined(A) && defined(X)", None),  # X unknown
        ("defined(B) && defined(X)", 0),  # decided by the known part
        ("defined(A) || defined(X)", 1),
        ("!(defined(B) || defined(X))", None),
        ("defined A && N >= 4096", 1),
        ("N > 4096", 0),
        ("defined(A) && unknown_function(1)", None),
        ("defined(", None),
    ],
)
def test_conditions_have_three_values(text, expected):
    env = _Env({"A": True, "B": False}, {"N": 4096})
    assert evaluate(text, env) == expected


def test_seed_003_config_is_found_inside_the_forum_thread():
    lines = SEED.read_text(encoding="utf-8").split("\n")
    start, end = config_block(lines)
    assert lines[start - 1].startswith("#ifndef MBEDTLS_CONFIG_H")
    assert lines[end - 1].startswith("#endif")
    config = read_config(str(SEED))
    assert config.kind == "mbedtls-config" and config.file_kind == "pasted text"
    assert config.settings["MBEDTLS_TEST_NULL_ENTROPY"].state == "on"
    assert config.settings["MBEDTLS_SSL_PROTO_SSL3"].line == 157
    assert "MBEDTLS_SSL_CLI_C" not in config.settings
    assert config.includes_check_config  # written with forum quotes: #include “check_config.h”
    # the version the thread names (mbedtls-2.16.5), and what the code around the configuration does
    assert config.series == "2.16" and "2.16.5" in config.version_evidence[0]
    assert {"client_role", "uses_ctr_drbg", "verify_optional", "adds_entropy_source"} <= set(config.code)
    assert config.code["verify_optional"].line == 63


def test_header_defines_undefs_values_and_conditions(tmp_path):
    header = tmp_path / "mbedtls_config.h"
    header.write_text(
        "\n".join(
            [
                "#define MBEDTLS_SSL_TLS_C",
                "#define MBEDTLS_SSL_CLI_C /* client */",
                "#define MBEDTLS_SSL_IN_CONTENT_LEN   (4096)  // bytes",
                "#define MBEDTLS_SSL_OUT_CONTENT_LEN \\",
                "        2048",
                "#undef MBEDTLS_SSL_CLI_C",
                "//#define MBEDTLS_SSL_PROTO_TLS1_3",
                "#if defined(MBEDTLS_SSL_TLS_C)",
                "#define MBEDTLS_SSL_PROTO_TLS1_2",
                "#else",
                "#define MBEDTLS_SSL_PROTO_SSL3",
                "#endif",
                "#ifdef CONFIG_SOMETHING",
                "#define MBEDTLS_DEBUG_C",
                "#endif",
                "/* #define MBEDTLS_ERROR_C",
                "   still a comment */",
            ]
        )
        + "\n"
    )
    config = read_config(str(header), mbedtls_version="3.6")
    settings = config.settings
    assert settings["MBEDTLS_SSL_CLI_C"].state == "off" and settings["MBEDTLS_SSL_CLI_C"].line == 6
    assert settings["MBEDTLS_SSL_IN_CONTENT_LEN"].value == "(4096)"
    assert settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "2048"
    assert settings["MBEDTLS_SSL_PROTO_TLS1_2"].state == "on"
    assert "MBEDTLS_SSL_PROTO_SSL3" not in settings
    assert settings["MBEDTLS_DEBUG_C"].state == "maybe"  # depends on a Kconfig symbol the file does not set
    assert "MBEDTLS_ERROR_C" not in settings
    assert config.commented["MBEDTLS_SSL_PROTO_TLS1_3"] == 7
    effective = Effective(settings, "3.6", _knowledge())
    assert effective.value("MBEDTLS_SSL_IN_CONTENT_LEN") == 4096
    assert effective.defined("MBEDTLS_SSL_CLI_C") is False
    assert effective.defined("MBEDTLS_DEBUG_C") is None
    assert effective.defined("_WIN32") is None


def _knowledge():
    from tlsdiag.config.data import load

    return load()


def test_user_config_file_is_applied_after_the_configuration():
    config = read_config(str(CONFIGS / "constructed-user-config" / "config.h"))
    assert config.settings["MBEDTLS_SSL_PROTO_TLS1"].state == "off"  # #undef in tls_overrides.h
    assert config.settings["MBEDTLS_SSL_IN_CONTENT_LEN"].value == "16384"
    assert config.settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "4096"
    assert any("tls_overrides.h" in note for note in config.notes)
    assert config.series == "2.28"


def test_user_config_given_on_the_command_line(tmp_path):
    overrides = tmp_path / "user.h"
    overrides.write_text("#undef MBEDTLS_SSL_PROTO_TLS1_2\n#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048\n")
    config = read_config(str(CONFIGS / "mbedtls-config-suite-b.h"), user_config=str(overrides))
    assert config.settings["MBEDTLS_SSL_PROTO_TLS1_2"].state == "off"
    assert config.settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "2048"


def test_a_missing_user_config_file_is_a_note_not_an_error(tmp_path):
    header = tmp_path / "config.h"
    header.write_text('#define MBEDTLS_SSL_TLS_C\n#define MBEDTLS_USER_CONFIG_FILE "not_here.h"\n')
    config = read_config(str(header))
    assert any("not_here.h" in note and "not included" in note for note in config.notes)


def test_includes_next_to_the_configuration_are_followed():
    config = read_config(str(CONFIGS / "pico-http-client" / "mbedtls_config.h"))
    assert config.settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "2048"
    assert config.settings["MBEDTLS_ENTROPY_HARDWARE_ALT"].state == "on"
    assert config.series in ("3.5", "3.6")


def test_a_user_configuration_amends_the_default_configuration(tmp_path):
    user = tmp_path / "mbedtls_user_config.h"
    user.write_text("#undef MBEDTLS_SSL_PROTO_TLS1_3\n#define MBEDTLS_SSL_IN_CONTENT_LEN 8192\n")
    config = read_config(str(user), mbedtls_version="3.6")
    assert config.base == "defaults"
    effective = Effective(config.settings, "3.6", _knowledge(), config.base)
    assert effective.defined("MBEDTLS_SSL_CLI_C") is True  # on in 3.6's default mbedtls_config.h
    assert effective.defined("MBEDTLS_SSL_PROTO_TLS1_3") is False
    assert effective.value("MBEDTLS_SSL_OUT_CONTENT_LEN") == 16384


@pytest.mark.parametrize(
    ("name", "series"),
    [
        ("mbedtls-config-suite-b.h", "3.6"),  # SHA224_C / SHA384_C exist only in 3.x
        ("mbedtls-config-ccm-psk-tls1_2.h", "3.6"),
        ("mbedtls-config-no-entropy.h", "2.28"),  # includes check_config.h itself: a 2.x habit
        ("pico-examples-mbedtls_config_examples_common.h", "3.6"),  # MBEDTLS_PLATFORM_MS_TIME_ALT: 3.5+
    ],
)
def test_mbedtls_version_of_real_headers(name, series):
    config = read_config(str(CONFIGS / name))
    assert config.series == series
    notes = json.loads((CONFIGS / f"{name}.json").read_text())
    assert notes["mbedtls_version"][0] == series[0]


def test_given_mbedtls_version_wins():
    config = read_config(str(CONFIGS / "mbedtls-config-suite-b.h"), mbedtls_version="3.3")
    assert config.series == "3.3" and config.version_evidence[0] == "--mbedtls-version 3.3"


# --- sdkconfig ----------------------------------------------------------------------------------------


def test_sdkconfig_line_forms():
    lines = [
        "CONFIG_MBEDTLS_DEBUG=",  # ESP-IDF 3.x: empty means not set
        "# CONFIG_MBEDTLS_HAVE_TIME_DATE is not set",
        'CONFIG_ESP_TLS_PSK="secret"',
        "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=8192",
        "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=6144",  # the later line wins
    ]
    found = read_assignments(lines)
    assert found["CONFIG_MBEDTLS_DEBUG"].value == "n"
    assert found["CONFIG_MBEDTLS_HAVE_TIME_DATE"].value == "n"
    assert found["CONFIG_ESP_TLS_PSK"].value == "secret"
    assert found["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "6144"
    assert found["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"].line == 5


# Three ESP-IDF releases, written from the reference table's options for each (see
# sdkconfig_from_reference.py): the buffer defaults changed between them.
@pytest.mark.parametrize(
    ("name", "idf", "series", "in_len", "out_len", "asymmetric"),
    [
        ("esp-idf-v3.3-mqtt-client.sdkconfig", "3.3.6", "2.16", 16384, 16384, "n"),
        ("esp-idf-v4.0-azure-provisioning.sdkconfig", "4.0.4", "2.16", 16384, 4096, "y"),
        ("esp-idf-v5.3-https-client-tls13.sdkconfig", "5.3.5", "3.6", 4096, 4096, "y"),
    ],
)
def test_generated_sdkconfig_of_three_esp_idf_releases(name, idf, series, in_len, out_len, asymmetric):
    config = read_config(str(CONFIGS / name))
    assert config.kind == "sdkconfig" and config.file_kind == "sdkconfig"
    assert config.esp_idf_version == idf and config.series == series
    assert config.symbols["CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN"] == asymmetric
    effective = Effective(config.settings, config.series, _knowledge(), config.base, config.symbols)
    assert effective.value("MBEDTLS_SSL_IN_CONTENT_LEN") == in_len
    assert effective.value("MBEDTLS_SSL_OUT_CONTENT_LEN") == out_len
    assert effective.defined("MBEDTLS_SSL_CLI_C") is True
    assert effective.defined("MBEDTLS_ENTROPY_HARDWARE_ALT") in (True, None)
    assert not config.issues  # a generated file has nothing Kconfig ignores


def test_tls13_on_esp_idf_5_3_reaches_mbedtls():
    config = read_config(str(CONFIGS / "esp-idf-v5.3-https-client-tls13.sdkconfig"))
    assert config.settings["MBEDTLS_SSL_PROTO_TLS1_3"].state == "on"
    assert config.settings["MBEDTLS_SSL_PROTO_TLS1_3"].origin == "CONFIG_MBEDTLS_SSL_PROTO_TLS1_3"


@pytest.mark.parametrize(
    ("name", "idf"),
    [
        ("amazon-freertos-esp32-aws_demos.sdkconfig.defaults", "3.3"),
        ("arduino-esp32-v1_0-tools-sdk.sdkconfig", "3.3"),  # 3.2 era, read with the oldest examined Kconfig
        ("esp-at-v2_0-module_esp32_default.sdkconfig.defaults", "4.0"),
        ("esp-idf-mqtt-publish_connect_test-ci-default.sdkconfig.defaults", "4.4"),
        ("esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults", "4.4"),
        ("esp-rainmaker-switch.sdkconfig.defaults", "4.4"),
        ("esp32-arduino-libs-idf5_1_1-esp32.sdkconfig", "5.1.1"),
    ],
)
def test_esp_idf_version_of_real_sdkconfig_files(name, idf):
    config = read_config(str(CONFIGS / name))
    assert config.kind == "sdkconfig"
    assert config.esp_idf_version == idf
    assert config.version_evidence


def test_old_sdkconfig_format_empty_value_is_not_set():
    config = read_config(str(CONFIGS / "arduino-esp32-v1_0-tools-sdk.sdkconfig"))
    assert config.assignments["CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN"].value == "n"
    effective = Effective(config.settings, config.series, _knowledge(), config.base, config.symbols)
    assert effective.value("MBEDTLS_SSL_IN_CONTENT_LEN") == 16384  # through MBEDTLS_SSL_MAX_CONTENT_LEN
    assert config.settings["MBEDTLS_SSL_PROTO_TLS1"].line == 667


def test_esp_at_defaults_take_esp_idf_4_0_buffer_defaults():
    # the file sets no content length: IDF 4.0 defaults apply, ASYMMETRIC=y, IN 16384, OUT 4096
    config = read_config(str(CONFIGS / "esp-at-v2_0-module_esp32_default.sdkconfig.defaults"))
    assert config.symbols["CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN"] == "y"
    assert config.settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].value == "4096"
    assert config.settings["MBEDTLS_SSL_OUT_CONTENT_LEN"].line is None  # a default, not a line of the file


def test_choice_members_set_to_n_change_nothing():
    config = read_config(str(CONFIGS / "esp-idf-v4_4-https_request-ci-mbedtls_config.sdkconfig.defaults"))
    assert config.symbols["CONFIG_MBEDTLS_TLS_SERVER_AND_CLIENT"] == "y"
    assert config.symbols["CONFIG_MBEDTLS_TLS_CLIENT"] == "y"
    assert config.settings["MBEDTLS_SSL_CLI_C"].state == "on"
    issues = {(issue.message, issue.facts["symbol"]) for issue in config.issues}
    assert ("no_effect", "CONFIG_MBEDTLS_TLS_SERVER_AND_CLIENT") in issues
    assert ("no_effect", "CONFIG_MBEDTLS_TLS_CLIENT") in issues
    assert ("unmet_dependency", "CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED") in issues
    assert config.settings["MBEDTLS_ECP_DP_SECP256R1_ENABLED"].state == "off"


def test_options_missing_from_a_release_are_reported():
    config = read_config(
        str(CONFIGS / "esp32-arduino-lib-builder-defconfig_common.sdkconfig.defaults"), esp_idf_version="5.1"
    )
    unknown = {issue.facts["symbol"] for issue in config.issues if issue.message == "unknown_symbol"}
    assert "CONFIG_MBEDTLS_DYNAMIC_FREE_PEER_CERT" in unknown


def test_renamed_sdkconfig_options_are_followed(tmp_path):
    defaults = tmp_path / "sdkconfig.defaults"
    defaults.write_text("CONFIG_OTA_ALLOW_HTTP=y\nCONFIG_MBEDTLS_SSL_PROTO_TLS1_3=y\n")
    config = read_config(str(defaults), esp_idf_version="5.3")
    assert config.symbols["CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP"] == "y"
    assert any("CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP" in note for note in config.notes)


# --- Zephyr ---------------------------------------------------------------------------------------------


def test_zephyr_prj_conf_is_read_through_the_generic_header():
    config = read_config(str(CONFIGS / "constructed-zephyr-http-client.prj.conf"))
    assert config.kind == "zephyr-kconfig"
    settings = config.settings
    assert settings["MBEDTLS_SSL_CLI_C"].state == "on"  # from CONFIG_MBEDTLS_TLS_VERSION_1_2
    assert settings["MBEDTLS_KEY_EXCHANGE_RSA_ENABLED"].state == "on"
    assert settings["MBEDTLS_RSA_C"].state == "on"  # the header's automatic dependencies
    assert settings["MBEDTLS_SSL_IN_CONTENT_LEN"].value == "1500"
    assert settings["MBEDTLS_SSL_IN_CONTENT_LEN"].line == 15
    assert "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED" not in settings  # "is not set" in the prj.conf
    assert settings["MBEDTLS_DEBUG_C"].state == "maybe"  # CONFIG_MBEDTLS_DEBUG is not set here: unknown


def test_zephyr_header_alone_is_mostly_undecided():
    config = read_config(str(CONFIGS / "zephyr-config-tls-generic.h"))
    assert config.conditional > 100
    assert config.settings["MBEDTLS_SSL_TLS_C"].state == "maybe"
    assert config.settings["MBEDTLS_PLATFORM_C"].state == "on"


# --- errors ---------------------------------------------------------------------------------------------


def test_unusable_inputs_raise_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_config(str(tmp_path / "missing.h"))
    with pytest.raises(InputError, match="is a directory"):
        read_config(str(tmp_path))
    empty = tmp_path / "empty.h"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="is empty"):
        read_config(str(empty))
    binary = tmp_path / "firmware.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match="binary"):
        read_config(str(binary))
    prose = tmp_path / "notes.txt"
    prose.write_text("this is a note about TLS, not a configuration\n")
    with pytest.raises(InputError, match="no mbedTLS options"):
        read_config(str(prose))
