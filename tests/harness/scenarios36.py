"""The mbedTLS 3.6 failures the real-library tests reproduce, TLS 1.3 first: each a failing and a working run.

mbedTLS 3.6 LTS (ESP-IDF 5.x, Zephyr, current distributions) negotiates TLS 1.3 by default, and its
failures look different from 2.28's: a rejected client certificate arrives as an alert after the
client's handshake already returned, a record too large for the input buffer is another code, a
PSK problem or a key that does not belong to its certificate can look like the peer hanging up.
Each scenario here is data: which build of the library each run uses (:data:`CONFIGURATIONS`), the
server it talks to, the client's options, and what the library really printed (the call that
failed, its code and name, the step where the runs part), checked on every run. What the right
diagnosis is (category, cause, the 3.6 option or call that fixes it) is recorded beside it, for the
rules to meet; ``tests/test_realtls36.py`` says where tlsdiag stands today.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from tests.harness import servers
from tests.harness.pki import Pki
from tests.harness.source_build import Configuration

# --- builds ------------------------------------------------------------------------------------------------

TLS12_ONLY_REMOVES = ("#undef MBEDTLS_SSL_PROTO_TLS1_3",)
TLS13_ONLY_REMOVES = (
    "#undef MBEDTLS_SSL_PROTO_TLS1_2",
    # what only TLS 1.2 (and DTLS, which is 1.2 here) uses: check_config.h rejects them without it
    "#undef MBEDTLS_SSL_PROTO_DTLS",
    "#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY",
    "#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY",
    "#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE",
    "#undef MBEDTLS_SSL_DTLS_CONNECTION_ID",
    "#undef MBEDTLS_SSL_DTLS_SRTP",
    "#undef MBEDTLS_SSL_ENCRYPT_THEN_MAC",
    "#undef MBEDTLS_SSL_EXTENDED_MASTER_SECRET",
    "#undef MBEDTLS_SSL_RENEGOTIATION",
    "#undef MBEDTLS_SSL_CONTEXT_SERIALIZATION",
)

CONFIGURATIONS = {
    configuration.name: configuration
    for configuration in (
        Configuration("default", "mbedTLS 3.6 as released: TLS 1.2 and 1.3, 16 KiB record buffers"),
        Configuration("tls13-only", "TLS 1.3 only (MBEDTLS_SSL_PROTO_TLS1_2 off)", TLS13_ONLY_REMOVES),
        Configuration(
            "tls12-only",
            "TLS 1.2 only, as ESP-IDF 5.x builds by default (MBEDTLS_SSL_PROTO_TLS1_3 off)",
            TLS12_ONLY_REMOVES,
        ),
        Configuration(
            "in4k",
            "a 4 KiB input buffer, as ESP-IDF's asymmetric buffers allow",
            ("#define MBEDTLS_SSL_IN_CONTENT_LEN 4096",),
        ),
        Configuration("out2k", "a 2 KiB output buffer", ("#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048",)),
        Configuration(
            "use-psa", "X.509, PK and TLS 1.2 through PSA (MBEDTLS_USE_PSA_CRYPTO)", ("#define MBEDTLS_USE_PSA_CRYPTO",)
        ),
        Configuration(
            "heap",
            "a fixed heap from a static buffer (MBEDTLS_MEMORY_BUFFER_ALLOC_C), its size chosen per run",
            ("#define MBEDTLS_PLATFORM_MEMORY", "#define MBEDTLS_MEMORY_BUFFER_ALLOC_C"),
        ),
    )
}

# --- servers and clients -----------------------------------------------------------------------------------

WWW = ("-www", "-cert", "{server}", "-key", "{server_key}")
CLIENT_AUTH = (*WWW, "-Verify", "1", "-CAfile", "{client_ca}")
PSK = "6b0b7c9d2e4f5a61c3d2e1f00a1b2c3d"
OTHER_PSK = "00112233445566778899aabbccddeeff"
PSK_IDENTITY = "device-0001"
PSK_SERVER = ("-www", "-nocert", "-psk", PSK, "-psk_identity", PSK_IDENTITY)
CHAIN = ("-www", "-cert", "{server_chain}", "-cert_chain", "{server_intermediates}", "-key", "{server_key}")
TRUSTING = (("ca_file", "{ca}"),)
CLIENT_CERT = (("crt_file", "{client}"), ("key_file", "{client_key}"))
READ_TIMEOUT = (("read_timeout", "1000"),)


class Side(NamedTuple):
    """One run: the server (``openssl`` with arguments, or a ``listener`` behaviour), the build, the client."""

    server: tuple[str, tuple[str, ...]]
    client: tuple[tuple[str, str], ...] = ()
    configuration: str = "default"


class Scenario(NamedTuple):
    name: str
    differs: str  # the one thing the failing run changes
    bad: Side
    good: Side
    call: str | None  # the call whose failure the client prints; None when the failing run connects
    code: str | None  # what that call returned, as the client prints it
    code_name: str | None  # the name tlsdiag must decode that code to (for mbedTLS 3.6)
    step: str  # the last handshake step both runs share, where tlsdiag diff must place the divergence
    category: str  # the right category of the top finding
    cause: str  # the confirmed cause, in a sentence
    fix: str  # the mbedTLS 3.6 option or call (or the server setting) that fixes it
    notes: str = ""  # what the runs really show, read from the logs and the 3.6.6 source


def openssl(*arguments: str) -> tuple[str, tuple[str, ...]]:
    return ("openssl", arguments)


def listen(behaviour: str) -> tuple[str, tuple[str, ...]]:
    return ("listener", (behaviour,))


class Capture(NamedTuple):
    log: Path
    text: str
    exit_code: int
    server: list[str]  # the server's transcript
    call: str | None  # the call the client reported as failed, e.g. "mbedtls_ssl_handshake"
    returned: str | None  # what it returned, e.g. "-0x2700"


FAILED_CALL = re.compile(
    r"(?:! |esp-tls-mbedtls: )(mbedtls_\w+) returned (-0x[0-9a-fA-F]+)|read error :(-0x[0-9a-fA-F]+):"
)


class Tools(NamedTuple):
    clients: Mapping[str, Path]  # configuration name -> the client built with it
    pki: Pki
    openssl: str


def server(side: Side, tools: Tools) -> contextlib.AbstractContextManager[servers.Running]:
    """The side's server, not yet started: use it in a ``with`` block."""
    kind, arguments = side.server
    if kind == "openssl":
        return servers.openssl_server(tools.openssl, [argument.format(**_paths(tools.pki)) for argument in arguments])
    return servers.listener(arguments[0])


