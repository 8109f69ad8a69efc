"""A small HTTP server on 127.0.0.1 for tests and benchmarks: `Range` GETs of in-memory objects, counted.

`RangeServer(objects)` serves `objects` (name -> bytes) at `/name`, answering
`Range: bytes=a-b` (and `a-`, `-n`) with 206 and `Content-Range`, as RFC 9110 §14
says. It counts requests and body bytes served, can add `latency` seconds to each
request, refuse names in `forbidden` with 403, and answer 503 (with `Retry-After: 0`)
to the first `throttle` requests of each object. Use it as a context manager.
"""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):  # a client that hung up: not the test's concern
        pass


class RangeServer:
    """A threaded HTTP server of in-memory objects with Range support, counters and injected faults."""

    def __init__(self, objects: dict[str, bytes], *, latency: float = 0.0, throttle: int = 0,
                 forbidden: frozenset[str] = frozenset(), ranges: bool = True):  # fmt: skip
        self.objects = objects
        self.latency = latency
        self.throttle = throttle
        self.forbidden = forbidden
        self.ranges = ranges
        self.requests = 0
        self.bytes = 0
        self.throttled = 0
        self.per_object: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as written: no 40 ms delayed-ACK stalls

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self._answer(head=True)

            def do_GET(self):
                self._answer(head=False)

            def _answer(self, head: bool):
                name = self.path.lstrip("/").split("?", 1)[0]
                with server._lock:
                    server.requests += 1
                    seen = server.per_object[name] = server.per_object.get(name, 0) + 1
                if server.latency:
                    time.sleep(server.latency)
                if seen <= server.throttle:
                    with server._lock:
                        server.throttled += 1
                    return self._plain(503, b"SlowDown", {"Retry-After": "0"})
                if name in server.forbidden:
                    return self._plain(403, b"Forbidden")
                data = server.objects.get(name)
                if data is None:
                    return self._plain(404, b"Not Found")
                start, end, status = 0, len(data), 200
                match = _RANGE.match(self.headers.get("Range", "")) if server.ranges else None
                if match and (match[1] or match[2]):
                    if match[1]:
                        start = int(match[1])
                        end = min(len(data), int(match[2]) + 1) if match[2] else len(data)
                    else:
                        start = max(0, len(data) - int(match[2]))
                    if start >= len(data):
                        return self._plain(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    status = 206
                body = data[start:end]
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                self.end_headers()
                if not head:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):  # a client that read enough and left
                        self.close_connection = True
                        return
                    with server._lock:
                        server.bytes += len(body)

            def _plain(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reset(self) -> None:
        """Zero the counters."""
        with self._lock:
            self.requests = self.bytes = self.throttled = 0
            self.per_object.clear()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
