"""What a device's TLS build can do: from its configuration, from a log of its handshake, or from a preset.

All three end in one :class:`Device` that answers the matcher's questions (which versions, suites,
groups, hashes and key types; the input buffer; SNI; max_fragment_length) with True, False or None for
unknown, and cites the line that decides each answer. A configuration answers through the same
``Effective`` model ``config lint`` uses, so a capability is exactly the ``#if`` the library compiles.
A log answers from the ClientHello it shows (what the build offered is what it can do), and leaves the
rest unknown. Fixes are written for the device's own configuration kind (config.h, sdkconfig, prj.conf);
a log or a preset gets them for its platform's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlsdiag.analysis.views import HelloView
from tlsdiag.config.data import ConfigKnowledge, EspIdfRelease
from tlsdiag.config.data import load as load_config_knowledge
from tlsdiag.config.effective import Effective
from tlsdiag.config.expr import evaluate, truth
from tlsdiag.config.model import Config
from tlsdiag.config.suites import Suite, built, suites_of
from tlsdiag.config.targets import target_for_kind
from tlsdiag.errors import InputError
from tlsdiag.probe import data
from tlsdiag.versions import VersionError, parse_version, select_mbedtls

Evidence = list[tuple[int | None, str]]
_TLS_NAMES = {"TLS1.0": "TLS 1.0", "TLS1.1": "TLS 1.1", "TLS1.2": "TLS 1.2", "TLS1.3": "TLS 1.3"}
_ORDER = ["SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]
_HELLO_VERSIONS = {"TLS 1.0": "TLS1.0", "TLS 1.1": "TLS1.1", "TLS 1.2": "TLS1.2", "TLS 1.3": "TLS1.3"}


@dataclass
class Observed:
    """What a log's ClientHello shows of the build (every field None when the log does not show it)."""

    line: int | None = None
    text: str = ""
    versions: list[str] | None = None
    suites: list[int] | None = None
    groups: list[str] | None = None
    signature_algorithms: list[str] | None = None
    server_name: str | None = None
    sni_shown: bool = False  # the ClientHello was decoded from bytes: a missing server_name is really missing
    mfl: int | None = None


