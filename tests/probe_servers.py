"""Servers on 127.0.0.1 for the probe tests, each with one property a device can trip over, and their PKI.

The PKI is fixed (tests/fixtures/probe/pki, valid 2025-2125, made by ``python -m tests.probe_servers pki``)
so that the scans saved from these servers (tests/fixtures/probe/scans, made by ``python -m
tests.probe_servers scans``) describe exactly the servers the live tests start, and do not expire. The
expired server uses the one certificate that is meant to be out of date.

Every server is ``openssl s_server`` listening on 127.0.0.1 only, for at most ``LIFETIME`` seconds,
stopped by the context manager whatever happens.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "tests" / "fixtures" / "probe"
PKI = PROBE / "pki"
SCANS = PROBE / "scans"
HOST = "127.0.0.1"
LIFETIME = 120.0
SERVER_NAME = "localhost"


class Server(NamedTuple):
    name: str
    arguments: tuple[str, ...]  # s_server arguments, with {pki} for the PKI directory
    about: str


SERVERS = {
    server.name: server
    for server in (
        Server("rsa-tls12-13", ("-cert", "{pki}/rsa-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-cert_chain",
               "{pki}/ca.crt"), "RSA 2048 leaf from the test CA, TLS 1.2 and 1.3, OpenSSL's defaults"),
        Server("tls13-only", ("-cert", "{pki}/rsa-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-tls1_3"),
               "the same RSA leaf, TLS 1.3 only"),
        Server("rsa-kx-only", ("-cert", "{pki}/rsa-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-tls1_2",
               "-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384"), "TLS 1.2 with plain RSA key exchange only"),
        Server("p384-only", ("-cert", "{pki}/rsa-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-tls1_2",
               "-groups", "secp384r1", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"), "ECDHE on secp384r1 only"),
        Server("big-chain", ("-cert", "{pki}/big-leaf.crt", "-key", "{pki}/big-leaf.key", "-cert_chain",
               "{pki}/big-chain.crt", "-tls1_2"), "a 4096-bit RSA chain of three certificates (about 5 KB)"),
        Server("client-auth", ("-cert", "{pki}/rsa-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-tls1_2", "-Verify",
               "1", "-CAfile", "{pki}/client-ca.crt"), "requires a client certificate from the client CA"),
        Server("sni-vhost", ("-cert", "{pki}/other-host.crt", "-key", "{pki}/rsa-leaf.key", "-servername",
               SERVER_NAME, "-cert2", "{pki}/rsa-leaf.crt", "-key2", "{pki}/rsa-leaf.key", "-tls1_2"),
               "the right certificate only for clients that send SNI localhost"),
        Server("ecdsa-p384-sha384", ("-cert", "{pki}/p384-leaf.crt", "-key", "{pki}/p384-leaf.key", "-cert_chain",
               "{pki}/p384-ca.crt", "-tls1_2"), "ECDSA P-384 chain signed with SHA-384"),
        Server("expired", ("-cert", "{pki}/expired-leaf.crt", "-key", "{pki}/rsa-leaf.key", "-tls1_2"),
               "a leaf that expired in 2024"),
    )
}  # fmt: skip


# --- PKI ---------------------------------------------------------------------------------------------------


def make_pki(directory: Path) -> None:
    """Write the fixed test PKI (keys and certificates, PEM) into ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2125, 1, 1, tzinfo=datetime.UTC)

    def save_key(name: str, key: object) -> None:
        (directory / f"{name}.key").write_bytes(
            key.private_bytes(  # type: ignore[attr-defined]
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
        )

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsdiag probe tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])  # fmt: skip

    def issue(subject: str, key: object, issuer: tuple[x509.Name, object], ca: bool, digest: object,
              host: str | None = None, window: tuple[datetime.datetime, datetime.datetime] = (start, end),
              usage: object = ExtendedKeyUsageOID.SERVER_AUTH) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer[0])
            .public_key(key.public_key())  # type: ignore[attr-defined]
            .serial_number(x509.random_serial_number())
            .not_valid_before(window[0])
            .not_valid_after(window[1])
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if host:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        return builder.sign(issuer[1], digest)  # type: ignore[arg-type]

    def write(file: str, *certificates: x509.Certificate) -> None:
        (directory / file).write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))

    ca_key = rsa.generate_private_key(65537, 2048)
    ca = issue("tlsdiag probe Root CA", ca_key, (name("tlsdiag probe Root CA"), ca_key), True, hashes.SHA256())
    rogue_key = rsa.generate_private_key(65537, 2048)
    rogue = issue("Some Other Root CA", rogue_key, (name("Some Other Root CA"), rogue_key), True, hashes.SHA256())
    leaf_key = rsa.generate_private_key(65537, 2048)
    save_key("rsa-leaf", leaf_key)
    write("ca.crt", ca)
    write("rogue-ca.crt", rogue)
    write("rsa-leaf.crt", issue(SERVER_NAME, leaf_key, (ca.subject, ca_key), False, hashes.SHA256(), SERVER_NAME))
    write("other-host.crt", issue("other.example", leaf_key, (ca.subject, ca_key), False, hashes.SHA256(),
                                  "other.example"))  # fmt: skip
    write("expired-leaf.crt", issue(SERVER_NAME, leaf_key, (ca.subject, ca_key), False, hashes.SHA256(), SERVER_NAME,
                                    (datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC),
                                     datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))))  # fmt: skip
    # a long chain: root -> intermediate (4096) -> intermediate (4096) -> leaf (4096)
    big_root_key = rsa.generate_private_key(65537, 4096)
    big_root = issue("tlsdiag probe Big Root", big_root_key, (name("tlsdiag probe Big Root"), big_root_key), True,
                     hashes.SHA256())  # fmt: skip
    first_key = rsa.generate_private_key(65537, 4096)
    first = issue("tlsdiag probe Intermediate 1", first_key, (big_root.subject, big_root_key), True, hashes.SHA256())
    second_key = rsa.generate_private_key(65537, 4096)
    second = issue("tlsdiag probe Intermediate 2", second_key, (first.subject, first_key), True, hashes.SHA256())
    big_leaf_key = rsa.generate_private_key(65537, 4096)
    save_key("big-leaf", big_leaf_key)
    write("big-root.crt", big_root)
    write("big-chain.crt", second, first, big_root)
    write("big-leaf.crt", issue(SERVER_NAME, big_leaf_key, (second.subject, second_key), False, hashes.SHA256(),
                                SERVER_NAME))  # fmt: skip
    # ECDSA P-384 signed with SHA-384
    p384_ca_key = ec.generate_private_key(ec.SECP384R1())
    p384_ca = issue("tlsdiag probe P-384 CA", p384_ca_key, (name("tlsdiag probe P-384 CA"), p384_ca_key), True,
                    hashes.SHA384())  # fmt: skip
    p384_key = ec.generate_private_key(ec.SECP384R1())
    save_key("p384-leaf", p384_key)
    write("p384-ca.crt", p384_ca)
    write("p384-leaf.crt", issue(SERVER_NAME, p384_key, (p384_ca.subject, p384_ca_key), False, hashes.SHA384(),
                                 SERVER_NAME))  # fmt: skip
    # client authentication
    client_ca_key = rsa.generate_private_key(65537, 2048)
    client_ca = issue("tlsdiag probe Client CA", client_ca_key, (name("tlsdiag probe Client CA"), client_ca_key),
                      True, hashes.SHA256())  # fmt: skip
    client_key = rsa.generate_private_key(65537, 2048)
    save_key("client", client_key)
    write("client-ca.crt", client_ca)
    write("client.crt", issue("device-0001", client_key, (client_ca.subject, client_ca_key), False, hashes.SHA256(),
                              usage=ExtendedKeyUsageOID.CLIENT_AUTH))  # fmt: skip


