"""Secrets against hostile upstreams and bad settings: never printed, never sent in clear.

Echoed by an upstream, malformed, or about to cross plain http: refused before any
connection, scrubbed from every message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hostile_http import HostileServer, Plan
from support.proc import Proc, run_pinlock, tree_digest
from support.seed_world import copy_seed, token_forms

TOKEN = "ghp_" + "s3cret" * 6




@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_seed(tmp_path / "project")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as s:
        yield s


def _run(project: Path, *args: str, env: dict[str, str], secrets: tuple[str, ...]) -> Proc:
    before = tree_digest(project)
    p = run_pinlock(*args, cwd=project, env=env, limit=60)
    assert tree_digest(project) == before, "a file changed"
    p.assert_clean(*secrets)
    return p


# ---------------------------------------------------------------- echoed by an upstream


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_github_error_body_echoing_the_token_is_scrubbed(
    project: Path, server: HostileServer, status: int
) -> None:
    def echo(seen: object, _m: object) -> Plan:
        headers = getattr(seen, "headers", {})
        text = (f"Bad request. You sent Authorization: {headers.get('authorization')}; "
                f"as git would: basic {token_forms(TOKEN)[1]}; raw {TOKEN}")
        return Plan.json({"message": text}, status)

    server.route(r"/releases", echo)
    p = _run(project, "bump", "s6-overlay", "3.2.4.0",
             env={"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN}, secrets=token_forms(TOKEN))
    assert p.code == 3, p.text
    assert "You sent Authorization: Bearer ***" in p.text, p.text
    assert "basic ***" in p.text and "raw ***" in p.text, p.text
    assert server.authorizations(), "the token was never sent"


def test_registry_password_is_never_printed_after_a_refused_login(
    project: Path, server: HostileServer, tmp_path: Path
) -> None:
    password = "hunter2-pass\nX-Injected: yes"  # harmless in Basic: base64 carries it
    config = tmp_path / "docker-config"
    config.mkdir()
    host = f"127.0.0.1:{server.port}"
    encoded = base64.b64encode(f"robot:{password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": encoded}}}))
    server.route(r"^/v2/", Plan(401, f"bad login {encoded}".encode(),
                                {"WWW-Authenticate": 'Basic realm="hostile"'}))
    p = _run(project, "lock", "debian",
             env={"PINLOCK_REGISTRY_MIRRORS": f"docker.io={server.url}",
                  "DOCKER_CONFIG": str(config)},
             secrets=(password, encoded, "hunter2-pass", "X-Injected"))
    assert p.code == 3, p.text
    assert "401 Unauthorized with credentials robot from auths[" in p.text, p.text
    # Anonymous, then once with the credential: a refused login is not retried.
    assert server.authorizations() == [f"Basic {encoded}"]


def test_registry_bearer_token_with_control_characters_is_refused(
    project: Path, server: HostileServer
) -> None:
    bad = "eyJhbGciOi-registry-token\r\nX-Evil: 1"
    server.route(r"^/v2/", Plan(401, b"{}", {
        "WWW-Authenticate": f'Bearer realm="{server.url}/token",service="hostile"'}))
    server.route(r"^/token", Plan.json({"token": bad}))
    p = _run(project, "lock", "debian",
             env={"PINLOCK_REGISTRY_MIRRORS": f"docker.io={server.url}"},
             secrets=(bad, "eyJhbGciOi-registry-token", "X-Evil"))
    assert p.code == 3, p.text
    assert "token is not a header value" in p.text, p.text
    assert not server.authorizations()


# ---------------------------------------------------------------- malformed tokens


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GH_TOKEN"])
@pytest.mark.parametrize(("token", "problem"), [
    ("ghp_first-half\nghp_second-half", "whitespace at position 15"),
    ("ghp_first-half\tghp_second-half", "whitespace at position 15"),
    ("ghp_first-half ghp_second-half", "whitespace at position 15"),
    ("ghp_first-halfé-second-half", "a non-ASCII character at position 15"),
    ("ghp_first-half\x7fghp_second-half", "a control character at position 15"),
    ("ghp_first-half\x1b[2Jghp_second-half", "a control character at position 15"),
], ids=["newline", "tab", "space", "non-ascii", "delete", "escape"])
def test_malformed_token_is_refused_up_front(
    project: Path, server: HostileServer, variable: str, token: str, problem: str
) -> None:
    halves = ("ghp_first-half", "ghp_second-half", "second-half")
    p = _run(project, "update", "s6-overlay",
             env={"GITHUB_API_URL": server.url, variable: token}, secrets=(token, *halves))
    assert p.code == 2, p.text
    assert f"{variable} holds {problem}; refusing to use it as a token" in p.text, p.text
    assert server.seen == [], "a request was sent with a token that was refused"
    assert p.seconds < 10


def test_token_with_surrounding_whitespace_is_used(project: Path, server: HostileServer) -> None:
    server.route(r"/releases", Plan.json([]))
    p = _run(project, "update", "s6-overlay",
             env={"GITHUB_API_URL": server.url, "GITHUB_TOKEN": f"  {TOKEN}\n"},
             secrets=token_forms(TOKEN))
    assert server.authorizations() == [f"Bearer {TOKEN}"], p.text


# ---------------------------------------------------------------- plain http


def test_plain_http_api_url_to_another_host_is_refused(project: Path) -> None:
    p = _run(project, "update", "s6-overlay",
             env={"GITHUB_API_URL": "http://github.example.invalid/api/v3", "GITHUB_TOKEN": TOKEN},
             secrets=token_forms(TOKEN))
    assert p.code == 2, p.text
    assert ("refusing to send GITHUB_TOKEN over plain http to github.example.invalid"
            in p.text), p.text
    # Refused before any connection: no resolver or connection error in the message.
    assert "ConnectError" not in p.text and "Name or service" not in p.text
    assert p.seconds < 10


def test_plain_http_api_url_on_loopback_is_allowed(project: Path, server: HostileServer) -> None:
    server.route(r"/releases", Plan.json([]))
    _run(project, "update", "s6-overlay",
         env={"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN}, secrets=token_forms(TOKEN))
    assert server.authorizations() == [f"Bearer {TOKEN}"]


def _git(cwd: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.parametrize("remote", [
    "http://github.example.invalid/owner/repo.git",
    "http://x-access-token@github.example.invalid:8080/owner/repo.git",
])
def test_plain_http_git_remote_to_another_host_is_refused(
    project: Path, server: HostileServer, tmp_path: Path, remote: str
) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "project")
    _git(project, "remote", "add", "origin", remote)
    p = _run(project, "pr", "--dry-run",
             env={"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN,
                  "PINLOCK_CACHE_DIR": str(tmp_path / "cache")},
             secrets=token_forms(TOKEN))
    assert p.code == 2, p.text
    assert "refusing to send the GitHub token over plain http to github.example.invalid" in p.text
    assert "Could not resolve" not in p.text and "unable to access" not in p.text, p.text
    assert server.seen == []


# ---------------------------------------------------------------- redirects to another host


def _registry_with_blob_redirect(server: HostileServer, location: str, token: str) -> None:
    """A token-auth registry whose one image's config blob is redirected to ``location``."""
    config = json.dumps({"os": "linux", "architecture": "amd64"}).encode()
    cfg_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg_digest, "size": len(config)},
        "layers": []}).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    media = {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
             "Docker-Content-Digest": digest}

    def registry(seen: object, _m: object) -> Plan:
        headers = getattr(seen, "headers", {})
        path = getattr(seen, "path", "")
        if headers.get("authorization") != f"Bearer {token}":
            return Plan(401, b"{}", {"WWW-Authenticate":
                                     f'Bearer realm="{server.url}/token",service="hostile"'})
        if "/manifests/" in path:
            return Plan(200, manifest, media)
        if "/blobs/" in path:
            return Plan(307, b"", {"Location": location})
        return Plan.json({"errors": []}, 404)

    server.route(r"^/token", Plan.json({"token": token}))
    server.route(r"^/v2/", registry)


