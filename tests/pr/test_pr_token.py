"""The token over a real https-like git remote: sent as a header per command, never stored.

The remote is git's own smart-HTTP server (`git http-backend`) behind Basic
auth that accepts only ``x-access-token:<token>``, as GitHub does for a token.
"""

from __future__ import annotations

import base64

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
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
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