def client_command(side: Side, tools: Tools, port: int, options: Mapping[str, str]) -> list[str]:
    """The client's command line for the side, against ``port``, with ``options`` added."""
    settings = {name: value.format(**_paths(tools.pki)) for name, value in side.client}
    settings.update(options)
    client = tools.clients[side.configuration]
    return [str(client), f"server_port={port}", *(f"{key}={value}" for key, value in settings.items())]


def run(side: Side, tools: Tools, log: Path, options: Mapping[str, str]) -> Capture:
    """Start the side's server, run the client against it with ``options`` added, keep its output in ``log``."""
    with server(side, tools) as running:
        command = client_command(side, tools, running.port, options)
        result = subprocess.run(command, capture_output=True, timeout=60, check=False, cwd=log.parent)
    text = result.stdout.decode("utf-8", "replace")
    log.write_text(text, encoding="utf-8")
    call, returned = failed_call(text)
    return Capture(log, text, result.returncode, list(running.transcript), call, returned)


def failed_call(text: str) -> tuple[str | None, str | None]:
    """The call the client reported as failed and what it returned, in either framing."""
    found = FAILED_CALL.search(text)
    if found is None:
        return None, None
    if found[3]:
        return "mbedtls_ssl_read", found[3].lower()
    return found[1], found[2].lower()


def _paths(pki: Pki) -> dict[str, str]:
    return {name: str(path) for name, path in pki._asdict().items()}


