"""Hostile upstreams against pinlock's bounds, through the CLI: bombs, trickles, endless pages.

Also redirect games, deep JSON, many small values and hostile lock files; each case is
measured (peak RSS, wall time) and checked for exit code, message, unchanged files and
tracebacks.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.hostile_http import (
    HostileServer,
    Plan,
    Seen,
    deep_json,
    gzip_bomb,
    gzip_zeros,
)
from support.proc import ROOT, Proc, run_pinlock, tree_digest

TOKEN = "ghp_" + "b0unds" * 6


@dataclass
class World:
    """The repository's own Dockerfile and lock, every upstream pointed at one hostile server."""

    root: Path
    server: HostileServer
    env: dict[str, str]

    def run(self, *args: str, limit: float = 60.0, **env: str) -> Proc:
        before = tree_digest(self.root)
        proc = run_pinlock(*args, cwd=self.root, env={**self.env, **env}, limit=limit)
        assert tree_digest(self.root) == before, "a file changed"
        proc.assert_clean(TOKEN)
        return proc


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    root = tmp_path / "project"
    (root / "docker").mkdir(parents=True)
    shutil.copy(ROOT / "docker" / "Dockerfile", root / "docker" / "Dockerfile")
    shutil.copy(ROOT / "image.lock.toml", root / "image.lock.toml")
    with HostileServer() as server:
        url = server.url
        env = {
            "PINLOCK_REGISTRY_MIRRORS": f"docker.io={url},ghcr.io={url}",
            "GITHUB_API_URL": url,
            "GITHUB_TOKEN": TOKEN,
            "PINLOCK_DEBIAN_MIRROR": f"{url}/debian/",
            "PINLOCK_DEBIAN_SECURITY_MIRROR": f"{url}/debian-security/",
        }
        yield World(root, server, env)


def _bearer(server: HostileServer) -> Plan:
    return Plan(401, b'{"errors": []}', {
        "WWW-Authenticate": f'Bearer realm="{server.url}/token",service="hostile"'})


# ---------------------------------------------------------------- decompression bombs

BOMBS: dict[str, tuple[Callable[[HostileServer], object], tuple[str, ...], str]] = {
    "registry-token": (
        lambda s: s.route(r"^/v2/", _bearer(s)).route(r"^/token", gzip_bomb()),
        ("lock", "debian"), "token from"),
    "registry-tag-list": (
        lambda s: s.route(r"/tags/list", gzip_bomb()),
        ("update", "debian"), "/tags/list"),
    "github-releases": (
        lambda s: s.route(r"/releases", gzip_bomb()),
        ("update", "s6-overlay"), "/releases"),
    "inrelease": (
        lambda s: s.route(r"/InRelease$", gzip_bomb("text/plain")),
        ("lock", "apt"), "InRelease"),
}


def test_the_bomb_is_one_gib_in_about_one_megabyte() -> None:
    wire = gzip_zeros()
    assert len(wire) < 2 << 20
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    while wire:
        total += len(d.decompress(wire, 1 << 24))
        wire = d.unconsumed_tail
    assert total == 1 << 30


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_gzip_bomb_is_refused_at_its_cap(world: World, case: str) -> None:
    install, args, where = BOMBS[case]
    install(world.server)
    p = world.run(*args)
    assert p.code == 3, p.text
    assert "larger than" in p.text and "(decoded), refused" in p.text, p.text
    assert where in p.text, p.text
    assert p.seconds < 30


def test_gzip_bomb_in_an_error_body_is_read_no_further_than_its_cap(world: World) -> None:
    bomb = gzip_bomb()
    world.server.route(r"/releases", Plan(404, bomb.body, bomb.headers))
    p = world.run("update", "s6-overlay")
    assert p.code == 3, p.text
    assert "/releases: not found (HTTP 404)" in p.text, p.text  # the status, not the size
    assert p.seconds < 30


# ---------------------------------------------------------------- slow-loris


