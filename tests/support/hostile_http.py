"""A loopback HTTP server that misbehaves on purpose: bombs, trickles, endless links, echoes.

Each request is answered by the first route whose regex matches its path; a route
returns a Plan saying what to send and how (all at once, one byte a second, headers
trickled). Every request is recorded with its headers, so a test can tell whether a
credential reached this host.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.loopback import wait_listening

GiB = 1 << 30


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names


@dataclass
class Plan:
    """One answer. ``trickle``: the body one byte per ``pace`` seconds; ``trickle_headers``:
    the header block itself that slowly (the body never comes)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: bool = False
    trickle_headers: bool = False
    pace: float = 1.0
    chunk: int = 1  # bytes sent per pace

    @classmethod
    def json(cls, data: object, status: int = 200, headers: dict[str, str] | None = None
             ) -> Plan:
        return cls(status, json.dumps(data).encode(),
                   {"Content-Type": "application/json", **(headers or {})})


Route = Callable[[Seen, re.Match[str]], Plan]


@functools.cache
def gzip_zeros(size: int = GiB) -> bytes:
    """One gzip stream of ``size`` zero bytes (1 GiB -> about 1 MB on the wire)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(size // len(block))]
    parts.append(comp.flush())
    return b"".join(parts)


def gzip_bomb(content_type: str = "application/json") -> Plan:
    """1 GiB of zeros, gzip-encoded: what a decoder without a cap would hold in memory."""
    return Plan(200, gzip_zeros(), {"Content-Type": content_type, "Content-Encoding": "gzip"})


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


class HostileServer:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port; stopped by ``stop()`` or ``with``."""

    def __init__(self) -> None:
        self.routes: list[tuple[re.Pattern[str], Route]] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, pattern: str, answer: Route | Plan) -> HostileServer:
        """Answer requests whose path matches ``pattern``; returns the server, so routes chain."""
        if callable(answer):
            self.routes.append((re.compile(pattern), answer))
        else:
            plan = answer
            self.routes.append((re.compile(pattern), lambda _seen, _match: plan))
        return self

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan_for(self, seen: Seen) -> Plan:
        with self._lock:
            self.seen.append(seen)
        for pattern, fn in self.routes:
            m = pattern.search(seen.path)
            if m is not None:
                return fn(seen, m)
        return Plan.json({"message": "Not Found", "errors": []}, 404)

    def start(self) -> HostileServer:
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        wait_listening(self.port)
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def authorizations(self) -> list[str]:
        return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client hanging up mid-answer is what a bound looks like from here


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle and the client's
        # delayed ACK add 40 ms to every answer (a thousand pages would take a minute).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send_slowly(self, data: bytes, pace: float, chunk: int = 1) -> None:
            for i in range(0, len(data), chunk):
                self.wfile.write(data[i:i + chunk])
                self.wfile.flush()
                time.sleep(pace)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            seen = Seen(self.command, self.path,
                        {k.lower(): v for k, v in self.headers.items()})
            plan = server.plan_for(seen)
            try:
                if plan.trickle_headers:
                    head = f"HTTP/1.1 {plan.status} OK\r\n".encode()
                    self.wfile.write(head)
                    self._send_slowly(b"X-Slow: " + b"a" * 100_000, plan.pace)
                    return
                self.send_response(plan.status)
                for name, value in plan.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(plan.body)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if plan.trickle:
                    self._send_slowly(plan.body, plan.pace, plan.chunk)
                else:
                    self.wfile.write(plan.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up: what a bound does

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    return _Handler


def serve(*routes: tuple[str, Route | Plan]) -> Iterator[HostileServer]:
    """A started server with ``routes``, for use in a fixture (``yield from serve(...)``)."""
    with HostileServer() as server:
        for pattern, answer in routes:
            server.route(pattern, answer)
        yield server
