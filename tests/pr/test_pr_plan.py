"""What `pinlock pr` decides per unit, from given state: no git, no network."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import pytest

from pinlock import lockfile
from pinlock.changes import Change
from pinlock.pr import body as pr_body
from pinlock.pr import plan
from pinlock.pr.git import Git
from pinlock.pr.plan import Naming, Seen, Unit
from pinlock.pr.pulls import PullRequest, PullsClient
from pinlock.pr.run import Executor, PrOptions

PINLOCK = "pinlock@users.noreply.github.com"
BASE_SHA, HEAD_SHA, NEW_SHA = "b" * 40, "h" * 40, "n" * 40
D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64

LOCK = """\
version = 1
dockerfile = "Dockerfile"
platforms = ["linux/amd64"]

[inputs.debian]
kind = "image"
image = "debian"
stage = "base"

[inputs.debian.locked]
tag = "13.4"
index-digest = "D1"
media-type = "application/vnd.oci.image.index.v1+json"

[inputs.debian.locked.platforms]
"linux/amd64" = "D1"

[inputs.uv]
kind = "image"
image = "ghcr.io/astral-sh/uv"
group = "tools"

[inputs.uv.locked]
tag = "0.9.1"
index-digest = "D1"
media-type = "application/vnd.oci.image.index.v1+json"

