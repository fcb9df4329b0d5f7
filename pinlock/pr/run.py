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

What to do is decided in ``pinlock.pr.plan`` (pure values); this module reads
the state the decisions start from and carries them out (``Executor``).
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
from pinlock.pr import plan
from pinlock.pr.git import Author, DirtyTreeError, Git, GitError, repository_from_url
from pinlock.pr.plan import FOREIGN_MARKER, Naming, PrAction, Unit, plan_units
from pinlock.pr.pulls import PullRequest, PullsClient
from pinlock.sources.github.errors import RateLimitError
from pinlock.values import require

# Unit, PrAction, plan_units, Naming and FOREIGN_MARKER live in pinlock.pr.plan now;
# they stay importable from here.
__all__ = [
    "FOREIGN_MARKER",
    "Executor",
    "Naming",
    "PrAction",
    "PrOptions",
    "PrResult",
    "Unit",
    "check_branches",
    "plan_units",
    "run_pr",
]


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


@dataclass
class PrResult:
    actions: list[PrAction] = field(default_factory=list)
    failures: list[tuple[str, PinlockError]] = field(default_factory=list)
    pushes: int = 0
    api_writes: int = 0
    dry_run: bool = False


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
    # The one place a dry run differs: the executor reports what it would do.
    effects = Executor(git, pulls, pr, naming.base, dry_run=pr.dry_run)
    runner = _Runner(git, rel_lock, rel_df, naming, options, pr, pulls, effects)
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
    runner.result.pushes = effects.pushes
    runner.result.api_writes = pulls.writes
    return runner.result


class Executor:
    """Carries out one decision with git and the GitHub API, or, in a dry run, only reports
    what it would do: the one switch between the two."""

    def __init__(self, git: Git, pulls: PullsClient, pr: PrOptions, base: str, *,
                 dry_run: bool) -> None:
        self.git, self.pulls, self.base, self.dry_run = git, pulls, base, dry_run
        self.remote, self.labels, self.reviewers = pr.remote, pr.labels, pr.reviewers
        self.pushes = 0

    @property
    def keeps_commits(self) -> bool:
        """Whether a commit made for a decision may stay in the repository (to be pushed)."""
        return not self.dry_run

    def carry_out(self, decision: plan.Decision) -> PrAction:
        if self.dry_run:
            return decision.would()
        if isinstance(decision, plan.Idle):
            return decision.action
        if isinstance(decision, plan.LeaveAlone):
            return self._leave_alone(decision)
        if isinstance(decision, plan.Close):
            return self._close(decision)
        return self._offer(decision)

    def _leave_alone(self, d: plan.LeaveAlone) -> PrAction:
        # Say it once per branch state, not on every scheduled run.
        if d.pull is not None and not any(d.marker in c
                                          for c in self.pulls.comments(d.pull.number)):
            self.pulls.comment(d.pull.number, d.comment)
        return d.action

    def _close(self, d: plan.Close) -> PrAction:
        if d.pull is not None:
            self.pulls.comment(d.pull.number, d.why)
            # pinlock withdrawing its own pull request declines nothing: drop its target, so
            # the same update can be offered again if it is ever needed again.
            body = pr_body.withdraw_target(d.pull.body)
            self.pulls.close(d.pull.number, body=body if body != d.pull.body else None)
        if d.delete is not None:
            self.git.delete_remote_branch(self.remote, d.branch, lease=d.delete)
            self.pushes += 1
        return d.done()

    def _offer(self, d: plan.Offer) -> PrAction:
        branch, head_sha, pull = d.seen.branch, d.seen.head_sha, d.seen.pull
        if d.push:
            # Force, but only over the commit we saw: a push made meanwhile is not lost.
            self.git.push(self.remote, f"{d.commit}:refs/heads/{branch}", lease=head_sha or "")
            self.pushes += 1
        if pull is not None:
            if d.edit:
                self.pulls.update(pull.number, title=d.title, body=d.body)
            return d.refreshed()
        try:
            created = self._create(branch, d.title, d.body)
        except BaseException:
            if d.push:
                self._undo_push(branch, head_sha, d.commit)
            raise
        # The pull request exists now: a label or reviewer GitHub refuses (a reviewer
        # who is no collaborator gets 422) is a warning, never a reason to undo it.
        return d.action("opened", created, detail=self._decorate(created.number))

    def _undo_push(self, branch: str, before: str | None, pushed: str) -> None:
        """No branch without its pull request: a new branch goes away, one that was there
        (every commit on it pinlock's, checked above) is put back where it was."""
        with contextlib.suppress(PinlockError):
            if before is None:
                self.git.delete_remote_branch(self.remote, branch, lease=pushed)
            else:
                self.git.push(self.remote, f"{before}:refs/heads/{branch}", lease=pushed)
            self.pushes += 1

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
        for what, call, values in (("labels", self.pulls.add_labels, self.labels),
                                   ("reviewers", self.pulls.request_reviewers,
                                    self.reviewers)):
            try:
                call(number, values)
            except PinlockError as exc:
                warnings.append(f"warning: GitHub did not take the {what} "
                                f"{', '.join(values)}: {exc}")
        return "; ".join(warnings)


