"""`pinlock pr`: one branch, one commit and one pull request per input (or group) that can move.

For each unit (an input, or every input of a ``group``): make the update on a
throwaway worktree of the remote's base branch (with the same code as
`pinlock update`), commit it as pinlock, push it to ``<prefix><unit>`` and open
or update the branch's pull request. A branch that already holds exactly this
change is left alone (no push, no API write), so a scheduled job that finds
nothing new changes nothing. A run over the whole lock also closes pinlock's
open pull requests whose input or group is gone from the lock.

An update a person declined (its pull request closed without merging) is not
offered again: the body's hidden target marker says what the pull request moved
to, and a closed, unmerged pull request of the branch with the same target makes
the unit ``declined``. A newer target opens a new pull request as usual.

Faults leave nothing half-made: a branch pushed for a pull request that could
not be opened is deleted again (or put back where it was), and the worktree is
always removed. A dry run takes every decision of a real run, from the same
fetched state, and only reports it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pinlock import app, grammar, lockfile, output
from pinlock.app import Options
from pinlock.changes import Change
from pinlock.errors import PinlockError, UsageError
from pinlock.files import is_scratch
from pinlock.grammar import GrammarError
from pinlock.kinds import kind_of
from pinlock.model import Lock
from pinlock.pr import body as pr_body
from pinlock.pr.git import Author, DirtyTreeError, Git, GitError, repository_from_url
from pinlock.pr.pulls import PullRequest, PullsClient
from pinlock.sources.github.errors import RateLimitError
from pinlock.values import require

FOREIGN_MARKER = "<!-- pinlock:foreign {sha} -->"
_FOREIGN_MARK = FOREIGN_MARKER.split("{", 1)[0]


@dataclass(frozen=True)
class PrOptions:
    """How `pinlock pr` talks to git and GitHub; every field has a CLI option."""

    remote: str = "origin"
    base: str | None = None  # default: the branch checked out
    prefix: str = "pinlock/"
    author: Author = field(default_factory=Author)
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    repository: str | None = None  # default: GITHUB_REPOSITORY, else the remote's URL
    group: str | None = None  # only this group's pull request
    dry_run: bool = False


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


@dataclass
class PrResult:
    actions: list[PrAction] = field(default_factory=list)
    failures: list[tuple[str, PinlockError]] = field(default_factory=list)
    pushes: int = 0
    api_writes: int = 0
    dry_run: bool = False


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


def check_branches(git: Git, naming: Naming, units: Sequence[Unit]) -> None:
    """Every unit's branch must be a name git takes as it is: a usage error (exit 2) before
    anything is pushed or asked of GitHub, naming the first one that is not."""
    if not naming.prefix.strip():
        raise UsageError("the branch prefix is empty",
                         hint="pass --branch-prefix, e.g. pinlock/")
    for unit in units:
        name = naming.branch(unit.key)
        try:
            grammar.git_branch(name)
        except GrammarError as exc:
            raise UsageError(f"{exc} (prefix {naming.prefix!r}, unit {unit.key!r})",
                             hint="pick another --branch-prefix") from None
        if not git.check_branch_name(name):
            raise UsageError(f"{name!r} is not a valid git branch name "
                             f"(prefix {naming.prefix!r}, unit {unit.key!r})",
                             hint="pick another --branch-prefix: `git check-ref-format "
                             "--branch NAME` tells which names git takes")


def _token(environ: Mapping[str, str]) -> str | None:
    return ((environ.get("GITHUB_TOKEN") or "").strip()
            or (environ.get("GH_TOKEN") or "").strip() or None)


def _rel(path: Path, cwd: Path, root: Path, what: str) -> Path:
    full = (cwd / path).resolve()
    try:
        return full.relative_to(root.resolve())
    except ValueError:
        raise UsageError(f"{what} {full} is outside the git repository {root}") from None


def _remote_base(git: Git, remote: str, base: str) -> str:
    """The commit the fetched base branch is at; an error when the remote has no such branch."""
    sha = git.rev(f"refs/remotes/{remote}/{base}")
    if sha is None:
        raise GitError(f"the remote {remote!r} has no branch {base!r}",
                       hint="push the base branch first, or pass --base")
    return sha


def _lock_at(git: Git, remote: str, base: str, rel_lock: Path) -> Lock:
    """The lock file as the remote's base branch has it."""
    ref = f"refs/remotes/{remote}/{base}"
    _remote_base(git, remote, base)
    where = f"{remote}/{base}:{rel_lock.as_posix()}"
    text = git.run("show", f"{ref}:{rel_lock.as_posix()}", check=False)
    if not text:
        raise UsageError(f"{where}: no lock file on the base branch",
                         hint="commit and push image.lock.toml (pinlock init) first")
    return lockfile.load_fast(text + "\n", where)


