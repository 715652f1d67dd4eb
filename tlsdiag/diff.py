"""Comparing a working and a failing run of the same connection, in TLS terms.

Both logs go through the whole pipeline first, so that timestamps, context pointers, random bytes,
source line numbers, file renames between mbedTLS versions and ESP-IDF framing are already gone:
what is compared is a timeline of milestones per run (steps completed, messages decoded, data or
end-of-stream on a read, alerts, errors). The timelines are aligned with a sequence matcher on
those milestones (not on text), which is linear in practice and keeps two logs of different
verbosity, dialect or version in step. On top of the alignment come semantic differences: the
ClientHello, the server's choice, the certificate chain, record and buffer sizes, errors and
alerts, timing and heap.

Everything here reads the typed view of each run's attempt (:class:`~tlsdiag.analysis.views.AttemptView`),
never the parser's events: the diff is one more reader of the session model, like the rules.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any, NamedTuple

from tlsdiag.analysis.pipeline import Analysis
from tlsdiag.analysis.views import AlertSeen, AttemptView, CertificateSeen, Size
from tlsdiag.knowledge import load
from tlsdiag.report.spoken import spoken


class Milestone(NamedTuple):
    key: tuple[str, ...]  # what is compared: ("step", "ServerHello"), ("read", "end of stream") ...
    line: int
    label: str  # how a report names it


class Divergence(NamedTuple):
    good_line: int | None
    bad_line: int | None
    step: str | None  # the last milestone both runs shared
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "good_line": self.good_line,
            "bad_line": self.bad_line,
            "step": self.step,
            "description": self.description,
        }


class Difference(NamedTuple):
    kind: str
    description: str
    good: Any
    bad: Any
    good_line: int | None = None
    bad_line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "good": self.good,
            "bad": self.bad,
            "good_line": self.good_line,
            "bad_line": self.bad_line,
        }


class Comparison(NamedTuple):
    good: Analysis
    bad: Analysis
    good_timeline: tuple[Milestone, ...]
    bad_timeline: tuple[Milestone, ...]
    alignment: tuple[tuple[str, int, int, int, int], ...]  # SequenceMatcher opcodes
    first_divergence: Divergence | None
    differences: tuple[Difference, ...]
    same_connection: bool
    identical_client_hello: bool | None


def timeline(attempt: AttemptView) -> tuple[Milestone, ...]:
    """The milestones of one run in log order, with everything version- or run-specific removed."""
    items: list[Milestone] = []
    steps = load().step_milestones
    for step in attempt.steps:
        name = steps.get(step.name)
        if name:
            items.append(Milestone(("step", name), step.line, f"{name} done"))
    for message in attempt.messages:
        items.append(
            Milestone(("message", message.direction, message.name), message.line, f"{message.name} {message.direction}")
        )
    for alert in attempt.alerts:
        items.append(Milestone(("alert", alert.direction, str(alert.description)), alert.line, _alert_label(alert)))
    for size in attempt.sizes:
        if size.name == "f_recv_returned":
            what = "end of stream (peer closed)" if size.value == 0 else "data"
            items.append(Milestone(("read", what), size.line, f"read returned {size.value} ({what})"))
        elif size.name in ("cert_too_large", "record_too_large"):
            items.append(Milestone(("size", size.name), size.line, f"{_SIZE_NAMES[size.name]}: {_said_size(size)}"))
    for error in attempt.errors:
        if not error.mentioned:
            key = ("error", error.function or "", str(error.value))
            items.append(Milestone(key, error.line, f"{error.function or 'error'} {error.raw}"))
    items.sort(key=lambda item: item.line)
    return tuple(_collapse(items))


def _alert_label(alert: AlertSeen) -> str:
    return f"alert {alert.name} ({alert.description}) {'received' if alert.direction == 'in' else 'sent'}"


def _collapse(items: list[Milestone]) -> list[Milestone]:
    """Runs of identical milestones (many data reads) count once: verbosity must not shift the alignment."""
    collapsed: list[Milestone] = []
    for item in items:
        if collapsed and collapsed[-1].key == item.key and item.key[0] in ("read", "error"):
            continue
        collapsed.append(item)
    return collapsed


def compare(good: Analysis, bad: Analysis) -> Comparison:
    good_attempt, bad_attempt = good.primary_attempt, bad.primary_attempt
    good_items = timeline(good_attempt) if good_attempt else ()
    bad_items = timeline(bad_attempt) if bad_attempt else ()
    matcher = SequenceMatcher(a=[item.key for item in good_items], b=[item.key for item in bad_items], autojunk=False)
    opcodes = tuple(matcher.get_opcodes())
    differences = list(_semantic(good_attempt, bad_attempt)) if good_attempt and bad_attempt else []
    same = _same_connection(good, bad, good_items, bad_items, matcher.ratio(), differences)
    first = _first_divergence(good_items, bad_items, opcodes)
    hello = next((item for item in differences if item.kind.startswith("client-hello")), None)
    identical_hello = None
    if good_attempt and bad_attempt and good_attempt.client_hello and bad_attempt.client_hello:
        identical_hello = hello is None
    if not same:
        first = Divergence(
            None,
            None,
            None,
            "different server, different device, or nothing in common: a diff would only be noise",
        )
    return Comparison(good, bad, good_items, bad_items, opcodes, first, tuple(differences), same, identical_hello)


def _first_divergence(
    good: tuple[Milestone, ...], bad: tuple[Milestone, ...], opcodes: tuple[tuple[str, int, int, int, int], ...]
) -> Divergence | None:
    shared: str | None = None
    for tag, a1, a2, b1, _ in opcodes:
        if tag == "equal":
            for item in good[a1:a2]:  # the handshake step: the last milestone both did, not a read or an error
                if item.key[0] in ("step", "message"):
                    shared = item.key[-1]
            continue
        good_item = good[a1] if a1 < len(good) else None
        bad_item = bad[b1] if b1 < len(bad) else None
        # a deletion has items in the working run, an insertion in the failing run, a replacement in both
        if tag == "delete":  # the failing run stopped (or skipped) what the working run did next
            went_on = good[a1]
            text = f"the working run went on to {went_on.label} (line {went_on.line}); the failing run did not"
        elif tag == "insert":
            extra = bad[b1]
            text = f"the failing run did {extra.label} (line {extra.line}), which the working run never did"
        else:
            text = (
                f"where the working run did {good[a1].label} (line {good[a1].line}), "
                f"the failing run did {bad[b1].label} (line {bad[b1].line})"
            )
        return Divergence(good_item.line if good_item else None, bad_item.line if bad_item else None, shared, text)
    return None


def _same_connection(
    good: Analysis,
    bad: Analysis,
    good_items: tuple[Milestone, ...],
    bad_items: tuple[Milestone, ...],
    ratio: float,
    differences: list[Difference],
) -> bool:
    """Whether two logs show the same connection at all: same server, same kind of device, something shared."""
    good_attempt, bad_attempt = good.primary_attempt, bad.primary_attempt
    if good_attempt is None or bad_attempt is None:
        return good_attempt is None and bad_attempt is None
    stacks = {good.context.stack, bad.context.stack} - {"unknown", "linux-app"}
    if len(stacks) > 1:
        return False
    kinds = {item.kind for item in differences}
    first_hello, second_hello = good_attempt.client_hello, bad_attempt.client_hello
    same_leaf_known = "certificate:server-leaf" not in kinds and bool(
        _wire_certificates(good_attempt) and _wire_certificates(bad_attempt)
    )
    if "client-hello:server_name" in kinds and first_hello and second_hello:
        both_named = first_hello.server_name and second_hello.server_name
        if both_named and not same_leaf_known:
            return False  # another name, and no sign it is the same server

    def handshake(items: tuple[Milestone, ...]) -> bool:
        return any(item.key[0] in ("step", "message") for item in items)

    return not (ratio == 0.0 and handshake(good_items) and handshake(bad_items))


def _semantic(good: AttemptView, bad: AttemptView) -> list[Difference]:
    found: list[Difference] = []
    found += _client_hello(good, bad)
    found += _server_hello(good, bad)
    found += _certificates(good, bad)
    found += _sizes(good, bad)
    found += _outcome(good, bad)
    found += _timing(good, bad)
    found += _heap(good, bad)
    return found


def _client_hello(good: AttemptView, bad: AttemptView) -> list[Difference]:
    if good.client_hello is None or bad.client_hello is None:
        return []
    first, second = good.client_hello.to_json(), bad.client_hello.to_json()
    found = []
    lines = (first.get("line"), second.get("line"))
    for field in ("version", "server_name", "max_fragment_length", "record_size_limit"):
        if first.get(field) != second.get(field):
            said = f"{spoken(first.get(field), 'not sent')} -> {spoken(second.get(field), 'not sent')}"
            found.append(
                Difference(
                    f"client-hello:{field}",
                    f"the ClientHello's {field.replace('_', ' ')} changed: {said}",
                    first.get(field),
                    second.get(field),
                    *lines,
                )
            )
    for field in ("ciphersuites", "supported_versions", "supported_groups", "signature_algorithms", "extensions"):
        old, new = _names(first.get(field)), _names(second.get(field))
        removed, added = [item for item in old if item not in new], [item for item in new if item not in old]
        if removed or added:
            text = f"the ClientHello's {field.replace('_', ' ')}: {len(removed)} removed, {len(added)} added"
            found.append(Difference(f"client-hello:{field}", text, removed, added, *lines))
    return found


def _names(values: Any) -> list[str]:
    if not values:
        return []
    return [value.get("name", str(value)) if isinstance(value, dict) else str(value) for value in values]


def _server_hello(good: AttemptView, bad: AttemptView) -> list[Difference]:
    first = None if good.server_hello is None else good.server_hello.to_json()
    second = None if bad.server_hello is None else bad.server_hello.to_json()
    if first is None and second is None:
        return []
    if first is None or second is None:
        text = "only the working run got a ServerHello" if second is None else "only the failing run got a ServerHello"
        return [
            Difference(
                "server-hello", text, bool(first), bool(second), (first or {}).get("line"), (second or {}).get("line")
            )
        ]
    found = []
    for field in ("version", "ciphersuite", "ciphersuite_name", "key_share_group"):
        if field in first and first.get(field) != second.get(field):
            found.append(
                Difference(
                    f"server-hello:{field}",
                    f"the server chose another {field.replace('_', ' ')}: "
                    f"{spoken(first.get(field))} -> {spoken(second.get(field))}",
                    first.get(field),
                    second.get(field),
                    first.get("line"),
                    second.get("line"),
                )
            )
    return found


def _wire_certificates(attempt: AttemptView) -> list[CertificateSeen]:
    return [cert for cert in attempt.certificates if cert.source != "text"]


def _certificates(good: AttemptView, bad: AttemptView) -> list[Difference]:
    first = [cert.to_json() for cert in _wire_certificates(good)]
    second = [cert.to_json() for cert in _wire_certificates(bad)]
    found = []
    for role, direction in (("server", "in"), ("own", "out")):
        old = [cert for cert in first if (cert.get("direction") or "in") == direction]
        new = [cert for cert in second if (cert.get("direction") or "in") == direction]
        if not old or not new:
            continue
        if old[0].get("sha256") != new[0].get("sha256"):
            found.append(
                Difference(
                    f"certificate:{role}-leaf",
                    f"the {role} leaf certificate changed",
                    _cert(old[0]),
                    _cert(new[0]),
                    old[0].get("line"),
                    new[0].get("line"),
                )
            )
        size_old, size_new = sum(cert.get("size") or 0 for cert in old), sum(cert.get("size") or 0 for cert in new)
        if len(old) != len(new) or size_old != size_new:
            found.append(
                Difference(
                    f"certificate:{role}-chain",
                    f"the {role} chain changed: {len(old)} -> {len(new)} certificates, {size_old} -> {size_new} bytes",
                    size_old,
                    size_new,
                    old[0].get("line"),
                    new[0].get("line"),
                )
            )
    return found


#: what a report shows of a leaf certificate that changed: who, by whom, until when, with which key and signature
CERTIFICATE_FIELDS = ("subject", "issuer", "not_after", "key_type", "key_size", "signature_algorithm", "size")


def _cert(cert: dict[str, Any]) -> dict[str, Any]:
    return {key: cert.get(key) for key in CERTIFICATE_FIELDS}


def _sizes(good: AttemptView, bad: AttemptView) -> list[Difference]:
    found = []
    for name in ("cert_too_large", "record_too_large", "max_fragment_length", "maximum-fragment-length"):
        old = next((item for item in good.sizes if item.name == name), None)
        new = next((item for item in bad.sizes if item.name == name), None)
        if (old is None) != (new is None) or (old and new and (old.value, old.limit) != (new.value, new.limit)):
            text = f"{_SIZE_NAMES[name]}: working run {_said_size(old)}; failing run {_said_size(new)}"
            found.append(
                Difference(
                    f"size:{name}",
                    text,
                    _size(old),
                    _size(new),
                    old.line if old else None,
                    new.line if new else None,
                )
            )
    for direction in ("in", "out"):
        old_max = max((record.length for record in good.records if record.direction == direction), default=None)
        new_max = max((record.length for record in bad.records if record.direction == direction), default=None)
        if old_max and new_max and old_max != new_max and max(old_max, new_max) > 4096:
            found.append(
                Difference(
                    f"record-size:{direction}",
                    f"largest {direction}coming record: {old_max} -> {new_max} bytes",
                    old_max,
                    new_max,
                )
            )
    return found


#: how a report names each size measure
_SIZE_NAMES = {
    "cert_too_large": "certificate too large",
    "record_too_large": "record too large",
    "max_fragment_length": "maximum fragment length",
    "maximum-fragment-length": "maximum fragment length",
}


def _size(measure: Size | None) -> str | None:
    """The JSON value of a size measure (the contract's shape since the first release)."""
    if measure is None:
        return None
    return f"{measure.value}" + (f" (limit {measure.limit})" if measure.limit is not None else "")


def _said_size(measure: Size | None) -> str:
    """A size measure as a person says it: "22628 bytes, over the 16384-byte buffer", or "not reported"."""
    if measure is None:
        return spoken(None)
    if measure.limit is None:
        return f"{spoken(measure.value)} bytes"
    return f"{spoken(measure.value)} bytes, over the {spoken(measure.limit)}-byte buffer"


def _outcome(good: AttemptView, bad: AttemptView) -> list[Difference]:
    found = []
    old, new = good.final, bad.final
    if (old and old.value) != (new and new.value):
        found.append(
            Difference(
                "error",
                f"the final error differs: {old.raw if old else 'none'} -> {new.raw if new else 'none'}",
                old.raw if old else None,
                new.raw if new else None,
                old.line if old else None,
                new.line if new else None,
            )
        )
    old_alerts = {(item.direction, item.name) for item in good.alerts}
    for alert in bad.alerts:
        if (alert.direction, alert.name) not in old_alerts:
            found.append(
                Difference(
                    "alert",
                    f"only the failing run {'received' if alert.direction == 'in' else 'sent'} "
                    f"alert {alert.name} ({alert.description})",
                    None,
                    alert.name,
                    None,
                    alert.line,
                )
            )
    return found


def _timing(good: AttemptView, bad: AttemptView) -> list[Difference]:
    if good.largest_gap is None or bad.largest_gap is None:
        return []
    old, new = good.largest_gap.milliseconds, bad.largest_gap.milliseconds
    if max(old, new) >= 1000 and max(old, new) >= 4 * max(1.0, min(old, new)):
        return [
            Difference(
                "timing",
                f"the longest pause between two lines: {old:.0f} ms -> {new:.0f} ms",
                old,
                new,
                good.largest_gap.line_after,
                bad.largest_gap.line_after,
            )
        ]
    return []


def _heap(good: AttemptView, bad: AttemptView) -> list[Difference]:
    def lowest(attempt: AttemptView) -> Any:
        values = [item for item in attempt.context if item.kind == "heap-free" and item.value is not None]
        return min(values, key=lambda item: item.value or 0) if values else None

    old, new = lowest(good), lowest(bad)
    if old is None or new is None or old.value == new.value:
        return []
    return [
        Difference(
            "heap",
            f"lowest free heap printed: {old.value} -> {new.value} bytes",
            old.value,
            new.value,
            old.line,
            new.line,
        )
    ]