SLOW: dict[str, tuple[Callable[[HostileServer], object], tuple[str, ...], str]] = {
    "github-body": (
        lambda s: s.route(r"/releases", Plan(200, b"[" + b" " * 500 + b"]",
                                             {"Content-Type": "application/json"},
                                             trickle=True)),
        ("update", "s6-overlay"), "/releases"),
    "github-headers": (
        lambda s: s.route(r"/releases", Plan(trickle_headers=True)),
        ("update", "s6-overlay"), "/releases"),
    "registry-headers": (
        lambda s: s.route(r"^/v2/", Plan(trickle_headers=True)),
        ("lock", "debian"), "/manifests/13.4"),
    "registry-token-body": (
        lambda s: s.route(r"^/v2/", _bearer(s)).route(
            r"^/token", Plan(200, b'{"token": "' + b"t" * 500 + b'"}', trickle=True)),
        ("lock", "debian"), "token from"),
    "inrelease-body": (
        lambda s: s.route(r"/InRelease$", Plan(200, b"-" * 500, trickle=True)),
        ("lock", "apt"), "InRelease"),
}


@pytest.mark.parametrize("case", sorted(SLOW))
def test_slow_loris_is_cut_off_at_the_command_deadline(world: World, case: str) -> None:
    install, args, where = SLOW[case]
    install(world.server)
    p = world.run("--timeout", "3", *args, limit=30)
    assert p.code == 3, p.text
    assert "deadline (3 s, --timeout)" in p.text and where in p.text, p.text
    assert p.seconds < 3 + 5, p.seconds
    assert world.server.seen, "the upstream was never asked"


def test_request_deadline_cuts_a_trickle_without_a_command_deadline() -> None:
    """In-process: a 1.5 s request deadline, no command deadline, a body one byte a second."""
    from pinlock.deadlines import set_timeouts
    from pinlock.errors import UpstreamError
    from pinlock.http import make_client
    from pinlock.sources.github.api import GitHubClient, GitHubConfig

    with HostileServer() as server:
        server.route(r"/slow", Plan(200, b"[" + b" " * 100 + b"]", trickle=True))
        set_timeouts(None, 1.5)
        try:
            with make_client() as http:
                client = GitHubClient(http, GitHubConfig(server.url))
                start = time.monotonic()
                with pytest.raises(UpstreamError, match="request deadline"):
                    client.get_json("/slow")
                assert time.monotonic() - start < 4
        finally:
            set_timeouts(None)


def test_a_steady_body_outlasts_the_request_deadline() -> None:
    """In-process: 1 s request deadline, a 256 KiB answer over about 2 s (128 KiB/s, above
    the 32 KiB/s floor): each byte received extends the deadline, so it completes."""
    from pinlock.deadlines import set_timeouts
    from pinlock.http import make_client
    from pinlock.sources.github.api import GitHubClient, GitHubConfig

    body = b"[" + b" " * (256 * 1024) + b"]"
    with HostileServer() as server:
        server.route(r"/steady", Plan(200, body, trickle=True, pace=0.1, chunk=13 * 1024))
        set_timeouts(None, 1.0)
        try:
            with make_client() as http:
                client = GitHubClient(http, GitHubConfig(server.url))
                start = time.monotonic()
                assert client.get_json("/steady") == []
                assert time.monotonic() - start > 1.0  # it did outlast the deadline
        finally:
            set_timeouts(None)


def test_timeout_must_be_positive(world: World) -> None:
    for bad in ("0", "-1", "nan", "inf"):
        p = world.run("--timeout", bad, "verify")
        assert p.code == 2, p.text
        assert "--timeout" in p.text


# ---------------------------------------------------------------- pagination


def _endless(s: HostileServer, kind: str) -> Callable[[Seen, object], Plan]:
    def answer(seen: Seen, _m: object) -> Plan:
        n = int(seen.path.rsplit("page=", 1)[1]) if "page=" in seen.path else 1
        nxt = n + 1 if kind == "endless" else n  # "loop": the same page again
        if "/tags/list" in seen.path:
            link = f'</v2/library/debian/tags/list?n=1&page={nxt}>; rel="next"'
            return Plan.json({"name": "library/debian", "tags": [f"13.{n}"]},
                             headers={"Link": link})
        link = f'<{s.url}/repos/just-containers/s6-overlay/releases?page={nxt}>; rel="next"'
        return Plan.json([], headers={"Link": link})
    return answer