@dataclass
class Device:
    source: str  # config | log | preset
    name: str
    series: str
    mbedtls_version: str | None
    config: Config  # the configuration, or the platform defaults standing for it (log)
    effective: Effective
    knowledge: ConfigKnowledge
    release: EspIdfRelease | None = None
    observed: Observed | None = None
    requested_mfl: int | None = None  # what the code asks for with mbedtls_ssl_conf_max_frag_len
    client_certificate: bool | None = None  # does it present one
    sets_hostname: bool | None = None  # does the code call mbedtls_ssl_set_hostname
    notes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return target_for_kind(self.config.kind)

    @property
    def from_log(self) -> bool:
        return self.observed is not None

    # -- conditions -------------------------------------------------------------------------------------

    def holds(self, condition: str | None) -> bool | None:
        """Does the build satisfy ``condition`` (an #if expression)? None: unknown or not expressible."""
        if not condition:
            return False
        return truth(evaluate(condition, self.effective))

    def capability(self, entry: dict[str, Any]) -> bool | None:
        return self.holds(data.for_major(entry.get("condition", {}), self.series))

    def enable_macro(self, entry: dict[str, Any]) -> str | None:
        macro = data.for_major(entry.get("enable"), self.series)
        return str(macro) if macro else None

    def lines(self, macros: Sequence[str]) -> Evidence:
        """The configuration lines that decide ``macros`` (a log cites its ClientHello instead)."""
        if self.observed is not None:
            return [(self.observed.line, self.observed.text)] if self.observed.text else []
        found: Evidence = []
        for macro in macros:
            where = self.config.setting_line(macro)
            if where is not None and where not in found:
                found.append(where)
        return found

    # -- capabilities -------------------------------------------------------------------------------------

    def versions(self) -> dict[str, bool | None]:
        if self.observed is not None and self.observed.versions is not None:
            return {name: name in self.observed.versions for name in _TLS_NAMES}
        found: dict[str, bool | None] = {}
        for entry in data.capabilities()["version"]:
            condition = data.for_major(entry.get("condition", {}), self.series)
            found[entry["name"]] = self.holds(condition) if condition else False
        return found

    def knowledge_suites_all(self) -> list[Suite]:
        """Every suite mbedTLS of this series implements, in its preference order."""
        return suites_of(self.knowledge.ciphersuites, self.series)

    def knowledge_suites(self, version: str) -> list[Suite]:
        return [suite for suite in self.knowledge_suites_all() if _covers(suite, _TLS_NAMES[version])]

    def suites(self, version: str) -> tuple[list[Suite], list[Suite]]:
        """(suites certainly offered for ``version``, suites that depend on something unknown)."""
        wanted = _TLS_NAMES[version]
        in_range = self.knowledge_suites(version)
        if self.observed is not None and self.observed.suites is not None:
            offered = set(self.observed.suites)
            certain = [suite for suite in in_range if suite.value in offered]
            known = {suite.value for suite in certain}
            extra = [
                Suite(value, f"0x{value:04x}", f"0x{value:04x}", "", "", wanted, wanted, (), 10_000)
                for value in self.observed.suites
                if value not in known and (value >> 8 == 0x13) == (version == "TLS1.3")
            ]
            return certain + extra, []
        if self.versions().get(version) is False:
            return [], []
        certain, maybe = [], []
        for suite in in_range:
            state = built(suite, self.effective)
            if state is True:
                certain.append(suite)
            elif state is None:
                maybe.append(suite)
        return certain, maybe

    def groups(self) -> dict[str, bool | None]:
        """The key exchange groups the ClientHello offers (by name)."""
        if self.observed is not None and self.observed.groups is not None:
            return {entry["name"]: entry["name"] in self.observed.groups for entry in data.capabilities()["group"]}
        ecdh = self.capability(data.capabilities()["ecdh"])
        found: dict[str, bool | None] = {}
        for entry in data.capabilities()["group"]:
            state = self.capability(entry)
            if data.major(self.series) != "2" and not entry.get("default_3", True):
                state = False if state is not None else None  # built but not in the default preset
            if state is True and ecdh is not True:
                state = ecdh
            found[entry["name"]] = state
        return found

    def hash(self, name: str) -> bool | None:
        if self.observed is not None and self.observed.signature_algorithms is not None:
            return any(name in scheme for scheme in self.observed.signature_algorithms) or None
        entry = _named("hash", name)
        return None if entry is None else self.capability(entry)

    def key(self, name: str) -> bool | None:
        if self.observed is not None and self.observed.signature_algorithms is not None:
            prefix = {"rsa": "rsa_pkcs1", "rsa-pss": "rsa_pss", "ecdsa": "ecdsa"}.get(name)
            if prefix is None:
                return False
            return any(scheme.startswith(prefix) for scheme in self.observed.signature_algorithms) or None
        entry = _named("key", name)
        return None if entry is None else self.capability(entry)

    def feature(self, name: str) -> bool | None:
        if self.observed is not None:
            if name == "sni":
                return True if self.observed.server_name else (False if self.observed.sni_shown else None)
            if name == "max_fragment_length":
                return self.observed.mfl is not None or None
            return None
        return self.capability(data.capabilities()["feature"][name])

    def value(self, macro: str) -> int | None:
        if self.observed is not None:
            return None
        return self.effective.value(macro)

    def mfl(self) -> int | None:
        """The max_fragment_length the device asks for, in bytes (None: it does not, or it is not known)."""
        if self.observed is not None:
            return self.observed.mfl
        return self.requested_mfl if self.feature("max_fragment_length") else None

    def reassembles_handshake(self) -> bool | None:
        """Can it reassemble a handshake message that spans records (mbedTLS 3.6.3 and later)?"""
        since = parse_version(data.capabilities()["records"]["defragmentation_since"])
        if self.mbedtls_version and len(parse_version(self.mbedtls_version)) >= 3:
            return parse_version(self.mbedtls_version) >= since
        series = parse_version(self.series)
        if series < since[:2]:
            return False
        return None if series == since[:2] else True

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "mbedtls_version": self.mbedtls_version or self.series,
            "series": self.series,
            "configuration": self.config.kind if not self.from_log else None,
            "fix_target": self.target,
            "versions": [name for name, state in self.versions().items() if state],
            "in_content_len": self.value("MBEDTLS_SSL_IN_CONTENT_LEN"),
            "max_fragment_length": self.mfl(),
            "notes": list(self.notes),
        }


def _covers(suite: Suite, version: str) -> bool:
    low, high = _ORDER.index(suite.min_tls), _ORDER.index(suite.max_tls)
    return low <= _ORDER.index(version) <= high


def _named(kind: str, name: str) -> dict[str, Any] | None:
    return next((entry for entry in data.capabilities()[kind] if entry["name"] == name), None)


# --- building a device -----------------------------------------------------------------------------------


def from_config(
    path: str,
    mbedtls_version: str | None = None,
    esp_idf_version: str | None = None,
    code_paths: Sequence[str] = (),
    user_config: str | None = None,
) -> Device:
    from tlsdiag.config import read_config

    knowledge = load_config_knowledge()
    config = read_config(
        path,
        mbedtls_version=mbedtls_version,
        esp_idf_version=esp_idf_version,
        code_paths=code_paths,
        user_config=user_config,
        knowledge=knowledge,
    )
    device = _device("config", path, config, knowledge, config.mbedtls_version)
    device.notes.extend(config.version_evidence)
    _code_facts(device)
    return device


