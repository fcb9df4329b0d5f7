"""Real git through subprocess: the few plumbing commands `pinlock pr` needs, token kept out."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinlock.errors import PinlockError, UpstreamError

_TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")


class GitError(PinlockError):
    """A git command failed (bad repository state, a rejected push, …)."""

    detail: str = ""  # what git said, token scrubbed


class DirtyTreeError(GitError):
    """The working tree has changes that are not committed."""


class RemoteError(GitError, UpstreamError):
    """The git remote could not be reached, or refused a fetch or a push (exit code 3)."""


class PushRejectedError(RemoteError):
    """The remote refused a push."""


@dataclass(frozen=True)
class Author:
    name: str = "pinlock"
    email: str = "pinlock@users.noreply.github.com"


@dataclass
class Git:
    """git in one working tree. ``secrets`` are scrubbed from every message this class makes.

    The token reaches git only as ``-c http.extraheader=…`` on the one push or
    fetch that needs it: never in a remote URL or a config file, where it
    would be left behind on disk.
    """

    cwd: Path
    token: str | None = field(default=None, repr=False)
    env: Mapping[str, str] | None = None

    def _scrub(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<redacted>")
            text = text.replace(self._basic(), "<redacted>")
        return text

    def _basic(self) -> str:
        assert self.token is not None
        return base64.b64encode(f"x-access-token:{self.token}".encode()).decode()

    def run(self, *args: str, check: bool = True, auth: bool = False,
            input_text: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run ``git args…``; return stdout without the trailing newline."""
        pre: list[str] = []
        if auth and self.token:
            pre = ["-c", f"http.extraheader=AUTHORIZATION: basic {self._basic()}"]
        full_env = {**os.environ, **(self.env or {}), **(env or {}),
                    # Never wait for a password prompt in a scheduled job.
                    "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        # Hooks and helpers git starts (a local remote's pre-receive hook, too) inherit
        # the environment: the token reaches git only through the one header above.
        for name in _TOKEN_VARIABLES:
            full_env.pop(name, None)
        proc = subprocess.run(["git", *pre, *args], cwd=self.cwd, env=full_env,
                              capture_output=True, text=True, input=input_text, check=False)
        if check and proc.returncode != 0:
            shown = " ".join(args)
            # `push --porcelain` says why a ref was refused on stdout, the remote's
            # messages (a hook's reason) come on stderr: show both.
            lines = [line.rstrip() for line in (proc.stderr + "\n" + proc.stdout).splitlines()]
            detail = self._scrub("; ".join(line for line in lines if line and line != "Done"
                                           and not line.startswith("To ")))
            error = GitError(f"git {self._scrub(shown)} failed in {self.cwd} "
                             f"(exit {proc.returncode}): {detail}")
            error.detail = detail
            raise error
        return proc.stdout.rstrip("\n")

    # ------------------------------------------------------------ queries

    def toplevel(self) -> Path:
        return Path(self.run("rev-parse", "--show-toplevel"))

    def current_branch(self) -> str | None:
        name = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return name or None

    def dirty(self) -> list[str]:
        """Paths with uncommitted changes (untracked files included)."""
        out = self.run("status", "--porcelain", "--untracked-files=normal")
        return [line[3:] for line in out.splitlines() if line.strip()]

    def rev(self, ref: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False)
        return out or None

    def remote_url(self, remote: str) -> str:
        return self.run("remote", "get-url", remote)

    def commits(self, base: str, tip: str) -> list[tuple[str, str, str, str]]:
        """(sha, author email, committer email, subject) of commits in ``tip`` not in ``base``."""
        out = self.run("log", "--format=%H%x00%ae%x00%ce%x00%s", f"{base}..{tip}")
        rows = []
        for line in out.splitlines():
            sha, ae, ce, subject = line.split("\x00", 3)
            rows.append((sha, ae, ce, subject))
        return rows

    def tree(self, ref: str) -> str:
        return self.run("rev-parse", ref + "^{tree}")

    def parents(self, ref: str) -> list[str]:
        return self.run("rev-list", "--parents", "-n", "1", ref).split()[1:]

    # ------------------------------------------------------------ changes

    def fetch(self, remote: str, refspecs: Sequence[str]) -> None:
        try:
            self.run("fetch", "--quiet", "--prune", "--no-tags", remote, *refspecs, auth=True)
        except GitError as exc:
            raise RemoteError(f"git fetch from {remote} failed: {exc.detail}",
                              hint="check the remote's URL and that the token may read the "
                              "repository") from None

    def push(self, remote: str, refspec: str, *, lease: str | None = None) -> None:
        """Push one refspec; ``lease`` is the sha the remote branch must still have (or "")."""
        args = ["push", "--quiet", "--porcelain"]
        if lease is not None:
            dst = refspec.split(":", 1)[1]
            args.append(f"--force-with-lease={dst}:{lease}")
        try:
            self.run(*args, remote, refspec, auth=True)
        except GitError as exc:
            src, _, dst = refspec.partition(":")
            raise PushRejectedError(
                f"git push of {src[:12]} to {remote} {dst.removeprefix('refs/heads/')} "
                f"was rejected: {exc.detail}",
                hint="the remote refused it (branch protection, a hook, a token without "
                "`contents: write`, or someone pushed meanwhile); nothing was left behind, "
                "run pinlock pr again once that is fixed") from None

    def delete_remote_branch(self, remote: str, branch: str, *, lease: str) -> None:
        try:
            self.run("push", "--quiet", f"--force-with-lease=refs/heads/{branch}:{lease}",
                     remote, f":refs/heads/{branch}", auth=True)
        except GitError as exc:
            raise PushRejectedError(f"deleting {branch} on {remote} was refused: "
                                    f"{exc.detail}") from None


_REMOTE_RE = re.compile(
    r"(?:[:/])(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def repository_from_url(url: str) -> str | None:
    """``owner/name`` from a GitHub remote URL (https, ssh, scp-like); None when it has none."""
    m = _REMOTE_RE.search(url.strip())
    if m is None:
        return None
    return f"{m['owner']}/{m['repo']}"
