"""Hold a server profile against a device: the verdict, and every blocker with evidence from both sides.

Each check follows what the two implementations do during a handshake, in order: agree on a version,
then a suite of that version, then a group for its key exchange; the server's records must fit the
device's input buffer and the chain must be verifiable with what the build compiled in; the server may
need SNI or a client certificate. What each outcome means, the error the device returns and the server
side fix are data (``knowledge/probe/checks.toml``); the option to change on the device is worked out
with the configuration model and written in the device's own terms (config.h, sdkconfig, prj.conf).
"""

from __future__ import annotations

import datetime
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlsdiag.config.checks import close
from tlsdiag.config.suites import Suite, cheapest
from tlsdiag.config.targets import FIX_TARGET, MacroChange, Translator
from tlsdiag.model import Fix
from tlsdiag.probe import data
from tlsdiag.probe.device import Device
from tlsdiag.probe.profile import ServerCertificate, ServerProfile
from tlsdiag.probe.trust import Trust

_SEVERITY_ORDER = {"failure": 0, "warning": 1, "info": 2}
_TLS13_SIGNATURE_HASH = {"secp256r1": "sha256", "secp384r1": "sha384", "secp521r1": "sha512"}
MAX_LISTED = 6


@dataclass
class Evidence:
    side: str  # device | server
    text: str
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "line": self.line, "text": self.text}


@dataclass
class ProbeFinding:
    rule: str
    name: str
    title: str
    category: str
    severity: str
    confidence: float
    evidence: list[Evidence]
    explanation: str
    fixes: list[Fix]
    references: list[str]
    error: str | None = None  # the error the device's handshake is predicted to end with
    step: str | None = None  # the server's handshake message the device is reading when it stops

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "confidence": round(self.confidence, 2),
            "evidence": [item.to_json() for item in self.evidence],
            "explanation": self.explanation,
            "fixes": [fix.to_json() for fix in self.fixes],
            "references": list(self.references),
            "predicted_error": self.error,
            "predicted_step": self.step,
        }


@dataclass
class Verdict:
    verdict: str  # connects | fails | unknown
    version: str | None  # the version the two would negotiate
    suite: str | None  # the suite the server would pick among the shared ones (its order is not known)
    findings: list[ProbeFinding] = field(default_factory=list)

    @property
    def blockers(self) -> list[ProbeFinding]:
        return [finding for finding in self.findings if finding.severity == "failure"]


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(text: str, facts: dict[str, Any]) -> str:
    return " ".join(string.Formatter().vformat(text, (), _Facts(facts)).split())