HANDSHAKE = "mbedtls_ssl_handshake"
READ = "mbedtls_ssl_read"
ALERT = ("-0x7780", "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE")
VERIFY = ("-0x2700", "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED")
CERTIFICATE_NOTE = (
    "TLS 1.3: x509_verify_cert fails while the client processes the server's Certificate, after "
    "EncryptedExtensions and before CertificateVerify; the client sends alert {alert} and returns -0x2700 "
    "from mbedtls_ssl_handshake. Level 1 prints 'x509_verify_cert() returned -9984 (-0x2700)' and the "
    "console's verify line; level 4 adds the certificate and the verify flags."
)


def _scenario(
    name: str, differs: str, bad: Side, good: Side, code: tuple[str, str] | None, **expected: str | None
) -> Scenario:
    fields: dict[str, str | None] = {"call": HANDSHAKE, "notes": ""}
    fields.update(expected)
    printed, code_name = code if code else (None, None)
    if code is None:
        fields["call"] = None
    return Scenario(name, differs, bad, good, code=printed, code_name=code_name, **fields)  # type: ignore[arg-type]


SCENARIOS = (
    _scenario(
        "unknown-ca",
        "the server's certificate is issued by a CA the client does not trust",
        bad=Side(openssl("-www", "-cert", "{server_rogue}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        code=VERIFY,
        step="Certificate",
        category="certificate-trust",
        cause="the server's chain does not lead to a CA in the client's trust store (BADCERT_NOT_TRUSTED)",
        fix="load the issuing root with mbedtls_ssl_conf_ca_chain() (ESP-IDF: esp_crt_bundle_attach or "
        "CONFIG_MBEDTLS_CERTIFICATE_BUNDLE with the right root)",
        notes=CERTIFICATE_NOTE.format(alert="unknown_ca (48)"),
    ),
    _scenario(
        "hostname-mismatch",
        "the server's certificate names another host (device.example.net)",
        bad=Side(openssl("-www", "-cert", "{server_wrong_host}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        code=VERIFY,
        step="Certificate",
        category="hostname-mismatch",
        cause="the name given to mbedtls_ssl_set_hostname() is not in the certificate's SAN or CN "
        "(BADCERT_CN_MISMATCH)",
        fix="call mbedtls_ssl_set_hostname() with the name the certificate carries, or reissue the certificate",
        notes=CERTIFICATE_NOTE.format(alert="bad_certificate (42)"),
    ),
    _scenario(
        "expired",
        "the server's certificate expired a year ago",
        bad=Side(openssl("-www", "-cert", "{server_expired}", "-key", "{server_key}"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        code=VERIFY,
        step="Certificate",
        category="certificate-time",
        cause="the server's certificate is past its notAfter (BADCERT_EXPIRED)",
        fix="renew the server certificate (with MBEDTLS_HAVE_TIME_DATE the device clock must also be right)",
        notes=CERTIFICATE_NOTE.format(alert="certificate_expired (45)"),
    ),
    _scenario(
        "client-cert-required",
        "the server requires a client certificate and the client has none (TLS 1.3)",
        bad=Side(openssl(*CLIENT_AUTH), TRUSTING),
        good=Side(openssl(*CLIENT_AUTH), TRUSTING + CLIENT_CERT),
        code=ALERT,
        call=READ,
        step="Certificate",
        category="client-auth",
        cause="the server asked for a client certificate (CertificateRequest) and the client sent an empty Certificate",
        fix="mbedtls_ssl_conf_own_cert() with the device certificate and key (ESP-IDF: esp_tls_cfg_t clientcert_buf "
        "and clientkey_buf)",
        notes="TLS 1.3 moves the failure out of the handshake: the client sends an empty Certificate and its "
        "Finished, mbedtls_ssl_handshake returns 0, and the server's alert certificate_required (116) arrives "
        "with the first mbedtls_ssl_read, which returns -0x7780. Level 1 shows only the read's -0x7780 lines "
        "(the alert number is printed at level 2 and above: 'got an alert message, type: [2:116]'); level 4 "
        "shows the CertificateRequest and the empty Certificate written.",
    ),
    _scenario(
        "client-key-mismatch",
        "the client's private key does not belong to its certificate (TLS 1.3)",
        bad=Side(openssl(*CLIENT_AUTH), (*TRUSTING, ("crt_file", "{client}"), ("key_file", "{other_key}"))),
        good=Side(openssl(*CLIENT_AUTH), TRUSTING + CLIENT_CERT),
        code=ALERT,
        call=READ,
        step="Finished",
        category="key-mismatch",
        cause="the client signs CertificateVerify with a key that does not match the public key of its certificate",
        fix="load the key that belongs to the certificate (mbedtls_pk_parse_key / mbedtls_ssl_conf_own_cert); "
        "mbedtls_pk_check_pair() tells before connecting",
        notes="mbedtls_ssl_conf_own_cert() does not check the pair. The handshake returns 0; the server's alert "
        "decrypt_error (51) arrives with the first mbedtls_ssl_read (-0x7780). At level 1 the log shows only "
        "the read failing with -0x7780, like any alert after the handshake; level 2 and above name alert 51.",
    ),
    _scenario(
        "psk-identity-unknown",
        "the client offers a PSK identity the server does not know (TLS 1.3, psk_ke and psk_dhe_ke)",
        bad=Side(openssl(*PSK_SERVER), (("psk", PSK), ("psk_identity", "device-0002"), ("kex_modes", "psk_all"))),
        good=Side(openssl(*PSK_SERVER), (("psk", PSK), ("psk_identity", PSK_IDENTITY), ("kex_modes", "psk_all"))),
        code=ALERT,
        step="ClientHello",
        category="psk",
        cause="the server has no key for the identity in the ClientHello's pre_shared_key extension and no "
        "certificate to fall back to",
        fix="mbedtls_ssl_conf_psk() with the identity the server provisions (ESP-IDF: psk_hint_key in esp_tls_cfg_t)",
        notes="OpenSSL ignores the unknown identity, has no certificate (-nocert), and answers the ClientHello with "
        "alert handshake_failure (40); mbedtls_ssl_handshake returns -0x7780. Nothing in the client's log names "
        "the PSK at level 1; level 4 shows the pre_shared_key extension written with the identity and the alert "
        "in reply to the ClientHello.",
    ),
    _scenario(
        "psk-value-wrong",
        "the client's PSK value differs from the server's for the same identity (TLS 1.3, psk_dhe_ke)",
        bad=Side(
            openssl(*PSK_SERVER), (("psk", OTHER_PSK), ("psk_identity", PSK_IDENTITY), ("kex_modes", "psk_ephemeral"))
        ),
        good=Side(openssl(*PSK_SERVER), (("psk", PSK), ("psk_identity", PSK_IDENTITY), ("kex_modes", "psk_ephemeral"))),
        code=ALERT,
        step="ClientHello",
        category="psk",
        cause="the binder the client computed with its PSK does not verify with the server's key for that identity",
        fix="provision the same key on both sides for that identity (mbedtls_ssl_conf_psk())",
        notes="TLS 1.3 checks the PSK in the ClientHello itself (the binder), not at Finished as TLS 1.2 does: "
        "OpenSSL answers the ClientHello with alert illegal_parameter (47) and mbedtls_ssl_handshake returns "
        "-0x7780. OpenSSL's s_server also accepts only psk_dhe_ke: psk_ke alone gets missing_extension (109).",
    ),
    _scenario(
        "tls12-server-tls13-only-client",
        "the client is built TLS 1.3 only and the server speaks TLS 1.2 only",
        bad=Side(openssl(*WWW, "-tls1_2"), TRUSTING, "tls13-only"),
        good=Side(openssl(*WWW, "-tls1_2"), TRUSTING, "tls12-only"),
        code=ALERT,
        step="ClientHello",
        category="protocol-version",
        cause="the client offers TLS 1.3 only (supported_versions) and the server speaks TLS 1.2 at most",
        fix="enable MBEDTLS_SSL_PROTO_TLS1_2 (ESP-IDF: CONFIG_MBEDTLS_SSL_PROTO_TLS1_2) or a TLS 1.3 server",
        notes="The server answers the ClientHello with alert protocol_version (70); mbedtls_ssl_handshake returns "
        "-0x7780. The working run is a TLS 1.2-only build: 3.6's default build (both versions) fails against "
        "this server for another reason, see tls12-server-rsa-pss.",
    ),
    _scenario(
        "tls12-server-rsa-pss",
        "a client with TLS 1.2 and 1.3 (3.6's default) offers RSA-PSS, which its TLS 1.2 code cannot verify",
        bad=Side(openssl(*WWW, "-tls1_2"), TRUSTING, "default"),
        good=Side(openssl(*WWW, "-tls1_2"), TRUSTING, "tls12-only"),
        code=("-0x6600", "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER"),
        step="ServerKeyExchange",
        category="ciphersuite-mismatch",
        cause="with TLS 1.3 enabled the ClientHello's signature_algorithms lists rsa_pss_rsae_*; a TLS 1.2 server "
        "signs its ServerKeyExchange with one (0x0806), and 3.6's TLS 1.2 code accepts no RSA-PSS there",
        fix="build TLS 1.2 only (MBEDTLS_SSL_PROTO_TLS1_3 off) for a TLS 1.2-only server, or have the server sign "
        "with PKCS#1 v1.5 (openssl -sigalgs RSA+SHA256); MBEDTLS_USE_PSA_CRYPTO does not help (checked)",
        notes="Level 1: 'Server used unsupported value in SigAlg extension 0x0806' and 'bad server key exchange "
        "message' (ssl_tls12_client.c), then -0x6600. The client sends alert illegal_parameter (47). 3.6.6 "
        "ssl_misc.h mbedtls_ssl_tls12_sig_alg_is_supported() reads the high byte as a hash id, so 0x08xx "
        "(intrinsic-hash RSA-PSS) is never valid in TLS 1.2.",
    ),
    _scenario(
        "tls13-server-tls12-only-client",
        "the client is built TLS 1.2 only and the server speaks TLS 1.3 only",
        bad=Side(openssl(*WWW, "-tls1_3"), TRUSTING, "tls12-only"),
        good=Side(openssl(*WWW, "-tls1_3"), TRUSTING, "default"),
        code=ALERT,
        step="ClientHello",
        category="protocol-version",
        cause="the client speaks TLS 1.2 at most (as ESP-IDF 5.x builds by default) and the server TLS 1.3 only",
        fix="enable MBEDTLS_SSL_PROTO_TLS1_3 (ESP-IDF: CONFIG_MBEDTLS_SSL_PROTO_TLS1_3), which needs PSA "
        "(psa_crypto_init) and MBEDTLS_SSL_KEEP_PEER_CERTIFICATE",
        notes="The server answers the ClientHello with alert protocol_version (70); mbedtls_ssl_handshake "
        "returns -0x7780.",
    ),
    _scenario(
        "no-common-group",
        "the server accepts only secp384r1 and the client offers x25519 and secp256r1",
        bad=Side(openssl(*WWW, "-groups", "secp384r1"), (*TRUSTING, ("groups", "x25519,secp256r1"))),
        good=Side(openssl(*WWW, "-groups", "secp384r1"), (*TRUSTING, ("groups", "x25519,secp384r1"))),
        code=ALERT,
        step="ClientHello",
        # a client whose offer lacks the group or signature algorithm the server needs: the corpus files this
        # under config-missing-feature (13-ec-curve-not-enabled, 13-ec-p384-cert-sigalg-not-offered), and so do we
        category="config-missing-feature",
        cause="no group in the client's supported_groups is one the server accepts",
        fix="offer a group the server accepts: mbedtls_ssl_conf_groups() with secp384r1 (and "
        "MBEDTLS_ECP_DP_SECP384R1_ENABLED / PSA_WANT_ECC_SECP_R1_384)",
        notes="3.6 sends a key_share for the first group only. Working run: the server answers with a "
        "HelloRetryRequest for secp384r1 (offered without a share), the client sends a second ClientHello with a "
        "secp384r1 share and the handshake completes (level 4: 'received HelloRetryRequest message'). Failing "
        "run: no group in common, so no HelloRetryRequest is possible and the server answers the first "
        "ClientHello with alert handshake_failure (40); mbedtls_ssl_handshake returns -0x7780.",
    ),
    _scenario(
        "sig-alg-not-offered",
        "the client offers only ECDSA signature algorithms and the server has an RSA certificate",
        bad=Side(openssl(*WWW), (*TRUSTING, ("sig_algs", "ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384"))),
        good=Side(
            openssl(*WWW),
            (*TRUSTING, ("sig_algs", "ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,rsa_pss_rsae_sha256")),
        ),
        code=ALERT,
        step="ClientHello",
        # a client whose offer lacks the group or signature algorithm the server needs: the corpus files this
        # under config-missing-feature (13-ec-curve-not-enabled, 13-ec-p384-cert-sigalg-not-offered), and so do we
        category="config-missing-feature",
        cause="the server's RSA key can sign with none of the signature algorithms the client offers",
        fix="offer rsa_pss_rsae_sha256 in mbedtls_ssl_conf_sig_algs() (TLS 1.3 signs with RSA-PSS; needs "
        "MBEDTLS_PKCS1_V21), or give the server an ECDSA certificate",
        notes="The server answers the ClientHello with alert handshake_failure (40); mbedtls_ssl_handshake "
        "returns -0x7780.",
    ),
    _scenario(
        "small-in-buffer",
        "the client's input buffer is 4 KiB (MBEDTLS_SSL_IN_CONTENT_LEN) and the server sends a 4.8 KiB chain",
        bad=Side(openssl(*CHAIN), TRUSTING, "in4k"),
        good=Side(openssl(*CHAIN), TRUSTING, "default"),
        code=("-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA"),
        step="EncryptedExtensions",
        category="record-buffer-size",
        cause="the server's Certificate record (about 4.9 KiB) does not fit the 4 KiB input buffer",
        fix="MBEDTLS_SSL_IN_CONTENT_LEN 16384 (ESP-IDF: CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN); TLS 1.3 has no "
        "max_fragment_length in 3.6 (see max-fragment-length-tls13)",
        notes="3.6 returns -0x7100 (BAD_INPUT_DATA) from mbedtls_ssl_fetch_input after 'requesting more data "
        "than fits' (level 1), where 2.28 returned -0x7200 (INVALID_RECORD) for a record longer than the buffer. "
        "The failing read is the record after EncryptedExtensions.",
    ),
    _scenario(
        "small-out-buffer",
        "the client's output buffer is 2 KiB (MBEDTLS_SSL_OUT_CONTENT_LEN) and its certificate chain is 2.4 KiB",
        bad=Side(
            openssl(*CLIENT_AUTH), (*TRUSTING, ("crt_file", "{client_chain}"), ("key_file", "{client_key}")), "out2k"
        ),
        good=Side(
            openssl(*CLIENT_AUTH), (*TRUSTING, ("crt_file", "{client_chain}"), ("key_file", "{client_key}")), "default"
        ),
        code=("-0x6a00", "MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL"),
        step="ChangeCipherSpec",
        category="record-buffer-size",
        cause="the client's Certificate message (a 2.4 KiB chain) does not fit the 2 KiB output buffer",
        fix="MBEDTLS_SSL_OUT_CONTENT_LEN 4096 or more (ESP-IDF: CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN), or a shorter "
        "client chain",
        notes="3.6's TLS 1.3 writer returns -0x6A00 (BUFFER_TOO_SMALL) while writing the client's Certificate, "
        "right after the compatibility-mode ChangeCipherSpec; 2.28 returned -0x7500 (CERTIFICATE_TOO_LARGE), "
        "a value 3.x reuses for UNSUPPORTED_EXTENSION. Level 1 prints nothing but the final code.",
    ),
    _scenario(
        "heap-too-small",
        "the library's heap is 48,000 bytes instead of 64 KiB (MBEDTLS_MEMORY_BUFFER_ALLOC_C)",
        bad=Side(openssl(*WWW), (*TRUSTING, ("heap", "48000")), "heap"),
        good=Side(openssl(*WWW), (*TRUSTING, ("heap", "65536")), "heap"),
        code=("-0x7f00", "MBEDTLS_ERR_SSL_ALLOC_FAILED"),
        step="ClientHello",
        category="memory",
        cause="the heap cannot hold the 2 x 16 KiB record buffers plus the ephemeral key share of the ClientHello",
        fix="more heap for mbedTLS, or smaller buffers: MBEDTLS_SSL_IN_CONTENT_LEN / MBEDTLS_SSL_OUT_CONTENT_LEN "
        "(ESP-IDF: CONFIG_MBEDTLS_DYNAMIC_BUFFER, CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN)",
        notes="Swept with the default 16 KiB buffers, TLS 1.3, x25519, one RSA-2048 server certificate: below "
        "about 40,000 bytes mbedtls_ssl_setup fails with -0x7F00 ('alloc(16765 bytes) failed' at level 1); "
        "from 44,000 to 62,900 bytes mbedtls_ssl_handshake fails with -0x7F00 while writing the ClientHello "
        "(psa_generate_key or psa_export_public_key returned -0x7f00, 'client hello: failed generating xxdh key "
        "exchange'); from 63,000 bytes the handshake and the request complete. No size surfaced as a "
        "certificate verification failure here: once the key share exists, the rest of this handshake needs "
        "less. (A missing psa_crypto_init() does surface as -0x2700, see no-psa-crypto-init.)",
    ),
    _scenario(
        "no-psa-crypto-init",
        "the application does not call psa_crypto_init() (MBEDTLS_USE_PSA_CRYPTO build, TLS 1.2 configured)",
        bad=Side(openssl(*WWW), (*TRUSTING, ("psa_init", "0"), ("tls_version", "1.2")), "use-psa"),
        good=Side(openssl(*WWW), (*TRUSTING, ("psa_init", "1"), ("tls_version", "1.2")), "use-psa"),
        code=VERIFY,
        step="Certificate",
        category="other",
        cause="psa_crypto_init() was never called, so X.509 signature checks through PSA fail and the server's "
        "certificate is reported as not signed by the trusted CA",
        fix="call psa_crypto_init() once before any TLS or X.509 use (required with MBEDTLS_USE_PSA_CRYPTO and "
        "for TLS 1.3)",
        notes="3.6.6's TLS 1.3 client calls psa_crypto_init() itself when it writes the ClientHello "
        "(ssl_tls13_client.c, mbedtls_ssl_tls13_crypto_init), so a client that offers TLS 1.3 works without "
        "the call in both the default and the MBEDTLS_USE_PSA_CRYPTO build (checked). A TLS 1.2-only "
        "configuration with MBEDTLS_USE_PSA_CRYPTO fails: the hash in x509_verify_cert returns "
        "PSA_ERROR_BAD_STATE, the verify flags say 'not correctly signed by the trusted CA' "
        "(BADCERT_NOT_TRUSTED) and mbedtls_ssl_handshake returns -0x2700, indistinguishable from an unknown CA "
        "at any debug level unless the application logs psa_crypto_init's absence.",
    ),
    _scenario(
        "max-fragment-length-tls13",
        "a 4 KiB input buffer relying on max_fragment_length=4096 offers TLS 1.3 too (bad) or TLS 1.2 only (good)",
        bad=Side(openssl(*WWW), (*TRUSTING, ("max_frag_len", "4096"), ("tls_version", "both")), "in4k"),
        good=Side(openssl(*WWW), (*TRUSTING, ("max_frag_len", "4096"), ("tls_version", "1.2")), "in4k"),
        code=("-0x7500", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION"),
        step="ServerHello",
        category="record-buffer-size",
        cause="3.6 negotiates max_fragment_length only in TLS 1.2: its TLS 1.3 client rejects the extension when "
        "the server echoes it in EncryptedExtensions",
        fix="MBEDTLS_SSL_IN_CONTENT_LEN 16384 for TLS 1.3 servers, or mbedtls_ssl_conf_max_tls_version(TLS 1.2) "
        "where max_fragment_length is needed",
        notes="The TLS 1.2 part of 3.6's ClientHello writer adds max_fragment_length even when TLS 1.3 is offered "
        "(level 3: 'client hello, adding max_fragment_length extension'); OpenSSL chooses TLS 1.3 and returns "
        "the extension in EncryptedExtensions; 3.6's TLS 1.3 client does not accept it there and returns "
        "-0x7500 (UNSUPPORTED_EXTENSION), right after 'Switch to handshake keys for inbound traffic'. In TLS "
        "1.2 the server keeps records to 4096 bytes and the 4.9 KiB answer arrives in pieces. MFL does not "
        "help a handshake message larger than the buffer either: 3.6 reassembles a handshake message in the "
        "input buffer ('requesting more data than fits', -0x7100, with a 4.8 KiB chain even in TLS 1.2).",
    ),
    _scenario(
        "resumption-no-tickets",
        "the server issues no session tickets (TLS 1.3), so the reconnection cannot resume",
        bad=Side(openssl(*WWW, "-naccept", "2", "-num_tickets", "0"), (*TRUSTING, ("reconnect", "1"))),
        good=Side(openssl(*WWW, "-naccept", "2"), (*TRUSTING, ("reconnect", "1"))),
        code=None,
        step="Finished",
        category="other",
        cause="the server sends no NewSessionTicket after the TLS 1.3 handshake, so the saved session holds no "
        "ticket and the reconnection is a full handshake",
        fix="enable tickets on the server; on the client keep MBEDTLS_SSL_SESSION_TICKETS and call "
        "mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets() and mbedtls_ssl_get_session() after "
        "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET",
        notes="Nothing fails: both runs connect twice. In TLS 1.3 tickets arrive after the handshake; 3.6 "
        "discards them unless the application enables signalling, and then mbedtls_ssl_read returns "
        "-0x7B00 (RECEIVED_NEW_SESSION_TICKET) for each, which level 1 prints as a debug line in the working run "
        "only. The failing run's saved session has a 0-byte ticket (the client prints it), and its second "
        "ClientHello carries no pre_shared_key (level 4). A failure-level finding would be wrong; the right "
        "report is a warning or an info note.",
    ),
    _scenario(
        "peer-closed-after-hello",
        "the server closes the connection once it has read the ClientHello",
        bad=Side(listen("close"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        code=("-0x7280", "MBEDTLS_ERR_SSL_CONN_EOF"),
        step="ClientHello",
        category="peer-closed",
        cause="the server closed the TCP connection without an alert in reply to the ClientHello",
        fix="find why on the server (its log): often no common version or suite on a server that does not send "
        "alerts, an SNI it does not serve, or a firewall",
        notes="mbedtls_ssl_fetch_input returns -0x7280 when the read returns 0; the same in 2.28.",
    ),
    _scenario(
        "plain-http-on-tls-port",
        "a plain HTTP server answers on the TLS port",
        bad=Side(listen("http"), TRUSTING),
        good=Side(openssl(*WWW), TRUSTING),
        code=("-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD"),
        step="ClientHello",
        category="other",
        cause="the port speaks plain HTTP: the answer's first bytes 'HTTP' are no TLS record header",
        fix="connect to the TLS port (443 or the service's TLS port) or use http:// for this one",
        notes="3.6 prints 'unknown record type' and returns -0x7200 from ssl_get_next_record, as 2.28 did.",
    ),
    _scenario(
        "read-timeout",
        "the server accepts and never answers; the client waits one second per read",
        bad=Side(listen("stall"), (*TRUSTING, *READ_TIMEOUT)),
        good=Side(openssl(*WWW), (*TRUSTING, *READ_TIMEOUT)),
        code=("-0x6800", "MBEDTLS_ERR_SSL_TIMEOUT"),
        step="ClientHello",
        category="network-io",
        cause="no answer to the ClientHello within the read timeout (mbedtls_ssl_conf_read_timeout)",
        fix="check the server and the path to it; raise mbedtls_ssl_conf_read_timeout() (ESP-IDF: "
        "esp_tls_cfg_t timeout_ms) if the server is slow",
        notes="mbedtls_net_recv_timeout returns -0x6800 through mbedtls_ssl_fetch_input; the same in 2.28.",
    ),
)

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
