"""git's own smart-HTTP server (`git http-backend`, as CGI) on loopback, behind HTTP Basic auth.

Serves the bare repositories under ``root`` the way GitHub serves a repository to
`git push`/`git fetch` over https: a request without the right credentials gets
401, so a client that does not send its token cannot read or push. Every request
is recorded with whether it carried the right credentials (never the value).
"""

from __future__ import annotations

import base64
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class GitRequest:
    method: str
    path: str
    authorized: bool


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    """A chunked request body (git sends one when a push exceeds http.postBuffer)."""
    out = b""
    while True:
        size = int(rfile.readline().strip().split(b";")[0], 16)
        if size == 0:
            rfile.readline()
            return out
        out += rfile.read(size)
        rfile.readline()


class _Handler(BaseHTTPRequestHandler):
    server: GitHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _handle(self) -> None:
        srv = self.server
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        # The scheme is case-insensitive (RFC 9110); actions/checkout sends "basic".
        authorized = scheme.lower() == "basic" and value.strip() == srv.expected_basic
        split = urlsplit(self.path)
        with srv.lock:
            srv.requests.append(GitRequest(self.command, split.path, authorized))
        if not authorized:
            payload = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        env = {
            "GIT_PROJECT_ROOT": str(srv.root), "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": split.path, "QUERY_STRING": split.query,
            "REQUEST_METHOD": self.command, "REMOTE_USER": srv.username,
            "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "PATH": "/usr/bin:/bin", "HOME": str(srv.root),
        }
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              capture_output=True, check=False, timeout=60)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _handle


class GitHttpServer(ThreadingHTTPServer):
    """Serves ``root``'s bare repositories at ``http://127.0.0.1:<port>/<name>.git``."""

    daemon_threads = True

    def __init__(self, root: Path, *, username: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.username = username
        self.expected_basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.requests: list[GitRequest] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def __enter__(self) -> GitHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)
