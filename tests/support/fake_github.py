"""A loopback stand-in for GitHub's REST API (releases, extensible routes) and its download host.

GitHub has no installable server, so this serves the documented shapes: the
release and release-asset objects (with ``digest``), ``Link`` pagination,
``x-ratelimit-*`` headers, 302 redirects from asset URLs to a second loopback
"objects" host that, like GitHub's, refuses requests carrying Authorization.
Every request is recorded (the token value redacted). Routes are a list of
(method, path regex, handler), so other endpoints (pull requests) plug in.
``POST /graphql`` (and GitHub Enterprise's ``/api/graphql``) answers the
``repository { releases }`` part of GitHub's GraphQL schema, aliases honoured.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import json
import re
import tarfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from support.loopback import wait_listening

REDACTED = "<redacted>"
_EPOCH = "2026-01-01T00:00:00Z"


# ---------------------------------------------------------------- requests and answers


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; the Authorization value never stored."""

    server: str  # "api" or "objects"
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names; authorization -> "Bearer <redacted>"
    body: bytes
    authenticated: bool  # carried the fake's token
    had_authorization: bool  # carried any Authorization header

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """What a route answers. ``cut_at`` sends the full Content-Length, then fewer bytes."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None

    @classmethod
    def json(cls, data: object, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        return cls(
            status,
            json.dumps(data, indent=1).encode(),
            {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        )

    @classmethod
    def message(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Answer:
        """GitHub's error body: ``{"message": …, "documentation_url": …}``."""
        return cls.json(
            {"message": text, "documentation_url": "https://docs.github.com/rest"},
            status,
            headers,
        )


Handler = Callable[[RecordedRequest, Mapping[str, str]], Answer]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    server: str = "api"


@dataclass
class Fault:
    """An injected answer for matching requests, ``times`` times (None: until cleared)."""

    pattern: re.Pattern[str]
    answer: Callable[[], Answer]
    method: str | None = "GET"
    server: str = "api"
    times: int | None = 1

    def matches(self, req: RecordedRequest) -> bool:
        return (
            (self.times is None or self.times > 0)
            and self.server == req.server
            and (self.method is None or self.method == req.method)
            and self.pattern.search(req.path) is not None
        )


# ---------------------------------------------------------------- release state


@dataclass
class FakeAsset:
    id: int
    name: str
    data: bytes
    content_type: str = "application/x-xz"
    digest: str | None = None  # "sha256:<hex>"; None is served as null
    omit_digest: bool = False  # older GitHub answers lack the key altogether
    listed_size: int | None = None  # the API "size", when it should differ from the data
    cut_at: int | None = None  # download: full Content-Length, body cut here, then close
    short_at: int | None = None  # download: only this many bytes, with a matching Content-Length

    @property
    def size(self) -> int:
        return len(self.data) if self.listed_size is None else self.listed_size


@dataclass
class FakeRelease:
    id: int
    repository: str
    tag_name: str
    name: str
    draft: bool = False
    prerelease: bool = False
    published_at: str | None = _EPOCH
    assets: list[FakeAsset] = field(default_factory=list)

    def asset(self, name: str) -> FakeAsset:
        for asset in self.assets:
            if asset.name == name:
                return asset
        raise KeyError(name)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sidecar_text(data: bytes, name: str) -> bytes:
    """What ``sha256sum NAME > NAME.sha256`` writes."""
    return f"{sha256_hex(data)}  {name}\n".encode()


