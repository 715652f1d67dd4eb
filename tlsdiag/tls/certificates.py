"""X.509 certificates from DER bytes (a Certificate message) or PEM text (a sketch, a config, a forum post).

What a diagnosis needs from a certificate is small and fixed: who it names and who signed it, when
it is valid, its key (an RSA size or EC curve the device may not support), its signature algorithm
(SHA-1 is refused by default), the names it is valid for, whether it is a CA and how big it is
(against the device's record buffer). ``cryptography`` does the parsing; this module never raises:
bytes it cannot parse give a :class:`CertificateInfo` with ``error`` set and whatever could still be
said (size, fingerprint).

Names are written the way mbedTLS prints them (``O=tlsdiag test, CN=localhost``: DER order, short
attribute names, ``", "`` between), so they compare directly with the ``subject name`` lines of a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Attribute short names as mbedTLS's ``mbedtls_x509_dn_gets`` prints them (its OID table in x509 oid.c).
#: An attribute outside this list is shown by its dotted OID.
_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber",
    "2.5.4.4": "SN",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.12": "title",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.45": "uniqueIdentifier",
    "2.5.4.16": "postalAddress",
    "2.5.4.17": "postalCode",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "uid",
}
_CERTIFICATE_LABELS = ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE")


@dataclass(frozen=True)
class CertificateInfo:
    """The facts about one certificate that a TLS diagnosis uses; ``error`` when the DER did not parse."""

    der_length: int
    sha256: str
    subject: str | None = None
    issuer: str | None = None
    common_name: str | None = None
    serial: str | None = None  # colon-separated hex, as mbedTLS prints it
    not_before: datetime | None = None  # UTC
    not_after: datetime | None = None  # UTC
    key_type: str | None = None  # RSA | EC | Ed25519 | Ed448 | DSA | ...
    key_size: int | None = None  # bits: RSA modulus, EC field
    curve: str | None = None  # secp256r1, ...
    signature_algorithm: str | None = None  # RSA_WITH_SHA256, ECDSA_WITH_SHA384, ED25519, ...
    signature_algorithm_oid: str | None = None
    signature_hash: str | None = None  # sha256, sha1, ... (None for Ed25519/Ed448)
    san_dns: tuple[str, ...] = ()
    san_ips: tuple[str, ...] = ()
    is_ca: bool | None = None  # None: no basicConstraints extension
    self_issued: bool | None = None  # subject == issuer
    self_signed: bool | None = None  # self-issued and its own key verifies its signature
    version: int | None = None
    error: str | None = None
    problems: tuple[str, ...] = field(default=())  # parts that did not decode (one bad extension ...)

    def valid_at(self, moment: datetime) -> bool | None:
        """Whether ``moment`` (timezone-aware) falls in the validity period; None if the dates are unknown."""
        if self.not_before is None or self.not_after is None:
            return None
        return self.not_before <= moment <= self.not_after

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "subject": self.subject,
            "issuer": self.issuer,
            "common_name": self.common_name,
            "serial": self.serial,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "key_type": self.key_type,
            "key_size": self.key_size,
            "curve": self.curve,
            "signature_algorithm": self.signature_algorithm,
            "signature_hash": self.signature_hash,
            "san_dns": list(self.san_dns),
            "san_ips": list(self.san_ips),
            "is_ca": self.is_ca,
            "self_signed": self.self_signed,
            "der_length": self.der_length,
            "sha256": self.sha256,
        }
        if self.error:
            data["error"] = self.error
        if self.problems:
            data["problems"] = list(self.problems)
        return data


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def parse_certificate(der: bytes) -> CertificateInfo:
    """Everything :class:`CertificateInfo` holds, from DER; never raises."""
    der_length, sha256 = len(der), hashlib.sha256(der).hexdigest()
    try:
        from cryptography import x509  # deferred: only diagnoses with certificates pay for the import
    except ImportError as error:  # pragma: no cover - cryptography is a dependency
        return CertificateInfo(der_length, sha256, error=f"cryptography is not installed: {error}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography warns about odd serials/encodings; we report, not warn
        try:
            certificate = x509.load_der_x509_certificate(der)
        except Exception as error:  # any parse failure of untrusted bytes is a finding, not a crash
            return CertificateInfo(der_length, sha256, error=f"not a parseable X.509 certificate: {error}")
        found: dict[str, Any] = {}
        problems: list[str] = []
        for part in (_names, _validity, _key, _signature, _extensions, _self_signed):
            try:
                part(certificate, found)
            except Exception as error:  # one unreadable part must not hide the others
                problems.append(f"{part.__name__.strip('_')}: {error}")
    return CertificateInfo(der_length, sha256, **found, problems=tuple(problems))


def _names(certificate: Any, found: dict[str, Any]) -> None:
    from cryptography.x509.oid import NameOID

    found["version"] = certificate.version.value + 1
    found["subject"] = format_name(certificate.subject)
    found["issuer"] = format_name(certificate.issuer)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    found["common_name"] = str(common_names[0].value) if common_names else None
    found["self_issued"] = certificate.subject == certificate.issuer
    found["serial"] = format_serial(certificate.serial_number)


def _validity(certificate: Any, found: dict[str, Any]) -> None:
    found["not_before"] = certificate.not_valid_before_utc
    found["not_after"] = certificate.not_valid_after_utc


def _key(certificate: Any, found: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        found.update(key_type="RSA", key_size=key.key_size)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        found.update(key_type="EC", key_size=key.curve.key_size, curve=key.curve.name)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        found.update(key_type="Ed25519", key_size=256)
    elif isinstance(key, ed448.Ed448PublicKey):
        found.update(key_type="Ed448", key_size=456)
    elif isinstance(key, dsa.DSAPublicKey):
        found.update(key_type="DSA", key_size=key.key_size)
    else:
        found["key_type"] = type(key).__name__


def _signature(certificate: Any, found: dict[str, Any]) -> None:
    from cryptography.x509.oid import SignatureAlgorithmOID

    oid = certificate.signature_algorithm_oid
    known = {value: name for name, value in vars(SignatureAlgorithmOID).items() if not name.startswith("_")}
    found["signature_algorithm_oid"] = oid.dotted_string
    found["signature_algorithm"] = known.get(oid, oid.dotted_string)
    try:
        algorithm = certificate.signature_hash_algorithm
    except Exception:  # Ed25519/Ed448 have no separate hash; unknown OIDs raise
        algorithm = None
    found["signature_hash"] = None if algorithm is None else algorithm.name


def _extensions(certificate: Any, found: dict[str, Any]) -> None:
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        found["san_dns"] = tuple(san.get_values_for_type(x509.DNSName))
        found["san_ips"] = tuple(str(address) for address in san.get_values_for_type(x509.IPAddress))
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        found["is_ca"] = None
    else:
        found["is_ca"] = bool(constraints.ca)


def _self_signed(certificate: Any, found: dict[str, Any]) -> None:
    if not found.get("self_issued"):
        found["self_signed"] = False
        return
    try:
        certificate.verify_directly_issued_by(certificate)
    except Exception:  # a bad signature, or a key type cryptography cannot verify with
        found["self_signed"] = False
    else:
        found["self_signed"] = True


def format_name(name: Any) -> str:
    """An ``x509.Name`` as mbedTLS prints it: ``C=US, O=Amazon, CN=Amazon Root CA 1``."""
    parts = []
    for rdn in name.rdns:
        parts.append(" + ".join(f"{_short(attribute.oid.dotted_string)}={attribute.value}" for attribute in rdn))
    return ", ".join(parts)


def _short(dotted: str) -> str:
    return _SHORT_NAMES.get(dotted, dotted)


def format_serial(serial: int) -> str:
    """``14:AE:7C:...``: the serial's big-endian bytes in upper-case hex, as mbedTLS prints it."""
    if serial < 0:
        return "-" + format_serial(-serial)
    raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    return ":".join(f"{byte:02X}" for byte in raw)


