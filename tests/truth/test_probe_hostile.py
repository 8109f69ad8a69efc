"""probe's transport against a hostile endpoint (issue 15): one deadline per request, not per read, and a cap on every
answer. A real local HTTP server that drips a byte at a time or streams without end; each ends in a one-line
ProbeError, in bounded time and memory."""

import socket
import threading
import time

import pytest

from costcalc.errors import ProbeError
from costcalc.truth.endpoint import MAX_ANSWER_BYTES
from costcalc.truth.endpoint import CountEndpointClient as _Endpoint

pytest.importorskip("httpx2")


class Hostile:
    """A one-connection-at-a-time TCP server on 127.0.0.1 answering each request with `behave(connection)`."""

    def __init__(self, behave):
        self.behave = behave
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()

    def handle(self, connection):
        try:
            connection.recv(65536)  # the request (small)
            self.behave(connection, self.stop)
        except OSError:
            pass
        finally:
            connection.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def drip_body(connection, stop):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    while not stop.is_set():
        connection.sendall(b" ")
        time.sleep(0.25)


def drip_headers(connection, stop):
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 1000:
        if stop.is_set():
            return
        connection.sendall(bytes([byte]))
        time.sleep(0.25)


def flood(connection, stop):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    block = b"[" * 65536
    while not stop.is_set():
        connection.sendall(block)


def _count_within(endpoint, seconds):
    """endpoint.count(...) in a thread: (the exception it raised or its result, seconds taken); fails past `seconds`
    (the thread is a daemon: a transport without a deadline would hang there, not the test run)."""
    outcome = {}

    def work():
        start = time.monotonic()
        try:
            outcome["value"] = endpoint.count(None, "auto")
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            outcome["value"] = error
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s: no overall deadline"
    return outcome["value"], outcome["seconds"]


@pytest.mark.parametrize("behave", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_server_that_drips_ends_at_the_deadline(behave):
    server = Hostile(behave)
    try:
        endpoint = _Endpoint("openai", f"http://127.0.0.1:{server.port}/v1", "key", "gpt-x", timeout=2.0)
        error, seconds = _count_within(endpoint, 15)
    finally:
        server.close()
    assert isinstance(error, ProbeError), error
    assert "\n" not in str(error) and "within 2 s" in str(error)
    assert seconds < 4


def test_a_server_that_streams_without_end_is_cut_at_the_cap():
    server = Hostile(flood)
    try:
        endpoint = _Endpoint("anthropic", f"http://127.0.0.1:{server.port}", "key", "claude-x", timeout=30.0)
        error, seconds = _count_within(endpoint, 20)
    finally:
        server.close()
    assert isinstance(error, ProbeError), error
    assert "\n" not in str(error) and f"{MAX_ANSWER_BYTES:,} bytes" in str(error)
    assert seconds < 10
