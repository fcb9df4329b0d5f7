"""Groups: the `group` key in the lock, `pinlock pr --group`, and what grouping closes."""

from __future__ import annotations

import pytest
from support.cli import pr, snapshot
from support.git_world import MakeWorld, World, git

from pinlock import lockfile
from pinlock.errors import UsageError
from pinlock.model import Lock
from pinlock.pr import plan_units

GROUP_BRANCH = "pinlock/release-tools"


def _lock(world: World) -> Lock:
    return lockfile.load_fast((world.work / "image.lock.toml").read_text(), "image.lock.toml")


# ------------------------------------------------------------------ the lock key


def test_group_key_round_trips_and_is_validated(make_world: MakeWorld) -> None:
    world = make_world(tool=True)
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    text = (world.work / "image.lock.toml").read_text()
    lock, doc = lockfile.load(text, "image.lock.toml")
    assert lock.groups() == {"release-tools": ["s6-overlay", "tool"]}
    assert lock.inputs["tool"].intent.group == "release-tools"
    assert lockfile.render(lock, doc) == text  # byte-identical rewrite
    assert 'group = "release-tools"' in lockfile.render(lock)  # and in a fresh file
    bad = text.replace('group = "release-tools"', 'group = "Release Tools"', 1)
    with pytest.raises(Exception, match=r"inputs\.s6-overlay\.group: expected a name"):
        lockfile.load_fast(bad, "image.lock.toml")


def test_plan_units(make_world: MakeWorld) -> None:
    world = make_world(tool=True)
    lock = _lock(world)
    assert [(u.key, u.inputs) for u in plan_units(lock, None, None)] == [
        ("s6-overlay", ("s6-overlay",)), ("tool", ("tool",))]
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    lock = _lock(world)
    (unit,) = plan_units(lock, None, None)
    assert (unit.key, unit.inputs, unit.group) == ("release-tools", ("s6-overlay", "tool"),
                                                   "release-tools")
    # Naming a grouped input works on its whole group: a branch never depends on the run.
    assert plan_units(lock, ["tool"], None) == [unit]
    assert plan_units(lock, None, "release-tools") == [unit]
    with pytest.raises(UsageError, match=r"unknown group 'nope' \(groups in the lock: "
                       r"release-tools\)"):
        plan_units(lock, None, "nope")
    with pytest.raises(UsageError, match="not both"):
        plan_units(lock, ["tool"], "release-tools")
    world.edit_lock({"s6-overlay": "tool", "tool": None})
    with pytest.raises(UsageError, match="group 'tool' has the name of input 'tool'"):
        plan_units(_lock(world), None, None)


# ------------------------------------------------------------------ pinlock pr --group


def test_group_makes_one_pr_with_one_commit(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    code, out, err = pr(capsys, "--group", "release-tools")
    assert code == 0, err
    (p,) = world.fake.pulls
    assert p.head == GROUP_BRANCH
    assert p.title == ("pinlock: bump release-tools: s6-overlay 3.2.3.0 → 3.2.4.0, "
                       "tool 1.0.0 → 1.1.0")
    assert "| s6-overlay | `3.2.3.0` | `3.2.4.0` |" in p.body
    assert "| tool | `1.0.0` | `1.1.0` |" in p.body
    assert p.body.rstrip().endswith(
        "`pinlock bump s6-overlay 3.2.4.0 && pinlock bump tool 1.1.0`")
    assert set(world.remote_heads()) == {"main", GROUP_BRANCH}
    assert git(world.remote, "rev-list", "--count", f"main..{GROUP_BRANCH}") == "1"
    df = world.remote_file(GROUP_BRANCH, "docker/Dockerfile")
    assert "ARG S6_OVERLAY_VERSION=3.2.4.0" in df and "ARG TOOL_VERSION=1.1.0" in df
    assert "release-tools: opened #1" in out
    # The whole-lock run works on the same branch: nothing new, nothing written.
    world.fake.clear_requests()
    code, out, err = pr(capsys)
    assert code == 0, err
    assert world.fake.writes() == [] and len(world.fake.pulls) == 1
    assert "release-tools: unchanged #1" in out


def test_group_pr_when_only_some_inputs_move(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    world.fake.release("acme/tool", "v1.1.0").draft = True  # tool stays where it is
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    code, _out, err = pr(capsys, "--group", "release-tools")
    assert code == 0, err
    (p,) = world.fake.pulls
    assert p.title == "pinlock: bump release-tools: s6-overlay 3.2.3.0 → 3.2.4.0"
    assert "| tool |" not in p.body


def test_unknown_group_is_refused_naming_the_groups(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    world.edit_lock({"tool": "tools"})
    before = snapshot(world.work)
    heads = world.remote_heads()
    world.fake.clear_requests()
    code, _out, err = pr(capsys, "--group", "images")
    assert code == 2
    assert "unknown group 'images' (groups in the lock: tools)" in err
    assert world.fake.requests == []
    assert world.remote_heads() == heads and snapshot(world.work) == before
    code, _out, err = pr(capsys, "--group", "tools", "tool")
    assert code == 2 and "not both" in err


def test_grouping_closes_the_per_input_prs(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    assert pr(capsys)[0] == 0
    assert sorted(p.head for p in world.fake.open_pulls()) == [
        "pinlock/s6-overlay", "pinlock/tool"]
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: closed #1" in out and "tool: closed #2" in out
    (open_pull,) = world.fake.open_pulls()
    assert open_pull.head == GROUP_BRANCH
    for p in world.fake.pulls[:2]:
        assert p.state == "closed"
        assert len(p.comments) == 1
        assert f"now updated with group release-tools on {GROUP_BRANCH}" in p.comments[0]
    assert set(world.remote_heads()) == {"main", GROUP_BRANCH}


def test_the_remote_base_decides_not_a_checkout_behind_it(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    behind = git(world.work, "rev-parse", "HEAD")
    world.edit_lock({"s6-overlay": "release-tools", "tool": "release-tools"})
    git(world.work, "reset", "--quiet", "--hard", behind)  # this checkout has not pulled
    code, _out, err = pr(capsys)
    assert code == 0, err
    assert [p.head for p in world.fake.pulls] == [GROUP_BRANCH]
