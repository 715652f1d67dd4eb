"""Certificates from DER and from PEM however it was pasted; bad input never raises."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from tests.tls_logs import CORPUS, decode_fixture
from tlsdiag.tls.certificates import (
    CertificateInfo,
    find_pem_certificates,
    format_der_name,
    format_serial,
    parse_certificate,
    pem_to_der,
)
from tlsdiag.tls.handshake import CertificateMessage, CertificateRequest

UTC = datetime.UTC


def chain() -> list[bytes]:
    """The server certificate and root CA openssl s_server sent in corpus 05-client-cert-required-v2.28."""
    message = decode_fixture("certificate-tls12.hex").messages[0]
    assert isinstance(message, CertificateMessage)
    return [entry.der for entry in message.entries]


def pem(der: bytes) -> str:
    encoded = base64.b64encode(der).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def test_server_certificate():
    info = parse_certificate(chain()[0])
    assert info.error is None and info.problems == ()
    assert info.subject == "O=tlsdiag test, CN=localhost" and info.common_name == "localhost"
    assert info.issuer == "O=tlsdiag test, CN=tlsdiag Test Root CA"
    assert info.serial == "11:1F:A9:AC:A8:2B:2F:D8:16:56:3A:F5:72:AA:55:B8:08:19:A4:4A"
    assert info.not_before == datetime.datetime(2026, 11, 21, 4, 57, 28, tzinfo=UTC)
    assert info.not_after == datetime.datetime(2029, 2, 23, 4, 57, 28, tzinfo=UTC)
    assert (info.key_type, info.key_size, info.curve) == ("RSA", 2048, None)
    assert (info.signature_algorithm, info.signature_hash) == ("RSA_WITH_SHA256", "sha256")
    assert info.san_dns == ("localhost",) and info.san_ips == ("127.0.0.1",)
    assert info.is_ca is False and info.self_issued is False and info.self_signed is False
    assert info.der_length == 899 and len(info.sha256) == 64 and info.version == 3


def test_root_certificate_is_a_self_signed_ca():
    info = parse_certificate(chain()[1])
    assert info.is_ca is True and info.self_issued is True and info.self_signed is True
    assert info.subject == info.issuer == "O=tlsdiag test, CN=tlsdiag Test Root CA"


def test_validity_check():
    info = parse_certificate(chain()[0])
    assert info.valid_at(datetime.datetime(2027, 1, 1, tzinfo=UTC)) is True
    assert info.valid_at(datetime.datetime(1970, 1, 1, tzinfo=UTC)) is False  # a device clock never set
    assert CertificateInfo(der_length=0, sha256="").valid_at(datetime.datetime.now(UTC)) is None


def test_json_is_plain_data():
    document = parse_certificate(chain()[0]).to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["not_after"] == "2029-02-23T04:57:28Z"


def test_ec_and_ed25519_keys():
    # The corpus chains are RSA; these certificates are made here with cryptography to cover the other keys.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import NameOID

    def make(key, algorithm, ca: bool) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device.example")])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(0x00F1)
            .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime.datetime(2034, 1, 1, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)

    ec_info = parse_certificate(make(ec.generate_private_key(ec.SECP384R1()), hashes.SHA384(), True))
    assert (ec_info.key_type, ec_info.curve, ec_info.key_size) == ("EC", "secp384r1", 384)
    assert ec_info.signature_algorithm == "ECDSA_WITH_SHA384" and ec_info.self_signed and ec_info.is_ca
    assert ec_info.serial == "F1"  # the DER integer's leading zero byte is not printed
    ed_info = parse_certificate(make(ed25519.Ed25519PrivateKey.generate(), None, False))
    assert (ed_info.key_type, ed_info.signature_algorithm, ed_info.signature_hash) == ("Ed25519", "ED25519", None)
    assert ed_info.self_signed and ed_info.is_ca is False


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x03\x02\x01\x01", bytes(range(256)), b"-----BEGIN"])
def test_bad_der_gives_an_error_not_an_exception(data):
    info = parse_certificate(data)
    assert info.error is not None and info.subject is None
    assert info.der_length == len(data) and len(info.sha256) == 64


def test_truncated_der_gives_an_error():
    der = chain()[0]
    assert parse_certificate(der[:500]).error is not None


def test_serial_format():
    assert format_serial(0) == "00"
    assert format_serial(0x80) == "80"
    assert format_serial(0x0102) == "01:02"


def test_distinguished_names_from_der():
    request = decode_fixture("certificate-request-tls12.hex").messages[0]
    assert isinstance(request, CertificateRequest)
    (name,) = request.ca_names_der
    assert format_der_name(name) == "O=tlsdiag test, CN=tlsdiag Test Root CA"
    assert format_der_name(name[:-1]) is None
    assert format_der_name(b"") is None and format_der_name(b"\x30\x80") is None


# --- PEM -------------------------------------------------------------------------------------------------------


def test_plain_pem_chain():
    server, root = chain()
    blocks = find_pem_certificates("notes\n" + pem(server) + "\n" + pem(root))
    assert [block.der for block in blocks] == [server, root]
    assert [block.line for block in blocks] == [2, 2 + pem(server).count("\n") + 1]
    assert all(block.error is None and block.label == "CERTIFICATE" for block in blocks)


def test_pem_in_an_arduino_sketch():
    server = chain()[0]
    body = pem(server).splitlines()
    sketch = (
        "#include <WiFiClientSecure.h>\n"
        "const char* root_ca = \\\n"
        + "\n".join(f'"{line}\\n" \\' for line in body[:-1])
        + f'\n"{body[-1]}\\n";\n'
        + "void setup() { client.setCACert(root_ca); }\n"
    )
    (block,) = find_pem_certificates(sketch)
    assert block.der == server and block.line == 3


def test_pem_in_one_c_literal_with_escapes():
    server = chain()[0]
    source = 'static const char ca_pem[] = "' + pem(server).replace("\n", "\\n") + '";\n'
    assert pem_to_der(source) == [server]


def test_pem_in_string_concatenation_keeps_a_trailing_plus():
    server = chain()[0]
    encoded = base64.b64encode(server).decode()
    cut = encoded.index("+") + 1  # '+' is a base64 character: a line may end with it, and it must survive
    body = [encoded[:cut]] + [encoded[i : i + 64] for i in range(cut, len(encoded), 64)]
    lines = ["-----BEGIN CERTIFICATE-----", *body, "-----END CERTIFICATE-----"]
    source = "CA = (\n" + "\n".join(f'    "{line}\\n" +' for line in lines[:-1]) + f'\n    "{lines[-1]}"\n)\n'
    assert body[0].endswith("+")
    assert pem_to_der(source) == [server]


def test_pem_in_esp_idf_log_lines_with_colours_and_crlf():
    server = chain()[0]
    lines = [f"\x1b[0;32mI ({1000 + i}) app: {line}\x1b[0m" for i, line in enumerate(pem(server).splitlines())]
    assert pem_to_der("\r\n".join(lines)) == [server]


def test_cut_and_corrupt_blocks_are_reported():
    server = chain()[0]
    text = pem(server)
    (cut,) = find_pem_certificates(text[: len(text) // 2])
    assert cut.der is None and "no -----END" in (cut.error or "")
    (corrupt,) = find_pem_certificates(text.replace("MII", "MI*I", 1))
    assert corrupt.der is None and (corrupt.error or "").startswith("invalid base64")
    assert pem_to_der("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n") == []
    assert find_pem_certificates("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----")[0].error


def test_other_pem_labels_are_ignored():
    text = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n" + pem(chain()[1])
    assert pem_to_der(text) == [chain()[1]]


def test_a_new_block_before_the_end_marker():
    server, root = chain()
    text = pem(server).split("-----END")[0] + pem(root)
    blocks = find_pem_certificates(text)
    assert [block.error is None for block in blocks] == [False, True]
    assert blocks[1].der == root


def test_pem_printed_in_a_corpus_log():
    # openssl s_server -www prints the client's certificate as PEM into the page the client logs
    text = (CORPUS / "29-tls13-client-cert-required-openssl-v3.6" / "good.log").read_text(encoding="utf-8")
    (block,) = find_pem_certificates(text)
    assert block.error is None and block.line == 2911
    info = parse_certificate(block.der or b"")
    assert info.subject == "O=tlsdiag test, CN=device-001" and info.key_size == 2048 and info.is_ca is False
