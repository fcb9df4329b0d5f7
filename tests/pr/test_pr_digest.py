"""A tag pushed again (same tag, new index digest): `outdated`, `pr` and declined updates.

The project pins ``FROM debian:13.4@sha256:…`` against a real docker-registry;
upstream then re-pushes ``13.4`` with other content, as Debian's images are
rebuilt for security fixes. s6-overlay stays at its version (3.2.4.0 is
withdrawn), so the only update is the digest one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import S6_REPOSITORY
from support.git_world import MakeWorld, World, git
from support.oci_registry import (
    BuiltImage,
    Layout,
    Registry,
    build_image,
    push_built,
    running_registry,
)

from pinlock.changes import short_digest

pytestmark = pytest.mark.registry
BRANCH = "pinlock/debian"


@dataclass
class Debian:
    """``library/debian`` in a real registry; ``push`` (re)points the tag ``13.4``."""

    registry: Registry
    layout: Layout
    pushed: list[BuiltImage]

    def push(self, seed: str, tag: str = "13.4") -> BuiltImage:
        image = build_image(self.layout, f"debian-{tag}-{seed}", seed=seed)
        push_built(self.registry.url, "library/debian", image, tag)
        self.pushed.append(image)
        return image


@pytest.fixture
def debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Debian]:
    with running_registry(tmp_path) as reg:
        monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={reg.url}")
        yield Debian(reg, Layout(tmp_path / "layout"), [])


@pytest.fixture
def world(make_world: MakeWorld, debian: Debian, capsys: pytest.CaptureFixture[str]) -> World:
    """debian:13.4 pinned on main (the first push of the tag); no other update upstream."""
    debian.push("first")
    world = make_world(base="debian:13.4")
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True
    run = run_cli(capsys, "lock", "debian")
    assert run.code == 0, run.err
    world.commit_and_push("pin debian")
    world.fake.clear_requests()
    return world


def pr(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """Run `pinlock pr --json`: exit code, unit → action, stderr."""
    run = run_cli(capsys, "pr", "--json", *args)
    data = json.loads(run.out) if run.out else {"actions": []}
    return run.code, {a["input"]: a["action"] for a in data["actions"]}, run.err


def test_outdated_marks_a_moved_tag_movable_and_a_replaced_asset_an_alarm(
    world: World, debian: Debian, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    assert run.code == 0, run.out + run.err  # pinned and current: nothing to do
    old, new = debian.pushed[0], debian.push("rebuilt")
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-noarch.tar.xz", b"swapped")
    # the first run's answers are kept for ten minutes: this one asks upstream again
    run = run_cli(capsys, "outdated", "--json", "--exit-code", "--max-age", "0")
    assert run.code == 1, run.err
    data = json.loads(run.out)
    assert (data["movable"], data["alarms"]) == (["debian"], ["s6-overlay"])
    rows = {r["input"]: r for r in data["inputs"]}
    d = rows["debian"]
    assert (d["locked"], d["newest"], d["newer"]) == ("13.4", "13.4", False)
    assert (d["move"], d["movable"], d["alarm"]) == ("digest", True, False)
    assert (d["locked_digest"], d["newest_digest"]) == (old.index_digest, new.index_digest)
    assert [f["code"] for f in d["drift"]] == ["tag-moved"]
    s6 = rows["s6-overlay"]
    assert (s6["move"], s6["movable"], s6["alarm"], s6["alarms"]) == (
        None, False, True, ["asset-replaced"])
    run = run_cli(capsys, "outdated")
    table = {line.split()[0]: line for line in run.out.splitlines()[1:3]}
    assert table["debian"].endswith(f"new digest ({short_digest(old.index_digest)} → "
                                    f"{short_digest(new.index_digest)})")
    assert table["s6-overlay"].endswith("alarm: changed upstream")
    assert run.out.splitlines()[-1] == "1 input(s) can move; 1 input(s) raised an alarm"


def test_pr_opens_one_pr_for_a_moved_tag_and_none_for_a_replaced_asset(
    world: World, debian: Debian, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = debian.pushed[0], debian.push("rebuilt")
    world.fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", "s6-overlay-noarch.tar.xz", b"swapped")
    run = run_cli(capsys, "outdated", "--json")
    movable = json.loads(run.out)["movable"]
    code, actions, err = pr(capsys)
    assert code == 0, err
    assert actions == {"debian": "opened", "s6-overlay": "up-to-date"}
    (p,) = world.fake.pulls
    assert [p.head] == [f"pinlock/{n}" for n in movable]  # outdated and pr agree
    assert p.title == (f"pinlock: update debian 13.4 digest {short_digest(old.index_digest)} "
                       f"→ {short_digest(new.index_digest)}")
    assert len(short_digest(old.index_digest)) == len("sha256:") + 7
    # The provenance rows: the index and every platform, old and new.
    assert (f"| debian | debian:13.4 index | `{old.index_digest}` | `{new.index_digest}` |"
            in p.body)
    for platform, digest in new.platforms.items():
        assert (f"| debian | debian {platform} | `{old.platforms[platform]}` | `{digest}` |"
                in p.body)
    assert (f"| debian | `13.4@{short_digest(old.index_digest)}` | "
            f"`13.4@{short_digest(new.index_digest)}` |" in p.body)
    assert p.body.rstrip().endswith("Reproduce locally: `pinlock update debian`")
    assert "s6-overlay" not in p.body
    # One commit on main, changing the FROM line only.
    assert git(world.remote, "rev-list", "--count", f"main..{BRANCH}") == "1"
    diff = git(world.remote, "diff", "-U0", "main", BRANCH, "--", "docker/Dockerfile")
    assert [line for line in diff.splitlines() if line[:1] in "+-"
            and not line.startswith(("+++", "---"))] == [
        f"-FROM debian:13.4@{old.index_digest}", f"+FROM debian:13.4@{new.index_digest}"]
    # Nothing new: the second run writes nothing.
    world.fake.clear_requests()
    heads = world.remote_heads()
    code, actions, err = pr(capsys)
    assert code == 0, err
    assert actions == {"debian": "unchanged", "s6-overlay": "up-to-date"}
    assert world.fake.writes() == [] and world.remote_heads() == heads


def test_declined_digest_update_is_not_reopened_until_the_tag_moves_again(
    world: World, debian: Debian, capsys: pytest.CaptureFixture[str]
) -> None:
    debian.push("rebuilt")
    assert pr(capsys)[1]["debian"] == "opened"
    world.fake.close_by_hand(1)
    heads = world.remote_heads()
    world.fake.clear_requests()
    for args in ((), ("--dry-run",)):
        code, actions, err = pr(capsys, *args)
        assert code == 0, err
        assert actions["debian"] == "declined"
    assert world.fake.writes() == [] and world.remote_heads() == heads
    assert len(world.fake.pulls) == 1
    # Upstream rebuilds 13.4 once more: a newer target, offered again on the same branch.
    newest = debian.push("rebuilt-again")
    code, actions, err = pr(capsys)
    assert code == 0, err
    assert actions["debian"] == "opened"
    first, second = world.fake.pulls
    assert (first.state, second.state, second.head) == ("closed", "open", BRANCH)
    assert short_digest(newest.index_digest) in second.title
    assert (f"FROM debian:13.4@{newest.index_digest}"
            in world.remote_file(BRANCH, "docker/Dockerfile"))


def test_a_suffixed_tag_is_up_to_date_until_it_is_pushed_again(
    make_world: MakeWorld, debian: Debian, capsys: pytest.CaptureFixture[str]
) -> None:
    # The locked tag is the whole tag (13.4-slim), the candidate's version only 13.4:
    # the two must not be compared, or an up-to-date input looks newer forever.
    old = debian.push("first", tag="13.4-slim")
    world = make_world(base="debian:13.4-slim")
    world.fake.release(S6_REPOSITORY, "v3.2.4.0").draft = True
    run = run_cli(capsys, "lock", "debian")
    assert run.code == 0, run.err
    world.commit_and_push("pin debian")
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    assert run.code == 0, run.out + run.err
    row = json.loads(run.out)["inputs"][0]
    assert (row["locked"], row["newest"], row["move"]) == ("13.4-slim", "13.4-slim", None)
    assert pr(capsys)[1] == {"debian": "up-to-date", "s6-overlay": "up-to-date"}
    assert world.fake.writes() == [] and world.fake.pulls == []
    # Pushed again: a new digest under the same tag, not a newer version.
    new = debian.push("rebuilt", tag="13.4-slim")
    run = run_cli(capsys, "outdated", "--json", "--exit-code", "--max-age", "0")
    assert run.code == 1, run.err
    row = json.loads(run.out)["inputs"][0]
    assert (row["move"], row["newest_digest"]) == ("digest", new.index_digest)
    code, actions, err = pr(capsys)
    assert code == 0, err
    assert actions["debian"] == "opened"
    (p,) = world.fake.pulls
    assert p.title == (f"pinlock: update debian 13.4-slim digest "
                       f"{short_digest(old.index_digest)} → {short_digest(new.index_digest)}")
