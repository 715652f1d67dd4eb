"""The certificates the test servers present, generated for each run in a temporary directory.

Dates are relative to the moment of the run, so nothing here expires: the working leaf is valid
from yesterday for a year, the expired leaf ended a year ago, and "not yet valid" is produced by
setting the client's clock back (``faketime``) rather than by a certificate dated in the future.
Keys are RSA 2048 with SHA-256 signatures, what a typical IoT endpoint presents.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "localhost"
WRONG_HOST = "device.example.net"


class Pki(NamedTuple):
    ca: Path  # the CA the client trusts
    rogue_ca: Path  # a CA the client does not know
    client_ca: Path  # the CA the server trusts for client certificates
    server_key: Path
    server: Path  # leaf for localhost / 127.0.0.1, issued by ca
    server_rogue: Path  # the same leaf issued by rogue_ca
    server_expired: Path  # issued by ca, validity ended a year ago
    server_wrong_host: Path  # issued by ca for WRONG_HOST only
    client_key: Path
    client: Path  # client certificate issued by client_ca
    other_key: Path  # a key that belongs to no certificate
    server_chain: Path  # the server leaf (server_key) and five intermediate CAs up to ca: more than 4 KiB of DER
    server_intermediates: Path  # the same five intermediate CAs alone (openssl s_server -cert_chain)
    client_chain: Path  # a client leaf (client_key) and two intermediate CAs under client_ca: more than 2 KiB


def generate(directory: Path) -> Pki:
    """Write every key and certificate as PEM into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    day = datetime.timedelta(days=1)

    def key(name: str) -> tuple[rsa.RSAPrivateKey, Path]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path = directory / f"{name}.key"
        path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
        )
        return private, path

    def write(name: str, certificate: x509.Certificate) -> Path:
        path = directory / f"{name}.crt"
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def authority(
        common_name: str, issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None
    ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        """A root CA, or an intermediate one when ``issuer`` is given."""
        private, _ = key(common_name.lower().replace(" ", "-"))
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsdiag tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (name, private)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - 2 * 365 * day)
            .not_valid_after(now + 10 * 365 * day)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .sign(signing_key, hashes.SHA256())
        )
        return certificate, private

    def bundle(name: str, certificates: list[x509.Certificate]) -> Path:
        """A chain file as servers and devices load it: the leaf first, then each issuer."""
        path = directory / f"{name}.crt"
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
        return path

    def leaf(
        issuer: tuple[x509.Certificate, rsa.RSAPrivateKey],
        subject_key: rsa.RSAPrivateKey,
        common_name: str,
        names: list[x509.GeneralName],
        usage: x509.ObjectIdentifier,
        not_before: datetime.datetime,
        not_after: datetime.datetime,
    ) -> x509.Certificate:
        issuer_certificate, issuer_key = issuer
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(issuer_certificate.subject)
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True
            )  # digitalSignature, keyEncipherment
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca = authority("tlsdiag Test Root CA")
    rogue = authority("Untrusted Other Root CA")
    client_ca = authority("tlsdiag Test Client CA")
    server_private, server_key = key("server")
    client_private, client_key = key("client")
    _, other_key = key("other")

    local = [x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_auth = ExtendedKeyUsageOID.SERVER_AUTH
    valid = (now - day, now + 365 * day)
    intermediates = [ca]
    for level in range(1, 6):
        intermediates.append(authority(f"tlsdiag Intermediate CA {level}", intermediates[-1]))
    chained_leaf = leaf(intermediates[-1], server_private, SERVER_NAME, local, server_auth, *valid)
    client_intermediates = [client_ca, authority("tlsdiag Device Fleet CA", client_ca)]
    client_intermediates.append(authority("tlsdiag Device Issuing CA", client_intermediates[-1]))
    chained_client = leaf(
        client_intermediates[-1], client_private, "device-0002", [], ExtendedKeyUsageOID.CLIENT_AUTH, *valid
    )
    return Pki(
        ca=write("ca", ca[0]),
        rogue_ca=write("rogue-ca", rogue[0]),
        client_ca=write("client-ca", client_ca[0]),
        server_key=server_key,
        server=write("server", leaf(ca, server_private, SERVER_NAME, local, server_auth, *valid)),
        server_rogue=write("server-rogue", leaf(rogue, server_private, SERVER_NAME, local, server_auth, *valid)),
        server_expired=write(
            "server-expired",
            leaf(ca, server_private, SERVER_NAME, local, server_auth, now - 2 * 365 * day, now - 365 * day),
        ),
        server_wrong_host=write(
            "server-wrong-host",
            leaf(ca, server_private, WRONG_HOST, [x509.DNSName(WRONG_HOST)], server_auth, *valid),
        ),
        client_key=client_key,
        client=write(
            "client",
            leaf(client_ca, client_private, "device-0001", [], ExtendedKeyUsageOID.CLIENT_AUTH, *valid),
        ),
        other_key=other_key,
        server_chain=bundle("server-chain", [chained_leaf, *(c for c, _ in reversed(intermediates[1:]))]),
        server_intermediates=bundle("server-intermediates", [c for c, _ in reversed(intermediates[1:])]),
        client_chain=bundle("client-chain", [chained_client, *(c for c, _ in reversed(client_intermediates[1:]))]),
    )
