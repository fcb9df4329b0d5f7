"""A loopback stand-in for an OCI registry that lists whatever tags a test gives it.

The real registry (``support.oci_registry``) refuses a tag outside the distribution
grammar, so a hostile tag list needs a stand-in: it speaks just enough of the
distribution API (``/v2/``, ``tags/list``, ``HEAD``/``GET`` manifests by tag or digest)
and records every path asked for, so a test can prove a hostile tag never reached a URL.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from support.loopback import LoopbackServer

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


class _Handler(BaseHTTPRequestHandler):
    server: HostileRegistry

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str], *, head: bool) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        srv = self.server
        path = self.path.split("?", 1)[0]
        with srv.lock:
            srv.requests.append(f"{self.command} {self.path}")
        if path == "/v2/":
            self._send(200, b"{}", {"Content-Type": "application/json"}, head=head)
            return
        if path == f"/v2/{srv.repository}/tags/list":
            body = json.dumps({"name": srv.repository, "tags": srv.tags}).encode()
            self._send(200, body, {"Content-Type": "application/json"}, head=head)
            return
        prefix = f"/v2/{srv.repository}/manifests/"
        if path.startswith(prefix):
            ref = path[len(prefix):]
            if ref in srv.tags or ref == srv.index_digest:
                self._send(200, srv.index, {"Content-Type": INDEX_TYPE,
                                            "Docker-Content-Digest": srv.digest_header
                                            or srv.index_digest},
                           head=head)
                return
        self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}',
                   {"Content-Type": "application/json"}, head=head)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)


class HostileRegistry(LoopbackServer):
    """Serves ``repository`` with ``tags`` on 127.0.0.1 (a free port); ``stop()`` ends it."""

    def __init__(self, repository: str, tags: list[str]) -> None:
        super().__init__(_Handler)
        self.repository = repository
        self.tags = tags
        self.requests: list[str] = []
        self.lock = threading.Lock()
        # An empty index: what a tag points at, for the clean control case.
        self.index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                                 "manifests": []}).encode()
        self.index_digest = "sha256:" + hashlib.sha256(self.index).hexdigest()
        self.digest_header: str | None = None  # what HEAD claims instead of the real digest