def make_tar_xz(files: Mapping[str, bytes]) -> bytes:
    """A real, deterministic .tar.xz holding ``files`` (path -> content)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            content = files[path]
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = 1_700_000_000
            info.mode = 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


# ---------------------------------------------------------------- the servers


def _make_handler(fake: FakeGitHub, server: str) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = fake._dispatch(server, self.command, self.path, dict(self.headers), body)
            self.send_response(answer.status)
            payload = answer.body
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if answer.cut_at is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if answer.cut_at is not None:
                self.wfile.write(payload[: answer.cut_at])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    return _Handler


class FakeGitHub:
    """The API host (which also answers github.com-style download paths) and an objects host."""

    def __init__(
        self,
        *,
        token: str | None = None,
        private: bool = False,
        rate_limit: int | None = None,
        prefix: str = "",
    ) -> None:
        self.token = token
        self.prefix = prefix.rstrip("/")  # "/api/v3" for a GitHub Enterprise layout
        self.private = private
        self.rate_limit = rate_limit  # None: 60 anonymous, 5000 authenticated
        self.rate_limited = False  # primary limit exhausted
        self.reset_at = int(time.time()) + 3600
        self.requests: list[RecordedRequest] = []
        self.releases: list[FakeRelease] = []
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self._used: dict[bool, int] = {False: 0, True: 0}
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._install_release_routes()
        self._install_graphql_routes()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        for name in ("api", "objects"):
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, name))
            httpd.daemon_threads = True
            self._servers[name] = httpd
            thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
                name=f"fake-github-{name}",
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        for httpd in self._servers.values():
            wait_listening(httpd.server_address[1])
        return self

    def stop(self) -> None:
        for httpd in self._servers.values():
            httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _base(self, name: str) -> str:
        port = self._servers[name].server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def web_url(self) -> str:
        """Where html_url and browser_download_url point (github.com's role)."""
        return self._base("api")

    @property
    def api_url(self) -> str:
        return self._base("api") + self.prefix

    @property
    def objects_url(self) -> str:
        return self._base("objects")

    # ------------------------------------------------------------ extension points

    def add_route(
        self, method: str, pattern: str, handler: Handler, *, server: str = "api"
    ) -> None:
        """Add an endpoint; ``pattern`` is a full-match regex on the path, named groups -> params.

        Routes added later win over earlier ones, so a test can override a built-in.
        """
        self.routes.insert(0, Route(method, re.compile(pattern), handler, server))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler)
            return handler

        return register

    def inject(
        self,
        pattern: str,
        answer: Answer | Callable[[], Answer],
        *,
        method: str | None = "GET",
        server: str = "api",
        times: int | None = 1,
    ) -> Fault:
        """Answer matching requests with ``answer`` (``times`` times) before any route."""
        make = answer if callable(answer) else (lambda: answer)
        fault = Fault(re.compile(pattern), make, method, server, times)
        self.faults.append(fault)
        return fault

    def requests_to(self, pattern: str, *, server: str | None = None) -> list[RecordedRequest]:
        rx = re.compile(pattern)
        with self._lock:
            return [
                r
                for r in self.requests
                if rx.search(r.path) and (server is None or r.server == server)
            ]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # ------------------------------------------------------------ fault switches

    def server_error(
        self, pattern: str = r".*", *, status: int = 503, times: int | None = 1
    ) -> None:
        self.inject(pattern, lambda: Answer.message(status, "Service Unavailable"), times=times)

    def secondary_rate_limit(
        self, pattern: str = r".*", *, retry_after: int = 1, status: int = 403, times: int = 1
    ) -> None:
        """GitHub's secondary limit: 403/429, a message, ``retry-after``; remaining not 0."""

        def answer() -> Answer:
            return Answer.message(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
                {"retry-after": str(retry_after)},
            )

        self.inject(pattern, answer, times=times)

    def exhaust_rate_limit(self) -> None:
        """The primary limit: every API answer is 403 with ``x-ratelimit-remaining: 0``."""
        self.rate_limited = True

    def set_sidecar(self, repository: str, tag: str, name: str, text: bytes) -> None:
        """Re-upload ``name``.sha256 with ``text`` (its API digest follows, as on GitHub)."""
        side = self.release(repository, tag).asset(name + ".sha256")
        side.data = text
        side.digest = f"sha256:{sha256_hex(text)}"

    def remove_asset(self, repository: str, tag: str, name: str) -> None:
        rel = self.release(repository, tag)
        rel.assets = [a for a in rel.assets if a.name not in (name, name + ".sha256")]

    def replace_asset(
        self,
        repository: str,
        tag: str,
        name: str,
        data: bytes,
        *,
        update_digest: bool = True,
        update_sidecar: bool = True,
    ) -> None:
        """New bytes under an old name; by default as a re-upload (digest and sidecar follow).

        ``update_digest=False, update_sidecar=False`` serves bytes that match neither:
        what a compromised download host would do.
        """
        rel = self.release(repository, tag)
        asset = rel.asset(name)
        asset.data = data
        if update_digest:
            asset.digest = f"sha256:{sha256_hex(data)}"
        if update_sidecar:
            with contextlib.suppress(KeyError):  # an asset without a sidecar
                self.set_sidecar(repository, tag, name, sidecar_text(data, name))

    def cut_download(self, repository: str, tag: str, name: str, at: int) -> None:
        """Promise the full Content-Length, send ``at`` bytes, close the connection."""
        self.release(repository, tag).asset(name).cut_at = at

    def short_download(self, repository: str, tag: str, name: str, at: int) -> None:
        """Send ``at`` bytes with a matching Content-Length; only the API size tells."""
        self.release(repository, tag).asset(name).short_at = at

    def drop_digests(self, repository: str, tag: str, *, omit: bool = False) -> None:
        """An older release: assets uploaded before GitHub computed digests."""
        for asset in self.release(repository, tag).assets:
            asset.digest = None
            asset.omit_digest = omit

    # ------------------------------------------------------------ releases

    def add_release(
        self,
        repository: str,
        tag: str,
        assets: Mapping[str, bytes],
        *,
        prerelease: bool = False,
        draft: bool = False,
        digests: bool = True,
        sidecars: bool = True,
        name: str | None = None,
        published_at: str | None = _EPOCH,
    ) -> FakeRelease:
        rel = FakeRelease(
            id=next(self._ids),
            repository=repository,
            tag_name=tag,
            name=name or tag,
            draft=draft,
            prerelease=prerelease,
            published_at=None if draft else published_at,
        )
        for asset_name in sorted(assets):
            data = assets[asset_name]
            rel.assets.append(self._new_asset(asset_name, data, "application/x-xz", digests))
            if sidecars:
                text = sidecar_text(data, asset_name)
                rel.assets.append(
                    self._new_asset(asset_name + ".sha256", text, "text/plain", digests)
                )
        with self._lock:
            self.releases.append(rel)
        return rel

    def _new_asset(self, name: str, data: bytes, content_type: str, digest: bool) -> FakeAsset:
        return FakeAsset(
            id=next(self._ids),
            name=name,
            data=data,
            content_type=content_type,
            digest=f"sha256:{sha256_hex(data)}" if digest else None,
        )

    def release(self, repository: str, tag: str) -> FakeRelease:
        for rel in self.releases:
            if rel.repository == repository and rel.tag_name == tag:
                return rel
        raise KeyError(f"{repository} {tag}")

    def _repo_releases(self, repository: str) -> list[FakeRelease]:
        # GitHub lists the newest first.
        return [r for r in reversed(self.releases) if r.repository == repository]

    def _find_asset(self, asset_id: int) -> tuple[FakeRelease, FakeAsset] | None:
        for rel in self.releases:
            for asset in rel.assets:
                if asset.id == asset_id:
                    return rel, asset
        return None

    # ------------------------------------------------------------ JSON shapes

    def user_json(self) -> dict[str, Any]:
        return {
            "login": "octocat",
            "id": 1,
            "node_id": "MDQ6VXNlcjE=",
            "type": "User",
            "site_admin": False,
            "url": f"{self.api_url}/users/octocat",
            "html_url": f"{self.web_url}/octocat",
        }

    def asset_json(self, rel: FakeRelease, asset: FakeAsset) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": f"{self.api_url}/repos/{rel.repository}/releases/assets/{asset.id}",
            "browser_download_url": (
                f"{self.web_url}/{rel.repository}/releases/download/"
                f"{quote(rel.tag_name)}/{quote(asset.name)}"
            ),
            "id": asset.id,
            "node_id": f"RA_{asset.id}",
            "name": asset.name,
            "label": None,
            "state": "uploaded",
            "content_type": asset.content_type,
            "size": asset.size,
            "digest": asset.digest,
            "download_count": 0,
            "created_at": _EPOCH,
            "updated_at": _EPOCH,
            "uploader": self.user_json(),
        }
        if asset.omit_digest:
            del data["digest"]
        return data

    def release_json(self, rel: FakeRelease) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{rel.repository}"
        return {
            "url": f"{base}/releases/{rel.id}",
            "html_url": f"{self.web_url}/{rel.repository}/releases/tag/{quote(rel.tag_name)}",
            "assets_url": f"{base}/releases/{rel.id}/assets",
            "upload_url": f"{base}/releases/{rel.id}/assets{{?name,label}}",
            "tarball_url": f"{base}/tarball/{quote(rel.tag_name)}",
            "zipball_url": f"{base}/zipball/{quote(rel.tag_name)}",
            "id": rel.id,
            "node_id": f"RE_{rel.id}",
            "tag_name": rel.tag_name,
            "target_commitish": "main",
            "name": rel.name,
            "body": f"Release {rel.tag_name}",
            "draft": rel.draft,
            "prerelease": rel.prerelease,
            "created_at": _EPOCH,
            "published_at": rel.published_at,
            "author": self.user_json(),
            "assets": [self.asset_json(rel, a) for a in rel.assets],
        }

    def paginated(self, req: RecordedRequest, items: list[Any], *, default: int = 30) -> Answer:
        """A JSON list page with GitHub's ``Link`` header (next/last/first/prev)."""
        try:
            per_page = min(100, max(1, int(req.query.get("per_page", [str(default)])[0])))
            page = max(1, int(req.query.get("page", ["1"])[0]))
        except ValueError:
            return Answer.message(422, "Validation Failed")
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        others = {k: v[0] for k, v in req.query.items() if k not in ("page", "per_page")}

        def link(n: int) -> str:
            query = urlencode({**others, "per_page": per_page, "page": n})
            return f"<{self.api_url}{req.path}?{query}>"

        links = []
        if page < last:
            links += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            links += [f'{link(1)}; rel="first"', f'{link(page - 1)}; rel="prev"']
        headers = {"Link": ", ".join(links)} if links else {}
        return Answer.json(chunk, headers=headers)

    # ------------------------------------------------------------ built-in routes

    def _install_release_routes(self) -> None:
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        self.add_route("GET", repo + r"/releases", self._list_releases)
        self.add_route("GET", repo + r"/releases/tags/(?P<tag>.+)", self._release_by_tag)
        self.add_route("GET", repo + r"/releases/(?P<id>\d+)", self._release_by_id)
        self.add_route("GET", repo + r"/releases/(?P<id>\d+)/assets", self._list_assets)
        self.add_route("GET", repo + r"/releases/assets/(?P<id>\d+)", self._asset)
        self.add_route(
            "GET",
            r"/(?P<repo>[^/]+/[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<name>[^/]+)",
            self._browser_download,
        )
        self.add_route("GET", r"/assets/(?P<id>\d+)", self._object, server="objects")

    def _list_releases(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        releases = self._repo_releases(p["repo"])
        if not req.authenticated:
            releases = [r for r in releases if not r.draft]  # drafts need push access
        return self.paginated(req, [self.release_json(r) for r in releases])

    def _release_by_tag(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        for rel in self._repo_releases(p["repo"]):
            if rel.tag_name == p["tag"] and not rel.draft:  # "a published release"
                return Answer.json(self.release_json(rel))
        return Answer.message(404, "Not Found")

    def _release_by_id(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        for rel in self._repo_releases(p["repo"]):
            if rel.id == int(p["id"]):
                return Answer.json(self.release_json(rel))
        return Answer.message(404, "Not Found")

    def _list_assets(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        for rel in self._repo_releases(p["repo"]):
            if rel.id == int(p["id"]):
                return self.paginated(req, [self.asset_json(rel, a) for a in rel.assets])
        return Answer.message(404, "Not Found")

    def _asset(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        found = self._find_asset(int(p["id"]))
        if found is None or found[0].repository != p["repo"]:
            return Answer.message(404, "Not Found")
        rel, asset = found
        if "application/octet-stream" in req.headers.get("accept", ""):
            return self._redirect_to_object(asset)
        return Answer.json(self.asset_json(rel, asset))

    def _browser_download(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        for rel in self._repo_releases(p["repo"]):
            if rel.tag_name == p["tag"]:
                for asset in rel.assets:
                    if asset.name == p["name"]:
                        return self._redirect_to_object(asset)
        return Answer(404, b"Not Found", {"Content-Type": "text/plain"})

    def _redirect_to_object(self, asset: FakeAsset) -> Answer:
        # A signed, short-lived URL on another host, as GitHub's release-assets host uses.
        signature = hashlib.sha256(f"{asset.id}".encode()).hexdigest()[:32]
        query = urlencode({"X-Amz-Expires": 300, "X-Amz-Signature": signature})
        location = f"{self.objects_url}/assets/{asset.id}?{query}"
        return Answer(302, b"", {"Location": location})

    def _object(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        if req.had_authorization:
            # The real host answers 400 to a second auth mechanism; a client that
            # forwards the token here has leaked it to another host.
            return Answer(
                400,
                b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism "
                b"allowed</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        if "X-Amz-Signature" not in req.query:
            return Answer(403, b"<Error><Code>AccessDenied</Code></Error>")
        found = self._find_asset(int(p["id"]))
        if found is None:
            return Answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
        asset = found[1]
        data = asset.data if asset.short_at is None else asset.data[: asset.short_at]
        return Answer(200, data, {"Content-Type": "application/octet-stream"}, cut_at=asset.cut_at)

    # ------------------------------------------------------------ GraphQL

    def _install_graphql_routes(self) -> None:
        # github.com serves it at api.github.com/graphql, GitHub Enterprise at /api/graphql.
        self.add_route("POST", r"(?:/api)?/graphql", self._graphql)

    def _graphql(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        if not req.authenticated:
            # GitHub's GraphQL API has no anonymous access, unlike REST.
            return Answer.json(
                {
                    "message": "This endpoint requires you to be authenticated.",
                    "documentation_url": "https://docs.github.com/graphql",
                },
                401,
            )
        try:
            payload = req.json()
            selections = parse_graphql(str(payload["query"]))
            variables = payload.get("variables") or {}
            data = resolve_graphql(self._graphql_root(), selections, variables)
        except (GraphQLError, KeyError, TypeError, ValueError) as exc:
            return Answer.json({"errors": [{"message": str(exc)}]})
        return Answer.json({"data": data})

    def _graphql_root(self) -> dict[str, Any]:
        def repository(args: Mapping[str, Any]) -> dict[str, Any] | None:
            name = f"{args['owner']}/{args['name']}"
            known = any(r.repository == name for r in self.releases)
            if not known or self.private:
                return None  # GitHub: null, with a NOT_FOUND error beside it
            return self._graphql_repository(name)

        return {"repository": repository, "__typename": "Query"}

    def _graphql_repository(self, name: str) -> dict[str, Any]:
        def releases(args: Mapping[str, Any]) -> dict[str, Any]:
            # Newest first, as orderBy {field: CREATED_AT, direction: DESC} asks; drafts are
            # listed to an authenticated caller, as REST does for one with push access.
            items = self._repo_releases(name)
            order = args.get("orderBy") or {}
            if order.get("direction") == "ASC":
                items = items[::-1]
            first = min(100, int(args.get("first") or 100))
            start = int(args["after"]) if args.get("after") else 0
            page = items[start : start + first]
            nodes = [self.release_graphql(r) for r in page]
            return {
                "__typename": "ReleaseConnection",
                "totalCount": len(items),
                "nodes": nodes,
                "edges": [{"cursor": str(start + i + 1), "node": n} for i, n in enumerate(nodes)],
                "pageInfo": {
                    "hasNextPage": start + first < len(items),
                    "hasPreviousPage": start > 0,
                    "startCursor": str(start + 1) if page else None,
                    "endCursor": str(start + len(page)) if page else None,
                },
            }

        return {
            "__typename": "Repository",
            "nameWithOwner": name,
            "isPrivate": self.private,
            "url": f"{self.web_url}/{name}",
            "releases": releases,
        }

    def release_graphql(self, rel: FakeRelease) -> dict[str, Any]:
        """A ``Release`` object, the fields GitHub's GraphQL schema names."""
        return {
            "__typename": "Release",
            "id": f"RE_{rel.id}",
            "databaseId": rel.id,
            "tagName": rel.tag_name,
            "name": rel.name,
            "description": f"Release {rel.tag_name}",
            "isDraft": rel.draft,
            "isPrerelease": rel.prerelease,
            "isLatest": False,
            "createdAt": _EPOCH,
            "publishedAt": rel.published_at,
            "url": f"{self.web_url}/{rel.repository}/releases/tag/{quote(rel.tag_name)}",
        }

    # ------------------------------------------------------------ dispatch

    def _rate_headers(self, authenticated: bool) -> dict[str, str]:
        limit = self.rate_limit or (5000 if authenticated else 60)
        used = self._used[authenticated]
        remaining = 0 if self.rate_limited else max(0, limit - used)
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(limit - remaining if self.rate_limited else used),
            "x-ratelimit-resource": "core",
        }

    def _dispatch(
        self, server: str, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        split = urlsplit(target)
        path = split.path
        if server == "api" and self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]
        lower = {k.lower(): v for k, v in headers.items()}
        auth = lower.get("authorization")
        authenticated = self.token is not None and auth in (
            f"Bearer {self.token}",
            f"token {self.token}",
        )
        if auth is not None:
            scheme = auth.split(" ", 1)[0]
            lower["authorization"] = f"{scheme} {REDACTED}"
        req = RecordedRequest(
            server=server,
            method=method,
            path=path,
            query=parse_qs(split.query),
            headers=lower,
            body=body,
            authenticated=authenticated,
            had_authorization=auth is not None,
        )
        with self._lock:
            self.requests.append(req)
            if server == "api":
                self._used[authenticated] += 1
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
        answer = self._answer(req, fault, auth)
        if server == "api":
            answer.headers = {
                **self._rate_headers(authenticated),
                "X-GitHub-Media-Type": "github.v3; format=json",
                **answer.headers,
            }
        return answer

    def _answer(self, req: RecordedRequest, fault: Fault | None, auth: str | None) -> Answer:
        if fault is not None:
            return fault.answer()
        if req.server == "api":
            if auth is not None and not req.authenticated:
                return Answer.message(401, "Bad credentials")
            if self.rate_limited:
                return Answer.message(
                    403,
                    "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                    "Authenticated requests get a higher rate limit.)",
                )
            if self.private and not req.authenticated and req.path.startswith("/repos/"):
                return Answer.message(404, "Not Found")
        for route in self.routes:
            if route.server != req.server or route.method != req.method:
                continue
            match = route.pattern.fullmatch(req.path)
            if match is not None:
                return route.handler(req, match.groupdict())
        return Answer.message(404, "Not Found")


# ---------------------------------------------------------------- an s6-overlay-like world

S6_REPOSITORY = "just-containers/s6-overlay"
S6_ARCHES = ("x86_64", "aarch64")


def s6_asset_names() -> list[str]:
    return [
        "s6-overlay-noarch.tar.xz",
        *(f"s6-overlay-{arch}.tar.xz" for arch in S6_ARCHES),
        "s6-overlay-symlinks-noarch.tar.xz",
    ]


def _filler(seed: str, size: int) -> bytes:
    blocks = (hashlib.sha256(f"{seed}/{i}".encode()).digest() for i in range(-(-size // 32)))
    return b"".join(blocks)[:size]


def s6_tarballs(version: str) -> dict[str, bytes]:
    """Small real .tar.xz files, different for every version and asset."""
    return dict(_s6_tarballs(version))


@functools.cache
def _s6_tarballs(version: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name in s6_asset_names():
        stem = name.removesuffix(".tar.xz")
        out[name] = make_tar_xz(
            {
                f"package/admin/{stem}/VERSION": f"{version}\n".encode(),
                f"package/admin/{stem}/README": f"{name} for s6-overlay {version}\n".encode(),
                # Incompressible filler, so a download spans many chunks.
                f"package/admin/{stem}/payload": _filler(f"{version}/{name}", 48 * 1024),
            }
        )
    return out


S6_VERSIONS: tuple[tuple[str, bool], ...] = (
    ("3.2.3.0", False),
    ("3.2.4.0", False),
    ("3.2.10.0", True),
)


def add_s6_overlay(
    fake: FakeGitHub,
    versions: Sequence[tuple[str, bool]] = S6_VERSIONS,
    *,
    repository: str = S6_REPOSITORY,
) -> dict[str, dict[str, bytes]]:
    """Releases v<version> (prerelease flag as given) with four tarballs and sidecars each.

    Returns version -> asset name -> bytes, so tests compute expected sha256s themselves.
    """
    served: dict[str, dict[str, bytes]] = {}
    for version, prerelease in versions:
        served[version] = s6_tarballs(version)
        fake.add_release(repository, f"v{version}", served[version], prerelease=prerelease)
    return served


# ---------------------------------------------------------------- a small GraphQL reader


class GraphQLError(Exception):
    """A query this fake cannot read or answer; served as ``{"errors": [...]}``."""


@dataclass(frozen=True)
class Selection:
    """One field of a selection set: ``alias: name(args) { children }``."""

    alias: str
    name: str
    args: Mapping[str, Any]
    children: tuple[Selection, ...]


_GQL_TOKEN = re.compile(
    r'\s+|,|#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)'
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>\.\.\.|[{}():!$\[\]=@])"
)


def _gql_tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _GQL_TOKEN.match(text, pos)
        if m is None:
            raise GraphQLError(f"Parse error on {text[pos : pos + 10]!r}")
        pos = m.end()
        if m.lastgroup is not None:
            out.append((m.lastgroup, m.group()))
    return out


class _GqlParser:
    def __init__(self, text: str) -> None:
        self.tokens = _gql_tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise GraphQLError("Parse error: unexpected end of query")
        tok = self.tokens[self.i]
        if expected is not None and tok[1] != expected:
            raise GraphQLError(f"Parse error on {tok[1]!r}: expected {expected!r}")
        self.i += 1
        return tok

    def document(self) -> tuple[Selection, ...]:
        if self.peek() in ("query", "mutation"):
            if self.take()[1] == "mutation":
                raise GraphQLError("mutations are not served here")
            if self.peek() not in ("(", "{"):
                self.take()  # the operation's name
            if self.peek() == "(":
                self.skip_variable_definitions()
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("only one operation per query is served here")
        return selections

    def skip_variable_definitions(self) -> None:
        depth = 0
        while True:
            tok = self.take()[1]
            depth += {"(": 1, ")": -1}.get(tok, 0)
            if depth == 0:
                return

    def selection_set(self) -> tuple[Selection, ...]:
        self.take("{")
        out: list[Selection] = []
        while self.peek() != "}":
            out.append(self.field())
        self.take("}")
        return tuple(out)

    def field(self) -> Selection:
        kind, name = self.take()
        if kind != "name":
            raise GraphQLError(f"Parse error on {name!r}: fragments are not served here")
        alias = name
        if self.peek() == ":":
            self.take()
            name = self.take()[1]
        args: dict[str, Any] = {}
        if self.peek() == "(":
            self.take()
            while self.peek() != ")":
                key = self.take()[1]
                self.take(":")
                args[key] = self.value()
            self.take(")")
        children = self.selection_set() if self.peek() == "{" else ()
        return Selection(alias, name, args, children)

    def value(self) -> Any:
        kind, tok = self.take()
        if tok == "$":
            return _Variable(self.take()[1])
        if kind == "str":
            return json.loads(tok)
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if tok == "{":
            obj: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.take()[1]
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        if tok == "[":
            items: list[Any] = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        return {"true": True, "false": False, "null": None}.get(tok, tok)  # else an enum


@dataclass(frozen=True)
class _Variable:
    name: str


def parse_graphql(text: str) -> tuple[Selection, ...]:
    """The selections of a query document (one operation, no fragments)."""
    return _GqlParser(text).document()


def _gql_bind(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, _Variable):
        return variables.get(value.name)
    if isinstance(value, dict):
        return {k: _gql_bind(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_gql_bind(v, variables) for v in value]
    return value


def resolve_graphql(obj: Any, selections: Sequence[Selection], variables: Mapping[str, Any]) -> Any:
    """Answer ``selections`` from ``obj``: a dict whose values are data, or callables taking
    the field's arguments; each field is keyed by its alias, as GraphQL answers."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [resolve_graphql(item, selections, variables) for item in obj]
    out: dict[str, Any] = {}
    for sel in selections:
        if sel.name not in obj:
            kind = obj.get("__typename", "Object")
            raise GraphQLError(f"Field '{sel.name}' doesn't exist on type '{kind}'")
        value = obj[sel.name]
        if callable(value):
            value = value({k: _gql_bind(v, variables) for k, v in sel.args.items()})
        out[sel.alias] = resolve_graphql(value, sel.children, variables) if sel.children else value
    return out
