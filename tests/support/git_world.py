"""A real git world for pinlock's pull-request tests: a bare remote and a clone with a project."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from support.fake_github import S6_REPOSITORY, make_tar_xz, s6_tarballs, sha256_hex
from support.fake_github_pulls import FakeGitHubPulls

REPOSITORY = "acme/app"
TOOL_REPOSITORY = "acme/tool"  # a second release input, for groups
TOOL_ASSET = "tool-noarch.tar.xz"

DOCKERFILE = """\
FROM scratch
ARG TARGETARCH
ARG S6_OVERLAY_VERSION={version}
ARG S6_OVERLAY_NOARCH_SHA256={noarch}
ARG S6_OVERLAY_X86_64_SHA256={x86}
ARG S6_OVERLAY_AARCH64_SHA256={arm}
ARG S6_OVERLAY_SYMLINKS_SHA256={symlinks}
ADD https://github.com/just-containers/s6-overlay/releases/download/v${{S6_OVERLAY_VERSION}}/s6-overlay-noarch.tar.xz /tmp/
ADD https://github.com/just-containers/s6-overlay/releases/download/v${{S6_OVERLAY_VERSION}}/s6-overlay-symlinks-noarch.tar.xz /tmp/
RUN case "${{TARGETARCH:-amd64}}" in \\
        amd64) s6_arch="x86_64" ;; \\
        arm64) s6_arch="aarch64" ;; \\
    esac; \\
    curl -fsSL -o /tmp/a.tar.xz "https://github.com/just-containers/s6-overlay/releases/download/v${{S6_OVERLAY_VERSION}}/s6-overlay-${{s6_arch}}.tar.xz"
"""  # noqa: E501


TOOL_LINES = """\
ARG TOOL_VERSION={version}
ARG TOOL_NOARCH_SHA256={sha}
ADD https://github.com/acme/tool/releases/download/v${{TOOL_VERSION}}/tool-noarch.tar.xz /tmp/
"""


def tool_files(version: str) -> dict[str, bytes]:
    """The one asset of an acme/tool release: a small real .tar.xz per version."""
    return {TOOL_ASSET: make_tar_xz({"tool/VERSION": f"{version}\n".encode()})}


def dockerfile_for(version: str, *, tool: str | None = None, base: str = "scratch") -> str:
    """The s6-overlay project at ``version``; with ``tool``, also acme/tool at that version;
    ``base`` is the image of the ``FROM`` line (an image input unless it is ``scratch``)."""
    files = s6_tarballs(version)
    text = DOCKERFILE.format(
        version=version,
        noarch=sha256_hex(files["s6-overlay-noarch.tar.xz"]),
        x86=sha256_hex(files["s6-overlay-x86_64.tar.xz"]),
        arm=sha256_hex(files["s6-overlay-aarch64.tar.xz"]),
        symlinks=sha256_hex(files["s6-overlay-symlinks-noarch.tar.xz"]),
    )
    text = text.replace("FROM scratch\n", f"FROM {base}\n", 1)
    if tool is not None:
        text += TOOL_LINES.format(version=tool, sha=sha256_hex(tool_files(tool)[TOOL_ASSET]))
    return text


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def new_repository(tmp_path: Path, env: Callable[[str, str], None]) -> tuple[Path, Path]:
    """A bare remote (``main``) and a clone of it with an author set: (remote, work).

    ``env`` sets environment variables (``monkeypatch.setenv``): HOME goes to a fresh
    folder and the system git config is ignored, so no user setting (signing, hooks,
    default branch) leaks in.
    """
    env("HOME", str(tmp_path / "home"))
    env("GIT_CONFIG_NOSYSTEM", "1")
    (tmp_path / "home").mkdir()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(remote), str(work))
    git(work, "checkout", "--quiet", "-b", "main")
    git(work, "config", "user.name", "Dev")
    git(work, "config", "user.email", "dev@example.org")
    return remote, work


@dataclass
class World:
    work: Path  # the user's clone, the current directory
    remote: Path  # the bare repository playing GitHub's git side
    fake: FakeGitHubPulls
    token: str

    def remote_heads(self) -> dict[str, str]:
        out = git(self.remote, "for-each-ref", "--format=%(refname:short) %(objectname)",
                  "refs/heads")
        return dict(line.split(" ", 1) for line in out.splitlines())

    def remote_file(self, branch: str, path: str) -> str:
        return git(self.remote, "show", f"{branch}:{path}")

    def publish(self, version: str) -> None:
        """Upstream publishes a new s6-overlay release."""
        self.fake.add_release(S6_REPOSITORY, f"v{version}", s6_tarballs(version))

    def publish_tool(self, version: str) -> None:
        """Upstream publishes a new acme/tool release."""
        self.fake.add_release(TOOL_REPOSITORY, f"v{version}", tool_files(version))

    def edit_lock(self, groups: dict[str, str | None] | None = None,
                  remove: tuple[str, ...] = ()) -> None:
        """Set (or drop, with None) inputs' ``group``, remove inputs; commit and push main.

        Removing an input also removes its lines from the Dockerfile, as a person would.
        """
        path = self.work / "image.lock.toml"
        doc = tomlkit.parse(path.read_text())
        inputs = doc["inputs"]
        for name, group in (groups or {}).items():
            table = inputs[name]
            if group is None:
                table.pop("group", None)
            else:
                table["group"] = group
        for name in remove:
            del inputs[name]
            if name == "tool":
                df = self.work / "docker" / "Dockerfile"
                df.write_text("".join(line for line in df.read_text().splitlines(True)
                                      if "TOOL_" not in line))
        path.write_text(tomlkit.dumps(doc))
        self.commit_and_push("edit the lock")

    def commit_and_push(self, message: str) -> None:
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "-m", message)
        git(self.work, "push", "--quiet", "origin", "main")

    def local_leftovers(self) -> tuple[str, str]:
        """(local pinlock branches, extra worktrees): both empty after every run."""
        branches = git(self.work, "branch", "--list", "pinlock/*")
        worktrees = git(self.work, "worktree", "list", "--porcelain")
        extra = "\n".join(line for line in worktrees.splitlines()
                          if line.startswith("worktree ") and line != f"worktree {self.work}")
        return branches, extra

    def clone(self, name: str) -> Path:
        path = self.work.parent / name
        git(self.work.parent, "clone", "--quiet", str(self.remote), str(path))
        git(path, "config", "user.name", "Someone Else")
        git(path, "config", "user.email", "someone@example.org")
        return path


MakeWorld = Callable[..., World]  # the `make_world` fixture of tests/pr