class _Runner:
    """Reads what each decision starts from, asks ``plan`` for it, and hands it to the
    executor."""

    def __init__(self, git: Git, rel_lock: Path, rel_df: Path | None, naming: Naming,
                 options: Options, pr: PrOptions, pulls: PullsClient,
                 effects: Executor) -> None:
        self.git, self.rel_lock, self.rel_df = git, rel_lock, rel_df
        self.naming, self.base = naming, naming.base
        self.options, self.pr, self.pulls, self.effects = options, pr, pulls, effects
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

    def _foreign_commits(self, base_sha: str, head_sha: str) -> list[str]:
        return plan.foreign_commits(self.git.commits(base_sha, head_sha), self.pr.author.email)

    @contextmanager
    def _worktree(self, commit: str) -> Iterator[Git]:
        """A detached worktree at ``commit`` in a temporary folder; always removed.

        When the executor only reports, its new objects (the commit pinlock would
        push) go to a temporary object store, so the repository is left as it was.
        """
        tmp = Path(tempfile.mkdtemp(prefix="pinlock-pr-"))
        top = tmp / "tree"
        env: dict[str, str] = {}
        if not self.effects.keeps_commits:
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
        seen = plan.Seen(unit, branch, self.base, base_sha,
                         self.git.rev(f"refs/remotes/{remote}/{branch}"),
                         self.pulls.open_for(branch, self.base))
        decision: plan.Decision | None = None
        if seen.head_sha is not None:
            decision = plan.leave_foreign(seen, self._foreign_commits(base_sha, seen.head_sha))
        if decision is None:
            with self._worktree(base_sha) as wt:
                decision = self._decide_update(wt, seen)
        return self.effects.carry_out(decision)

    def _decide_update(self, wt: Git, seen: plan.Seen) -> plan.Decision:
        """Make the update on the worktree at the base's tip and decide what it needs."""
        unit = seen.unit
        changes = self._update(wt.cwd, unit)
        if not changes:
            return plan.no_update(seen)
        if seen.pull is None:
            declined = plan.declined(seen, changes,
                                     self.pulls.closed_for(seen.branch, self.base),
                                     self.pulls.comments)
            if declined is not None:
                return declined
        title = pr_body.title(changes, group=unit.group)
        body = self._body(changes)
        require("pull request", [("title", title, grammar.pr_title),
                                 ("body", body, grammar.pr_body)])
        new_sha = self._commit(wt, title)
        # The branch is rewritten from the base, never merged: when the base moved, or
        # upstream moved again, the one pinlock commit is made anew on the base's tip.
        head_sha = seen.head_sha
        same = (head_sha is not None and wt.tree(head_sha) == wt.tree(new_sha)
                and wt.parents(head_sha) == [seen.base_sha])
        return plan.offer(seen, title, body, new_sha, same=same)

    # ------------------------------------------------------------ stale pull requests

    def close_stale(self, lock: Lock, keys: set[str]) -> None:
        """Close pinlock's open pull requests whose branch names no input or group any more.

        Only pull requests that carry pinlock's marker and come from this
        repository are touched; the branch is deleted only when every commit on
        it is pinlock's.
        """
        for open_pr in self.pulls.open_with_prefix(self.pr.prefix, self.base):
            found = plan.stale(open_pr, self.naming, lock, keys)
            if found is None:
                continue
            key, why = found
            head_sha = self.git.rev(f"refs/remotes/{self.pr.remote}/{open_pr.head_ref}")
            foreign = head_sha is not None and bool(self._foreign_commits(
                _remote_base(self.git, self.pr.remote, self.base), head_sha))
            decision = plan.close_stale(open_pr, key, why, head_sha, foreign=foreign)
            self.result.actions.append(self.effects.carry_out(decision))
