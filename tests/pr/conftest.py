"""Fixtures for `pinlock pr`: a bare remote, a clone with a Dockerfile and its lock, GitHub."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import add_s6_overlay
from support.fake_github_pulls import FakeGitHubPulls
from support.git_world import REPOSITORY, World, dockerfile_for, git


@pytest.fixture
def token() -> str:
    return "ghp_" + secrets.token_hex(18)


@pytest.fixture
def world(tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Iterator[World]:
    # No user or system git config may leak in (signing, hooks, default branch).
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (tmp_path / "home").mkdir()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(remote), str(work))
    git(work, "checkout", "--quiet", "-b", "main")
    git(work, "config", "user.name", "Dev")
    git(work, "config", "user.email", "dev@example.org")
    (work / "docker").mkdir()
    (work / "docker" / "Dockerfile").write_text(dockerfile_for("3.2.3.0"))
    monkeypatch.chdir(work)
    init = run_cli(capsys, "init")
    assert init.code == 0, init.err
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "initial")
    git(work, "push", "--quiet", "origin", "main")

    with FakeGitHubPulls(remote, token=token) as fake:
        add_s6_overlay(fake, [("3.2.3.0", False), ("3.2.4.0", False)])

        # The real release source, as `pinlock update` builds it from the environment.
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", token)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        fake.clear_requests()
        yield World(work, remote, fake, token)
