"""Servers for the real-library tests: ``openssl s_server`` and tiny Python listeners.

Every server listens on 127.0.0.1 only, accepts at most one connection, is bounded in time (an
``openssl s_server`` is killed after ``lifetime`` seconds, a listener gives up waiting for its
client and never holds a connection longer than ``lifetime``), and is stopped by the test that
started it, through the context manager, whatever the test's outcome.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from typing import NamedTuple

HOST = "127.0.0.1"
LIFETIME = 30.0  # seconds any server may live
HTTP_RESPONSE = (
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


class Running(NamedTuple):
    port: int
    transcript: list[str]  # what the server printed or did, for a failing test's message


class ServerError(RuntimeError):
    """The server could not be started (the message says what it printed)."""


@contextlib.contextmanager
def openssl_server(openssl: str, arguments: Sequence[str], lifetime: float = LIFETIME) -> Iterator[Running]:
    """``openssl s_server -accept 127.0.0.1:PORT -naccept 1 ARGUMENTS``, on a free port, until the block ends."""
    last_error = ""
    for _ in range(5):  # another process may take the free port between the probe and the bind
        port = _free_port()
        command = [openssl, "s_server", "-accept", f"{HOST}:{port}", "-naccept", "1", *arguments]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        transcript: list[str] = [" ".join(command)]
        listening = threading.Event()
        reader = threading.Thread(target=_read_output, args=(process, transcript, listening), daemon=True)
        reader.start()
        timer = threading.Timer(lifetime, process.kill)
        timer.daemon = True
        timer.start()
        try:
            listening.wait(timeout=10)
            if process.poll() is None and any(line.startswith("ACCEPT") for line in transcript):
                yield Running(port, transcript)
                return
            last_error = "\n".join(transcript[-5:])
        finally:
            timer.cancel()
            _stop(process)
            reader.join(timeout=5)
    raise ServerError(f"openssl s_server did not start: {last_error}")


def _read_output(process: subprocess.Popen[str], transcript: list[str], listening: threading.Event) -> None:
    """Keep what s_server prints; ``listening`` is set once it prints ACCEPT, or when it exits."""
    assert process.stdout is not None
    with contextlib.suppress(ValueError, OSError):
        for line in process.stdout:
            transcript.append(line.rstrip())
            if line.startswith("ACCEPT"):
                listening.set()
    listening.set()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        with contextlib.suppress(OSError):
            process.stdout.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --- Python listeners ------------------------------------------------------------------------------------

BEHAVIOURS = ("close", "stall", "http")


@contextlib.contextmanager
def listener(behaviour: str, lifetime: float = LIFETIME) -> Iterator[Running]:
    """A listener that accepts one client, reads what it sends (its ClientHello), then:

    ``close``: closes the connection (the peer hangs up after the ClientHello);
    ``stall``: says nothing and keeps the connection open until the block ends;
    ``http``:  answers as a plain HTTP server does to bytes it cannot read, then closes.
    """
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown listener behaviour {behaviour!r}")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, 0))
    server.listen(1)
    server.settimeout(lifetime)
    stop = threading.Event()
    transcript: list[str] = [f"listener {behaviour} on {HOST}:{server.getsockname()[1]}"]
    thread = threading.Thread(target=_serve, args=(server, behaviour, stop, lifetime, transcript), daemon=True)
    thread.start()
    try:
        yield Running(server.getsockname()[1], transcript)
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(timeout=5)


def _serve(
    server: socket.socket, behaviour: str, stop: threading.Event, lifetime: float, transcript: list[str]
) -> None:
    try:
        connection, peer = server.accept()
    except OSError:
        return  # stopped, or no client within the lifetime
    with connection:
        connection.settimeout(5)
        try:
            data = connection.recv(16384)
        except OSError:
            data = b""
        transcript.append(f"accepted {peer[0]}:{peer[1]}, read {len(data)} bytes")
        if behaviour == "http":
            connection.sendall(HTTP_RESPONSE)
            transcript.append(f"sent {len(HTTP_RESPONSE)} bytes of HTTP")
        elif behaviour == "stall":
            stop.wait(lifetime)
        transcript.append("closed")