def format_der_name(der: bytes) -> str | None:
    """A DER ``Name`` (as in a CertificateRequest's CA list) in mbedTLS's form; None if it is not one."""
    try:
        content = _tlv(der, 0, 0x30)
        if content[1] != len(der):
            return None
        parts = []
        position = content[0]
        while position < content[1]:
            set_start, set_end = _tlv(der, position, 0x31)
            attributes = []
            inner = set_start
            while inner < set_end:
                sequence_start, sequence_end = _tlv(der, inner, 0x30)
                oid_start, oid_end = _tlv(der, sequence_start, 0x06)
                value_tag = der[oid_end]
                value_start, value_end = _tlv(der, oid_end, None)
                if value_end != sequence_end:
                    return None
                oid = _oid_text(der[oid_start:oid_end])
                attributes.append(f"{_short(oid)}={_der_string(value_tag, der[value_start:value_end])}")
                inner = sequence_end
            parts.append(" + ".join(attributes))
            position = set_end
        return ", ".join(parts)
    except (IndexError, ValueError):
        return None


def _tlv(data: bytes, position: int, tag: int | None) -> tuple[int, int]:
    """(content start, content end) of the DER element at ``position``; ValueError if it is not one."""
    if tag is not None and data[position] != tag:
        raise ValueError(f"expected tag 0x{tag:02x} at {position}")
    length = data[position + 1]
    start = position + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("DER element runs past the data")
    return start, end