@pytest.mark.parametrize(("kind", "args", "message"), [
    ("endless", ("update", "s6-overlay"), "more than 100 pages"),
    ("loop", ("update", "s6-overlay"), "pagination loops back"),
    ("endless", ("update", "debian"), "more than 1000 pages"),
    ("loop", ("update", "debian"), "pagination loops back"),
], ids=["github-endless", "github-loop", "registry-endless", "registry-loop"])
def test_pagination_is_bounded(world: World, kind: str, args: tuple[str, ...],
                               message: str) -> None:
    world.server.route(r"/releases|/tags/list", _endless(world.server, kind))
    p = world.run(*args)
    assert p.code == 3, p.text
    assert message in p.text, p.text
    pages = [s for s in world.server.seen if "releases" in s.path or "tags/list" in s.path]
    assert 2 <= len(pages) <= 1001


# ---------------------------------------------------------------- redirects


def test_github_redirect_loop_is_bounded(world: World) -> None:
    world.server.route(r"/releases", Plan(302, b"", {"Location": "/repos/x/y/releases"}))
    p = world.run("update", "s6-overlay")
    assert p.code == 3, p.text
    assert "more than 5 redirects" in p.text
    assert len(world.server.seen) <= 6


def test_debian_redirect_loop_is_bounded(world: World) -> None:
    world.server.route(r"/InRelease$",
                       Plan(302, b"", {"Location": "/debian/dists/trixie/InRelease"}))
    p = world.run("lock", "apt")
    assert p.code == 3, p.text
    assert "more than 5 redirects" in p.text


def test_cross_host_redirect_carries_no_token(world: World) -> None:
    with HostileServer() as other:
        other.route(r".", Plan.json({"message": "elsewhere"}, 404))
        # Same port space, another origin: "localhost" is not "127.0.0.1".
        target = f"http://localhost:{other.port}/moved"
        world.server.route(r"/releases/tags/", Plan(302, b"", {"Location": target}))
        p = world.run("bump", "s6-overlay", "3.2.4.0")
        assert p.code != 0, p.text
        assert other.seen, "the redirect was not followed"
        assert other.authorizations() == []
        sent = world.server.authorizations()
        assert sent and all(a == f"Bearer {TOKEN}" for a in sent)  # the token was in play


def test_debian_cross_host_redirect_is_refused(world: World) -> None:
    world.server.route(r"/InRelease$", Plan(302, b"", {
        "Location": f"http://localhost:{world.server.port}/debian/dists/trixie/InRelease"}))
    p = world.run("lock", "apt")
    assert p.code == 3, p.text
    assert "redirected to another host" in p.text


# ---------------------------------------------------------------- deep JSON