# --- servers -----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(server: Server, openssl: str = "openssl", pki: Path = PKI) -> Iterator[int]:
    """Start ``server`` on a free loopback port for the block; yields the port."""
    arguments = [argument.replace("{pki}", str(pki)) for argument in server.arguments]
    last = ""
    for _ in range(5):
        port = _free_port()
        command = [openssl, "s_server", "-accept", f"{HOST}:{port}", "-www", "-quiet", *arguments]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        timer = threading.Timer(LIFETIME, process.kill)
        timer.daemon = True
        timer.start()
        try:
            if _wait_listening(port, process):
                yield port
                return
            last = process.stderr.read() if process.stderr and process.poll() is not None else "did not listen"
        finally:
            timer.cancel()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            if process.stderr is not None:
                process.stderr.close()
    raise RuntimeError(f"openssl s_server {server.name} did not start: {last}")


def _wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((HOST, port)) == 0:
                return True
        time.sleep(0.05)
    return False


def save_scans(directory: Path = SCANS) -> None:
    """Scan every server once and keep the report (sslyze's JSON with tlsdiag's handshakes)."""
    from tlsdiag.probe.scan import scan

    directory.mkdir(parents=True, exist_ok=True)
    import json

    for server in SERVERS.values():
        with running(server) as port:
            _, document = scan(HOST, port, SERVER_NAME)
        (directory / f"{server.name}.sslyze.json").write_text(json.dumps(document, indent=2) + "\n")
        print(f"saved {server.name}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["pki"]:
        make_pki(PKI)
    elif sys.argv[1:2] == ["scans"]:
        save_scans()
    else:
        print("usage: python -m tests.probe_servers pki|scans", file=sys.stderr)
