"""Real git through subprocess: the few plumbing commands `pinlock pr` needs, token kept out."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pinlock.deadlines import run_bounded
from pinlock.errors import InputError, PinlockError, UpstreamError
from pinlock.secrets import TOKEN_VARIABLES, is_loopback, register, token_problem

_GIT_TIMEOUT = 3600.0  # any one git command; the command deadline usually ends it first


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


def _http_origin(url: str) -> str | None:
    """``https://host[:port]/`` of an http(s) URL, user name dropped; None for ssh or a path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/"


def config_env(environ: Mapping[str, str], pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``git -c key=value`` for each pair, as ``GIT_CONFIG_KEY_<n>`` environment variables:
    not in argv, where every user of the machine can read it (``ps``). Pairs a caller
    set already (``GIT_CONFIG_COUNT``) are kept."""
    try:
        first = max(0, int(environ.get("GIT_CONFIG_COUNT") or 0))
    except ValueError:
        first = 0
    out = {"GIT_CONFIG_COUNT": str(first + len(pairs))}
    for n, (key, value) in enumerate(pairs, first):
        out[f"GIT_CONFIG_KEY_{n}"] = key
        out[f"GIT_CONFIG_VALUE_{n}"] = value
    return out


@dataclass
class Git:
    """git in one working tree. ``secrets`` are scrubbed from every message this class makes.

    The token reaches git only as an ``http.<origin>.extraheader`` on the one
    fetch or push that needs it, in the environment of that git process (never
    in argv, a remote URL or a config file, where it would be seen or left
    behind), and only for the remote's own host. Those commands run with hooks
    off (``--no-verify``, ``core.hooksPath``) and without credential helpers,
    so no program but git's own transport inherits it.
    """

    cwd: Path
    token: str | None = field(default=None, repr=False)
    env: Mapping[str, str] | None = None
    _origins: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.token:
            register(self.token, self._basic())
            problem = token_problem(self.token)
            if problem is not None:
                env = {**os.environ, **(self.env or {})}
                variable = next((v for v in TOKEN_VARIABLES
                                 if (env.get(v) or "").strip() == self.token),
                                "the GitHub token")
                raise InputError(f"{variable} holds {problem}; refusing to use it as a token",
                                 hint="set the variable to the token alone")

    def _scrub(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<redacted>")
            text = text.replace(self._basic(), "<redacted>")
        return text

    def _basic(self) -> str:
        assert self.token is not None
        return base64.b64encode(f"x-access-token:{self.token}".encode()).decode()

    def _auth_config(self, remote: str) -> list[tuple[str, str]]:
        """Config for a command that talks to ``remote``: no hooks, and the token as a
        header for the remote's http(s) hosts only (a redirect or a submodule on another
        host never gets it)."""
        pairs = [("core.hooksPath", os.devnull)]
        if not self.token:
            return pairs
        if remote not in self._origins:
            urls = {self.run("remote", "get-url", remote, check=False),
                    self.run("remote", "get-url", "--push", remote, check=False)}
            self._origins[remote] = tuple(sorted(
                {o for o in map(_http_origin, urls) if o is not None}))
        for origin in self._origins[remote]:
            parts = urlsplit(origin)
            if parts.scheme != "https" and not is_loopback(parts.netloc):
                # The header would cross the network in clear text (same rule as the
                # GitHub API URL and the registries).
                raise InputError(
                    f"git remote {remote!r} ({origin}): refusing to send the GitHub token "
                    f"over plain http to {parts.netloc}",
                    hint="use an https:// (or ssh) remote URL; plain http is allowed only "
                    "to localhost")
            pairs.append((f"http.{origin}.extraheader",
                          f"AUTHORIZATION: basic {self._basic()}"))
        if self._origins[remote]:
            # The token is the credential: no helper, and no password prompt program
            # (it would inherit the header) when the server refuses the token.
            pairs += [("credential.helper", ""), ("core.askPass", "")]
        return pairs

    def run(self, *args: str, check: bool = True, auth: str | None = None,
            input_text: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run ``git args…``; return stdout without the trailing newline.

        ``auth``: the remote the command talks to (see the class docstring).
        """
        full_env = {**os.environ, **(self.env or {}), **(env or {}),
                    # Never wait for a password prompt in a scheduled job.
                    "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        # Hooks and helpers git starts (a local remote's pre-receive hook, too) inherit
        # the environment: the token reaches git only through the header below.
        for name in TOKEN_VARIABLES:
            full_env.pop(name, None)
        if auth is not None:
            full_env.update(config_env(full_env, self._auth_config(auth)))
            full_env["GIT_ASKPASS"] = ""  # empty: git asks no program at all
            full_env.pop("SSH_ASKPASS", None)
        shown = " ".join(args)
        what = f"git {self._scrub(shown)}"
        # git's transport helper (git-remote-https) would keep the pipes open past a
        # plain kill: the whole process group goes at the deadline.
        proc = run_bounded(["git", *args], what=what, timeout=_GIT_TIMEOUT, cwd=self.cwd,
                           env=full_env, input_text=input_text)
        if check and proc.returncode != 0:
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

    def remote_head(self, remote: str) -> str | None:
        """The branch the remote's HEAD names (GitHub: the default branch), if it names one."""
        try:
            out = self.run("ls-remote", "--symref", remote, "HEAD", auth=remote)
        except GitError as exc:
            raise RemoteError(f"git ls-remote of {remote} failed: {exc.detail}",
                              hint="check the remote's URL and that the token may read the "
                              "repository") from None
        for line in out.splitlines():
            target, _, name = line.partition("\t")
            if name == "HEAD" and target.startswith("ref: refs/heads/"):
                return target.removeprefix("ref: refs/heads/")
        return None

    def check_branch_name(self, name: str) -> bool:
        """Whether git takes ``name`` as a branch name as it is (``check-ref-format --branch``)."""
        out = self.run("check-ref-format", "--branch", name, check=False)
        return out == name

    def fetch(self, remote: str, refspecs: Sequence[str]) -> None:
        try:
            self.run("fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head", remote,
                     *refspecs, auth=remote)
        except GitError as exc:
            raise RemoteError(f"git fetch from {remote} failed: {exc.detail}",
                              hint="check the remote's URL and that the token may read the "
                              "repository") from None

    def push(self, remote: str, refspec: str, *, lease: str | None = None) -> None:
        """Push one refspec; ``lease`` is the sha the remote branch must still have (or "")."""
        args = ["push", "--quiet", "--porcelain", "--no-verify"]
        if lease is not None:
            dst = refspec.split(":", 1)[1]
            args.append(f"--force-with-lease={dst}:{lease}")
        try:
            self.run(*args, remote, refspec, auth=remote)
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
            self.run("push", "--quiet", "--no-verify",
                     f"--force-with-lease=refs/heads/{branch}:{lease}",
                     remote, f":refs/heads/{branch}", auth=remote)
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
