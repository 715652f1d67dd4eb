"""The parse stage: every dialect's lines become the right typed events, with their line numbers."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import CORPUS, FIXTURES, ROOT, fixture_files
from tlsdiag.analysis import events
from tlsdiag.analysis.parse import Parser

LOGS = FIXTURES / "logs"


def parse_file(path):
    from tlsdiag.analysis.read import open_input

    parser = Parser(keep_trace=True)
    with open_input(path) as log:
        return parser, list(parser.events(log))


def returns(evs):
    return [(e.env.line, e.function, e.value) for e in evs if type(e) is events.ReturnValue]


def test_esp_idf_esp_tls_return_and_misleading_verified_line():
    _, evs = parse_file(LOGS / "esp-idf-azure-7500.log")
    assert (34, "mbedtls_ssl_handshake", -0x7500) in returns(evs)
    verified = [e for e in evs if type(e) is events.Context and e.kind == "cert-verified"]
    assert [e.env.line for e in verified] == [35]
    assert verified[0].env.tag == "esp-tls" and verified[0].env.timestamp_ms == 10770
    clock = [e for e in evs if type(e) is events.Context and e.kind == "clock"]
    assert any(e.value == 1970 for e in clock)


def test_esp_idf_debug_bridge_lines_are_mbedtls_debug_records():
    _, evs = parse_file(LOGS / "esp-idf-debug-bridge.log")
    received = [e for e in evs if type(e) is events.Measure and e.name == "f_recv_returned"]
    assert [(e.env.line, e.value) for e in received] == [(8, 5), (14, 0)]
    assert received[0].env.source_file == "ssl_tls.c" and received[0].env.source_line == 2722
    assert (15, "mbedtls_ssl_fetch_input", -0x7280) in returns(evs)
    fetch = [e for e in evs if type(e) is events.Measure and e.name == "in_left"]
    assert [(e.value, e.limit) for e in fetch] == [(0, 5), (0, 5)]


def test_arduino_esp32_both_envelopes_decimal_codes():
    _, evs = parse_file(LOGS / "arduino-esp32.log")
    found = returns(evs)
    assert (4, "start_ssl_client", -29312) in found
    assert (7, "start_ssl_client", -9984) in found
    line7 = next(e for e in evs if e.env.line == 7)
    assert line7.env.dialect == "arduino-esp32" and line7.env.timestamp_ms == 2546
    assert line7.text.startswith("X509 - Certificate verification failed")


def test_zephyr_hex_with_and_without_0x():
    _, evs = parse_file(LOGS / "zephyr.log")
    found = returns(evs)
    assert (4, "mbedtls_ssl_handshake", -0x7200) in found
    assert (6, "mbedtls_ssl_handshake", -0x4290) in found  # older Zephyr prints "-%x"
    assert any(type(e) is events.VersionInfo and e.product == "zephyr" and e.version == "3.5.0" for e in evs)


def test_micropython_tuple_and_bare_number():
    _, evs = parse_file(LOGS / "micropython.log")
    found = [(e.env.line, e.value, e.text) for e in evs if type(e) is events.ReturnValue]
    assert (7, -29312, "MBEDTLS_ERR_SSL_CONN_EOF") in found
    # "-2880": as decimal (-0x0B40) no code; as hex without 0x, X509_ALLOC_FAILED. The defined reading
    # ranks first and the other stays visible.
    bare = next(e for e in evs if type(e) is events.ReturnValue and e.env.line == 9)
    readings = [(reading.value, reading.how) for reading in bare.readings]
    assert readings == [(-0x2880, "hex without 0x"), (-2880, "decimal")]


def test_mbed_os_trace_and_nsapi_value():
    _, evs = parse_file(LOGS / "mbed-os.log")
    found = returns(evs)
    assert (4, "mbedtls_ssl_handshake", -0x7200) in found
    assert (5, "socket->connect", -3011) in found


def test_espruino_numbers_and_text_results():
    _, evs = parse_file(LOGS / "espruino-pico.log")
    values = {value for _, _, value in returns(evs)}
    assert {-0x4290, -0x3B10} <= values
    texts = [e for e in evs if type(e) is events.ErrorText]
    assert any(e.function == "mbedtls_ssl_handshake" and e.text == "Not enough memory" for e in texts)
    setup = list(Parser().events([(1, "ERROR: Failed! mbedtls_ssl_setup: Not enough memory")]))
    assert setup[0].function == "mbedtls_ssl_setup" and setup[0].text == "Not enough memory"


def test_stm32_full_path_debug_lines():
    _, evs = parse_file(LOGS / "stm32-cube.log")
    bad = next(e for e in evs if e.env.line == 2)
    assert bad.env.source_file == "ssl_tls.c" and bad.env.source_line == 4094
    # no level printed, but the catalogue knows "bad message length" only as a level-1 complaint
    assert type(bad) is events.ErrorText and bad.message_id == "ssl.bad-message-length"
    assert (4, "mbedtls_ssl_handshake", -0x7080) in returns(evs)


def test_watchdog_and_crash_context():
    _, evs = parse_file(LOGS / "esp-idf-arduino-ota-watchdog.log")
    kinds = {e.kind for e in evs if type(e) is events.Context}
    assert {"watchdog", "crash"} <= kinds
    assert any(value == -0x2700 for _, _, value in returns(evs))


def test_glued_console_step_and_debug_record():
    parser = Parser()
    line = "  . Performing the SSL/TLS handshake...ssl_tls.c:5804: |2| 0x7ffc4dc7cdc0: => handshake"
    evs = list(parser.events([(7, line)]))
    assert [type(e) for e in evs] == [events.ConsoleStep, events.Step]
    assert evs[1].env.context == "0x7ffc4dc7cdc0" and evs[1].name == "handshake"
    assert parser.stats.recognized_lines == 1


def test_dump_lines_become_bytes():
    parser = Parser()
    lines = [
        (1, "ssl_msg.c:2031: |4| dumping 'input record header' (5 bytes)"),
        (2, "ssl_msg.c:2031: |4| 0000:  16 03 03 00 4a                                   ....J"),
    ]
    header, dump = parser.events(lines)
    assert header.label == "input record header" and header.length == 5
    assert dump.offset == 0 and dump.data == bytes.fromhex("160303004a")


@pytest.mark.parametrize(
    ("line", "kind", "fields"),
    [
        ("ssl_cli.c:4272: |2| 0x7ffd5e2a1c40: client state: 4", events.HandshakeState, {"number": 4, "role": "client"}),
        (
            "ssl_tls.c:4589: |2| client state: MBEDTLS_SSL_CLIENT_HELLO",
            events.HandshakeState,
            {"name": "MBEDTLS_SSL_CLIENT_HELLO"},
        ),
        (
            "ssl_msg.c:4875: |2| got an alert message, type: [2:40]",
            events.Alert,
            {"direction": "in", "description": 40},
        ),
        ("ssl_tls.c:2221: |1| certificate too large, 22628 > 16384", events.Measure, {"value": 22628, "limit": 16384}),
        (
            "ssl_cli.c:1180: |3| client hello, add ciphersuite: 0xc02b (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256)",
            events.Offered,
            {"kind": "ciphersuite", "number": 0xC02B},
        ),
        (
            "ssl_cli.c:0837: |3| client hello, adding server name extension: example.com",
            events.Offered,
            {"kind": "server-name", "value": "example.com"},
        ),
        (
            "ssl_tls.c:4554: |1| x509_verify_cert() returned -9984 (-0x2700)",
            events.ReturnValue,
            {"function": "x509_verify_cert", "value": -0x2700},
        ),
        (
            "build version: Mbed TLS 3.6.6 (build 50726400)",
            events.VersionInfo,
            {"product": "mbedtls", "version": "3.6.6"},
        ),
        ("  ! mbedtls_ssl_handshake returned -0x7780", events.ReturnValue, {"value": -0x7780}),
        (
            "Last error was: -0x7780 - SSL - A fatal alert message was received from our peer",
            events.ReturnValue,
            {"value": -0x7780},
        ),
        ("E (123) MQTT_CLIENT: Last mbedtls failure: 0x7280", events.ReturnValue, {"value": -0x7280}),
        (
            "I (5) esp-tls-mbedtls: (FFFF8880): SSL - A fatal alert message was received from our peer",
            events.ReturnValue,
            {"value": -0x7780},
        ),
        (
            "E (10) esp-tls: couldn't get hostname for :example.com: getaddrinfo() returns 202, addrinfo=0x0",
            events.Context,
            {"kind": "dns-failed", "detail": "example.com"},
        ),
        (
            "E (9) esp-tls: Failed to connnect to host (errno 113)",
            events.Context,
            {"kind": "connect-failed", "value": 113},
        ),
        ("W (8) Dynamic Impl: alloc(16717 bytes) failed", events.Context, {"kind": "alloc-failed", "value": 16717}),
        (
            "I (29) boot: ESP-IDF v4.0-beta2 2nd stage bootloader",
            events.VersionInfo,
            {"product": "esp-idf", "version": "4.0-beta2"},
        ),
        ("Free heap: 23456", events.Context, {"kind": "heap-free", "value": 23456}),
        (
            "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.",
            events.Context,
            {"kind": "crash"},
        ),
        ("  ! The certificate is not correctly signed by the trusted CA", events.ErrorText, {}),
        (
            "  ! The certificate is not correctly signed by the trusted CA",
            events.VerifyInfo,
            {"flag": "MBEDTLS_X509_BADCERT_NOT_TRUSTED"},
        ),
        ("I am getting an error 0x7200 from mbedtls_ssl_handshake", events.ReturnValue, {"value": -0x7200}),
    ],
)
def test_single_lines(line, kind, fields):
    """Each line yields one event of its kind (a line may carry more: a verify text is also its flag)."""
    (event,) = [e for e in Parser().events([(1, line)]) if type(e) is kind]
    for name, value in fields.items():
        assert getattr(event, name) == value, name


def test_source_code_in_a_post_is_not_an_error():
    lines = [
        (1, '    sprintf(buf2, "mbedtls_ssl_handshake returned -0x%x", -ret);'),
        (2, "while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {"),
    ]
    evs = list(Parser().events(lines))
    assert not [e for e in evs if type(e) in (events.ReturnValue, events.CodeMention)]


def test_every_error_code_printed_in_the_corpus_is_captured():
    import re

    printed = re.compile(r"(?:returned|failure|was):? (-?0x[0-9a-fA-F]{2,4})\b|returned (-\d+) \(")
    missing = []
    for path in fixture_files(CORPUS, "*/*.log"):
        _, evs = parse_file(path)
        captured = {(e.env.line, e.value) for e in evs if type(e) is events.ReturnValue}
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                for match in printed.finditer(text):
                    raw = match.group(1) or match.group(2)
                    value = int(raw, 16) if "x" in raw else int(raw)
                    value = -abs(value)
                    if value and (number, value) not in captured:
                        missing.append(f"{path.parent.name}/{path.name}:{number}: {text.strip()[:100]}")
    assert not missing, "\n".join(missing[:20])


# --- dispatch: derived from the grammar, every branch reachable ------------------------------------------------


def _sample(pattern: str, rng) -> str:
    """A random text the regular expression accepts (for the subset of syntax the grammars use)."""
    from re import _constants as sre
    from re import _parser as sre_parse

    alphabet = "abcXYZ019 :-_.,'()=[]!/"
    categories = {
        sre.CATEGORY_DIGIT: "0123456789",
        sre.CATEGORY_SPACE: " ",
        sre.CATEGORY_WORD: "abcXYZ019_",
        sre.CATEGORY_NOT_SPACE: "abcXYZ019:-_.,()",
        sre.CATEGORY_NOT_DIGIT: "abc :-",
        sre.CATEGORY_NOT_WORD: " :-.,",
    }

    def one_of(items) -> str:
        negate = bool(items) and items[0][0] is sre.NEGATE
        chosen: list[str] = []
        for op, value in items:
            if op is sre.LITERAL:
                chosen.append(chr(value))
            elif op is sre.RANGE:
                chosen.extend(chr(code) for code in range(value[0], value[1] + 1))
            elif op is sre.CATEGORY:
                chosen.extend(categories[value])
        pool = [char for char in alphabet if char not in chosen] if negate else chosen
        return rng.choice(pool)

    def generate(parsed) -> str:
        out = []
        for op, value in parsed:
            if op is sre.LITERAL:
                out.append(chr(value))
            elif op is sre.NOT_LITERAL:
                out.append(rng.choice([char for char in alphabet if char != chr(value)]))
            elif op is sre.ANY:
                out.append(rng.choice(alphabet))
            elif op is sre.IN:
                out.append(one_of(value))
            elif op is sre.BRANCH:
                out.append(generate(rng.choice(value[1])))
            elif op is sre.SUBPATTERN:
                out.append(generate(value[3]))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                low, high, item = value
                out.extend(generate(item) for _ in range(rng.randint(low, min(high, low + 3))))
            # AT (\b, $) and look-arounds add no text: a sample that breaks them is simply rejected
        return "".join(out)

    return generate(sre_parse.parse(pattern))


def _lexable(sequence, patterns) -> bool:
    """Lark expands ``(SP "-"? SP? REST)?`` into sequences such as SP SP REST; two touching tokens of one
    greedy ``x+`` terminal can never be lexed apart, so such a sequence is not a branch anyone can print."""
    return not any(first == second and patterns[first].endswith("+") for first, second in itertools.pairwise(sequence))


def test_dispatch_covers_exactly_the_grammar_start_rules():
    from tlsdiag.analysis.parse import dispatch
    from tlsdiag.analysis.parse.grammar import parser

    grammar = parser()
    defined = {rule.origin.name for rule in grammar.rules}
    declared = set(dispatch.DEBUG_RULES) | set(dispatch.TEXT_RULES)
    assert declared <= defined
    assert set(grammar.options.start) == declared
    imported = set()
    for line in (ROOT / "grammars" / "messages.lark").read_text().splitlines():
        if line.startswith("%import"):
            imported |= {name.strip() for name in line.split("(", 1)[1].rstrip(")").split(",")}
    assert imported - declared == {"trace"}  # the catch-all for plain trace is never dispatched


def test_every_alternative_of_every_start_rule_is_reachable_through_dispatch():
    """For each rule and each alternative Lark expanded it into, some text reaches it through dispatch and parses
    as exactly that alternative (token for token)."""
    import random

    from lark import Lark
    from lark.exceptions import LarkError

    from tlsdiag.analysis.parse import dispatch
    from tlsdiag.analysis.parse.grammar import parser

    grammar = parser()
    exact = Lark.open(
        str(ROOT / "grammars" / "messages.lark"),
        start=list(grammar.options.start),
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        maybe_placeholders=False,
    )
    patterns = {terminal.name: terminal.pattern.to_regexp() for terminal in grammar.terminals}
    rng = random.Random(11)
    unreached = []
    for rule in dispatch.start_rules():
        routes = []
        if rule in dispatch.DEBUG_RULES:
            routes.append(lambda text: (text, dispatch.debug_rule(text)))
        if rule in dispatch.TEXT_RULES:
            routes.append(lambda text: (text.strip(), dispatch.text_rule(text.strip())))
        for sequence in dispatch.alternatives(grammar, rule):
            if not _lexable(sequence, patterns):
                continue
            reached = False
            for _ in range(400):
                text = "".join(_sample(patterns[name], rng) for name in sequence)
                for route in routes:
                    message, chosen = route(text)
                    if chosen != rule:
                        continue
                    try:  # the expression accepts a little more than the lexer: such a text is simply not parsed
                        parser().parse(message, start=rule)
                        tree = exact.parse(message, start=rule)
                    except LarkError:
                        continue
                    if tuple(token.type for token in tree.scan_values(lambda _: True)) == sequence:
                        reached = True
                        break
                if reached:
                    break
            if not reached:
                unreached.append(f"{rule}: {' '.join(sequence)}")
    assert not unreached, "\n".join(unreached)


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("Task watchdog got triggered. The following tasks did not reset the watchdog in time:", "watchdog"),
        ("Watchdog reset, rebooting", "watchdog"),  # unreachable while the anchors were copied by hand
        ("ENET: link up, 100 Mbps full duplex", "network"),
        ("modem: PDP context activated", "network"),
        ('AT+CIPSTART=0,"SSL","example.com",443', "network"),
        ("mbedtls_ssl_handshake returned -0x7500", "returned"),
    ],
)
def test_text_dispatch_reaches_grammar_branches(message, rule):
    from tlsdiag.analysis.parse import dispatch
    from tlsdiag.analysis.parse.grammar import parser

    assert dispatch.text_rule(message) == rule
    parser().parse(message, start=rule)


def test_prose_with_a_hex_number_is_no_rule_of_its_own():
    """A boot log's addresses are no error value: no rule claims the line, and the open-world layer finds nothing."""
    from tlsdiag.analysis.parse import dispatch, openworld

    line = "esp_image: segment 0: paddr=0x00010020 vaddr=0x3f400020"
    assert dispatch.text_rule(line) is None
    assert openworld.scan(line) == ()
