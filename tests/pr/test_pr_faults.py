"""`pinlock pr` when things go wrong: every fault gives a clear message and leaves nothing behind.

Checked after each fault: no pinlock branch on the remote, no local branch or
worktree, no pull request half made, and the token nowhere in output or git config.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from support.cli import pr, snapshot
from support.fake_github import Answer, RecordedRequest
from support.git_world import REPOSITORY, World, git

from pinlock.app import Options
from pinlock.http import RetryPolicy, make_client
from pinlock.pr import PrOptions, PrResult, run_pr
from pinlock.pr.pulls import PullsClient
from pinlock.sources.github.api import GitHubClient, GitHubConfig

BRANCH = "pinlock/s6-overlay"


def assert_nothing_left(world: World, heads_before: dict[str, str]) -> None:
    assert world.remote_heads() == heads_before
    assert world.local_leftovers() == ("", "")
    assert world.fake.open_pulls() == []


def assert_no_token(world: World, *texts: str) -> None:
    basic = base64.b64encode(f"x-access-token:{world.token}".encode()).decode()
    for text in (*texts, (world.work / ".git" / "config").read_text(),
                 git(world.work, "config", "--list", "--show-origin")):
        assert world.token not in text and basic not in text


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def run_direct(world: World, sleeps: list[float]) -> Iterator[Callable[[], PrResult]]:
    """run_pr with a pulls client whose retry waits are recorded instead of slept."""
    http = make_client()
    client = GitHubClient(http, GitHubConfig(world.fake.api_url, world.token),
                          retry=RetryPolicy(attempts=4, backoff=0.5, max_wait=30, max_total=60),
                          sleep=sleeps.append)

    def run() -> PrResult:
        return run_pr(Path.cwd(), None, Path("image.lock.toml"), None, Options(), PrOptions(),
                      pulls=PullsClient(client, REPOSITORY))

    yield run
    http.close()


def posts(world: World) -> list[RecordedRequest]:
    return [r for r in world.fake.writes() if r.method == "POST"]


# ------------------------------------------------------------------ git faults


def test_push_rejected_by_the_remote(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # A pre-receive hook that refuses pinlock's branches and shows what it can see:
    # the whole environment it inherited from the pushing process.
    seen = world.work.parent / "hook-env.txt"
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nenv > {seen}\nenv >&2\n"
                    "echo 'protected: pinlock branches need review' >&2\nexit 1\n")
    hook.chmod(0o755)
    heads = world.remote_heads()
    code, out, err = pr(capsys)
    assert code == 3
    assert "push of" in err and "was rejected" in err and "pre-receive hook declined" in err
    assert "protected: pinlock branches need review" in err
    assert posts(world) == []
    assert_nothing_left(world, heads)
    # The token was neither shown nor handed to the hook.
    assert_no_token(world, out, err, seen.read_text())


def test_dirty_tree_is_refused_and_nothing_changes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    (world.work / "notes.txt").write_text("scratch\n")
    before = snapshot(world.work)
    heads = world.remote_heads()
    code, out, err = pr(capsys)
    assert code == 2
    assert "uncommitted changes: notes.txt" in err and "commit or stash" in err
    assert world.fake.requests == []
    assert snapshot(world.work) == before
    assert_nothing_left(world, heads)
    assert_no_token(world, out, err)


def test_base_branch_moved_recreates_the_branch_without_merges(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pr(capsys)[0] == 0
    first = world.remote_heads()[BRANCH]
    # main moves on after pinlock made its branch.
    other = world.clone("other")
    (other / "README").write_text("news\n")
    git(other, "add", "README")
    git(other, "commit", "--quiet", "-m", "unrelated change")
    git(other, "push", "--quiet", "origin", "main")
    new_main = world.remote_heads()["main"]
    world.fake.clear_requests()
    code, out, err = pr(capsys)
    assert code == 0, err
    head = world.remote_heads()[BRANCH]
    assert head != first
    assert git(world.remote, "rev-parse", f"{BRANCH}^") == new_main  # made on the new base
    assert git(world.remote, "rev-list", "--count", f"main..{BRANCH}") == "1"
    assert git(world.remote, "rev-list", "--merges", f"{BRANCH}") == ""
    assert world.remote_file(BRANCH, "README") == "news"
    # Same pull request, same title and body: nothing to write through the API.
    assert world.fake.writes() == [] and len(world.fake.pulls) == 1
    assert "s6-overlay: updated #1" in out
    assert world.local_leftovers() == ("", "")


# ------------------------------------------------------------------ API faults


def test_server_errors_after_retries(
    world: World, run_direct: Callable[[], PrResult], sleeps: list[float]
) -> None:
    world.fake.inject(r"/pulls$", Answer.message(502, "Server Error"), method="POST",
                      times=None)
    heads = world.remote_heads()
    result = run_direct()
    ((name, exc),) = result.failures
    assert name == "s6-overlay" and exc.exit_code == 3
    assert "/repos/acme/app/pulls: HTTP 502: Server Error" in exc.diagnostics()
    assert len(posts(world)) == 4 and sleeps == [0.5, 1.0, 2.0]
    assert_nothing_left(world, heads)  # the pushed branch was deleted again
    assert world.fake.pulls == []


def test_create_answered_with_an_error_after_github_made_it(
    world: World, run_direct: Callable[[], PrResult], sleeps: list[float]
) -> None:
    # The first POST creates the pull request but its answer is lost (502); the retry
    # gets GitHub's 422 "already exists". pinlock adopts the pull request, keeps the branch.
    answers = iter([True])

    def flaky(req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        answer = world.fake._create(req, p)
        if next(answers, False):
            return Answer.message(502, "Server Error")
        return answer

    world.fake.add_route("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/pulls", flaky)
    result = run_direct()
    assert result.failures == []
    (action,) = result.actions
    assert (action.action, action.number) == ("opened", 1)
    assert len(world.fake.pulls) == 1 and world.fake.pulls[0].state == "open"
    assert BRANCH in world.remote_heads()


def test_validation_error_422(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.inject(r"/pulls$", Answer.message(422, "Validation Failed"), method="POST")
    heads = world.remote_heads()
    code, out, err = pr(capsys)
    assert code == 3
    assert "HTTP 422: Validation Failed" in err
    assert len(posts(world)) == 1  # a 422 is final, never retried
    assert_nothing_left(world, heads)
    assert_no_token(world, out, err)


def test_primary_rate_limit_exhausted(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.exhaust_rate_limit()
    heads = world.remote_heads()
    code, out, err = pr(capsys)
    assert code == 3
    assert "GitHub API rate limit exhausted (5000 requests per hour" in err
    assert "it resets at" in err
    assert world.fake.writes() == []
    # Asked once, not hammered: GitHub asks not to retry before the reset.
    assert len(world.fake.requests_to(r"/pulls$")) == 1
    assert_nothing_left(world, heads)
    assert_no_token(world, out, err)


def test_secondary_rate_limit_too_long_to_wait(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.inject(r"/pulls$", Answer.message(
        403, "You have exceeded a secondary rate limit.", {"retry-after": "600"}),
        method="POST", times=None)
    heads = world.remote_heads()
    code, out, err = pr(capsys)
    assert code == 3
    assert "secondary rate limit: asked to wait 600 s" in err
    assert_nothing_left(world, heads)
    assert_no_token(world, out, err)


def test_secondary_rate_limit_is_waited_out(
    world: World, run_direct: Callable[[], PrResult], sleeps: list[float]
) -> None:
    world.fake.secondary_rate_limit(r"/pulls$", retry_after=7, status=429)
    result = run_direct()
    assert result.failures == []
    assert sleeps == [7.0]  # Retry-After honoured, once
    assert [a.action for a in result.actions] == ["opened"]


def test_unreachable_remote_is_an_upstream_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    os.rename(world.remote, world.remote.with_suffix(".moved"))
    code, _out, err = pr(capsys)
    assert code == 3
    assert "git fetch" in err and "check the remote's URL" in err
    assert world.fake.writes() == []
    assert world.local_leftovers() == ("", "")


def test_a_refused_reviewer_keeps_the_pull_request_and_its_branch(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # GitHub answers 422 for a reviewer who is not a collaborator; the pull request is
    # made by then, and deleting its branch would close it (and read as a decline).
    world.fake.inject(r"/requested_reviewers$", Answer.message(
        422, "Reviews may only be requested from collaborators."), method="POST")
    code, out, err = pr(capsys, "--reviewer", "stranger", "--label", "dependencies")
    assert code == 0, err
    assert "s6-overlay: opened #1" in out
    assert "warning: GitHub did not take the reviewers stranger" in out
    assert "Reviews may only be requested from collaborators" in out
    (p,) = world.fake.open_pulls()
    assert p.labels == ["dependencies"] and p.reviewers == []
    head = world.remote_heads()[BRANCH]
    world.fake.clear_requests()
    code, out, err = pr(capsys)
    assert code == 0, err
    assert "s6-overlay: unchanged #1" in out
    assert world.remote_heads()[BRANCH] == head and world.fake.writes() == []
    assert_no_token(world, out, err)


def test_a_failed_create_puts_an_existing_branch_back(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The branch outlives a declined pull request; a newer target rewrites it for a new
    # pull request. If GitHub then refuses the pull request, the branch is put back.
    assert pr(capsys)[0] == 0
    world.fake.close_by_hand(1)
    before = world.remote_heads()
    world.publish("3.2.5.0")
    world.fake.inject(r"/pulls$", Answer.message(422, "Validation Failed"), method="POST")
    code, out, err = pr(capsys)
    assert code == 3 and "HTTP 422" in err
    assert world.remote_heads() == before
    assert world.local_leftovers() == ("", "")
    assert [p.state for p in world.fake.pulls] == ["closed"]
    assert_no_token(world, out, err)
