"""`pinlock outdated`: locked vs newest allowed version, and drift without a version change."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli, snapshot
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


def test_replaced_asset_is_an_alarm_not_an_update(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-x86_64.tar.xz", b"new bytes")
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    assert run.code == 1  # a person must act, though nothing can move
    data = json.loads(run.out)
    assert (data["movable"], data["alarms"]) == ([], ["s6-overlay"])
    (row,) = data["inputs"]
    assert (row["newer"], row["move"], row["movable"]) == (False, None, False)
    assert (row["alarm"], row["alarms"]) == (True, ["asset-replaced"])
    assert [f["code"] for f in row["drift"]] == ["asset-replaced"]
    run = run_cli(capsys, "outdated")
    assert run.code == 0, run.err  # without --exit-code the table is information
    assert run.out.splitlines()[1].split()[-4:] == ["3.2.3.0", "alarm:", "changed", "upstream"]
    assert "`pinlock verify --online s6-overlay` fails" in run.out
    assert run.out.splitlines()[-1] == "1 input(s) raised an alarm"
    # The same verdict as `pinlock pr`, which neither re-pins nor opens anything for it.
    run = run_cli(capsys, "pr", "--json")
    assert run.code == 0, run.err
    (action,) = json.loads(run.out)["actions"]
    assert action["action"] == "up-to-date"
    assert world.fake.pulls == [] and world.fake.writes() == []
    assert run_cli(capsys, "verify", "--online", "s6-overlay").code == 1


def test_an_alarm_blocks_update_and_pr_unless_accepted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # A newer version exists AND the locked version's asset was replaced under it: the alarm
    # text says update and pr leave the input alone, so they must.
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-x86_64.tar.xz", b"new bytes")
    before = snapshot(world.work)
    run = run_cli(capsys, "outdated", "--json")
    data = json.loads(run.out)
    assert (data["movable"], data["alarms"]) == ([], ["s6-overlay"])  # the same verdict as pr
    assert data["inputs"][0]["newer"] is True
    run = run_cli(capsys, "update", "s6-overlay")
    assert run.code == 1, run.out + run.err
    assert "s6-overlay: not moved: upstream raised an alarm (asset-replaced)" in run.err
    assert "--accept-alarm" in run.err
    assert snapshot(world.work) == before
    run = run_cli(capsys, "pr", "--json")
    assert run.code == 1, run.out + run.err
    assert world.fake.pulls == [] and world.fake.writes() == []
    assert [f["input"] for f in json.loads(run.out)["failures"]] == ["s6-overlay"]
    run = run_cli(capsys, "update", "s6-overlay", "--accept-alarm")
    assert run.code == 0, run.out + run.err
    assert "3.2.4.0" in (world.work / "image.lock.toml").read_text()


def test_upstream_failure_is_a_row_not_a_crash(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.server_error(r"/releases", status=404, times=None)
    run = run_cli(capsys, "outdated")
    assert run.code == 3
    assert "s6-overlay: error:" in run.out
    # An input nobody could ask is not up to date.
    assert "up to date" not in run.out
    assert run.out.splitlines()[-1] == "1 of 1 input(s) could not be checked"
    run = run_cli(capsys, "outdated", "--json")
    assert run.code == 3 and json.loads(run.out)["errors"] == ["s6-overlay"]


@pytest.mark.parametrize("command", [
    ["outdated"], ["lock"], ["update"], ["verify", "--online"], ["pr", "--dry-run"],
    ["bump", "s6-overlay", "3.2.4.0"]])
def test_a_malformed_registry_mirror_is_a_usage_error(
    world: World, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    world.fake.clear_requests()
    run = run_cli(capsys, *command, "--registry-mirror", "no-equals-sign")
    assert run.code == 2, run.out + run.err
    assert "--registry-mirror: 'no-equals-sign' is not a mirror mapping" in run.err
    assert world.fake.requests == []  # refused before any upstream was asked