def test_registry_token_stays_off_a_blob_redirect_to_another_host(
    project: Path, server: HostileServer
) -> None:
    token = "registry-bearer-" + "z9" * 12
    with HostileServer() as storage:
        # Bytes that do not hash to the digest: the run must stop, with nothing written.
        storage.route(r".", Plan(200, b'{"os": "linux", "architecture": "evil"}'))
        _registry_with_blob_redirect(server, f"http://localhost:{storage.port}/blob", token)
        p = _run(project, "lock", "debian",
                 env={"PINLOCK_REGISTRY_MIRRORS": f"docker.io={server.url}"}, secrets=(token,))
        assert p.code == 1, p.text
        assert "blob bytes do not hash to the digest" in p.text, p.text
        assert storage.seen, "the redirect was not followed"
        assert storage.authorizations() == []
        assert f"Bearer {token}" in server.authorizations()


def test_registry_blob_redirect_loop_is_bounded(project: Path, server: HostileServer) -> None:
    token = "registry-bearer-" + "y8" * 12
    server.route(r"^/loop", Plan(307, b"", {"Location": "/loop"}))  # storage host loops
    _registry_with_blob_redirect(server, f"http://localhost:{server.port}/loop", token)
    p = _run(project, "lock", "debian",
             env={"PINLOCK_REGISTRY_MIRRORS": f"docker.io={server.url}"}, secrets=(token,))
    assert p.code == 3, p.text
    assert "more than 5 redirects" in p.text, p.text


