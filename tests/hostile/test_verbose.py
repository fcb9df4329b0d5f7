"""What pinlock shows on stderr: -v names every request and decision without a secret,
--quiet silences warnings, and the progress display appears on a terminal only."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.debian_archive import BuiltArchive, build_archive, serve
from support.fake_github import FakeGitHub, add_s6_overlay
from support.hostile_http import HostileServer, Plan
from support.proc import ROOT, run_pinlock, tree_digest
from support.seed_world import copy_seed, token_forms

from pinlock.files import journal_for

TOKEN = "ghp_" + "v3rb0se" * 5




@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_seed(tmp_path / "project")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as fake:
        add_s6_overlay(fake)
        yield fake


HTTP_LINE = re.compile(r"^pinlock: http: (GET|HEAD|POST) (\S+) -> (\d{3}|failed), "
                       r"(\d+ bytes|streamed), (\d+) ms$", re.M)


def test_verbose_names_each_request_and_decision_and_no_token(
        project: Path, github: FakeGitHub) -> None:
    env = {"GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": TOKEN}
    before = tree_digest(project)
    p = run_pinlock("-v", "bump", "s6-overlay", "3.2.4.0", "--dry-run", cwd=project,
                    env=env, limit=60)
    p.assert_clean(*token_forms(TOKEN))
    assert p.code == 0, p.text
    assert tree_digest(project) == before
    lines = HTTP_LINE.findall(p.err)
    urls = [u for _, u, _, _, _ in lines]
    # Every request the fake saw is named, in order, with its status.
    seen = [r.path for r in github.requests]
    assert len(lines) == len(seen), (p.err, seen)
    for url, path in zip(urls, seen, strict=True):
        assert path in url, (url, path)
    assert any("/repos/just-containers/s6-overlay/releases" in u for u in urls), p.err
    assert any(status == "302" for _, _, status, _, _ in lines), p.err  # the asset redirect
    assert any(u.startswith(github.objects_url) for u in urls), p.err
    assert "[s6-overlay] planned: 3.2.3.0 -> 3.2.4.0" in p.err, p.err
    assert github.requests and any(r.authenticated for r in github.requests), \
        "the token was never sent: the test proves nothing"
    # Without -v: the same run shows none of it.
    quiet = run_pinlock("bump", "s6-overlay", "3.2.4.0", "--dry-run", cwd=project, env=env,
                        limit=60)
    assert quiet.code == 0, quiet.text
    assert "pinlock: http:" not in quiet.err and "[s6-overlay] planned" not in quiet.err
    assert quiet.out == p.out  # stdout is the same report either way


def test_per_command_v_is_the_same_as_the_global_one(project: Path, github: FakeGitHub) -> None:
    env = {"GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": TOKEN}
    p = run_pinlock("outdated", "s6-overlay", "-v", cwd=project, env=env, limit=60)
    p.assert_clean(*token_forms(TOKEN))
    assert p.code == 0, p.text
    assert HTTP_LINE.search(p.err), p.err
    assert re.search(r"\[s6-overlay\] locked 3\.2\.3\.0, newest allowed 3\.2\.4\.0: ", p.err)


def test_verbose_masks_credentials_in_urls_and_registry_passwords(
        project: Path, tmp_path: Path) -> None:
    password = "hunter2-verbose"
    config = tmp_path / "docker-config"
    config.mkdir()
    with HostileServer() as server:
        host = f"127.0.0.1:{server.port}"
        encoded = base64.b64encode(f"robot:{password}".encode()).decode()
        (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": encoded}}}))
        server.route(r"^/v2/", Plan(401, b"{}", {"WWW-Authenticate": 'Basic realm="r"'}))
        # A GitHub answer redirecting to a signed URL: its signature is a credential too.
        server.route(r"^/repos/[^?]*/releases\?", Plan(302, b"", {
            "Location": f"{server.url}/signed/releases?X-Amz-Signature=deadbeefsig"
                        "&X-Amz-Credential=AKIAEXAMPLE&page=2"}))
        server.route(r"^/signed/", Plan.json([]))
        p = run_pinlock("-v", "lock", "debian", cwd=project, limit=60, env={
            "PINLOCK_REGISTRY_MIRRORS": f"docker.io={server.url}",
            "DOCKER_CONFIG": str(config)})
        p.assert_clean(password, encoded)
        assert p.code == 3, p.text
        statuses = [(m, u, s) for m, u, s, _, _ in HTTP_LINE.findall(p.err)]
        # Anonymous, then once with the credential: both named, neither with the secret.
        manifest = f"{server.url}/v2/library/debian/manifests/"
        assert [s for m, u, s in statuses if m == "HEAD" and u.startswith(manifest)] == [
            "401", "401"], p.err
        g = run_pinlock("-v", "outdated", "s6-overlay", cwd=project, limit=60, env={
            "GITHUB_API_URL": f"http://robot:{password}@{host}",
            "GITHUB_TOKEN": TOKEN})
        g.assert_clean(password, "deadbeefsig", "AKIAEXAMPLE", *token_forms(TOKEN))
        assert g.code == 0, g.text
        http = [u for _, u, _, _, _ in HTTP_LINE.findall(g.err)]
        assert http[0] == f"{server.url}/repos/just-containers/s6-overlay/releases?per_page=100"
        assert http[1] == (f"{server.url}/signed/releases?X-Amz-Signature=***&"
                           "X-Amz-Credential=***&page=2"), g.err
        assert not any("robot" in u for u in http)  # user info never shown


def test_verbose_and_quiet_together_is_a_usage_error(project: Path) -> None:
    p = run_pinlock("-v", "--quiet", "verify", cwd=project, limit=30)
    p.assert_clean()
    assert p.code == 2 and "--verbose and --quiet" in p.err, p.text


def test_quiet_silences_warnings_not_errors(project: Path) -> None:
    # An interrupted write leaves a journal; verify (read-only) notes it on stderr.
    lock = (project / "image.lock.toml").read_text()
    journal = journal_for(project / "image.lock.toml")
    journal.write_text("{}")
    try:
        loud = run_pinlock("verify", cwd=project, limit=30)
        quiet = run_pinlock("--quiet", "verify", cwd=project, limit=30)
    finally:
        journal.unlink()
    assert (project / "image.lock.toml").read_text() == lock
    assert "pinlock: note:" in loud.err, loud.text
    assert loud.code == quiet.code == 0, (loud.text, quiet.text)
    assert quiet.err == "" and quiet.out == loud.out
    bad = run_pinlock("--quiet", "verify", "--lockfile", "missing.toml", cwd=project, limit=30)
    assert bad.code == 2 and "missing.toml" in bad.err  # errors still print


# ---------------------------------------------------------------- progress display


def _run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run pinlock with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = os.openpty()
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "GH_", "PINLOCK_", "NO_COLOR"))}
    full_env.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100",
                     "PINLOCK_CACHE_DIR": str(cwd / ".pinlock-cache"), **env})
    proc = subprocess.Popen([sys.executable, "-m", "pinlock", *args], cwd=cwd, env=full_env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    err = bytearray()

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            err.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        raise
    reader.join(10)
    os.close(master)
    return proc.returncode, out, bytes(err)


def test_progress_shows_on_a_terminal_only(project: Path, github: FakeGitHub) -> None:
    env = {"GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": TOKEN}
    args = ["bump", "s6-overlay", "3.2.4.0", "--deep", "--dry-run"]
    code, out, err = _run_on_terminal(args, project, env)
    assert code == 0, (out, err)
    assert b"download s6-overlay-noarch.tar.xz" in err, err
    assert b"\x1b[" in err  # drawn with terminal controls
    assert b"download s6-overlay" not in out and b"\x1b[" not in out  # never on stdout
    assert TOKEN.encode() not in err + out
    # The same command on pipes (a CI log): no display, not a byte of it.
    piped = run_pinlock(*args, cwd=project, env=env, limit=60)
    assert piped.code == 0, piped.text
    assert "download s6-overlay" not in piped.err and "\x1b[" not in piped.text
    assert piped.out == out.decode()
    # --quiet and --json turn it off on a terminal too.
    for extra in (["--quiet"], []):
        more = ["--json"] if not extra else []
        code, _, err2 = _run_on_terminal([*extra, *args, *more], project, env)
        assert code == 0, err2
        assert b"download s6-overlay" not in err2, (extra, more, err2)
    # NO_COLOR: still shown (it is progress, not colour), without colour codes.
    code, _, err3 = _run_on_terminal(args, project, {**env, "NO_COLOR": "1"})
    assert code == 0 and b"download s6-overlay-noarch.tar.xz" in err3
    assert not re.search(rb"\x1b\[[0-9;]*3[0-9](;[0-9]+)*m", err3), err3


def test_help_names_the_global_options(project: Path) -> None:
    p = run_pinlock("--help", cwd=project, limit=30)
    assert p.code == 0 and "--quiet" in p.out and "--verbose" in p.out


# ---------------------------------------------------------------- Debian: cache hits


APT_DOCKERFILE = """\
FROM debian:13.4
RUN apt-get update && \\
    apt-get install -y --no-install-recommends app tool native && \\
    rm -rf /var/lib/apt/lists/*
"""


INDEX = re.compile(r"dists/([^/]+)/(\w+)/binary-(\w+)/")


def indexes(urls: list[str]) -> set[tuple[str, ...]]:
    """The (suite, component, architecture) of each Packages index URL."""
    return {m.groups() for u in urls if (m := INDEX.search(u))}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("debian-archive"))


def test_verbose_shows_index_downloads_then_cache_hits(tmp_path: Path,
                                                       archive: BuiltArchive) -> None:
    for server in serve(archive):
        env = {"PINLOCK_DEBIAN_MIRROR": server.debian(),
               "PINLOCK_DEBIAN_SECURITY_MIRROR": server.security(),
               "PINLOCK_DEBIAN_KEYRING": str(archive.keyring),
               "PINLOCK_CACHE_DIR": str(tmp_path / "cache"),
               "XDG_CONFIG_HOME": str(tmp_path / "config")}
        runs = []
        for name in ("first", "second"):
            folder = tmp_path / name
            folder.mkdir()
            (folder / "Dockerfile").write_text(APT_DOCKERFILE)
            assert run_pinlock("init", "--dockerfile", "Dockerfile", cwd=folder,
                               env=env).code == 0
            p = run_pinlock("-v", "lock", "apt", cwd=folder, env=env, limit=60)
            p.assert_clean()
            assert p.code == 0, p.text
            runs.append(p)
        first, second = runs
        fetched = indexes([u for _, u, s, _, _ in HTTP_LINE.findall(first.err) if s == "200"])
        assert len(fetched) == 6 and "cache hit:" not in first.err, first.err  # 3 suites x 2
        assert re.search(r"pinlock: run: gpgv --status-fd 1 .* -> exit 0, \d+ ms", first.err)
        assert re.search(r"pinlock: apt: 3 requested, \d+ in the closure for amd64", first.err)
        # The second run reads every index it fetched from the cache, and says so.
        assert not indexes([u for _, u, _, _, _ in HTTP_LINE.findall(second.err)]), second.err
        hits = re.findall(r"^pinlock: cache hit: (\S+) \(", second.err, re.M)
        assert indexes(hits) == fetched, second.err
        code, out, err = _run_on_terminal(["lock", "apt"], tmp_path / "first", env)
        assert code == 0, err
        assert b"resolve 3 apt package(s) for amd64" in err, err
        assert b"\x1b[" not in out
