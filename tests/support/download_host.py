"""A loopback download host: static files from memory (a release folder, its sidecars and
SHA256SUMS, a detached signature), autoindex directory listings, Go's and Node's JSON version
indexes and GitLab's tags API, each in the shape its upstream documents."""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.loopback import LoopbackServer


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sums_text(files: Mapping[str, bytes], *, binary: bool = False) -> bytes:
    """``sha256sum`` output: ``<hex>  <name>`` (``<hex> *<name>`` in binary mode), sorted."""
    sep = " *" if binary else "  "
    return "".join(f"{sha256_hex(d)}{sep}{n}\n" for n, d in sorted(files.items())).encode()


def autoindex(path: str, names: Sequence[str]) -> bytes:
    """An nginx-style autoindex page: ``<a href="name">name</a>`` per entry, and a parent link."""
    rows = ['<a href="../">../</a>'] + [
        f'<a href="{html.escape(n)}">{html.escape(n)}</a>    01-Jan-2026 00:00    -'
        for n in names]
    body = "\n".join(rows)
    return (f"<html><head><title>Index of {path}</title></head><body><h1>Index of {path}"
            f"</h1><hr><pre>{body}\n</pre><hr></body></html>").encode()


def go_index(releases: Mapping[str, Mapping[str, bytes]], *, unstable: Sequence[str] = ()
             ) -> list[dict[str, Any]]:
    """``go.dev/dl/?mode=json&include=all``: per version ``go1.22.1`` its files with sha256."""
    out = []
    for version, files in releases.items():
        out.append({"version": version, "stable": version not in unstable, "files": [
            {"filename": n, "os": "linux", "arch": n.rsplit("-", 1)[-1].split(".")[0],
             "version": version, "sha256": sha256_hex(d), "size": len(d), "kind": "archive"}
            for n, d in files.items()]})
    return out


def node_index(versions: Mapping[str, str]) -> list[dict[str, Any]]:
    """``nodejs.org/dist/index.json``: ``{version: "v20.11.1", date, files: [...]}``, newest
    first as Node lists them; its sha256 live in each version's SHASUMS256.txt."""
    return [{"version": v, "date": date, "files": ["linux-arm64", "linux-x64", "src"],
             "npm": "10.2.4", "lts": False, "security": False}
            for v, date in versions.items()]


class DownloadHost(LoopbackServer):
    """Serves ``files`` (path -> bytes, changeable while running); a folder path ending in
    ``/`` that is not a file is listed as an autoindex of the files under it. ``gitlab_tags``
    (project path -> tag objects) answers GitLab's tags API, 2 per page with X-Next-Page."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gitlab_tags: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[str] = []
        self.redirects: dict[str, str] = {}
        self.lock = threading.Lock()
        super().__init__(_handler(self))

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def put(self, path: str, data: bytes | str | object) -> None:
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, bytes):
            data = json.dumps(data).encode()
        with self.lock:
            self.files[path] = data

    def publish(self, path: str, data: bytes, *, bare: bool = False) -> str:
        """Serve ``data`` at ``path`` with its ``.sha256`` sidecar (``<hex>  <file name>``, or
        the hex alone with ``bare``); return the hex."""
        digest = sha256_hex(data)
        self.put(path, data)
        self.put(f"{path}.sha256", f"{digest}\n" if bare else
                 f"{digest}  {path.rsplit('/', 1)[-1]}\n")
        return digest

    def answer(self, path: str, query: Mapping[str, list[str]]
               ) -> tuple[int, bytes, dict[str, str]]:
        with self.lock:
            if path in self.redirects:
                return 302, b"", {"Location": self.redirects[path]}
            if path.startswith("/api/v4/projects/") and path.endswith("/repository/tags"):
                project = unquote(path[len("/api/v4/projects/"):-len("/repository/tags")])
                tags = self.gitlab_tags.get(project)
                if tags is None:
                    return 404, b'{"message":"404 Project Not Found"}', {}
                page = int(query.get("page", ["1"])[0])
                per = 2  # small pages, so the client must follow X-Next-Page
                chunk = tags[(page - 1) * per: page * per]
                nxt = str(page + 1) if page * per < len(tags) else ""
                return 200, json.dumps(chunk).encode(), {"X-Next-Page": nxt,
                                                         "Content-Type": "application/json"}
            if path in self.files:
                return 200, self.files[path], {}
            if path.endswith("/"):
                names = sorted({p[len(path):].split("/", 1)[0] + ("/" if "/" in p[len(path):]
                                                                  else "")
                                for p in self.files if p.startswith(path) and p != path})
                if names:
                    return 200, autoindex(path, names), {"Content-Type": "text/html"}
        return 404, b"not found", {}


def _handler(host: DownloadHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            host.requests.append(self.path)
            status, body, headers = host.answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
