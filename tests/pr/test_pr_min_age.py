"""`min-age`: update, outdated and pr propose only a candidate published long enough ago."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from support.cli import run_cli
from support.clock import freeze_clock
from support.git_world import World, git
from support.proc import worktree_digest

PUBLISHED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the fake's published_at of 3.2.4.0


def _set_age(work: Path, value: str, name: str = "s6-overlay") -> None:
    lock = work / "image.lock.toml"
    text = lock.read_text()
    header = f"[inputs.{name}]\n"
    assert header in text
    lock.write_text(text.replace(header, f'{header}min-age = "{value}"\n', 1))


def test_a_young_release_waits_then_moves(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_age(world.work, "3d")
    git(world.work, "commit", "--quiet", "-am", "min-age")
    git(world.work, "push", "--quiet", "origin", "main")
    freeze_clock(monkeypatch, PUBLISHED + dt.timedelta(hours=30))
    before = worktree_digest(world.work)

    run = run_cli(capsys, "outdated", "--json")
    assert run.code == 0, run.out + run.err
    data = json.loads(run.out)
    [row] = [r for r in data["inputs"] if r["input"] == "s6-overlay"]
    assert row["newest"] == "3.2.4.0" and row["move"] is None and not row["movable"]
    assert row["waiting"] == "42h left"  # 72h - 30h
    assert data["movable"] == []
    text = run_cli(capsys, "outdated")
    assert "newer (waiting: 42h left)" in text.out

    assert run_cli(capsys, "update").code == 0
    assert worktree_digest(world.work) == before  # too young: never moved
    world.fake.clear_requests()
    run = run_cli(capsys, "pr", "--json")
    assert run.code == 0, run.out + run.err
    assert world.fake.open_pulls() == [] and world.fake.writes() == []

    # bump names the version: min-age does not apply
    run = run_cli(capsys, "bump", "s6-overlay", "3.2.4.0", "--dry-run")
    assert run.code == 0, run.out + run.err
    assert "3.2.4.0" in run.out

    # three days after publication it is old enough: proposed and moved
    freeze_clock(monkeypatch, PUBLISHED + dt.timedelta(days=3))
    run = run_cli(capsys, "outdated", "--json")
    assert json.loads(run.out)["movable"] == ["s6-overlay"]
    run = run_cli(capsys, "pr", "--json")
    assert run.code == 0, run.out + run.err
    assert [p.head for p in world.fake.open_pulls()] == ["pinlock/s6-overlay"]


def test_a_release_without_publication_time_is_too_new_to_judge(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for rel in world.fake.releases:
        rel.published_at = None
    _set_age(world.work, "1h")
    freeze_clock(monkeypatch, PUBLISHED + dt.timedelta(days=365))
    run = run_cli(capsys, "outdated", "--json")
    [row] = [r for r in json.loads(run.out)["inputs"] if r["input"] == "s6-overlay"]
    assert row["waiting"] == "publication time unknown, too new to judge"
    assert not row["movable"]


@pytest.mark.parametrize("value", ["3x", "-1d", "1.5d", "", "d", "3 d", "3D"])
def test_bad_min_age_is_bad_input(
    world: World, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    _set_age(world.work, value)
    before = worktree_digest(world.work)
    for args in (("outdated",), ("update",), ("verify",), ("outdated", "--json")):
        run = run_cli(capsys, *args)
        assert run.code == 2, (args, run.out, run.err)
        assert "inputs.s6-overlay.min-age" in run.out + run.err
    assert worktree_digest(world.work) == before


def test_min_age_round_trips(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "lock", "s6-overlay").code == 0  # fills what init adopted
    _set_age(world.work, "2w")
    before = worktree_digest(world.work)
    assert run_cli(capsys, "lock", "s6-overlay").code == 0
    assert run_cli(capsys, "verify", "--strict").code == 0
    assert worktree_digest(world.work) == before
    assert 'min-age = "2w"' in (world.work / "image.lock.toml").read_text()


def _set_top_age(work: Path, value: str) -> None:
    lock = work / "image.lock.toml"
    text = lock.read_text()
    assert text.count("\nversion = 1\n") == 1
    lock.write_text(text.replace("\nversion = 1\n", f'\nversion = 1\nmin-age = "{value}"\n', 1))


def test_a_lock_wide_min_age_applies_unless_an_input_sets_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_top_age(world.work, "1w")
    freeze_clock(monkeypatch, PUBLISHED + dt.timedelta(days=3))
    run = run_cli(capsys, "outdated", "--json")
    assert run.code == 0, run.out + run.err
    [row] = [r for r in json.loads(run.out)["inputs"] if r["input"] == "s6-overlay"]
    assert row["waiting"] == "4d left" and not row["movable"]
    # the input's own min-age wins over the lock's
    _set_age(world.work, "2d")
    run = run_cli(capsys, "outdated", "--json")
    assert json.loads(run.out)["movable"] == ["s6-overlay"]
    # and a write keeps both
    assert run_cli(capsys, "update").code == 0
    text = (world.work / "image.lock.toml").read_text()
    assert '\nmin-age = "1w"\n' in text and 'min-age = "2d"' in text


def test_a_bad_lock_wide_min_age_is_bad_input(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_top_age(world.work, "3x")
    run = run_cli(capsys, "outdated")
    assert run.code == 2 and "min-age" in run.err and "3x" in run.err, run.err