[inputs.uv.locked.platforms]
"linux/amd64" = "D1"
"""

OLD = lockfile.load_fast(LOCK.replace('"D1"', f'"{D1}"'), "old.lock.toml")
NEW = lockfile.load_fast(LOCK.replace('"D1"', f'"{D2}"').replace('"13.4"', '"13.5"'),
                         "new.lock.toml")
CHANGES = [Change("debian", OLD.inputs["debian"], NEW.inputs["debian"])]
UNIT = Unit("debian", ("debian",))
GROUP = Unit("tools", ("uv",), "tools")
NAMING = Naming("pinlock/", "main", "main")


def pull(number: int = 7, *, title: str = "t", body: str = pr_body.MARKER,
         head_ref: str = "pinlock/debian", merged_at: str | None = None) -> PullRequest:
    return PullRequest(number, "open", title, body, head_ref, HEAD_SHA,
                       f"https://github.test/pull/{number}", base_ref="main",
                       merged_at=merged_at)


def seen(*, unit: Unit = UNIT, head_sha: str | None = None,
         pr: PullRequest | None = None) -> Seen:
    return Seen(unit, f"pinlock/{unit.key}", "main", BASE_SHA, head_sha, pr)


# ------------------------------------------------------------------ foreign commits


def test_only_pinlocks_own_commits_are_ours() -> None:
    commits = [
        ("a" * 40, PINLOCK, PINLOCK, "pinlock: bump debian 13.4 → 13.5"),
        ("c" * 40, "me@example.org", PINLOCK, "pinlock: bump debian"),  # authored by a person
        ("d" * 40, PINLOCK, "me@example.org", "pinlock: bump debian"),  # rebased by a person
        ("e" * 40, PINLOCK, PINLOCK, "fix the build"),  # pinlock's identity, not its subject
    ]
    assert plan.foreign_commits(commits, PINLOCK) == ["c" * 40, "d" * 40, "e" * 40]
    assert plan.foreign_commits(commits[:1], PINLOCK) == []


def test_a_branch_with_foreign_commits_is_left_alone() -> None:
    assert plan.leave_foreign(seen(head_sha=HEAD_SHA), []) is None
    decision = plan.leave_foreign(seen(head_sha=HEAD_SHA, pr=pull(9)), ["c" * 40, "d" * 40])
    assert isinstance(decision, plan.LeaveAlone)
    assert (decision.action.action, decision.action.number) == ("skipped", 9)
    assert decision.action.detail == ("pinlock/debian has 2 commit(s) pinlock did not make "
                                      f"({'c' * 12}, {'d' * 12}); leaving it alone")
    # The marker names the branch state: a new foreign commit is said again, once.
    assert decision.marker == plan.FOREIGN_MARKER.format(sha=HEAD_SHA)
    assert decision.comment.startswith(decision.marker + "\npinlock: pinlock/debian has 2")
    assert decision.would() == decision.action  # a dry run reports the same


# ------------------------------------------------------------------ nothing to update


def test_nothing_to_update_and_nothing_offered_is_up_to_date() -> None:
    decision = plan.no_update(seen())
    assert isinstance(decision, plan.Idle)
    assert (decision.action.action, decision.action.inputs) == ("up-to-date", ("debian",))


@pytest.mark.parametrize(("head_sha", "number"), [(HEAD_SHA, None), (None, 7), (HEAD_SHA, 7)])
def test_an_earlier_offer_no_longer_needed_is_closed(head_sha: str | None,
                                                     number: int | None) -> None:
    pr = pull(number) if number else None
    decision = plan.no_update(seen(head_sha=head_sha, pr=pr))
    assert isinstance(decision, plan.Close)
    assert (decision.pull, decision.delete) == (pr, head_sha)
    why = ("pinlock: closing, debian no longer needs an update: main already has the newest "
           "version its intent allows.")
    assert (decision.done().action, decision.done().detail) == ("closed", why)
    assert (decision.would().action, decision.would().detail) == ("would-close", why)
    assert decision.would().number == decision.done().number == number


def test_a_group_no_longer_needed_says_so() -> None:
    decision = plan.no_update(seen(unit=GROUP, head_sha=HEAD_SHA))
    assert isinstance(decision, plan.Close)
    assert "the inputs of group tools no longer need an update" in decision.why
    assert decision.done().inputs == ("uv",)


# ------------------------------------------------------------------ declined


def test_a_closed_unmerged_offer_of_this_target_is_declined() -> None:
    target = pr_body.TARGET_MARKER.format(pr_body.target(CHANGES))
    closed = [
        pull(1, body=f"{pr_body.MARKER}\n{target}", merged_at="2025-01-01T00:00:00Z"),
        pull(2, body=f"{pr_body.MARKER}\n" + pr_body.TARGET_MARKER.format("debian=13.4")),
        pull(3, body=f"{pr_body.MARKER}\n{target}"),  # closed to get the branch back
        pull(4, body=f"{pr_body.MARKER}\n{target}"),
        pull(5, body=f"{pr_body.MARKER}\n{target}"),
    ]
    asked: list[int] = []
    comments = {3: ["hm", plan.FOREIGN_MARKER.format(sha=HEAD_SHA) + "\npinlock: ..."]}

    def read(number: int) -> list[str]:
        asked.append(number)
        return comments.get(number, [])

    decision = plan.declined(seen(), CHANGES, closed, read)
    assert isinstance(decision, plan.Idle)
    assert (decision.action.action, decision.action.number) == ("declined", 4)
    assert decision.action.detail.startswith("#4 offered this update and was closed")
    assert decision.action.title == pr_body.title(CHANGES)
    assert asked == [3, 4]  # comments are read only of offers of this target, up to the hit
    assert plan.declined(seen(), CHANGES, closed[:3], read) is None


# ------------------------------------------------------------------ offers


def test_an_offer_without_a_pull_request_opens_one() -> None:
    decision = plan.offer(seen(), "title", "body", NEW_SHA, same=False)
    assert (decision.push, decision.edit) == (True, False)
    would = decision.would()
    assert (would.action, would.title, would.body, would.number) == (
        "would-open", "title", "body", None)


@pytest.mark.parametrize(("same", "title", "push", "edit", "action"), [
    (True, "title", False, False, "unchanged"),
    (True, "old title", False, True, "updated"),
    (False, "title", True, False, "updated"),
    (False, "old title", True, True, "updated"),
])
def test_an_offer_refreshes_the_open_pull_request(same: bool, title: str, push: bool,
                                                  edit: bool, action: str) -> None:
    decision = plan.offer(seen(head_sha=HEAD_SHA, pr=pull(7, title=title, body="body")),
                          "title", "body", NEW_SHA, same=same)
    assert (decision.push, decision.edit) == (push, edit)
    done = decision.refreshed()
    assert (done.action, done.number, done.url) == (action, 7, "https://github.test/pull/7")
    assert decision.would().action == action.replace("updated", "would-update")


# ------------------------------------------------------------------ stale pull requests


def test_which_open_pull_requests_are_stale() -> None:
    keys = {"debian"}
    assert plan.stale(pull(head_ref="pinlock/debian"), NAMING, OLD, keys) is None
    assert plan.stale(pull(head_ref="pinlock/gone", body="a person's"), NAMING, OLD,
                      keys) is None
    # Another base's branch is another run's business.
    assert plan.stale(pull(head_ref="pinlock/gone@release-1"), NAMING, OLD, keys) is None
    assert plan.stale(pull(head_ref="pinlock/gone"), NAMING, OLD, keys) == (
        "gone", "pinlock: closing, main's lock has no input or group named 'gone' any more, "
        "so there is nothing to update on this branch.")
    assert plan.stale(pull(head_ref="pinlock/uv"), NAMING, OLD, keys) == (
        "uv", "pinlock: closing, uv is now updated with group tools on pinlock/tools.")


def test_a_stale_branch_with_foreign_commits_is_kept() -> None:
    pr = pull(3, head_ref="pinlock/gone")
    gone = plan.close_stale(pr, "gone", "why.", HEAD_SHA, foreign=False)
    assert (gone.delete, gone.done().detail, gone.done().inputs) == (HEAD_SHA, "why.", ())
    kept = plan.close_stale(pr, "gone", "why.", HEAD_SHA, foreign=True)
    assert kept.delete is None
    assert kept.done().detail == ("why. The branch pinlock/gone holds commits pinlock did not "
                                  "make: kept.")
    assert kept.would().detail == "why."  # a dry run does not look that far
    assert plan.close_stale(pr, "gone", "why.", None, foreign=False).delete is None


# ------------------------------------------------------------------ the executor


class _Untouchable:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a dry run used {name}")


@pytest.mark.parametrize("decision", [
    plan.no_update(seen()),
    plan.no_update(seen(head_sha=HEAD_SHA, pr=pull())),
    plan.leave_foreign(seen(head_sha=HEAD_SHA, pr=pull()), ["c" * 40]),
    plan.offer(seen(), "title", "body", NEW_SHA, same=False),
    plan.offer(seen(head_sha=HEAD_SHA, pr=pull()), "title", "body", NEW_SHA, same=False),
    plan.close_stale(pull(head_ref="pinlock/gone"), "gone", "why.", HEAD_SHA, foreign=False),
])
def test_a_dry_run_reports_and_touches_nothing(decision: plan.Decision) -> None:
    nothing = _Untouchable()  # stands in for git and GitHub: any use fails the test
    effects = Executor(cast(Git, nothing), cast(PullsClient, nothing), PrOptions(), "main",
                       dry_run=True)
    assert effects.carry_out(decision) == decision.would()
    assert effects.pushes == 0 and not effects.keeps_commits


def test_naming_round_trips_a_key_only_for_its_base() -> None:
    other = replace(NAMING, base="release-1")
    assert other.branch("debian") == "pinlock/debian@release-1"
    assert other.key("pinlock/debian@release-1") == "debian"
    assert other.key("pinlock/debian") is None and NAMING.key("pinlock/debian@x") is None
