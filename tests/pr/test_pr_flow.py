"""`pinlock pr` end to end: real git, a bare remote, the loopback GitHub pulls API."""

from __future__ import annotations

import json

import pytest
import tomlkit
from support.cli import pr, run_cli, snapshot
from support.fake_github import Answer, s6_tarballs, sha256_hex
from support.fake_github_pulls import FakePull
from support.git_world import REPOSITORY, MakeWorld, World, git

BRANCH = "pinlock/s6-overlay"


def push_foreign_commit(world: World) -> None:
    """A reviewer pushes a commit of their own onto pinlock's branch."""
    other = world.clone("other")
    git(other, "checkout", "--quiet", BRANCH)
    (other / "NOTES").write_text("a reviewer's fix\n")
    git(other, "add", "NOTES")
    git(other, "commit", "--quiet", "-m", "fix up")
    git(other, "push", "--quiet", "origin", BRANCH)


def bump_main_by_hand(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone moves s6-overlay to 3.2.4.0 on main themselves, as the open PR would."""
    run = run_cli(capsys, "bump", "s6-overlay", "3.2.4.0")
    assert run.code == 0, run.err
    git(world.work, "commit", "--quiet", "-am", "bump s6-overlay by hand")
    git(world.work, "push", "--quiet", "origin", "main")


def test_first_run_opens_one_pr_then_second_run_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pr(capsys, "--label", "dependencies", "--reviewer", "octocat")
    assert code == 0, err
    pulls = world.fake.open_pulls()
    assert len(pulls) == 1
    p = pulls[0]
    assert (p.head, p.base) == (BRANCH, "main")
    assert p.title == "pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0"
    assert p.labels == ["dependencies"] and p.reviewers == ["octocat"]
    # The branch holds one pinlock commit on top of main, with the new pins.
    heads = world.remote_heads()
    assert set(heads) == {"main", BRANCH}
    log = git(world.remote, "log", "--format=%an <%ae>|%s", f"main..{BRANCH}")
    assert log == "pinlock <pinlock@users.noreply.github.com>|" + p.title
    new_df = world.remote_file(BRANCH, "docker/Dockerfile")
    x86 = sha256_hex(s6_tarballs("3.2.4.0")["s6-overlay-x86_64.tar.xz"])
    assert "ARG S6_OVERLAY_VERSION=3.2.4.0" in new_df and x86 in new_df
    # The body carries the provenance table and the command to reproduce it.
    assert "| s6-overlay | `3.2.3.0` | `3.2.4.0` |" in p.body
    assert f"`{x86}` | api-digest, sidecar |" in p.body
    assert p.body.rstrip().endswith("`pinlock bump s6-overlay 3.2.4.0`")
    assert world.token not in out + err
    # The token was only ever sent as a header, and never left in git config.
    assert world.token not in (world.work / ".git" / "config").read_text()
    assert all(r.authenticated for r in world.fake.writes())
    # No worktree or local branch left behind.
    assert world.local_leftovers() == ("", "")

    world.fake.clear_requests()
    code, out, err = pr(capsys)
    assert code == 0, err
    assert world.fake.writes() == []
    assert world.remote_heads() == heads
    assert len(world.fake.pulls) == 1
    assert "s6-overlay: unchanged #1" in out


def test_newer_upstream_updates_the_pr_in_place(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    first = world.remote_heads()[BRANCH]
    world.publish("3.2.5.0")
    world.fake.clear_requests()
    code, _out, err = pr(capsys)
    assert code == 0, err
    assert len(world.fake.pulls) == 1
    p = world.fake.pulls[0]
    assert p.state == "open" and p.title == "pinlock: bump s6-overlay 3.2.3.0 → 3.2.5.0"
    assert "`3.2.5.0`" in p.body
    writes = [(r.method, r.path) for r in world.fake.writes()]
    assert writes == [("PATCH", "/repos/acme/app/pulls/1")]
    head = world.remote_heads()[BRANCH]
    assert head != first
    # Rewritten from main, not stacked on the old commit: one commit, never a merge.
    assert git(world.remote, "rev-list", "--count", f"main..{BRANCH}") == "1"
    assert "ARG S6_OVERLAY_VERSION=3.2.5.0" in world.remote_file(BRANCH, "docker/Dockerfile")


def test_unneeded_update_closes_its_pr_with_a_comment(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    # Someone bumps main by hand to the same version.
    bump_main_by_hand(world, capsys)
    code, out, err = pr(capsys)
    assert code == 0, err
    p = world.fake.pulls[0]
    assert p.state == "closed"
    assert len(p.comments) == 1 and "no longer needs an update" in p.comments[0]
    assert BRANCH not in world.remote_heads()
    assert "closed" in out


def test_foreign_commit_is_left_alone_with_one_comment(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    push_foreign_commit(world)
    theirs = world.remote_heads()[BRANCH]
    world.publish("3.2.5.0")
    for _ in range(2):
        code, out, err = pr(capsys)
        assert code == 0, err
        assert "skipped" in out and "did not make" in out
    assert world.remote_heads()[BRANCH] == theirs
    p = world.fake.pulls[0]
    assert p.state == "open" and "3.2.4.0" in p.title
    assert len(p.comments) == 1 and theirs in p.comments[0]
    assert "delete the branch" in p.comments[0] and "close" not in p.comments[0]
    # A dry run decides the same: it skips the branch too, and comments nothing.
    code, out, err = pr(capsys, "--dry-run")
    assert code == 0, err
    assert "s6-overlay: skipped #1" in out and len(p.comments) == 1


def test_closing_a_pr_with_foreign_commits_is_no_decline(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    push_foreign_commit(world)
    assert "skipped" in pr(capsys)[1]
    # People close the pull request and delete the branch, to let pinlock start afresh.
    world.fake.close_by_hand(1)
    git(world.work, "push", "--quiet", "origin", f":{BRANCH}")
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: opened #2" in out
    assert world.fake.pulls[1].title == "pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0"


def test_dry_run_decides_from_the_remote_like_a_real_run(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # main was bumped elsewhere; this checkout is behind it. The real run would close
    # nothing and open nothing: s6-overlay is up to date on the remote's main.
    other = world.clone("other")
    run = run_cli(capsys, "bump", "s6-overlay", "3.2.4.0", "--lockfile",
                  str(other / "image.lock.toml"), "--dockerfile",
                  str(other / "docker" / "Dockerfile"))
    assert run.code == 0, run.err
    git(other, "commit", "--quiet", "-am", "bump s6-overlay by hand")
    git(other, "push", "--quiet", "origin", "main")
    code, out, err = pr(capsys, "--dry-run")
    assert code == 0, err
    assert "s6-overlay: up-to-date" in out
    assert world.fake.writes() == []


def test_dry_run_changes_nothing_anywhere(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before_files = snapshot(world.work)
    before_heads = world.remote_heads()
    code, out, err = pr(capsys, "--dry-run")
    assert code == 0, err
    assert "would-open" in out
    assert f"branch: {BRANCH}" in out
    assert "commit: pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0" in out
    assert "| s6-overlay | `3.2.3.0` | `3.2.4.0` |" in out
    assert world.fake.writes() == [] and world.fake.pulls == []
    assert world.remote_heads() == before_heads
    assert snapshot(world.work) == before_files


def test_dirty_tree_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    df = world.work / "docker" / "Dockerfile"
    df.write_text(df.read_text() + "# local edit\n")
    before_heads = world.remote_heads()
    code, _out, err = pr(capsys)
    assert code == 2
    assert "uncommitted changes" in err and "docker/Dockerfile" in err
    assert world.fake.requests == [] and world.remote_heads() == before_heads


@pytest.mark.parametrize("prefix", ["", "bad..name/", "x/.lock/", "-dash/", "a b/"])
def test_a_bad_branch_prefix_is_refused_before_anything_happens(
    world: World, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    before_files = snapshot(world.work)
    heads = world.remote_heads()
    code, _out, err = pr(capsys, "--branch-prefix", prefix)
    assert code == 2, err
    assert "branch" in err and "--branch-prefix" in err
    assert world.fake.requests == [] and world.remote_heads() == heads
    assert snapshot(world.work) == before_files


def test_failed_pr_creation_leaves_no_branch(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.inject(r"/pulls$", Answer.message(422, "Validation Failed"), method="POST")
    code, _out, err = pr(capsys)
    assert code != 0
    assert "422" in err
    assert BRANCH not in world.remote_heads()
    assert world.fake.pulls == []



def test_pr_of_a_removed_input_is_closed_with_a_comment(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tool=True)
    assert pr(capsys)[0] == 0
    assert sorted(p.head for p in world.fake.open_pulls()) == [BRANCH, "pinlock/tool"]
    # A person's own pull request on a branch under the prefix, without pinlock's marker.
    other = world.clone("other")
    git(other, "checkout", "--quiet", "-b", "pinlock/notes")
    (other / "NOTES").write_text("mine\n")
    git(other, "add", "NOTES")
    git(other, "commit", "--quiet", "-m", "notes")
    git(other, "push", "--quiet", "origin", "pinlock/notes")
    world.fake.pulls.append(FakePull(99, REPOSITORY, "my notes", "by hand", "pinlock/notes",
                                     "main"))
    world.edit_lock(remove=("tool",))
    # A run limited to some inputs touches no other pull request.
    code, _out, err = pr(capsys, "s6-overlay")
    assert code == 0, err
    assert len(world.fake.open_pulls()) == 3
    code, out, err = pr(capsys)
    assert code == 0, err
    tool_pr = next(p for p in world.fake.pulls if p.head == "pinlock/tool")
    assert tool_pr.state == "closed"
    assert tool_pr.comments == ["pinlock: closing, main's lock has no input or group named "
                                "'tool' any more, so there is nothing to update on this branch."]
    assert "tool: closed #2" in out
    assert "pinlock/tool" not in world.remote_heads()
    assert sorted(p.head for p in world.fake.open_pulls()) == ["pinlock/notes", BRANCH]
    assert "pinlock/notes" in world.remote_heads()


def test_declined_update_is_not_reopened_but_a_newer_version_is(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    (first,) = world.fake.pulls
    assert "<!-- pinlock:target s6-overlay=3.2.4.0 -->" in first.body
    world.fake.close_by_hand(first.number)  # a person declines 3.2.4.0
    heads = world.remote_heads()
    world.fake.clear_requests()
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: declined #1" in out and "closed without merging" in out
    assert world.fake.writes() == [] and world.remote_heads() == heads
    assert len(world.fake.pulls) == 1
    code, out, err = pr(capsys, "--json")
    assert code == 0, err
    (action,) = json.loads(out)["actions"]
    assert (action["action"], action["number"]) == ("declined", 1)
    # A merged pull request was not declined; it does not hold back the same target.
    world.fake.close_by_hand(first.number, merged=True)
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: opened #2" in out
    world.fake.close_by_hand(2)
    # Upstream publishes a newer version: a new offer, a new pull request.
    world.publish("3.2.5.0")
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: opened #3" in out
    third = world.fake.pulls[-1]
    assert third.state == "open" and third.title.endswith("3.2.3.0 → 3.2.5.0")
    assert "ARG S6_OVERLAY_VERSION=3.2.5.0" in world.remote_file(BRANCH, "docker/Dockerfile")


def test_a_pr_pinlock_closed_itself_is_not_a_decline(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    bump_main_by_hand(world, capsys)
    assert "s6-overlay: closed #1" in pr(capsys)[1]
    (first,) = world.fake.pulls
    assert first.state == "closed" and "pinlock:target" not in first.body
    # The hand bump is reverted: the same update is needed again, and offered again.
    git(world.work, "revert", "--no-edit", "HEAD")
    git(world.work, "push", "--quiet", "origin", "main")
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: opened #2" in out


def test_two_base_branches_keep_their_own_branches_and_prs(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    git(world.work, "push", "--quiet", "origin", "main:release-1")
    assert pr(capsys)[0] == 0
    code, out, err = pr(capsys, "--base", "release-1")
    assert code == 0, err
    # main is the remote's default branch: its branch has no suffix; release-1's has.
    other = f"{BRANCH}@release-1"
    assert f"s6-overlay: opened #2 ({other})" in out
    assert {(p.head, p.base) for p in world.fake.open_pulls()} == {
        (BRANCH, "main"), (other, "release-1")}
    assert git(world.remote, "rev-parse", f"{other}^") == world.remote_heads()["release-1"]
    # Each run sees only its own base's pull requests: nothing to change, nothing closed.
    world.fake.clear_requests()
    for args in ((), ("--base", "release-1")):
        code, out, err = pr(capsys, *args)
        assert code == 0, err
        assert "s6-overlay: unchanged" in out and "closed" not in out
    assert world.fake.writes() == [] and len(world.fake.open_pulls()) == 2
    # release-1 drops the input: only its own pull request is closed.
    rel = world.clone("rel")
    git(rel, "checkout", "--quiet", "release-1")
    lock = tomlkit.parse((rel / "image.lock.toml").read_text())
    del lock["inputs"]["s6-overlay"]
    (rel / "image.lock.toml").write_text(tomlkit.dumps(lock))
    git(rel, "commit", "--quiet", "-am", "drop s6-overlay")
    git(rel, "push", "--quiet", "origin", "release-1")
    code, out, err = pr(capsys, "--base", "release-1")
    assert code == 0, err
    assert f"s6-overlay: closed #2 ({other})" in out
    assert {(p.head, p.state) for p in world.fake.pulls} == {
        (BRANCH, "open"), (other, "closed")}
    assert set(world.remote_heads()) == {"main", "release-1", BRANCH}
