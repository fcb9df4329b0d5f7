"""What `pinlock pr` decides for each unit, from fetched state: pure values, no git or network."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass

from pinlock.changes import Change
from pinlock.errors import UsageError
from pinlock.model import Lock
from pinlock.pr import body as pr_body
from pinlock.pr.pulls import PullRequest

FOREIGN_MARKER = "<!-- pinlock:foreign {sha} -->"
_FOREIGN_MARK = FOREIGN_MARKER.split("{", 1)[0]
# A commit is pinlock's when pinlock's identity authored and committed it with this subject.
_SUBJECT = "pinlock: "


@dataclass(frozen=True)
class Unit:
    """What one branch and pull request hold: one input, or every input of a group."""

    key: str  # the branch is <prefix><key>: the input's name, or the group's
    inputs: tuple[str, ...]
    group: str | None = None


@dataclass
class PrAction:
    """What happened (or, in a dry run, would happen) for one unit."""

    input: str  # the unit: an input name, or a group name
    branch: str
    # opened, updated, unchanged, closed, up-to-date, skipped, declined; a dry run says
    # would-open, would-update, would-close for the ones that change something
    action: str
    detail: str = ""
    title: str | None = None
    body: str | None = None
    number: int | None = None
    url: str | None = None
    inputs: tuple[str, ...] = ()


def plan_units(lock: Lock, names: Sequence[str] | None, group: str | None) -> list[Unit]:
    """The units a run works on, in key order. Bad names or groups are usage errors (exit 2).

    An input with a ``group`` is always updated on its group's branch, also
    when it is named, so what a branch holds never depends on how the run was
    started and two runs never fight over one branch.
    """
    groups = lock.groups()
    for g, members in groups.items():
        if g in lock.inputs and g not in members:
            raise UsageError(
                f"group {g!r} has the name of input {g!r}, which is not in it: both would use "
                f"the same branch", hint="rename the group in image.lock.toml")
    if group is not None and names:
        raise UsageError("pass input names or --group, not both")
    if group is not None:
        if group not in groups:
            known = ", ".join(groups) or "none"
            raise UsageError(f"unknown group {group!r} (groups in the lock: {known})",
                             hint='a group is the `group = "NAME"` key of inputs in '
                             "image.lock.toml")
        return [Unit(group, tuple(groups[group]), group)]
    units: dict[str, Unit] = {}
    for inp in lock.select(names):
        in_group = inp.intent.group
        if in_group is None:
            units[inp.name] = Unit(inp.name, (inp.name,))
        else:
            units[in_group] = Unit(in_group, tuple(groups[in_group]), in_group)
    return [units[k] for k in sorted(units)]


@dataclass(frozen=True)
class Naming:
    """Branch names: ``<prefix><key>``, and ``<prefix><key>@<base>`` for a base that is not
    the remote's default branch, so runs for ``main`` and ``release-1`` never share a
    branch. Input and group names cannot hold ``@``: no two units get one name."""

    prefix: str
    base: str
    default_base: str | None

    @property
    def suffix(self) -> str:
        return "" if self.default_base in (None, self.base) else f"@{self.base}"

    def branch(self, key: str) -> str:
        return f"{self.prefix}{key}{self.suffix}"

    def key(self, branch: str) -> str | None:
        """The unit a branch belongs to; None when it is not one of this base's branches."""
        if not branch.startswith(self.prefix) or not branch.endswith(self.suffix):
            return None
        key = branch[len(self.prefix):len(branch) - len(self.suffix)]
        return key if key and "@" not in key else None


# ------------------------------------------------------------------ facts


@dataclass(frozen=True)
class Seen:
    """One unit's branch as the run fetched it: what every decision about the unit starts from."""

    unit: Unit
    branch: str
    base: str  # the base branch's name
    base_sha: str
    head_sha: str | None  # None: the remote has no such branch
    pull: PullRequest | None  # the branch's open pull request into the base

    def action(self, action: str, *, detail: str = "", title: str | None = None,
               body: str | None = None, number: int | None = None,
               url: str | None = None) -> PrAction:
        return PrAction(self.unit.key, self.branch, action, detail=detail, title=title,
                        body=body, number=number, url=url, inputs=self.unit.inputs)


def foreign_commits(commits: Iterable[tuple[str, str, str, str]], email: str) -> list[str]:
    """The commits (sha, author email, committer email, subject) that pinlock did not make."""
    return [sha for sha, author, committer, subject in commits
            if not (author == email and committer == email and subject.startswith(_SUBJECT))]


# ------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class Idle:
    """Nothing to do on the remote: the unit is up to date, or its update was declined."""

    action: PrAction

    def would(self) -> PrAction:
        return self.action


@dataclass(frozen=True)
class LeaveAlone:
    """The branch holds commits pinlock did not make: touch nothing, and say so once (per
    branch state) on its open pull request."""

    action: PrAction  # skipped
    pull: PullRequest | None
    marker: str  # in the comment; a comment that has it was made for this branch state
    comment: str

    def would(self) -> PrAction:
        return self.action


@dataclass(frozen=True)
class Close:
    """Close the pull request with a comment that says why, then delete the branch."""

    key: str
    branch: str
    why: str
    pull: PullRequest | None
    delete: str | None  # the commit the branch is deleted at (the push's lease); None: keep
    kept: str = ""  # appended to ``why`` once closed, when the branch stays
    inputs: tuple[str, ...] = ()

    def _action(self, action: str, detail: str) -> PrAction:
        return PrAction(self.key, self.branch, action, detail=detail,
                        number=self.pull.number if self.pull else None, inputs=self.inputs)

    def would(self) -> PrAction:
        return self._action("would-close", self.why)

    def done(self) -> PrAction:
        return self._action("closed", self.why + self.kept)


