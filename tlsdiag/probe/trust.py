"""Does the server's chain lead to one of the device's roots? And if not, which root does it need?

The walk is the one mbedTLS makes: from the leaf up through the certificates the server sent, each
issuer found by name and confirmed by its signature, until a certificate is issued by (or is) one of the
trusted roots. When none is, the issuer named by the last certificate reached is the root the device
needs.
"""

from __future__ import annotations

from typing import NamedTuple

from tlsdiag.errors import InputError
from tlsdiag.probe.profile import ServerCertificate, certificates_from_pem

MAX_DEPTH = 10


class Trust(NamedTuple):
    trusted: bool
    root: str | None  # the trusted root the chain reaches
    needed: str  # the issuer the chain needs (the top certificate's issuer)
    top: str  # the last certificate of the walk
    ca_count: int
    roots: tuple[ServerCertificate, ...] = ()  # the CA file's certificates


def read_roots(path: str) -> list[ServerCertificate]:
    """The certificates of a CA file or PEM bundle (DER files are read too)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a CA file") from None
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}") from None
    roots = certificates_from_pem(raw.decode("utf-8", errors="replace"))
    if not roots and raw[:1] == b"\x30":
        from tlsdiag.probe.profile import certificate_from_der

        try:
            roots = [certificate_from_der(raw)]
        except ValueError:
            roots = []
    if not roots:
        raise InputError(f"{path} holds no certificate (a PEM bundle or a DER certificate was expected)")
    return roots


def _issued_by(child: ServerCertificate, issuer: ServerCertificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(child.der).verify_directly_issued_by(x509.load_der_x509_certificate(issuer.der))
    except Exception:  # wrong signature, unsupported algorithm: not this issuer
        return False
    return True


def check(chain: list[ServerCertificate], roots: list[ServerCertificate]) -> Trust:
    if not chain:
        raise InputError("the server's profile has no certificate chain to check against --ca")
    current = chain[0]
    for _ in range(MAX_DEPTH):
        for root in roots:
            if root.der == current.der or _issued_by(current, root):
                return Trust(True, root.subject, current.issuer, current.subject, len(roots), tuple(roots))
        parent = next((item for item in chain if item is not current and _issued_by(current, item)), None)
        if parent is None or parent is current:
            break
        current = parent
    return Trust(False, None, current.issuer, current.subject, len(roots), tuple(roots))
