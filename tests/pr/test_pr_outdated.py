"""`pinlock outdated`: locked vs newest allowed version, and drift without a version change."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli
from support.fake_github import S6_REPOSITORY
from support.git_world import World


def test_table_shows_locked_and_newest(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "outdated")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["input", "kind", "locked", "newest", "status"]
    assert lines[1].split() == ["s6-overlay", "github-release", "3.2.3.0", "3.2.4.0", "newer"]
    assert lines[-1] == "1 input(s) can move"


def test_json_and_exit_code(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    assert run.code == 1
    data = json.loads(run.out)
    assert data["movable"] == ["s6-overlay"]
    (row,) = data["inputs"]
    assert (row["locked"], row["newest"], row["newer"]) == ("3.2.3.0", "3.2.4.0", True)
    assert row["notes_url"].endswith("/releases/tag/v3.2.4.0")


def test_nothing_to_move_exits_zero(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True  # withdrawn: not a candidate
    run = run_cli(capsys, "outdated", "--exit-code")
    assert run.code == 0, run.err
    assert "up to date" in run.out and run.out.splitlines()[-1] == "everything is up to date"


def test_replaced_asset_is_a_change_without_a_version(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-x86_64.tar.xz", b"new bytes")
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    assert run.code == 1
    (row,) = json.loads(run.out)["inputs"]
    assert row["newer"] is False and row["movable"] is True
    assert [f["code"] for f in row["drift"]] == ["asset-replaced"]


def test_upstream_failure_is_a_row_not_a_crash(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.server_error(r"/releases", status=404, times=None)
    run = run_cli(capsys, "outdated")
    assert run.code == 3
    assert "s6-overlay: error:" in run.out
