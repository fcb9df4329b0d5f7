"""The token over a real https-like git remote: sent as a header per command, never stored.

The remote is git's own smart-HTTP server (`git http-backend`) behind Basic
auth that accepts only ``x-access-token:<token>``, as GitHub does for a token.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
from support.cli import run_cli
from support.git_http import GitHttpServer
from support.git_world import World, git


def _no_token_anywhere(world: World, *texts: str) -> None:
    basic = base64.b64encode(f"x-access-token:{world.token}".encode()).decode()
    leftovers = [(world.work / ".git" / "config").read_text(),
                 git(world.work, "config", "--list", "--show-origin")]
    for text in (*texts, *leftovers):
        assert world.token not in text and basic not in text


def test_token_reaches_git_only_as_a_header(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with GitHttpServer(world.remote.parent, username="x-access-token",
                       password=world.token) as server:
        url = server.url(world.remote.name)
        git(world.work, "remote", "set-url", "origin", url)
        run = run_cli(capsys, "pr")
        assert run.code == 0, run.err
        assert [p.head for p in world.fake.open_pulls()] == ["pinlock/s6-overlay"]
        assert "pinlock/s6-overlay" in world.remote_heads()
        # Every fetch and push request carried the token; none needed a second try.
        assert server.requests and all(r.authorized for r in server.requests)
        assert any(r.path.endswith("/git-receive-pack") for r in server.requests)
        # Nothing of it left behind: the remote URL is as it was, no credentials in config.
        assert git(world.work, "remote", "get-url", "origin") == url
        _no_token_anywhere(world, run.out, run.err)


def test_without_a_token_git_fails_fast_instead_of_prompting(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A password prompt program (IDE terminals and some CI set one) would inherit the
    # header when the server refuses the token: git must not start it.
    asked = tmp_path / "askpass-was-run"
    askpass = tmp_path / "askpass.sh"
    askpass.write_text(f"#!/bin/sh\nenv > {asked}\necho nope\n")
    askpass.chmod(0o755)
    for name in ("GIT_ASKPASS", "SSH_ASKPASS"):
        monkeypatch.setenv(name, str(askpass))
    git(world.work, "config", "core.askPass", str(askpass))
    with GitHttpServer(world.remote.parent, username="x-access-token",
                       password=world.token) as server:
        git(world.work, "remote", "set-url", "origin", server.url(world.remote.name))
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong")
        heads = world.remote_heads()
        run = run_cli(capsys, "pr")
        assert run.code == 3
        assert "git fetch from origin failed" in run.err
        assert "ghp_wrong" not in run.out + run.err
        assert server.requests and not any(r.authorized for r in server.requests)
        assert world.remote_heads() == heads and world.fake.writes() == []
        assert not asked.exists()


def test_no_hook_and_no_command_line_sees_the_token(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Client-side hooks of the user's clone that record the environment they get.
    seen = tmp_path / "hooks-saw.txt"
    hooks = world.work / ".git" / "hooks"
    for name in ("pre-push", "reference-transaction", "post-checkout", "post-commit",
                 "pre-commit", "commit-msg", "post-index-change"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\necho '== {name}' >> {seen}\nenv >> {seen}\n"
                        "cat > /dev/null\nexit 0\n")
        hook.chmod(0o755)
    # git itself behind a shim that records every command line and environment name:
    # a command line is visible to every user of the machine (`ps`).
    argv_log = tmp_path / "git-argv.txt"
    shim = tmp_path / "shim"
    shim.mkdir()
    real_git = shutil.which("git")
    (shim / "git").write_text(
        f"#!/bin/sh\nprintf 'ARGV %s\\n' \"$*\" >> {argv_log}\n"
        f"env | sed 's/=.*//' | sed 's/^/ENV /' >> {argv_log}\nexec {real_git} \"$@\"\n")
    (shim / "git").chmod(0o755)
    with GitHttpServer(world.remote.parent, username="x-access-token",
                       password=world.token) as server:
        url = server.url(world.remote.name)
        git(world.work, "remote", "set-url", "origin", url)
        monkeypatch.setenv("PATH", f"{shim}:{os.environ['PATH']}")
        run = run_cli(capsys, "pr")
        assert run.code == 0, run.err
        assert [p.head for p in world.fake.open_pulls()] == ["pinlock/s6-overlay"]
        assert server.requests and all(r.authorized for r in server.requests)
    log = argv_log.read_text()
    pushes = [line for line in log.splitlines() if line.startswith("ARGV push")]
    assert pushes and all("--no-verify" in line for line in pushes)
    assert "ENV GIT_CONFIG_COUNT" in log  # the header went by the environment
    _no_token_anywhere(world, run.out, run.err, log,
                       seen.read_text() if seen.exists() else "")


def test_the_header_is_only_for_the_remotes_host() -> None:
    from pinlock.pr.git import Git, _http_origin, config_env

    assert _http_origin("https://user@github.com/acme/app.git") == "https://github.com/"
    assert _http_origin("git@github.com:acme/app.git") is None
    assert _http_origin("/srv/git/app.git") is None

    assert config_env({"GIT_CONFIG_COUNT": "1"}, [("a.b", "c")]) == {
        "GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_1": "a.b", "GIT_CONFIG_VALUE_1": "c"}
    g = Git(Path("."), token="ghp_secret")
    g._origins["origin"] = ("https://github.example:8443/",)
    pairs = dict(g._auth_config("origin"))
    assert set(pairs) == {"core.hooksPath", "http.https://github.example:8443/.extraheader",
                          "credential.helper", "core.askPass"}
    g._origins["ssh"] = ()
    assert "ghp_secret" not in str(g._auth_config("ssh"))