def from_preset(name: str) -> Device:
    presets = data.presets()
    preset = presets.get(name)
    if preset is None:
        raise InputError(f"--device {name}: no such preset (known: {', '.join(presets)})")
    knowledge = load_config_knowledge()
    kind = preset["kind"]
    if kind == "mbedtls":
        config = Config("mbedtls-config", "", "config.h", [], {}, base="defaults", series=preset["series"])
    elif kind == "esp-idf":
        from tlsdiag.config.recommend import platform_defaults

        release, _ = knowledge.esp_idf_release(preset["esp_idf"])
        series = _series_of(preset["mbedtls_version"], knowledge)
        config = platform_defaults("sdkconfig", series, release, knowledge)
    else:
        from tlsdiag.config import read_config

        config = read_config(
            f"{name}.sdkconfig", esp_idf_version=preset["esp_idf"], knowledge=knowledge, lines=list(preset["lines"])
        )
    device = _device("preset", name, config, knowledge, preset.get("mbedtls_version"))
    device.notes.append(f"{preset['description']} (source: {preset['source']})")
    return device


def _series_of(version: str, knowledge: ConfigKnowledge) -> str:
    try:
        return select_mbedtls(version, knowledge.series).series[-1]
    except VersionError as error:
        raise InputError(str(error)) from None


def _device(source: str, name: str, config: Config, knowledge: ConfigKnowledge, version: str | None) -> Device:
    series = config.series or "3.6"
    effective = Effective(config.settings, series, knowledge, config.base, config.symbols, config.platform_macros)
    release = None
    if config.kind == "sdkconfig" and config.esp_idf_version:
        release, _ = knowledge.esp_idf_release(config.esp_idf_version)
    return Device(source, name, series, version, config, effective, knowledge, release)


def _code_facts(device: Device) -> None:
    """What the code given with --code shows: a client certificate, the hostname call, the MFL it asks for."""
    code = device.config.code
    if not code:
        return
    device.client_certificate = "own_certificate" in code
    device.sets_hostname = "sets_hostname" in code
    fact = code.get("requests_max_fragment_length")
    if fact is not None:
        for size in (512, 1024, 2048, 4096):
            if f"MBEDTLS_SSL_MAX_FRAG_LEN_{size}" in fact.text:
                device.requested_mfl = size


def from_log(path: str, mbedtls_version: str | None = None) -> Device:
    """The device as its log shows it: the ClientHello it sent, and its stack's defaults for the fixes."""
    from tlsdiag.analysis.pipeline import analyse
    from tlsdiag.config.recommend import platform_defaults, platform_release, target_for_stack

    analysis = analyse(None if path == "-" else path)
    if mbedtls_version:
        try:
            analysis.override_version(mbedtls_version)
        except VersionError as error:
            raise InputError(str(error)) from None
    hello = next(
        (attempt.client_hello for attempt in reversed(analysis.attempts) if attempt.client_hello is not None), None
    )
    if hello is None:
        raise InputError(f"{path}: the log shows no ClientHello, so what the device offers is not known")
    knowledge = load_config_knowledge()
    observed = _observed(hello)
    context = analysis.context
    candidates = [str(series) for series in context.mbedtls_series] or list(knowledge.series)
    if observed.versions and "TLS1.3" in observed.versions:
        candidates = [series for series in candidates if not series.startswith("2.")] or candidates
    series = candidates[-1]
    target = target_for_stack(context.stack)
    notes: list[str] = []
    release = platform_release(target, None, None, analysis, knowledge, notes)[0]
    config = platform_defaults(target, series, release, knowledge)
    device = _device("log", analysis.name, config, knowledge, context.mbedtls_version)
    device.observed = observed
    device.release = release
    device.notes.extend(notes)
    if len(candidates) > 1:
        device.notes.append(f"the log fits mbedTLS {candidates[0]} to {candidates[-1]}; fixes are written for {series}")
    return device


def _observed(hello: HelloView) -> Observed:
    versions: list[str] | None = None
    if hello.supported_versions:
        versions = [_HELLO_VERSIONS[item] for item in hello.supported_versions if item in _HELLO_VERSIONS]
    elif hello.version in _HELLO_VERSIONS:
        highest = _ORDER.index(hello.version)
        versions = [_HELLO_VERSIONS[name] for name in _ORDER[1 : highest + 1]]
    suites = list(hello.ciphersuites)
    groups = list(hello.supported_groups)
    schemes = list(hello.signature_algorithms)
    wire = hello.source == "wire"
    return Observed(
        line=hello.line,
        text=f"ClientHello: {', '.join(versions or ['version not shown'])}, {len(suites)} ciphersuites",
        versions=versions,
        suites=suites or None,
        groups=groups if wire and groups else None,
        signature_algorithms=schemes if wire and schemes else None,
        server_name=hello.server_name,
        sni_shown=wire,
        mfl=hello.max_fragment_length if wire else None,
    )