def run_pr(cwd: Path, dockerfile: Path | None, lock_path: Path, names: list[str] | None,
           options: Options, pr: PrOptions, *, pulls: PullsClient | None = None,
           environ: Mapping[str, str] | None = None) -> PrResult:
    """Open, update or close one pull request per unit; see the module docstring."""
    env = os.environ if environ is None else environ
    git = Git(cwd, token=_token(env))
    root = git.toplevel()
    # pinlock's own lock and temp files, left by a run killed with SIGKILL, are not changes
    dirty = [p for p in git.dirty() if not is_scratch(p)]
    if dirty:
        shown = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
        raise DirtyTreeError(f"the working tree {root} has uncommitted changes: {shown}",
                             hint="commit or stash them, then run pinlock pr again")
    base = pr.base or git.current_branch()
    if not base:
        raise UsageError("HEAD is detached: cannot tell the base branch",
                         hint="pass --base BRANCH")
    repository = pr.repository or (env.get("GITHUB_REPOSITORY") or "").strip() or None
    if repository is None:
        repository = repository_from_url(git.remote_url(pr.remote))
    if repository is None or repository.count("/") != 1:
        raise UsageError(f"cannot tell the GitHub repository from remote {pr.remote!r}",
                         hint="set GITHUB_REPOSITORY=owner/name or pass --repository")
    rel_lock = _rel(lock_path, cwd, root, "the lock file")
    rel_df = _rel(dockerfile, cwd, root, "the Dockerfile") if dockerfile else None
    project = app.open_project(root / rel_df if rel_df else None, root / rel_lock,
                               keep_document=False)
    assert project.lock is not None
    units = plan_units(project.lock, names, pr.group)
    whole_lock = not names and pr.group is None
    # Bad branch names are refused before the remote is asked anything.
    check_branches(git, Naming(pr.prefix, base, None), units)
    # A dry run fetches too (it only updates remote-tracking refs): it decides from the
    # same state a real run would.
    git.fetch(pr.remote, [
        f"+refs/heads/{base}:refs/remotes/{pr.remote}/{base}",
        f"+refs/heads/{pr.prefix}*:refs/remotes/{pr.remote}/{pr.prefix}*",
    ])
    naming = Naming(pr.prefix, base, git.remote_head(pr.remote))
    # Branches are made from the remote's base, so its lock says what there is to do
    # (the checkout may be behind it); the local one was only checked early.
    lock = _lock_at(git, pr.remote, base, rel_lock)
    units = plan_units(lock, names, pr.group)
    check_branches(git, naming, units)

    own_http = None
    if pulls is None:
        from pinlock.http import make_client
        from pinlock.sources.github.api import GitHubClient

        own_http = make_client()
        pulls = PullsClient(GitHubClient.from_env(own_http, env), repository)
    runner = _Runner(git, root, rel_lock, rel_df, naming, options, pr, pulls)
    try:
        for unit in units:
            try:
                runner.result.actions.append(runner.one(unit))
                output.decided(unit.key, f"pull request: {runner.result.actions[-1].action}")
            except RateLimitError as exc:
                # GitHub asks for no more requests until the limit resets: stop here.
                runner.result.failures.append((unit.key, exc))
                whole_lock = False
                break
            except PinlockError as exc:
                runner.result.failures.append((unit.key, exc))
        if whole_lock:
            try:
                runner.close_stale(lock, {u.key for u in units})
            except PinlockError as exc:
                runner.result.failures.append(("(stale pull requests)", exc))
    finally:
        if own_http is not None:
            own_http.close()
    runner.result.api_writes = pulls.writes
    return runner.result


