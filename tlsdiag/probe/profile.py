"""What a server does in TLS, whatever measured it: a live scan, a saved sslyze report or a testssl.sh report.

Every field may be unknown (None): a testssl.sh report has no record sizes, a TLS 1.3-only server shows
nothing of its certificate flight to a TLS 1.2 probe. The matcher treats unknown as unknown, never as a
pass or a failure.
"""

from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from tlsdiag.documents.probe import ProbeHandshakeJson, ServerCertificateJson, ServerJson

VERSIONS = ("SSL2.0", "SSL3.0", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3")
HANDSHAKE_HEADER = 4  # type (1) and length (3) of a handshake message
CERTIFICATE_LENGTH = 3  # each certificate, and the whole list, is preceded by a 24-bit length


@dataclass(frozen=True)
class ServerCertificate:
    """One certificate of the chain the server sends, with what a client needs to verify it."""

    der: bytes
    subject: str
    issuer: str
    key_type: str  # RSA | EC | Ed25519 | Ed448 | DSA | unknown
    key_bits: int | None
    curve: str | None  # secp256r1 ... (TLS group names) for EC keys
    signature_algorithm: str  # sha256WithRSAEncryption, ecdsa-with-SHA384, rsassaPss, ed25519 ...
    signature_hash: str | None  # sha1 | sha224 | sha256 | sha384 | sha512 | None (Ed25519)
    signature_key: str  # rsa | rsa-pss | ecdsa | ed25519 | ed448 | dsa | unknown
    not_before: datetime.datetime
    not_after: datetime.datetime
    self_signed: bool
    is_ca: bool

    @property
    def size(self) -> int:
        return len(self.der)

    def to_json(self) -> ServerCertificateJson:
        from tlsdiag.documents.probe import ServerCertificateJson

        return ServerCertificateJson(
            subject=self.subject,
            issuer=self.issuer,
            size=self.size,
            key_type=self.key_type,
            key_bits=self.key_bits,
            curve=self.curve,
            signature_algorithm=self.signature_algorithm,
            signature_hash=self.signature_hash,
            not_before=self.not_before.isoformat(),
            not_after=self.not_after.isoformat(),
            self_signed=self.self_signed,
            is_ca=self.is_ca,
        )


@dataclass
class Handshake:
    """What one TLS 1.2 handshake showed of the server's flight (what sslyze does not record)."""

    server_name: str | None
    requested_mfl: int | None  # the max_fragment_length the probe asked for (bytes)
    mfl_accepted: bool | None = None  # the server echoed max_fragment_length
    records: list[int] = field(default_factory=list)  # lengths of the handshake records it sent
    certificate_message: int | None = None  # bytes of its Certificate message, header included
    certificate_request: bool = False
    session_ticket: bool | None = None  # it echoed the session_ticket extension
    alert: str | None = None  # the alert it sent instead, e.g. "fatal protocol_version (70)"
    leaf_sha256: str | None = None
    error: str | None = None  # what stopped the probe (closed, timeout)

    def to_json(self) -> ProbeHandshakeJson:
        """What the probe document shows of it, and what a saved scan keeps (:meth:`from_json` reads it back)."""
        from tlsdiag.documents.probe import ProbeHandshakeJson

        return ProbeHandshakeJson(
            server_name=self.server_name,
            requested_mfl=self.requested_mfl,
            mfl_accepted=self.mfl_accepted,
            records=tuple(self.records),
            certificate_message=self.certificate_message,
            certificate_request=self.certificate_request,
            session_ticket=self.session_ticket,
            alert=self.alert,
            leaf_sha256=self.leaf_sha256,
            error=self.error,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handshake:
        return cls(
            server_name=data.get("server_name"),
            requested_mfl=data.get("requested_mfl"),
            mfl_accepted=data.get("mfl_accepted"),
            records=[int(value) for value in data.get("records") or ()],
            certificate_message=data.get("certificate_message"),
            certificate_request=bool(data.get("certificate_request")),
            session_ticket=data.get("session_ticket"),
            alert=data.get("alert"),
            leaf_sha256=data.get("leaf_sha256"),
            error=data.get("error"),
        )


@dataclass
class SniBehaviour:
    """How the server treats a ClientHello without server_name, compared with one that names it."""

    required: bool | None  # None: not tested
    behaviour: str  # "alert unrecognized_name (112)", "a different certificate", "the same certificate" ...
    certificate_without_sni: str | None = None  # subject of the certificate it sends then


@dataclass
class ServerProfile:
    host: str
    port: int
    server_name: str | None
    source: str  # scan | sslyze-json | testssl-json
    versions: list[str] = field(default_factory=list)
    suites: dict[str, list[int]] = field(default_factory=dict)  # version -> IANA values it accepts
    groups: list[str] | None = None  # TLS group names (secp256r1, x25519 ...), None when not measured
    certificates: list[ServerCertificate] = field(default_factory=list)
    client_auth: str | None = None  # none | optional | required
    session_tickets: bool | None = None
    mfl: bool | None = None  # does it honour max_fragment_length
    handshakes: list[Handshake] = field(default_factory=list)
    sni: SniBehaviour | None = None
    notes: list[str] = field(default_factory=list)
    scanned_at: str | None = None

    @property
    def certificate_message_bytes(self) -> int | None:
        """The TLS 1.2 Certificate message, as seen on the wire or computed from the chain."""
        seen = [handshake.certificate_message for handshake in self.handshakes if handshake.certificate_message]
        if seen:
            return max(seen)
        if not self.certificates:
            return None
        entries = sum(CERTIFICATE_LENGTH + certificate.size for certificate in self.certificates)
        return HANDSHAKE_HEADER + CERTIFICATE_LENGTH + entries

    @property
    def largest_record(self) -> int | None:
        """The longest handshake record seen when the server was not asked for smaller ones."""
        sizes = [size for handshake in self.handshakes if not handshake.requested_mfl for size in handshake.records]
        return max(sizes) if sizes else None

    @property
    def leaf(self) -> ServerCertificate | None:
        return self.certificates[0] if self.certificates else None

    def to_json(self) -> ServerJson:
        from tlsdiag.documents import probe as documents

        sni = self.sni
        return documents.ServerJson(
            host=self.host,
            port=self.port,
            server_name=self.server_name,
            versions=cast("tuple[documents.TlsVersion, ...]", tuple(self.versions)),
            ciphersuites={
                cast("documents.TlsVersion", version): tuple(f"0x{value:04x}" for value in values)
                for version, values in self.suites.items()
            },
            groups=tuple(self.groups) if self.groups is not None else None,
            certificates=tuple(certificate.to_json() for certificate in self.certificates),
            certificate_message_bytes=self.certificate_message_bytes,
            client_auth=cast(documents.ClientAuth, self.client_auth),
            session_tickets=self.session_tickets,
            max_fragment_length=self.mfl,
            largest_record=self.largest_record,
            sni=None
            if sni is None
            else documents.SniJson(
                required=sni.required, behaviour=sni.behaviour, certificate_without_sni=sni.certificate_without_sni
            ),
            handshakes=tuple(handshake.to_json() for handshake in self.handshakes),
            source=cast(documents.ProfileSource, self.source),
            notes=tuple(self.notes),
        )


# --- certificates ---------------------------------------------------------------------------------------

_HASHES = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_CURVES = {
    "secp256r1": "secp256r1",
    "prime256v1": "secp256r1",
    "secp384r1": "secp384r1",
    "secp521r1": "secp521r1",
    "secp256k1": "secp256k1",
    "secp224r1": "secp224r1",
    "secp192r1": "secp192r1",
    "brainpoolP256r1": "brainpoolP256r1",
    "brainpoolP384r1": "brainpoolP384r1",
    "brainpoolP512r1": "brainpoolP512r1",
}


def certificate_from_der(der: bytes) -> ServerCertificate:
    """Read what verification needs from one DER certificate (``cryptography`` does the parsing)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    certificate = x509.load_der_x509_certificate(der)
    key = certificate.public_key()
    curve = None
    if isinstance(key, rsa.RSAPublicKey):
        key_type, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, bits = "EC", key.curve.key_size
        curve = _CURVES.get(key.curve.name, key.curve.name)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, bits = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        key_type, bits = "Ed448", 456
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, bits = "DSA", key.key_size
    else:
        key_type, bits = "unknown", None
    oid_name = certificate.signature_algorithm_oid._name  # the OID's short name, e.g. sha256WithRSAEncryption
    try:
        hash_algorithm = certificate.signature_hash_algorithm
    except Exception:  # an algorithm cryptography does not know
        hash_algorithm = None
    hash_name = _HASHES.get(hash_algorithm.name) if hash_algorithm is not None else None
    lowered = oid_name.lower()
    if "pss" in lowered:
        signature_key = "rsa-pss"
    elif "rsa" in lowered:
        signature_key = "rsa"
    elif "ecdsa" in lowered:
        signature_key = "ecdsa"
    elif "ed25519" in lowered:
        signature_key = "ed25519"
    elif "ed448" in lowered:
        signature_key = "ed448"
    elif "dsa" in lowered:
        signature_key = "dsa"
    else:
        signature_key = "unknown"
    if signature_key == "rsa-pss" and hash_name is None:
        hash_name = _pss_hash(certificate)
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bool(constraints.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    return ServerCertificate(
        der=der,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        key_type=key_type,
        key_bits=bits,
        curve=curve,
        signature_algorithm=oid_name,
        signature_hash=hash_name,
        signature_key=signature_key,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        self_signed=certificate.subject == certificate.issuer,
        is_ca=is_ca,
    )


def _pss_hash(certificate: Any) -> str | None:
    parameters = getattr(certificate, "signature_algorithm_parameters", None)
    algorithm = getattr(parameters, "_algorithm", None) or getattr(parameters, "mgf", None)
    name = getattr(algorithm, "name", None)
    return _HASHES.get(name) if isinstance(name, str) else None


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


def certificates_from_pem(text: str) -> list[ServerCertificate]:
    """Every certificate of a PEM text, in order: a bundle, or blocks a report flattened onto one line."""
    found = []
    for match in _PEM.finditer(text):
        try:
            der = base64.b64decode("".join(match.group(1).split()), validate=True)
            found.append(certificate_from_der(der))
        except ValueError:
            continue
    return found