@dataclass(frozen=True)
class Offer:
    """Push the update's commit unless the branch holds it already, then open the pull
    request, or bring the open one's title and body up to date."""

    seen: Seen
    title: str
    body: str
    commit: str  # made on the base's tip; pushed over ``seen.head_sha``
    push: bool

    @property
    def edit(self) -> bool:
        """The open pull request's title or body is not this update's."""
        pull = self.seen.pull
        return pull is not None and (pull.title, pull.body) != (self.title, self.body)

    def action(self, action: str, pull: PullRequest | None, detail: str = "") -> PrAction:
        return self.seen.action(action, detail=detail, title=self.title, body=self.body,
                                number=pull.number if pull else None,
                                url=pull.html_url if pull else None)

    def refreshed(self) -> PrAction:
        """The open pull request, after the push and the edit this offer needs."""
        return self.action("updated" if self.push or self.edit else "unchanged", self.seen.pull)

    def would(self) -> PrAction:
        if self.seen.pull is None:
            return self.action("would-open", None)
        return self.action("would-update" if self.push or self.edit else "unchanged",
                           self.seen.pull)


Decision = Idle | LeaveAlone | Close | Offer


def leave_foreign(seen: Seen, foreign: Sequence[str]) -> LeaveAlone | None:
    """A branch with commits pinlock did not make is a person's now: pinlock keeps off it."""
    if not foreign or seen.head_sha is None:
        return None
    detail = (f"{seen.branch} has {len(foreign)} commit(s) pinlock did not make "
              f"({', '.join(s[:12] for s in foreign)}); leaving it alone")
    marker = FOREIGN_MARKER.format(sha=seen.head_sha)
    # Closing the pull request would not help: the commits stay, and pinlock still keeps
    # off them. Deleting the branch, or the commits, does.
    comment = (f"{marker}\npinlock: {detail}. To let pinlock update it again, delete the "
               "branch (or remove the commits pinlock did not make from it).")
    return LeaveAlone(seen.action("skipped", detail=detail,
                                  number=seen.pull.number if seen.pull else None),
                      seen.pull, marker, comment)


def no_update(seen: Seen) -> Idle | Close:
    """The base already has the newest versions: close what is left of an earlier offer."""
    if seen.pull is None and seen.head_sha is None:
        return Idle(seen.action("up-to-date"))
    unit = seen.unit
    what = (f"the inputs of group {unit.key} no longer need an update" if unit.group
            else f"{unit.key} no longer needs an update")
    why = (f"pinlock: closing, {what}: {seen.base} already has the newest version "
           "its intent allows.")
    return Close(unit.key, seen.branch, why, seen.pull, seen.head_sha, inputs=unit.inputs)


def declined(seen: Seen, changes: Sequence[Change], closed: Iterable[PullRequest],
             comments: Callable[[int], Sequence[str]]) -> Idle | None:
    """A person closed, without merging, a pull request of this branch that moved to
    exactly this target: do not offer it again (a newer target is a new offer).

    ``closed`` are the branch's closed pull requests, newest first; ``comments`` gives
    a pull request's comments, asked only of the ones that moved to this target.
    """
    want = pr_body.target(changes)
    for pull in closed:
        if pull.merged_at is not None or pr_body.target_of(pull.body) != want:
            continue
        # Closed while it held commits pinlock did not make: closing was how people
        # got the branch back, not a "no" to the update.
        if any(_FOREIGN_MARK in c for c in comments(pull.number)):
            continue
        return Idle(seen.action(
            "declined",
            detail=f"#{pull.number} offered this update and was closed without "
            "merging; a newer version or digest opens a new pull request",
            title=pr_body.title(changes, group=seen.unit.group), number=pull.number,
            url=pull.html_url or None))
    return None


def offer(seen: Seen, title: str, body: str, commit: str, *, same: bool) -> Offer:
    """Offer the update; ``same``: the branch already holds this commit's tree on the
    base's tip, so nothing is pushed."""
    return Offer(seen, title, body, commit, push=not same)


def stale(pull: PullRequest, naming: Naming, lock: Lock,
          keys: Set[str]) -> tuple[str, str] | None:
    """The unit and the reason when ``pull``, one of pinlock's open pull requests, holds no
    unit of this run's lock any more; None when it is not pinlock's or not stale."""
    key = naming.key(pull.head_ref)
    if key is None or key in keys or pr_body.MARKER not in pull.body:
        return None
    inp = lock.inputs.get(key)
    if inp is not None and inp.intent.group is not None:
        reason = (f"{key} is now updated with group {inp.intent.group} on "
                  f"{naming.branch(inp.intent.group)}")
    else:
        reason = (f"{naming.base}'s lock has no input or group named {key!r} any more, "
                  "so there is nothing to update on this branch")
    return key, f"pinlock: closing, {reason}."


def close_stale(pull: PullRequest, key: str, why: str, head_sha: str | None, *,
                foreign: bool) -> Close:
    """Close a stale pull request; its branch goes too, unless it holds a person's commits."""
    branch = pull.head_ref
    kept = f" The branch {branch} holds commits pinlock did not make: kept." if (
        head_sha is not None and foreign) else ""
    return Close(key, branch, why, pull, None if foreign else head_sha, kept=kept)
