"""The scheduled workflow and the pre-commit hook: present, pinned by SHA, runnable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_workflow_pins_actions_and_asks_for_least_permissions() -> None:
    text = (ROOT / ".github" / "workflows" / "pinlock.yml").read_text()
    uses = re.findall(r"uses:\s*(\S+)", text)
    assert uses
    for ref in uses:
        # Actions from elsewhere by commit SHA; pinlock's own action by path.
        assert ref == "./" or re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
    perms = re.search(r"^permissions:\n((?:  .+\n)+)", text, re.M)
    assert perms is not None
    assert sorted(re.findall(r"^  ([\w-]+): (\w+)", perms.group(1), re.M)) == [
        ("contents", "write"), ("pull-requests", "write")]
    assert "persist-credentials: false" in text
    assert "token: ${{ secrets.GITHUB_TOKEN }}" in text
    commands = [(step["with"]["command"], step["with"].get("args", ""))
                for step in yaml.safe_load(text)["jobs"]["update"]["steps"]
                if step.get("uses") == "./"]
    assert commands == [("verify", ""), ("pr", "--label dependencies")]


@pytest.mark.parametrize("command", ["pinlock verify", "pinlock pr --label dependencies"])
def test_workflow_commands_parse(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, *command.split()[1:], "--help")
    assert run.code == 0, run.err


def test_pre_commit_hook_is_declared_and_documented() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: pinlock-verify" in hooks
    assert "entry: pinlock verify" in hooks and "pass_filenames: false" in hooks
    files = re.search(r"files: (.+)", hooks)
    assert files is not None
    rx = re.compile(files.group(1).strip())
    for path in ("docker/Dockerfile", "image.lock.toml", "app.Dockerfile", "Dockerfile.dev"):
        assert rx.search(path), path
    assert not rx.search("src/main.py")
    readme = (ROOT / "README.md").read_text()
    assert "id: pinlock-verify" in readme and ".github/workflows/pinlock.yml" in readme