class _Runner:
    def __init__(self, git: Git, root: Path, rel_lock: Path, rel_df: Path | None,
                 naming: Naming, options: Options, pr: PrOptions, pulls: PullsClient) -> None:
        self.git, self.root, self.rel_lock, self.rel_df = git, root, rel_lock, rel_df
        self.naming, self.base = naming, naming.base
        self.options, self.pr, self.pulls = options, pr, pulls
        self.result = PrResult(dry_run=pr.dry_run)

    # ------------------------------------------------------------ pieces

    def _command(self, changes: Sequence[Change]) -> str:
        """The command that makes the same change locally: exact versions, not "newest"."""
        opts = ""
        if self.rel_lock != Path("image.lock.toml"):
            opts += f" --lockfile {self.rel_lock}"
        if self.rel_df is not None:
            opts += f" --dockerfile {self.rel_df}"
        steps = []
        for c in changes:
            if c.digest_moved:  # no version to name: update re-reads the tag
                steps.append(f"pinlock update {c.input}{opts}")
            elif c.from_version == c.to_version:
                steps.append(f"pinlock lock {c.input}{opts}")
            else:
                steps.append(f"pinlock bump {c.input} {pr_body.bump_version(c.new)}{opts}")
        return " && ".join(steps)

    def _body(self, changes: Sequence[Change]) -> str:
        notes: dict[str, str] = {}
        for c in changes:
            url = kind_of(c.new).notes_url(c.new)
            if url is not None:
                notes[c.input] = url
        return pr_body.render(changes, command=self._command(changes), notes_urls=notes)

    def _update(self, top: Path, unit: Unit) -> list[Change]:
        # A throwaway worktree: written also in a dry run, which then only reports.
        result = app.update_inputs(top / self.rel_df if self.rel_df else None,
                                   top / self.rel_lock, list(unit.inputs), self.options)
        if result.failures:
            raise result.failures[0][1]
        return result.changes

    def _ours(self, author_email: str, committer_email: str, subject: str) -> bool:
        email = self.pr.author.email
        return author_email == email and committer_email == email and subject.startswith(
            "pinlock: ")

    def _foreign_commits(self, base_sha: str, head_sha: str) -> list[str]:
        return [c[0] for c in self.git.commits(base_sha, head_sha)
                if not self._ours(c[1], c[2], c[3])]

    @contextmanager
    def _worktree(self, commit: str) -> Iterator[Git]:
        """A detached worktree at ``commit`` in a temporary folder; always removed.

        In a dry run its new objects (the commit pinlock would push) go to a
        temporary object store, so the repository is left as it was.
        """
        tmp = Path(tempfile.mkdtemp(prefix="pinlock-pr-"))
        top = tmp / "tree"
        env: dict[str, str] = {}
        if self.pr.dry_run:
            common = self.git.run("rev-parse", "--path-format=absolute", "--git-common-dir")
            (tmp / "objects").mkdir()
            env = {"GIT_OBJECT_DIRECTORY": str(tmp / "objects"),
                   "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(Path(common) / "objects")}
        try:
            self.git.run("worktree", "add", "--quiet", "--detach", str(top), commit)
            yield Git(top, token=self.git.token, env=env)
        finally:
            self.git.run("worktree", "remove", "--force", str(top), check=False)
            self.git.run("worktree", "prune", check=False)
            shutil.rmtree(tmp, ignore_errors=True)

    def _commit(self, wt: Git, title: str) -> str:
        wt.run("add", "--all", "--", ".")
        a = self.pr.author
        wt.run("commit", "--quiet", "--no-verify", "-m", title, "-m",
               "Made by pinlock; see the pull request for where every value came from.",
               env={"GIT_AUTHOR_NAME": a.name, "GIT_AUTHOR_EMAIL": a.email,
                    "GIT_COMMITTER_NAME": a.name, "GIT_COMMITTER_EMAIL": a.email})
        return wt.run("rev-parse", "HEAD")

    # ------------------------------------------------------------ one unit

    def one(self, unit: Unit) -> PrAction:
        """Decide what ``unit`` needs and do it; a dry run takes the same decisions and
        stops before the first push or API write, reporting what it would do."""
        branch = self.naming.branch(unit.key)
        remote = self.pr.remote
        base_sha = _remote_base(self.git, remote, self.base)
        head_sha = self.git.rev(f"refs/remotes/{remote}/{branch}")
        open_pr = self.pulls.open_for(branch, self.base)
        if head_sha is not None:
            foreign = self._foreign_commits(base_sha, head_sha)
            if foreign:
                return self._foreign(unit, branch, open_pr, head_sha, foreign)
        with self._worktree(base_sha) as wt:
            changes = self._update(wt.cwd, unit)
            if not changes:
                return self._not_needed(unit, branch, open_pr, head_sha)
            declined = None if open_pr is not None else self._declined(unit, branch, changes)
            if declined is not None:
                return declined
            title = pr_body.title(changes, group=unit.group)
            body = self._body(changes)
            require("pull request", [("title", title, grammar.pr_title),
                                     ("body", body, grammar.pr_body)])
            new_sha = self._commit(wt, title)
            # The branch is rewritten from the base, never merged: when the base moved, or
            # upstream moved again, the one pinlock commit is made anew on the base's tip.
            same = (head_sha is not None and wt.tree(head_sha) == wt.tree(new_sha)
                    and wt.parents(head_sha) == [base_sha])
        if self.pr.dry_run:
            return self._would(unit, branch, open_pr, title, body, same=same)
        pushed = False
        if not same:
            # Force, but only over the commit we saw: a push made meanwhile is not lost.
            self.git.push(remote, f"{new_sha}:refs/heads/{branch}", lease=head_sha or "")
            self.result.pushes += 1
            pushed = True
        if open_pr is not None:
            return self._refresh(unit, branch, open_pr, title, body, pushed=pushed)
        try:
            created = self._create(branch, title, body)
        except BaseException:
            if pushed:
                self._undo_push(branch, head_sha, new_sha)
            raise
        # The pull request exists now: a label or reviewer GitHub refuses (a reviewer
        # who is no collaborator gets 422) is a warning, never a reason to undo it.
        return PrAction(unit.key, branch, "opened", detail=self._decorate(created.number),
                        title=title, body=body, number=created.number, url=created.html_url,
                        inputs=unit.inputs)

    def _undo_push(self, branch: str, before: str | None, pushed: str) -> None:
        """No branch without its pull request: a new branch goes away, one that was there
        (every commit on it pinlock's, checked above) is put back where it was."""
        with contextlib.suppress(PinlockError):
            if before is None:
                self.git.delete_remote_branch(self.pr.remote, branch, lease=pushed)
            else:
                self.git.push(self.pr.remote, f"{before}:refs/heads/{branch}", lease=pushed)
            self.result.pushes += 1

    def _would(self, unit: Unit, branch: str, open_pr: PullRequest | None, title: str,
               body: str, *, same: bool) -> PrAction:
        if open_pr is None:
            action = "would-open"
        elif not same or (open_pr.title, open_pr.body) != (title, body):
            action = "would-update"
        else:
            action = "unchanged"
        return PrAction(unit.key, branch, action, title=title, body=body,
                        number=open_pr.number if open_pr else None,
                        url=open_pr.html_url if open_pr else None, inputs=unit.inputs)

    def _create(self, branch: str, title: str, body: str) -> PullRequest:
        try:
            return self.pulls.create(branch=branch, base=self.base, title=title, body=body)
        except PinlockError:
            # A create that failed on the way back (a 502 after GitHub made it, then a 422
            # on the retry) may still have opened the pull request: adopt it if so.
            try:
                found = self.pulls.open_for(branch, self.base)
            except PinlockError:
                found = None
            if found is None:
                raise
            if (found.title, found.body) != (title, body):
                self.pulls.update(found.number, title=title, body=body)
            return found

    def _decorate(self, number: int) -> str:
        """Labels and reviewers of a new pull request; what GitHub refused, as a warning."""
        warnings = []
        for what, call, values in (("labels", self.pulls.add_labels, self.pr.labels),
                                   ("reviewers", self.pulls.request_reviewers,
                                    self.pr.reviewers)):
            try:
                call(number, values)
            except PinlockError as exc:
                warnings.append(f"warning: GitHub did not take the {what} "
                                f"{', '.join(values)}: {exc}")
        return "; ".join(warnings)

    def _refresh(self, unit: Unit, branch: str, open_pr: PullRequest, title: str, body: str,
                 *, pushed: bool) -> PrAction:
        if open_pr.title != title or open_pr.body != body:
            self.pulls.update(open_pr.number, title=title, body=body)
            action = "updated"
        else:
            action = "updated" if pushed else "unchanged"
        return PrAction(unit.key, branch, action, title=title, body=body,
                        number=open_pr.number, url=open_pr.html_url, inputs=unit.inputs)

    def _close(self, pull: PullRequest, why: str) -> None:
        self.pulls.comment(pull.number, why)
        # pinlock withdrawing its own pull request declines nothing: drop its target, so
        # the same update can be offered again if it is ever needed again.
        body = pr_body.withdraw_target(pull.body)
        self.pulls.close(pull.number, body=body if body != pull.body else None)

    def _declined(self, unit: Unit, branch: str, changes: Sequence[Change]) -> PrAction | None:
        """A person closed, without merging, a pull request of this branch that moved to
        exactly this target: do not offer it again (a newer target is a new offer)."""
        want = pr_body.target(changes)
        for closed in self.pulls.closed_for(branch, self.base):
            if closed.merged_at is not None or pr_body.target_of(closed.body) != want:
                continue
            # Closed while it held commits pinlock did not make: closing was how people
            # got the branch back, not a "no" to the update.
            if any(_FOREIGN_MARK in c for c in self.pulls.comments(closed.number)):
                continue
            return PrAction(
                unit.key, branch, "declined",
                detail=f"#{closed.number} offered this update and was closed without "
                "merging; a newer version or digest opens a new pull request",
                title=pr_body.title(changes, group=unit.group), number=closed.number,
                url=closed.html_url or None, inputs=unit.inputs)
        return None

    def _not_needed(self, unit: Unit, branch: str, open_pr: PullRequest | None,
                    head_sha: str | None) -> PrAction:
        if open_pr is None and head_sha is None:
            return PrAction(unit.key, branch, "up-to-date", inputs=unit.inputs)
        what = (f"the inputs of group {unit.key} no longer need an update" if unit.group
                else f"{unit.key} no longer needs an update")
        why = (f"pinlock: closing, {what}: {self.base} already has the newest version "
               "its intent allows.")
        if self.pr.dry_run:
            return PrAction(unit.key, branch, "would-close", detail=why,
                            number=open_pr.number if open_pr else None, inputs=unit.inputs)
        if open_pr is not None:
            self._close(open_pr, why)
        if head_sha is not None:
            self.git.delete_remote_branch(self.pr.remote, branch, lease=head_sha)
            self.result.pushes += 1
        return PrAction(unit.key, branch, "closed", detail=why,
                        number=open_pr.number if open_pr else None, inputs=unit.inputs)

    def _foreign(self, unit: Unit, branch: str, open_pr: PullRequest | None, head_sha: str,
                 foreign: list[str]) -> PrAction:
        detail = (f"{branch} has {len(foreign)} commit(s) pinlock did not make "
                  f"({', '.join(s[:12] for s in foreign)}); leaving it alone")
        if open_pr is not None and not self.pr.dry_run:
            marker = FOREIGN_MARKER.format(sha=head_sha)
            # Say it once per branch state, not on every scheduled run. Closing the pull
            # request would not help: the commits stay, and pinlock still keeps off them.
            if not any(marker in c for c in self.pulls.comments(open_pr.number)):
                self.pulls.comment(open_pr.number, f"{marker}\npinlock: {detail}. To let "
                                   "pinlock update it again, delete the branch (or remove "
                                   "the commits pinlock did not make from it).")
        return PrAction(unit.key, branch, "skipped", detail=detail,
                        number=open_pr.number if open_pr else None, inputs=unit.inputs)

    # ------------------------------------------------------------ stale pull requests

    def close_stale(self, lock: Lock, keys: set[str]) -> None:
        """Close pinlock's open pull requests whose branch names no input or group any more.

        Only pull requests that carry pinlock's marker and come from this
        repository are touched; the branch is deleted only when every commit on
        it is pinlock's.
        """
        prefix = self.pr.prefix
        for open_pr in self.pulls.open_with_prefix(prefix, self.base):
            key = self.naming.key(open_pr.head_ref)
            if key is None or key in keys or pr_body.MARKER not in open_pr.body:
                continue
            branch = open_pr.head_ref
            inp = lock.inputs.get(key)
            if inp is not None and inp.intent.group is not None:
                reason = (f"{key} is now updated with group {inp.intent.group} on "
                          f"{self.naming.branch(inp.intent.group)}")
            else:
                reason = (f"{self.base}'s lock has no input or group named {key!r} any more, "
                          "so there is nothing to update on this branch")
            why = f"pinlock: closing, {reason}."
            if self.pr.dry_run:
                self.result.actions.append(PrAction(key, branch, "would-close", detail=why,
                                                    number=open_pr.number))
                continue
            self._close(open_pr, why)
            detail = why
            head_sha = self.git.rev(f"refs/remotes/{self.pr.remote}/{branch}")
            base_sha = _remote_base(self.git, self.pr.remote, self.base)
            if head_sha is not None:
                if self._foreign_commits(base_sha, head_sha):
                    detail += f" The branch {branch} holds commits pinlock did not make: kept."
                else:
                    self.git.delete_remote_branch(self.pr.remote, branch, lease=head_sha)
                    self.result.pushes += 1
            self.result.actions.append(PrAction(key, branch, "closed", detail=detail,
                                                number=open_pr.number))