def _oid_text(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty OID")
    numbers: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = numbers[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(number) for number in head + numbers[1:])


def _der_string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", errors="replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", errors="replace")
    if tag == 0x14:  # TeletexString: in practice Latin-1
        return raw.decode("latin-1")
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class PemBlock:
    """A ``-----BEGIN CERTIFICATE-----`` block found in text: its DER, or why it could not be read."""

    label: str
    line: int  # 1-based line of the BEGIN marker
    der: bytes | None
    error: str | None = None


_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_C_ESCAPE = re.compile(r"\\[nr]")
#: What follows the base64 on a line of source code: quotes, continuation backslashes, commas,
#: semicolons, parentheses, and ``+`` concatenation (see :func:`_strip_literal_tail`).
_LITERAL_TAIL = " \t\\;,)\"'"
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def find_pem_certificates(text: str) -> tuple[PemBlock, ...]:
    """Every PEM certificate in ``text``, however it was pasted.

    Handles plain PEM, PEM inside C string literals (``"MIIE...\\n" \\`` lines, as in Arduino
    sketches, or one literal with ``\\n`` escapes), and log lines with a prefix before each base64
    line (ESP-IDF's ``I (1234) app: ``): on each line, the base64 is the run of base64 characters at
    its end once quotes, escapes and continuation backslashes are removed.
    """
    lines = _split_lines(text)
    blocks: list[PemBlock] = []
    index = 0
    while index < len(lines):
        number, line = lines[index]
        begin = _BEGIN.search(line)
        if not begin or begin.group(1) not in _CERTIFICATE_LABELS:
            index += 1
            continue
        chunks: list[str] = []
        ended = False
        position, line = index, line[begin.end() :]
        while True:
            end = _END.search(line)
            chunks.append(_trailing_base64(_strip_literal_tail(line[: end.start()] if end else line)))
            if end:
                ended = True
                break
            position += 1
            if position >= len(lines) or _BEGIN.search(lines[position][1]):
                break  # the text ends, or another block begins, before this one ended
            line = lines[position][1]
        blocks.append(_pem_block(begin.group(1), number, "".join(chunks), ended))
        index = position + 1 if ended else max(position, index + 1)
    return tuple(blocks)


def _strip_literal_tail(line: str) -> str:
    """``"MIIE...+" +`` -> ``"MIIE...+``: drop string-literal syntax after the base64.

    A ``+`` is dropped only after a space or a quote (concatenation); right after a base64 character
    it is part of the base64.
    """
    while True:
        line = line.rstrip(_LITERAL_TAIL)
        if len(line) >= 2 and line[-1] == "+" and line[-2] in " \t\"'":
            line = line[:-1]
            continue
        return line


def _trailing_base64(line: str) -> str:
    """The run of base64 characters (and its ``=`` padding) that ends ``line``; ``""`` if there is none.

    Scanned from the end by hand: a regular expression anchored at ``$`` would retry from every
    position of a long line that does not end in base64.
    """
    end = len(line)
    while end and line[end - 1] == "=":
        end -= 1
    start = end
    while start and line[start - 1] in _BASE64:
        start -= 1
    return line[start:] if start < end else ""


def _split_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number in ``text``, line) with ANSI colours removed and C ``\\n`` escapes as line breaks."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found.extend((number, part) for part in _C_ESCAPE.sub("\n", _ANSI.sub("", line)).split("\n"))
    return found


def _pem_block(label: str, line: int, encoded: str, ended: bool) -> PemBlock:
    if not ended:
        return PemBlock(label, line, None, "no -----END line: the block was cut")
    if not encoded:
        return PemBlock(label, line, None, "empty block")
    try:
        der = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        return PemBlock(label, line, None, f"invalid base64: {error}")
    if not der or der[0] != 0x30:
        return PemBlock(label, line, der, "the decoded bytes are not a DER SEQUENCE")
    return PemBlock(label, line, der)


def pem_to_der(text: str) -> list[bytes]:
    """The DER bytes of every readable PEM certificate in ``text``."""
    return [block.der for block in find_pem_certificates(text) if block.der is not None and block.error is None]