def test_password_in_a_mirror_url_is_never_printed(project: Path, server: HostileServer) -> None:
    password = "mirr0r-pa55word"
    server.route(r"/InRelease$", Plan(500, b"broken"))
    mirror = f"http://reader:{password}@127.0.0.1:{server.port}/debian/"
    p = _run(project, "--timeout", "20", "lock", "apt",
             env={"PINLOCK_DEBIAN_MIRROR": mirror,
                  "PINLOCK_DEBIAN_SECURITY_MIRROR": f"{server.url}/debian-security/"},
             secrets=(password,))
    assert p.code == 3, p.text
    assert "InRelease" in p.text, p.text


def test_password_in_a_plain_http_mirror_url_to_another_host_is_refused(project: Path) -> None:
    password = "mirr0r-pa55word"
    p = _run(project, "lock", "apt",
             env={"PINLOCK_DEBIAN_MIRROR": f"http://reader:{password}@mirror.example.invalid/d/",
                  "PINLOCK_DEBIAN_SECURITY_MIRROR": "http://mirror.example.invalid/s/"},
             secrets=(password,))
    assert p.code == 2, p.text
    assert ("refusing to send the password in this URL over plain http to "
            "mirror.example.invalid" in p.text), p.text
    assert p.seconds < 10


def test_malformed_token_is_refused_before_git_runs(
    project: Path, server: HostileServer, tmp_path: Path
) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "project")
    _git(project, "remote", "add", "origin", f"{server.url}/owner/repo.git")
    token = "ghp_first-half\nghp_second-half"
    p = _run(project, "pr", "--dry-run",
             env={"GITHUB_API_URL": server.url, "GITHUB_TOKEN": token,
                  "PINLOCK_CACHE_DIR": str(tmp_path / "cache")},
             secrets=(token, "ghp_first-half", "ghp_second-half"))
    assert p.code == 2, p.text
    assert "GITHUB_TOKEN holds whitespace at position 15; refusing" in p.text, p.text
    assert server.seen == [], "git or the API was reached with a refused token"
