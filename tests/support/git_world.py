"""A real git world for pinlock's pull-request tests: a bare remote and a clone with a project."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.fake_github import S6_REPOSITORY, s6_tarballs, sha256_hex
from support.fake_github_pulls import FakeGitHubPulls

REPOSITORY = "acme/app"

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


def dockerfile_for(version: str) -> str:
    files = s6_tarballs(version)
    return DOCKERFILE.format(
        version=version,
        noarch=sha256_hex(files["s6-overlay-noarch.tar.xz"]),
        x86=sha256_hex(files["s6-overlay-x86_64.tar.xz"]),
        arm=sha256_hex(files["s6-overlay-aarch64.tar.xz"]),
        symlinks=sha256_hex(files["s6-overlay-symlinks-noarch.tar.xz"]),
    )


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


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

    def clone(self, name: str) -> Path:
        path = self.work.parent / name
        git(self.work.parent, "clone", "--quiet", str(self.remote), str(path))
        git(path, "config", "user.name", "Someone Else")
        git(path, "config", "user.email", "someone@example.org")
        return path
