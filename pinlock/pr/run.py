"""`pinlock pr`: one branch, one commit and one pull request per input that can move.

For each input: make the update on a throwaway worktree of the remote's base
branch (with the same code as `pinlock update`), commit it as pinlock, push it
to ``<prefix><input>`` and open or update the branch's pull request. A branch
that already holds exactly this change is left alone (no push, no API write),
so a scheduled job that finds nothing new changes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pinlock import app
from pinlock.app import Change, Options
from pinlock.errors import PinlockError, UsageError
from pinlock.model import ReleaseInput
from pinlock.pr import body as pr_body
from pinlock.pr.git import Author, DirtyTreeError, Git, GitError, repository_from_url
from pinlock.pr.pulls import PullRequest, PullsClient

FOREIGN_MARKER = "<!-- pinlock:foreign {sha} -->"


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
    dry_run: bool = False


@dataclass
class PrAction:
    """What happened (or, in a dry run, would happen) for one input."""

    input: str
    branch: str
    action: str  # opened, updated, unchanged, closed, up-to-date, skipped; would-… in a dry run
    detail: str = ""
    title: str | None = None
    body: str | None = None
    number: int | None = None
    url: str | None = None


@dataclass
class PrResult:
    actions: list[PrAction] = field(default_factory=list)
    failures: list[tuple[str, PinlockError]] = field(default_factory=list)
    pushes: int = 0
    api_writes: int = 0
    dry_run: bool = False


def _token(environ: Mapping[str, str]) -> str | None:
    return ((environ.get("GITHUB_TOKEN") or "").strip()
            or (environ.get("GH_TOKEN") or "").strip() or None)


def _rel(path: Path, cwd: Path, root: Path, what: str) -> Path:
    full = (cwd / path).resolve()
    try:
        return full.relative_to(root.resolve())
    except ValueError:
        raise UsageError(f"{what} {full} is outside the git repository {root}") from None


def run_pr(cwd: Path, dockerfile: Path | None, lock_path: Path, names: list[str] | None,
           options: Options, pr: PrOptions, *, pulls: PullsClient | None = None,
           environ: Mapping[str, str] | None = None) -> PrResult:
    """Open, update or close one pull request per input; see the module docstring."""
    env = os.environ if environ is None else environ
    git = Git(cwd, token=_token(env))
    root = git.toplevel()
    dirty = git.dirty()
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
    wanted = [inp.name for inp in project.lock.select(names)]

    own_http = None
    if pulls is None:
        from pinlock.http import make_client
        from pinlock.sources.github.api import GitHubClient

        own_http = make_client()
        pulls = PullsClient(GitHubClient.from_env(own_http, env), repository)
    runner = _Runner(git, root, rel_lock, rel_df, base, options, pr, pulls)
    try:
        if not pr.dry_run:
            git.fetch(pr.remote, [
                f"+refs/heads/{base}:refs/remotes/{pr.remote}/{base}",
                f"+refs/heads/{pr.prefix}*:refs/remotes/{pr.remote}/{pr.prefix}*",
            ])
        for name in wanted:
            try:
                runner.result.actions.append(runner.one(name))
            except PinlockError as exc:
                runner.result.failures.append((name, exc))
    finally:
        if own_http is not None:
            own_http.close()
    runner.result.api_writes = pulls.writes
    return runner.result


class _Runner:
    def __init__(self, git: Git, root: Path, rel_lock: Path, rel_df: Path | None, base: str,
                 options: Options, pr: PrOptions, pulls: PullsClient) -> None:
        self.git, self.root, self.rel_lock, self.rel_df = git, root, rel_lock, rel_df
        self.base, self.options, self.pr, self.pulls = base, options, pr, pulls
        self.result = PrResult(dry_run=pr.dry_run)

    # ------------------------------------------------------------ pieces

    def _command(self, change: Change) -> str:
        cmd = f"pinlock bump {change.input} {change.to_version}"
        if self.rel_lock != Path("image.lock.toml"):
            cmd += f" --lockfile {self.rel_lock}"
        if self.rel_df is not None:
            cmd += f" --dockerfile {self.rel_df}"
        return cmd

    def _body(self, change: Change) -> str:
        notes: dict[str, str] = {}
        new = change.new
        if isinstance(new, ReleaseInput) and new.intent.download_url.startswith(
                "https://github.com/"):
            notes[change.input] = (f"https://github.com/{new.intent.repository}/releases/tag/"
                                   f"{new.locked.tag}")
        return pr_body.render([change], command=self._command(change), notes_urls=notes)

    def _update(self, top: Path, name: str) -> Change | None:
        result = app.update_inputs(top / self.rel_df if self.rel_df else None,
                                   top / self.rel_lock, [name],
                                   self.options, dry_run=self.pr.dry_run)
        if result.failures:
            raise result.failures[0][1]
        return result.changes[0] if result.changes else None

    def _ours(self, author_email: str, committer_email: str, subject: str) -> bool:
        email = self.pr.author.email
        return author_email == email and committer_email == email and subject.startswith(
            "pinlock: ")

    @contextmanager
    def _worktree(self, commit: str) -> Iterator[Path]:
        """A detached worktree at ``commit`` in a temporary folder; always removed."""
        tmp = Path(tempfile.mkdtemp(prefix="pinlock-pr-"))
        top = tmp / "tree"
        self.git.run("worktree", "add", "--quiet", "--detach", str(top), commit)
        try:
            yield top
        finally:
            self.git.run("worktree", "remove", "--force", str(top), check=False)
            self.git.run("worktree", "prune", check=False)
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------ one input

    def one(self, name: str) -> PrAction:
        branch = self.pr.prefix + name
        if self.pr.dry_run:
            return self._dry(name, branch)
        remote = self.pr.remote
        base_sha = self.git.rev(f"refs/remotes/{remote}/{self.base}")
        if base_sha is None:
            raise GitError(f"the remote {remote!r} has no branch {self.base!r}",
                           hint="push the base branch first, or pass --base")
        head_sha = self.git.rev(f"refs/remotes/{remote}/{branch}")
        open_pr = self.pulls.open_for(branch)
        if head_sha is not None:
            foreign = [c for c in self.git.commits(base_sha, head_sha)
                       if not self._ours(c[1], c[2], c[3])]
            if foreign:
                return self._foreign(name, branch, open_pr, head_sha, [c[0] for c in foreign])
        with self._worktree(base_sha) as top:
            change = self._update(top, name)
            if change is None:
                return self._not_needed(name, branch, open_pr, head_sha)
            title = pr_body.title(change)
            body = self._body(change)
            wt = Git(top, token=self.git.token)
            wt.run("add", "--all", "--", ".")
            a = self.pr.author
            wt.run("commit", "--quiet", "--no-verify", "-m", title, "-m",
                   "Made by pinlock; see the pull request for where every value came from.",
                   env={"GIT_AUTHOR_NAME": a.name, "GIT_AUTHOR_EMAIL": a.email,
                        "GIT_COMMITTER_NAME": a.name, "GIT_COMMITTER_EMAIL": a.email})
            new_sha = wt.run("rev-parse", "HEAD")
            same = (head_sha is not None
                    and self.git.tree(head_sha) == self.git.tree(new_sha)
                    and self.git.parents(head_sha) == [base_sha])
            pushed = False
            if not same:
                # Force, but only over the commit we saw: a push made meanwhile is not lost.
                self.git.push(remote, f"{new_sha}:refs/heads/{branch}", lease=head_sha or "")
                self.result.pushes += 1
                pushed = True
        try:
            return self._publish(name, branch, open_pr, title, body, pushed)
        except PinlockError:
            if pushed and head_sha is None:
                # No half-made branches: a new branch without its pull request goes away.
                self.git.delete_remote_branch(remote, branch, lease=new_sha)
            raise

    def _publish(self, name: str, branch: str, open_pr: PullRequest | None, title: str,
                 body: str, pushed: bool) -> PrAction:
        if open_pr is None:
            created = self.pulls.create(branch=branch, base=self.base, title=title, body=body)
            self.pulls.add_labels(created.number, self.pr.labels)
            self.pulls.request_reviewers(created.number, self.pr.reviewers)
            return PrAction(name, branch, "opened", title=title, body=body,
                            number=created.number, url=created.html_url)
        if open_pr.title != title or open_pr.body != body:
            self.pulls.update(open_pr.number, title=title, body=body)
            return PrAction(name, branch, "updated", title=title, body=body,
                            number=open_pr.number, url=open_pr.html_url)
        return PrAction(name, branch, "updated" if pushed else "unchanged", title=title,
                        body=body, number=open_pr.number, url=open_pr.html_url)

    def _not_needed(self, name: str, branch: str, open_pr: PullRequest | None,
                    head_sha: str | None) -> PrAction:
        if open_pr is None and head_sha is None:
            return PrAction(name, branch, "up-to-date")
        why = (f"pinlock: closing, {name} no longer needs an update: {self.base} already has "
               "the newest version its intent allows.")
        if open_pr is not None:
            self.pulls.comment(open_pr.number, why)
            self.pulls.close(open_pr.number)
        if head_sha is not None:
            self.git.delete_remote_branch(self.pr.remote, branch, lease=head_sha)
            self.result.pushes += 1
        return PrAction(name, branch, "closed", detail=why,
                        number=open_pr.number if open_pr else None)

    def _foreign(self, name: str, branch: str, open_pr: PullRequest | None, head_sha: str,
                 foreign: list[str]) -> PrAction:
        detail = (f"{branch} has {len(foreign)} commit(s) pinlock did not make "
                  f"({', '.join(s[:12] for s in foreign)}); leaving it alone")
        if open_pr is not None:
            marker = FOREIGN_MARKER.format(sha=head_sha)
            # Say it once per branch state, not on every scheduled run.
            if not any(marker in c for c in self.pulls.comments(open_pr.number)):
                self.pulls.comment(open_pr.number, f"{marker}\npinlock: {detail}. Delete the "
                                   "branch or close this pull request to let pinlock "
                                   "update it again.")
        return PrAction(name, branch, "skipped", detail=detail,
                        number=open_pr.number if open_pr else None)

    def _dry(self, name: str, branch: str) -> PrAction:
        change = self._update(self.root, name)
        open_pr = self.pulls.open_for(branch)
        if change is None:
            if open_pr is not None:
                return PrAction(name, branch, "would-close", number=open_pr.number,
                                detail=f"{name} no longer needs an update")
            return PrAction(name, branch, "up-to-date")
        title = pr_body.title(change)
        return PrAction(name, branch, "would-update" if open_pr else "would-open",
                        title=title, body=self._body(change),
                        number=open_pr.number if open_pr else None)