class Matcher:
    def __init__(self, profile: ServerProfile, device: Device, trust: Trust | None, ca_name: str | None) -> None:
        self.profile = profile
        self.device = device
        self.trust = trust
        self.ca_name = ca_name
        self.findings: list[ProbeFinding] = []
        self.version: str | None = None  # the version the two would negotiate, once known
        self.now = datetime.datetime.now(datetime.UTC)

    # -- building findings -----------------------------------------------------------------------------

    def report(
        self,
        key: str,
        facts: dict[str, Any],
        device_evidence: Sequence[tuple[int | None, str]] = (),
        server_evidence: Sequence[str] = (),
        changes: Sequence[MacroChange] = (),
        device_actions: Sequence[Fix] = (),
        severity: str | None = None,
        variant: str | None = None,
    ) -> ProbeFinding:
        entry = data.checks()[key]
        if variant is not None:
            entry = {**entry, **entry["when"][variant]}
        evidence = [Evidence("server", text) for text in server_evidence]
        evidence += [Evidence("device", text, line) for line, text in device_evidence]
        fixes = self._device_fixes(entry["id"], changes) + list(device_actions)
        server_fix = _fill(entry.get("server_fix", ""), facts)
        if server_fix:
            fixes.append(Fix("server", server_fix))
        finding = ProbeFinding(
            rule=entry["id"],
            name=key,
            title=_fill(entry["title"], facts),
            category=entry["category"],
            severity=severity or entry["severity"],
            confidence=float(entry.get("confidence", 0.8)),
            evidence=evidence,
            explanation=_fill(entry.get("explanation", ""), facts),
            fixes=fixes,
            references=list(entry.get("references", ())),
            error=data.for_major(entry.get("errors", {}), self.device.series) or None,
            step=self._step(entry.get("step")),
        )
        self.findings.append(finding)
        return finding

    def _step(self, step: str | dict[str, str] | None) -> str | None:
        """The check's step, for the negotiated version when it depends on it (unknown version: no step)."""
        if isinstance(step, dict):
            return step.get(self.version) if self.version else None
        return step or None

    def _device_fixes(self, rule: str, changes: Sequence[MacroChange]) -> list[Fix]:
        if not changes:
            return []
        device = self.device
        knowledge = device.knowledge
        checks = knowledge.checks.get(device.series, ())
        repair = knowledge.lint.get("repair", {})
        closed, _ = close(
            device.effective,
            list(changes),
            checks,
            tuple(repair.get("never_enable", ())),
            None,
            repair.get("prefer", ()),
        )
        own = device.config if device.source == "config" else None
        translator = Translator(own, device.effective, knowledge, device.target, device.release, frozenset([rule]))
        fixes = []
        for change in translator.translate(closed, []):
            if change.after in ("defined", "undefined"):
                action = f"{'Define' if change.after == 'defined' else 'Remove (or #undef)'} {change.option}"
            elif change.after in ("y", "n"):
                action = f"Set {change.option}={change.after}"
            else:
                action = f"Set {change.option} to {change.after}"
            if change.why.startswith("check_config.h"):
                action += f" ({change.why})"
            fixes.append(Fix(FIX_TARGET[device.target], action, change.option, change.after))
        return fixes

    # -- the checks --------------------------------------------------------------------------------------

    def run(self) -> Verdict:
        version = self.version = self.versions()
        suite = None
        if version is not None:
            suites = self.suites(version)
            if suites:
                suite = suites[0].name
                self.groups(version, suites)
            self.server_key(version)
            self.records()
            self.tickets(version)
        self.chain()
        self.sni()
        self.client_auth()
        self.trust_check()
        self.findings.sort(key=lambda finding: (_SEVERITY_ORDER.get(finding.severity, 3), -finding.confidence))
        if any(finding.severity == "failure" for finding in self.findings):
            verdict = "fails"
        elif version is None or not self.profile.versions:
            verdict = "unknown"
        else:
            verdict = "connects"
        return Verdict(verdict, version, suite, self.findings)

    def versions(self) -> str | None:
        profile, device = self.profile, self.device
        states = device.versions()
        server = [version for version in profile.versions if version in states]
        if not profile.versions:
            self.report(
                "unknown-profile",
                {"what": "which protocol versions it accepts", "detail": "The report lists no accepted version."},
            )
            return None
        certain = [version for version in server if states.get(version) is True]
        maybe = [version for version in server if states.get(version) is None]
        if certain or maybe:
            return (certain or maybe)[-1]
        offered = [name for name, state in states.items() if state]
        wanted = profile.versions[-1]
        entry = next(item for item in data.capabilities()["version"] if item["name"] == wanted)
        impossible = data.for_major(entry.get("missing_in", {}), device.series)
        changes = []
        if impossible:
            remedy = f"{impossible}."
        else:
            remedy = f"Turn on {entry['enable']} in the device's build."
            changes = [MacroChange(entry["enable"], "on", "PROBE-VERSION-001", f"the server needs {wanted}")]
        self.report(
            "no-shared-version",
            {
                "server_versions": _words(profile.versions),
                "device_versions": _words(offered) or "no protocol version at all",
                "wanted_version": _words([version for version in profile.versions if version in states][-1:]) or wanted,
                "remedy": remedy,
            },
            device.lines([entry["enable"], "MBEDTLS_SSL_PROTO_TLS1_2", "MBEDTLS_SSL_PROTO_TLS1_3"]),
            [f"accepts {_words(profile.versions)} ({self._source()})"],
            changes,
        )
        return None

    def suites(self, version: str) -> list[Suite]:
        profile, device = self.profile, self.device
        server = profile.suites.get(version)
        if not server:
            return []
        certain, maybe = device.suites(version)
        shared = [suite for suite in certain + maybe if suite.value in server]
        if shared:
            return shared
        offered = [suite for suite in device.knowledge_suites(version) if suite.value in server]
        changes: list[MacroChange] = []
        best_text = ""
        if not device.from_log:
            found = cheapest(offered, device.effective, device.knowledge.enable_through, need_key_exchange=False)
            if found is not None:
                best, missing, listed = found
                changes = [MacroChange(macro, "on", "PROBE-SUITE-001", f"to build {best.name}") for macro in missing]
                if listed is not None:
                    changes.append(MacroChange("MBEDTLS_SSL_CIPHERSUITES", listed, "PROBE-SUITE-001", best.name))
                best_text = f"The cheapest of the server's suites to add is {best.name}."
        device_names = [suite.name for suite in certain] or ["none"]
        self.report(
            "no-shared-suite",
            {
                "version": version,
                "server_count": len(server),
                "device_count": len(certain),
                "server_suites": _listed([_suite_name(value, device) for value in server]),
                "device_suites": _listed(device_names),
                "device_first": device_names[0],
                "best_text": best_text,
            },
            device.lines(sorted({suite.key_exchange_macro for suite in offered if suite.key_exchange_macro})),
            [f"{version} suites: {_listed([_suite_name(value, device) for value in server])}"],
            changes,
        )
        return []

    def groups(self, version: str, shared: list[Suite]) -> None:
        profile, device = self.profile, self.device
        if profile.groups is None:
            return
        needs_group = version == "TLS1.3" or all("ECDHE" in suite.key_exchange for suite in shared)
        if not needs_group:
            return
        offered = device.groups()
        server = [group for group in profile.groups if group in offered]
        if any(offered.get(group) is not False for group in server):
            return
        entries = {entry["name"]: entry for entry in data.capabilities()["group"]}
        choice = next((group for group in ("secp256r1", "x25519", "secp384r1") if group in server), None)
        changes = []
        if choice is not None and not device.from_log:
            changes = [MacroChange(entries[choice]["enable"], "on", "PROBE-GROUP-001", f"the server accepts {choice}")]
        device_groups = [name for name, state in offered.items() if state]
        self.report(
            "no-shared-group",
            {
                "server_groups": _words(profile.groups),
                "device_groups": _words(device_groups) or "none",
                "tls13_note": " (in TLS 1.3, after a HelloRetryRequest finds no group either)"
                if version == "TLS1.3"
                else "",
            },
            device.lines([entries[name]["enable"] for name in server if name in entries]),
            [f"groups: {_words(profile.groups)}"],
            changes,
        )

    def server_key(self, version: str) -> None:
        leaf = self.profile.leaf
        device = self.device
        if leaf is None or version != "TLS1.3":
            return
        problem = detail = alternative = ""
        changes: list[MacroChange] = []
        if leaf.key_type == "RSA":
            entry = data.capabilities()["tls13_rsa"]
            state = device.key("rsa-pss") if device.from_log else device.capability(entry)
            if state is False:
                problem = "TLS 1.3 signs with RSA-PSS, which the build leaves out"
                detail = (
                    "In TLS 1.3 an RSA server signs its CertificateVerify with RSA-PSS (rsa_pss_rsae_*); "
                    "without PKCS#1 v2.1 the device offers no such scheme and the server aborts "
                    "with a handshake_failure alert (-0x7780)."
                )
                alternative = "an ECDSA P-256 key"
                macro = device.enable_macro(entry)
                changes = [MacroChange(macro, "on", "PROBE-SIG-002", "TLS 1.3 RSA-PSS")] if macro else []
        elif leaf.key_type == "EC" and leaf.curve in _TLS13_SIGNATURE_HASH:
            hash_name = _TLS13_SIGNATURE_HASH[leaf.curve]
            missing = [
                name
                for name, state in (("ecdsa", device.key("ecdsa")), (hash_name, device.hash(hash_name)))
                if state is False
            ]
            if missing:
                problem = f"ecdsa_{leaf.curve}_{hash_name} needs {' and '.join(missing)}"
                detail = (
                    f"TLS 1.3 ties the ECDSA scheme to the key's curve: a {leaf.curve} key signs with "
                    f"ecdsa_{leaf.curve}_{hash_name}, which the device cannot offer without "
                    f"{' and '.join(missing)}. The server aborts with a handshake_failure alert (-0x7780)."
                )
                alternative = "an RSA key or a P-256 key"
                changes = self._enable("key" if "ecdsa" in missing else "hash", missing, "PROBE-SIG-002")
        elif leaf.key_type in ("Ed25519", "Ed448"):
            problem = f"mbedTLS does not implement {leaf.key_type}"
            detail = f"No mbedTLS version signs or verifies with {leaf.key_type}: the server must offer another key."
            alternative = "an ECDSA P-256 or RSA 2048 key"
        if problem:
            self.report(
                "server-key",
                {
                    "key": f"{leaf.key_type} {leaf.key_bits or ''}".strip(),
                    "problem": problem,
                    "detail": detail,
                    "server_alternative": alternative,
                },
                device.lines([change.macro for change in changes]),
                [f"leaf key: {leaf.key_type} {leaf.key_bits} {leaf.curve or ''}".strip()],
                changes,
            )

    def _enable(self, kind: str, names: Sequence[str], rule: str) -> list[MacroChange]:
        changes = []
        for name in names:
            section = "key" if name in ("ecdsa", "rsa", "rsa-pss") else "hash"
            entry = next((item for item in data.capabilities()[section] if item["name"] == name), None)
            macro = self.device.enable_macro(entry) if entry else None
            if macro:
                changes.append(MacroChange(macro, "on", rule, f"{name} is needed"))
        return changes

    def chain(self) -> None:
        profile, device = self.profile, self.device
        chain = profile.certificates
        if not chain:
            return
        profile_rules = data.capabilities()["profile"][data.major(device.series)]
        for index, certificate in enumerate(chain):
            self._validity(certificate)
            if certificate.self_signed and index > 0:
                continue  # a root the server sends along is not verified, only matched
            problem, flag, missing, alternative = self._signature_problem(certificate, profile_rules)
            if problem is None:
                continue
            changes = self._enable("hash", missing, "PROBE-SIG-001") if missing else []
            position = "leaf" if index == 0 else f"#{index + 1} in the chain"
            self.report(
                "chain-signature",
                {
                    "position": f"({position})",
                    "problem": problem,
                    "subject": certificate.subject,
                    "issuer": certificate.issuer,
                    "signature": certificate.signature_algorithm,
                    "detail": f"{problem[:1].upper()}{problem[1:]}.",
                    "flag": flag,
                    "server_alternative": alternative,
                },
                device.lines([change.macro for change in changes]),
                [f"certificate {position}: {certificate.subject}, {certificate.signature_algorithm}"],
                changes,
            )
        for certificate in chain:
            self._key_limits(certificate, profile_rules)

    def _signature_problem(
        self, certificate: ServerCertificate, rules: dict[str, Any]
    ) -> tuple[str | None, str, list[str], str]:
        device = self.device
        key = certificate.signature_key
        hash_name = certificate.signature_hash
        if key in ("ed25519", "ed448", "dsa", "unknown"):
            return (
                f"mbedTLS does not verify {certificate.signature_algorithm} signatures",
                "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
                [],
                "ECDSA or RSA with SHA-256",
            )
        key_state = device.key(key)
        if key_state is False:
            what = {"rsa": "RSA (PKCS#1 v1.5)", "rsa-pss": "RSASSA-PSS", "ecdsa": "ECDSA"}.get(key, key)
            return (
                f"the build cannot verify {what} signatures",
                "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
                [],
                "the key type the device builds",
            )
        if hash_name is None:
            return None, "", [], ""
        allowed = list(rules["hashes"])
        sha1_with = rules.get("sha1_with")
        if sha1_with and device.holds(f"defined({sha1_with})"):
            allowed.append("sha1")
        if hash_name not in allowed:
            return (
                f"mbedTLS's default verification profile rejects {hash_name.upper()} signatures",
                "MBEDTLS_X509_BADCERT_BAD_MD",
                [],
                "SHA-256",
            )
        if device.hash(hash_name) is False:
            return (
                f"the build leaves out {hash_name.upper()}, which the signature needs",
                "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
                [hash_name],
                "SHA-256",
            )
        return None, "", [], ""

    def _key_limits(self, certificate: ServerCertificate, rules: dict[str, Any]) -> None:
        device = self.device
        if certificate.key_type == "RSA" and certificate.key_bits:
            limit_bytes = device.value("MBEDTLS_MPI_MAX_SIZE")
            if limit_bytes and certificate.key_bits > 8 * limit_bytes:
                self.report(
                    "rsa-key-too-large",
                    {"bits": certificate.key_bits, "limit": 8 * limit_bytes, "limit_bytes": limit_bytes},
                    device.lines(["MBEDTLS_MPI_MAX_SIZE"]),
                    [f"{certificate.subject}: RSA {certificate.key_bits} bits"],
                    [MacroChange("MBEDTLS_MPI_MAX_SIZE", str(certificate.key_bits // 8), "PROBE-KEY-001", "RSA size")],
                )
        if certificate.key_type == "EC" and certificate.curve:
            entry = next((item for item in data.capabilities()["group"] if item["name"] == certificate.curve), None)
            built = device.capability(entry) if entry is not None and not device.from_log else None
            allowed = certificate.curve in rules["curves"]
            if built is False or not allowed:
                problem = (
                    f"its {certificate.curve} key is outside mbedTLS's default verification profile"
                    if not allowed
                    else f"the build leaves out the curve of its key, {certificate.curve}"
                )
                changes = (
                    [MacroChange(entry["enable"], "on", "PROBE-SIG-001", certificate.curve)]
                    if entry and allowed
                    else []
                )
                self.report(
                    "chain-signature",
                    {
                        "position": "",
                        "problem": problem,
                        "subject": certificate.subject,
                        "issuer": certificate.issuer,
                        "signature": certificate.signature_algorithm,
                        "detail": f"{problem[:1].upper()}{problem[1:]}.",
                        "flag": "MBEDTLS_X509_BADCERT_BAD_KEY",
                        "server_alternative": "a P-256 key",
                    },
                    device.lines([change.macro for change in changes]),
                    [f"{certificate.subject}: EC key on {certificate.curve}"],
                    changes,
                )

    def _validity(self, certificate: ServerCertificate) -> None:
        if certificate.not_after < self.now:
            state, flag = f"expired on {certificate.not_after:%Y-%m-%d}", "EXPIRED"
        elif certificate.not_before > self.now:
            state, flag = f"is not valid before {certificate.not_before:%Y-%m-%d}", "FUTURE"
        else:
            return
        feature = data.capabilities()["feature"]["time_date"]
        checks_dates = self.device.capability(feature)
        self.report(
            "certificate-time",
            {
                "subject": certificate.subject,
                "state": state,
                "flag": flag,
                "not_before": f"{certificate.not_before:%Y-%m-%d %H:%M}",
                "not_after": f"{certificate.not_after:%Y-%m-%d %H:%M}",
            },
            (self.device.lines([feature["enable"]]) or [(None, f"{feature['enable']} is not defined")])
            if checks_dates is False
            else (),
            [f"{certificate.subject}: valid {certificate.not_before:%Y-%m-%d} to {certificate.not_after:%Y-%m-%d}"],
            variant="dates-unchecked" if checks_dates is False else None,
        )

    def records(self) -> None:
        profile, device = self.profile, self.device
        message = profile.certificate_message_bytes
        in_len = device.value("MBEDTLS_SSL_IN_CONTENT_LEN")
        requested = device.mfl()
        honoured = bool(requested) and profile.mfl is True
        limit = requested if honoured and requested else data.capabilities()["records"]["max_record"]
        buffer_lines = device.lines(["MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_MAX_CONTENT_LEN"])
        source = (
            "seen on the wire" if any(h.certificate_message for h in profile.handshakes) else "computed from the chain"
        )
        if message is not None and in_len is not None and message > in_len:
            wanted = min(16384, _round_up(message))
            self.report(
                "certificate-too-large",
                {
                    "message": message,
                    "in_len": in_len,
                    "count": len(profile.certificates),
                    "mfl_note": "A max_fragment_length the server honours makes its records smaller, not the message."
                    if requested
                    else "",
                },
                buffer_lines,
                [f"Certificate message: {message} bytes ({source}), {len(profile.certificates)} certificates"],
                [MacroChange("MBEDTLS_SSL_IN_CONTENT_LEN", str(wanted), "PROBE-BUF-001", "the server's chain")],
            )
            return
        if message is not None and message > limit and device.reassembles_handshake() is False:
            why_limit = f"the server honours max_fragment_length {limit}" if honoured else "the TLS maximum"
            self.report(
                "handshake-fragmented",
                {
                    "message": message,
                    "record_limit": limit,
                    "why_limit": why_limit,
                    "version": device.mbedtls_version or device.series,
                },
                buffer_lines,
                [f"Certificate message: {message} bytes ({source}); records of at most {limit} bytes"],
            )
            return
        if requested and in_len is not None and in_len < 16384 and profile.mfl is False:
            largest = profile.largest_record
            facts = {"mfl": requested, "in_len": in_len, "largest": largest or "unknown"}
            server = [f"does not answer max_fragment_length; largest handshake record {largest or 'unknown'} bytes"]
            change = [MacroChange("MBEDTLS_SSL_IN_CONTENT_LEN", "16384", "PROBE-MFL-001", "full-size records")]
            if largest is not None and largest > in_len:
                self.report("mfl-ignored", facts, buffer_lines, server, change)
            else:
                self.report("mfl-ignored-risk", facts, buffer_lines, server, change)

    def sni(self) -> None:
        profile, device = self.profile, self.device
        if profile.sni is None or not profile.sni.required:
            return
        built = device.feature("sni")
        reason = ""
        changes: list[MacroChange] = []
        actions: list[Fix] = []
        macro = data.capabilities()["feature"]["sni"]["enable"]
        if built is False:
            reason = (
                "the ClientHello carries no server_name"
                if device.from_log
                else f"{macro} is off, so mbedtls_ssl_set_hostname() cannot add it"
            )
            changes = [MacroChange(macro, "on", "PROBE-SNI-001", "the server needs SNI")]
        elif device.sets_hostname is False:
            reason = "the code never calls mbedtls_ssl_set_hostname()"
        else:
            return
        actions.append(
            Fix(
                "code",
                'Call mbedtls_ssl_set_hostname(&ssl, "<server name>") before the handshake.',
                "mbedtls_ssl_set_hostname",
            )
        )
        behaviour = profile.sni.behaviour
        different = "different certificate" in behaviour
        outcome = (
            "The certificate it sends then does not name the host the device connects to: verification fails "
            "with MBEDTLS_X509_BADCERT_CN_MISMATCH (-0x2700)."
            if different
            else "The handshake stops with MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE (-0x7780)."
        )
        self.report(
            "sni-required",
            {
                "behaviour": behaviour,
                "behaviour_long": f"answers with {behaviour}",
                "device_reason": reason,
                "outcome": outcome,
            },
            device.lines([macro]),
            [
                f"without SNI: {behaviour}"
                + (f" ({profile.sni.certificate_without_sni})" if profile.sni.certificate_without_sni else "")
            ],
            changes,
            actions,
            variant="other-certificate" if different else None,
        )

    def client_auth(self) -> None:
        profile, device = self.profile, self.device
        if profile.client_auth == "optional":
            self.report(
                "client-certificate-optional", {}, (), ["sends a CertificateRequest; an empty answer is accepted"]
            )
        if profile.client_auth != "required":
            return
        has = device.client_certificate
        if has is True:
            return
        tickets = (profile.session_tickets, device.feature("session_tickets"))
        uses_tickets = False if False in tickets else (True if all(state is True for state in tickets) else None)
        severity = "failure" if has is False else "warning"
        device_text = (
            "The device's code never calls mbedtls_ssl_conf_own_cert(), so it has no certificate to send."
            if has is False
            else "Whether the device presents a certificate is not known from its build: it must call "
            "mbedtls_ssl_conf_own_cert() with a certificate the server trusts (give --code to check)."
        )
        finding = self.report(
            "client-certificate-required",
            {"and_device": " and the device sends none" if has is False else "", "device_text": device_text},
            (),
            ["requires a client certificate (a handshake without one is refused)"],
            (),
            [
                Fix(
                    "code",
                    "Load the device's certificate and key and call mbedtls_ssl_conf_own_cert() "
                    "(esp-tls: clientcert_buf / clientkey_buf).",
                    "mbedtls_ssl_conf_own_cert",
                )
            ],
            severity=severity,
            variant="tickets" if uses_tickets else None,
        )
        if uses_tickets is None:
            finding.step = None  # NewSessionTicket or ChangeCipherSpec first: not known

    def ca_file(self) -> set[str]:
        """Can the build load the device's CA file? The subjects of the roots it cannot parse.

        mbedTLS parses a certificate only when it builds its signature algorithm, trust anchors included:
        a file of such certificates is rejected, a bundle loads without them.
        """
        trust, device = self.trust, self.device
        if trust is None or not trust.roots or device.from_log:
            return set()
        skipped = [(root, why) for root in trust.roots if (why := self._unparsable(root)) is not None]
        if not skipped:
            return set()
        algorithms = sorted({root.signature_algorithm for root, _ in skipped})
        missing = sorted({name for _, names in skipped for name in names})
        changes = self._enable("key", missing, "PROBE-TRUST-004")
        device_evidence: list[tuple[int | None, str]] = [
            (None, f"{self.ca_name}: {root.subject}, {root.signature_algorithm}") for root, _ in skipped
        ]
        device_evidence += device.lines([change.macro for change in changes])
        server_evidence = [f"chain ends at {trust.top}, issued by {trust.needed}"]
        reason = f"its certificates are signed with {_words(algorithms)}" + (
            f", and the build leaves out {_words([name.upper() for name in missing])}" if missing else ""
        )
        if len(skipped) == len(trust.roots):
            self.report(
                "ca-unloadable",
                {"ca_name": self.ca_name, "reason": reason, "algorithms": _words(algorithms)},
                device_evidence,
                server_evidence,
                changes,
            )
            return {root.subject for root, _ in skipped}
        names = [root.subject for root, _ in skipped]
        needed = trust.trusted and trust.root in names
        self.report(
            "ca-partly-unloadable",
            {
                "count": len(skipped),
                "ca_count": trust.ca_count,
                "ca_name": self.ca_name,
                "and_root": f", among them {trust.root}, the root this server needs" if needed else "",
                "names": _words(names),
                "verb": "is" if len(names) == 1 else "are",
                "algorithms": _words(algorithms),
                "root_note": f"The server's chain leads to {trust.root}, so the device cannot verify it: the "
                "handshake stops with MBEDTLS_ERR_X509_CERT_VERIFY_FAILED (-0x2700) when the server's Certificate "
                "arrives."
                if needed
                else "",
            },
            device_evidence,
            server_evidence,
            changes,
            variant="needed-root" if needed else None,
        )
        return set(names)

    def _unparsable(self, certificate: ServerCertificate) -> list[str] | None:
        """What the build lacks to parse ``certificate`` (hash and key names), or None when it can."""
        device = self.device
        if certificate.signature_key in ("ed25519", "ed448", "dsa", "unknown"):
            return []  # no mbedTLS version has these signature OIDs
        missing = [certificate.signature_key] if device.key(certificate.signature_key) is False else []
        hash_name = certificate.signature_hash
        if hash_name and device.hash(hash_name) is False:
            missing.append(hash_name)
        return missing or None

    def trust_check(self) -> None:
        chain = self.profile.certificates
        if not chain:
            return
        unloadable = self.ca_file()
        top = chain[-1]
        if self.trust is None:
            self.report("trust-unchecked", {"needed": top.issuer}, (), [f"chain ends at {top.subject}"])
            return
        trust = self.trust
        facts = {
            "ca_name": self.ca_name,
            "needed": trust.needed,
            "top": trust.top,
            "ca_count": trust.ca_count,
            "root": trust.root,
        }
        if trust.trusted and trust.root in unloadable:
            return
        if trust.trusted:
            self.report("trusted", facts, (), [f"chain ends at {trust.top}"])
            return
        self.report(
            "not-trusted",
            facts,
            [(None, f"{self.ca_name}: {trust.ca_count} certificates, none is {trust.needed}")],
            [f"chain ends at {trust.top}, issued by {trust.needed}"],
            (),
            [Fix("code", f"Add the root certificate {trust.needed} to the device's CA file or bundle.")],
        )

    def tickets(self, version: str) -> None:
        profile, device = self.profile, self.device
        if not profile.session_tickets:
            return
        state = device.feature("session_tickets")
        if state is False:
            self.report("no-tickets", {}, device.lines(["MBEDTLS_SSL_SESSION_TICKETS"]), ["issues session tickets"])
        elif state is True and version == "TLS1.3":
            self.report("tls13-tickets", {}, device.lines(["MBEDTLS_SSL_SESSION_TICKETS"]), ["issues session tickets"])

    def _source(self) -> str:
        return {"scan": "scanned", "sslyze-json": "sslyze report", "testssl-json": "testssl.sh report"}.get(
            self.profile.source, self.profile.source
        )


def _round_up(size: int) -> int:
    """A buffer size a user would write: the next multiple of 1024 above ``size``."""
    return -(-size // 1024) * 1024


def _words(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _listed(names: Sequence[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _suite_name(value: int, device: Device) -> str:
    suite = next((item for item in device.knowledge_suites_all() if item.value == value), None)
    return suite.name if suite is not None else f"0x{value:04X}"


def match(profile: ServerProfile, device: Device, trust: Trust | None = None, ca_name: str | None = None) -> Verdict:
    return Matcher(profile, device, trust, ca_name).run()
