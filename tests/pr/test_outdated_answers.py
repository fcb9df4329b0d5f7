"""`pinlock outdated` shows an earlier run's answers for the same lock while they are young."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import S6_REPOSITORY
from support.git_world import World

from pinlock import clock
from pinlock.answers import Answer, Answers, parse_max_age
from pinlock.model import Finding
from pinlock.options import Options
from pinlock.sources.interface import Candidate


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "cache" / "outdated"


def _outdated(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    run = run_cli(capsys, "outdated", "--json", *args)
    assert run.code == 0, run.err
    data: dict[str, object] = json.loads(run.out)
    return data


def _row(data: dict[str, object]) -> dict[str, object]:
    rows = data["inputs"]
    assert isinstance(rows, list)
    (row,) = rows
    assert isinstance(row, dict)
    return row


def test_a_second_run_asks_no_upstream(world: World,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    first = _row(_outdated(capsys))
    assert first["cached"] is False and first["newest"] == "3.2.4.0"
    assert world.fake.requests
    world.fake.clear_requests()
    second = _row(_outdated(capsys))
    assert world.fake.requests == []
    assert second["cached"] is True and second["asked"] == first["asked"]
    assert {k: v for k, v in second.items() if k != "cached"} == {
        k: v for k, v in first.items() if k != "cached"}
    text = run_cli(capsys, "outdated")
    assert text.code == 0 and world.fake.requests == []
    assert text.out.splitlines()[-2].startswith("1 of 1 answer(s) kept from a run ")
    assert text.out.splitlines()[-2].endswith(" ago (--max-age 0 asks upstream now)")
    assert text.out.splitlines()[-1] == "1 input(s) can move"


def test_max_age_zero_and_an_old_answer_ask_again(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _outdated(capsys)
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True  # withdrawn upstream
    world.fake.clear_requests()
    row = _row(_outdated(capsys, "--max-age", "0"))
    assert world.fake.requests and row["cached"] is False and row["newest"] == "3.2.3.0"
    # that answer is kept in turn; eleven minutes on, it is too old for the default 10m
    later = clock.now() + dt.timedelta(minutes=11)
    monkeypatch.setattr(clock, "now", lambda: later)
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = False
    world.fake.clear_requests()
    assert _row(_outdated(capsys, "--max-age", "15m"))["cached"] is True
    assert world.fake.requests == []
    row = _row(_outdated(capsys))
    assert world.fake.requests and row["cached"] is False and row["newest"] == "3.2.4.0"


def test_another_lock_text_asks_again(world: World,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _outdated(capsys)
    lock = world.work / "image.lock.toml"
    lock.write_text(lock.read_text() + "\n# a comment changes the lock's bytes\n")
    world.fake.clear_requests()
    assert _row(_outdated(capsys))["cached"] is False
    assert world.fake.requests


def test_an_alarm_is_kept_with_its_answer(world: World,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-x86_64.tar.xz", b"new")
    assert _outdated(capsys)["alarms"] == ["s6-overlay"]
    world.fake.clear_requests()
    again = _outdated(capsys)
    assert world.fake.requests == [] and again["alarms"] == ["s6-overlay"]
    assert _row(again)["alarms"] == ["asset-replaced"]


def test_an_error_is_not_kept(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.server_error(r"/releases", status=404, times=None)
    assert run_cli(capsys, "outdated").code == 3
    world.fake.clear_requests()
    assert run_cli(capsys, "outdated").code == 3
    assert world.fake.requests  # asked again: nobody knows the answer yet


def test_a_planted_or_edited_answer_is_not_shown(
    world: World, capsys: pytest.CaptureFixture[str], own_cache: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _outdated(capsys)
    (path,) = own_cache.glob("*.json")
    doc = json.loads(path.read_text())
    answer = doc["body"]["answers"]["s6-overlay"]
    answer["candidate"]["version"] = answer["candidate"]["ref"] = "v9.9.9"
    path.write_text(json.dumps(doc))  # the seal no longer matches
    world.fake.clear_requests()
    row = _row(_outdated(capsys))
    assert row["newest"] == "3.2.4.0" and row["cached"] is False and world.fake.requests
    # sealed under another user's key: not this user's answer either
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "other-user"))
    world.fake.clear_requests()
    assert _row(_outdated(capsys))["cached"] is False and world.fake.requests


def test_answers_of_locks_long_changed_are_removed(
    world: World, capsys: pytest.CaptureFixture[str], own_cache: Path,
) -> None:
    own_cache.mkdir(parents=True)
    old = own_cache / f"{'a' * 64}.json"
    recent = own_cache / f"{'b' * 64}.json"
    other = own_cache / "notes.txt"  # not a name pinlock gives: left alone
    for path in (old, recent, other):
        path.write_text("{}")
    week = (dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).timestamp()
    os.utime(old, (week, week))
    os.utime(other, (week, week))
    _outdated(capsys)
    names = sorted(p.name for p in own_cache.iterdir())
    assert old.name not in names and recent.name in names and other.name in names
    assert len(names) == 3  # and the file this run wrote


def test_a_bad_max_age_is_a_usage_error(world: World,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.clear_requests()
    run = run_cli(capsys, "outdated", "--max-age", "10 minutes")
    assert run.code == 2, run.out + run.err
    assert "--max-age '10 minutes': expected 0 or a whole number and a unit" in run.err
    assert world.fake.requests == []


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30s", 30), ("10m", 600),
                                               ("2h", 7200)])
def test_parse_max_age(text: str, seconds: int) -> None:
    assert parse_max_age(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "-1m", "1.5m", "10", "3d", "m", "10 m"])
def test_parse_max_age_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_max_age(text)


def test_answers_are_per_lock_options_and_environment(tmp_path: Path) -> None:
    env = {"PINLOCK_CACHE_DIR": str(tmp_path / "c"), "XDG_CONFIG_HOME": str(tmp_path / "k")}
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    answer = Answer(now, Candidate("1.1", "v1.1", digest="sha256:" + "a" * 64,
                                   published=now - dt.timedelta(days=1)),
                    (Finding("x", "warning", "archive-moved", "moved", expected="e"),))
    Answers.open("lock", Options(), env).keep({"x": answer})
    assert Answers.open("lock", Options(), env).fresh(["x"], dt.timedelta(minutes=1),
                                                      now) == {"x": answer}
    # a sealed answer whose values are not what a source lets through is not read either
    bad = Answer(now, Candidate("1.1\x1b[2J", "v1.1"), ())
    Answers.open("lock3", Options(), env).keep({"x": bad})
    assert Answers.open("lock3", Options(), env).held == {}
    for other in (Answers.open("lock2", Options(), env),
                  Answers.open("lock", Options(allow_major=True), env),
                  Answers.open("lock", Options(), {**env, "GITHUB_API_URL": "http://x"})):
        assert other.held == {}
    kept = Answers.open("lock", Options(), env)
    assert kept.fresh(["x"], dt.timedelta(minutes=1), now + dt.timedelta(minutes=2)) == {}
    assert kept.fresh(["x"], dt.timedelta(minutes=1), now - dt.timedelta(seconds=1)) == {}
