"""Fixtures for `pinlock pr`: a bare remote, a clone with a Dockerfile and its lock, GitHub."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import add_s6_overlay
from support.fake_github_pulls import FakeGitHubPulls
from support.git_world import (
    REPOSITORY,
    TOOL_REPOSITORY,
    MakeWorld,
    World,
    dockerfile_for,
    git,
    new_repository,
    tool_files,
)


@pytest.fixture
def token() -> str:
    return "ghp_" + secrets.token_hex(18)


@pytest.fixture
def make_world(tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> Iterator[MakeWorld]:
    """Build the world: s6-overlay 3.2.3.0 locked, 3.2.4.0 upstream; ``tool``: acme/tool too;
    ``base``: the ``FROM`` image (its registry is the caller's to set up)."""
    stack = contextlib.ExitStack()

    def make(*, tool: bool = False, base: str = "scratch") -> World:
        remote, work = new_repository(tmp_path, monkeypatch.setenv)
        (work / "docker").mkdir()
        (work / "docker" / "Dockerfile").write_text(
            dockerfile_for("3.2.3.0", tool="1.0.0" if tool else None, base=base))
        monkeypatch.chdir(work)
        init = run_cli(capsys, "init")
        assert init.code == 0, init.err
        git(work, "add", "-A")
        git(work, "commit", "--quiet", "-m", "initial")
        git(work, "push", "--quiet", "origin", "main")

        fake = stack.enter_context(FakeGitHubPulls(remote, token=token))
        add_s6_overlay(fake, [("3.2.3.0", False), ("3.2.4.0", False)])
        if tool:
            for version in ("1.0.0", "1.1.0"):
                fake.add_release(TOOL_REPOSITORY, f"v{version}", tool_files(version))
        # The real release source, as `pinlock update` builds it from the environment.
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", token)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        fake.clear_requests()
        return World(work, remote, fake, token)

    with stack:
        yield make


@pytest.fixture
def world(make_world: MakeWorld) -> World:
    return make_world()