DEEP: dict[str, tuple[Callable[[HostileServer], object], tuple[str, ...]]] = {
    "github-releases": (
        lambda s: s.route(r"/releases", Plan(200, deep_json())), ("update", "s6-overlay")),
    "github-release-by-tag": (
        lambda s: s.route(r"/releases/tags/", Plan(200, deep_json())),
        ("bump", "s6-overlay", "3.2.4.0")),
    "github-error-body": (
        lambda s: s.route(r"/releases", Plan(404, deep_json())), ("update", "s6-overlay")),
    "registry-token": (
        # 40 KB: under the token cap (64 KiB), so the depth limit is what refuses it.
        lambda s: s.route(r"^/v2/", _bearer(s)).route(r"^/token", Plan(200, deep_json(20_000))),
        ("lock", "debian")),
    "registry-tag-list": (
        lambda s: s.route(r"/tags/list", Plan(200, deep_json())), ("update", "debian")),
    "registry-manifest": (
        lambda s: s.route(r"/manifests/", Plan(200, deep_json(), {
            "Content-Type": "application/vnd.oci.image.index.v1+json"})),
        ("lock", "debian")),
    "registry-manifest-shallow-enough-to-parse": (
        lambda s: s.route(r"/manifests/", Plan(200, deep_json(200), {
            "Content-Type": "application/vnd.oci.image.index.v1+json"})),
        ("lock", "debian")),
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deeply_nested_json_is_an_upstream_error(world: World, case: str) -> None:
    install, args = DEEP[case]
    install(world.server)
    p = world.run(*args)
    if case == "github-error-body":
        # The message is only looked for; a body that is not usable is not shown.
        assert p.code == 3 and "HTTP 404" in p.text, p.text
        return
    assert p.code == 3, p.text
    assert "nested deeper than 64 levels" in p.text, p.text


# ---------------------------------------------------------------- many small values


def _tags_page(n: int) -> bytes:
    return json.dumps({"name": "library/debian",
                       "tags": [f"t{i:08d}" for i in range(n)]}).encode()


MANY: dict[str, tuple[Callable[[HostileServer], object], tuple[str, ...], str]] = {
    # 16 MiB of "{}," parses to 445 MB of dicts: counted before parsing.
    "github-page-of-empty-objects": (
        lambda s: s.route(r"/releases", Plan(200, b"[" + b"{}," * (5 << 20) + b"{}]")),
        ("update", "s6-overlay"), "more than 1000000 JSON values"),
    "github-page-longer-than-asked": (
        lambda s: s.route(r"/releases", Plan.json([{"id": i} for i in range(500)])),
        ("update", "s6-overlay"), "500 items on one page, more than the 100 asked for"),
    "registry-tags-beyond-the-total": (
        lambda s: s.route(r"/tags/list", Plan(200, _tags_page(600_000))),
        ("update", "debian"), "more than 500000 tags"),
}


@pytest.mark.parametrize("case", sorted(MANY))
def test_many_small_values_are_refused(world: World, case: str) -> None:
    install, args, message = MANY[case]
    install(world.server)
    p = world.run(*args)
    assert p.code == 3, p.text
    assert message in p.text, p.text


# ---------------------------------------------------------------- the lock file and the Dockerfile


HOSTILE_LOCKS: dict[str, tuple[Callable[[], str], str]] = {
    "arrays-100k-deep": (lambda: "a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
    "arrays-40-deep": (lambda: "a = " + "[" * 40 + "]" * 40 + "\n",
                       "nested deeper than 32 levels"),
    "inline-tables-500-deep": (lambda: "a = " + "{b = " * 500 + "1" + "}" * 500 + "\n",
                               "nested"),
    "dotted-key-5000-deep": (lambda: ".".join(["k"] * 5000) + " = 1\n", "nested"),
    # tomllib's memory grows with the square of a dotted key's parts (400 MB at 10k).
    "dotted-key-50k-deep": (lambda: ".".join(["k"] * 50_000) + " = 1\n", "nested"),
    "table-header-50k-deep": (lambda: "[" + ".".join(["t"] * 50_000) + "]\nk = 1\n",
                              "nested"),
    "20-mib": (lambda: "# padding\n" * (2 << 20), "larger than 16777216 bytes"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LOCKS))
@pytest.mark.parametrize("command", ["verify", "lock"])
def test_hostile_lock_file_is_bad_input(world: World, case: str, command: str) -> None:
    make, message = HOSTILE_LOCKS[case]
    (world.root / "image.lock.toml").write_text(make())
    p = world.run(command)
    assert p.code == 2, p.text
    assert "image.lock.toml" in p.text and message in p.text, p.text
    assert world.server.seen == []


def test_huge_dockerfile_is_bad_input(world: World) -> None:
    with (world.root / "docker" / "Dockerfile").open("a") as f:
        f.write("# padding\n" * (1 << 19))
    p = world.run("verify")
    assert p.code == 2, p.text
    assert "docker/Dockerfile" in p.text and "larger than 4194304 bytes" in p.text, p.text


# ---------------------------------------------------------------- the reader itself (in-process)


def _response(body: bytes, encoding: str | None) -> httpx.Response:
    headers = {"Content-Encoding": encoding} if encoding else {}
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_reader_decodes_what_it_accepts() -> None:
    from pinlock.http import read_body

    text = b"pinlock " * 10_000
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    cases = {
        "gzip": _gzip(text),
        "x-gzip": _gzip(text),
        "deflate": zlib.compress(text),  # zlib-wrapped, as the RFC says
        "identity": text,
        "gzip, gzip": _gzip(_gzip(text)),
    }
    for encoding, body in cases.items():
        got = read_body(_response(body, encoding), what=encoding, limit=len(text))
        assert got == text, encoding
    raw = raw_deflate.compress(text) + raw_deflate.flush()  # raw deflate, as some servers send
    assert read_body(_response(raw, "deflate"), what="raw", limit=len(text)) == text
    # gzip members one after the other make one body; padding after the end is ignored.
    two = _gzip(text[:1000]) + _gzip(text[1000:])
    assert read_body(_response(two, "gzip"), what="members", limit=len(text)) == text
    padded = _gzip(text) + bytes(8)
    assert read_body(_response(padded, "gzip"), what="padded", limit=len(text)) == text
    # No body at all (HEAD, 204) with the header still set.
    assert read_body(_response(b"", "gzip"), what="empty", limit=0) == b""


@pytest.mark.parametrize(("body", "encoding", "message"), [
    (b"x" * 101, None, "larger than 100 bytes"),
    (_gzip(bytes(101)), "gzip", "larger than 100 bytes"),
    (_gzip(_gzip(bytes(50 << 20))), "gzip, gzip", "larger than 100 bytes"),
    (_gzip(b"abc" * 1000)[:-20], "gzip", "encoding is broken"),
    (b"\x8b\x00junk", "br", "Content-Encoding 'br'"),
    (b"junk", "zstd", "Content-Encoding 'zstd'"),
    (b"not gzip at all", "gzip", "encoding is broken"),
])
def test_reader_refuses_what_it_must(body: bytes, encoding: str | None, message: str) -> None:
    from pinlock.errors import UpstreamError
    from pinlock.http import read_body

    with pytest.raises(UpstreamError, match=message.replace("(", r"\(")):
        read_body(_response(body, encoding), what="test", limit=100)


def test_json_depth_limit_is_exact() -> None:
    from pinlock.errors import UpstreamError
    from pinlock.http import parse_json

    assert parse_json(b"[" * 64 + b"]" * 64, "ok") is not None
    assert parse_json(b'{"a": ' * 63 + b"1" + b"}" * 63, "ok") is not None
    for depth in (65, 1_000, 100_000):
        with pytest.raises(UpstreamError, match="nested deeper than 64 levels"):
            parse_json(b"[" * depth + b"]" * depth, "deep")


# ---------------------------------------------------------------- retries and child processes


def test_retries_stay_within_the_command_deadline(world: World) -> None:
    world.server.route(r"/releases", Plan.json({"message": "busy"}, 503, {"Retry-After": "1"}))
    p = world.run("--timeout", "2.5", "update", "s6-overlay", limit=30)
    assert p.code == 3, p.text
    assert "/releases" in p.text, p.text
    assert p.seconds < 2.5 + 5, p.seconds


def test_retry_after_past_the_deadline_is_not_waited_for(world: World) -> None:
    world.server.route(r"/releases", Plan.json({"message": "busy"}, 503, {"Retry-After": "25"}))
    p = world.run("--timeout", "10", "update", "s6-overlay", limit=30)
    assert p.code == 3, p.text
    assert "HTTP 503 after 1 attempt(s)" in p.text, p.text
    assert p.seconds < 5, p.seconds


def test_git_against_a_stalling_remote_is_killed_at_the_deadline(world: World, tmp_path: Path
                                                                 ) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "p"],
                 ["remote", "add", "origin", f"{world.server.url}/owner/repo.git"]):
        subprocess.run(["git", *args], cwd=world.root, env=env, check=True, capture_output=True)
    world.server.route(r"/owner/repo.git/", Plan(trickle_headers=True))
    p = world.run("--timeout", "3", "pr", "--dry-run", limit=30,
                  PINLOCK_CACHE_DIR=str(tmp_path / "cache"))
    assert p.code == 3, p.text
    assert "git fetch" in p.text and "did not finish before the deadline" in p.text, p.text
    assert p.seconds < 3 + 5, p.seconds
    assert any("/owner/repo.git/" in s.path for s in world.server.seen)


def test_a_stalling_gpgv_is_stopped_at_the_command_deadline(tmp_path: Path) -> None:
    """In-process: gpgv that never answers (a stand-in script) under a 2 s command deadline."""
    from pinlock.deadlines import DeadlineError, set_timeouts
    from pinlock.sources.debian.signature import verify_clearsigned

    gpgv = tmp_path / "gpgv"
    gpgv.write_text("#!/bin/sh\nexec sleep 60\n")
    gpgv.chmod(0o755)
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(b"")
    data = (b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: trixie\n"
            b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n")
    set_timeouts(2.0)
    try:
        start = time.monotonic()
        with pytest.raises(DeadlineError, match="did not finish before the deadline"):
            verify_clearsigned(data, str(keyring), what="InRelease", gpgv=str(gpgv))
        assert time.monotonic() - start < 6
    finally:
        set_timeouts(None)
