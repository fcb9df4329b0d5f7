"""This repository's seed (docker/Dockerfile, image.lock.toml) against loopback upstreams only.

- images: a real docker-registry holding ``library/debian`` 13.4 and 13.5 and
  ``astral-sh/uv`` 0.11.6 and 0.11.7 (``-python3.13-trixie``), reached through
  ``PINLOCK_REGISTRY_MIRRORS`` for docker.io and ghcr.io;
- s6-overlay: the loopback GitHub (releases 3.2.3.0 and 3.2.4.0, and pull requests);
- apt: a real signed Debian archive (dpkg-deb, apt-ftparchive, gpg) whose packages
  carry the seed's 14 names and a small dependency closure, laid out like
  snapshot.debian.org and reached through ``PINLOCK_DEBIAN_MIRROR``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from support import debian_archive
from support.debian_archive import SNAP1, BuiltArchive, P, Pkg
from support.fake_github import FakeGitHub
from support.oci_registry import Layout, Registry, build_image, push_built, running_registry

SEED_IMAGES = (("library/debian", "13.4"), ("library/debian", "13.5"),
               ("astral-sh/uv", "0.11.6-python3.13-trixie"),
               ("astral-sh/uv", "0.11.7-python3.13-trixie"))

# The seed's install line, with what each needs; versions are made up, names are Debian's.
_SEED_BASE: list[Pkg] = [
    P("base-files", "13.8", Priority="required", Essential="yes"),
    P("libc6", "2.41-12", Priority="required", Multi_Arch="same"),
    P("liblzma5", "5.8.1-1", Priority="required", Multi_Arch="same"),
    P("libssl3t64", "3.5.1-1", Multi_Arch="same"),
    P("libcurl4t64", "8.14.1-2", Multi_Arch="same", Depends="libc6, libssl3t64"),
    P("curl", "8.14.1-2", Depends="libc6, libcurl4t64 (>= 8.14.1-2)"),
    P("nodejs", "20.19.2+dfsg-1", Depends="libc6"),
    P("npm", "9.2.0~ds1-3", "all", Depends="nodejs"),
    P("python3.13", "3.13.5-2", Depends="libc6"),
    P("python3", "3.13.5-1", Depends="python3.13 (>= 3.13.5)"),
    P("libpython3-dev", "3.13.5-1", Multi_Arch="same"),
    P("python3-dev", "3.13.5-1", Depends="python3 (= 3.13.5-1), libpython3-dev"),
    P("ripgrep", "14.1.1-1", Depends="libc6"),
    P("libavcodec61", "7.1.1-1", Multi_Arch="same"),
    P("ffmpeg", "7.1.1-1", Depends="libavcodec61 (>= 7.1)"),
    P("cpp", "4:14.2.0-1"),
    P("gcc", "4:14.2.0-1", Depends="cpp (= 4:14.2.0-1)"),
    P("libffi8", "3.4.8-2", Multi_Arch="same"),
    P("libffi-dev", "3.4.8-2", Multi_Arch="same", Depends="libffi8 (= 3.4.8-2)"),
    P("procps", "2:4.0.4-9", Depends="libc6"),
    P("git-man", "1:2.47.2-0.2", "all"),
    P("git", "1:2.47.2-0.2", Depends="libc6, libcurl3t64-gnutls | libcurl4t64, git-man"),
    P("openssh-client", "1:10.0p1-7", Depends="libssl3t64"),
    P("docker-cli", "26.1.5+dfsg1-9", Depends="libc6"),
    P("xz-utils", "5.8.1-1", Depends="liblzma5 (>= 5.8)"),
]
SEED_SUITES = {SNAP1: {
    "trixie": _SEED_BASE,
    "trixie-updates": [P("libcurl4t64", "8.14.1-2+deb13u1", Multi_Arch="same",
                         Depends="libc6, libssl3t64")],
    "trixie-security": [P("openssh-client", "1:10.0p1-7+deb13u1", Depends="libssl3t64")],
}}


def copy_seed(root: Path) -> Path:
    """A copy of this repository's seed (docker/Dockerfile, image.lock.toml) in ``root``."""
    import shutil

    repo = Path(__file__).resolve().parents[2]
    (root / "docker").mkdir(parents=True)
    shutil.copy(repo / "docker" / "Dockerfile", root / "docker" / "Dockerfile")
    shutil.copy(repo / "image.lock.toml", root / "image.lock.toml")
    return root


def token_forms(token: str) -> tuple[str, ...]:
    """A token and the encodings it travels in (Basic auth for git and the API)."""
    import base64

    return (token, base64.b64encode(f"x-access-token:{token}".encode()).decode(),
            base64.b64encode(f":{token}".encode()).decode())


def build_seed_archive(dest: Path) -> BuiltArchive:
    """debian_archive's builder, with the seed's packages in place of its test universe."""
    return debian_archive.build_archive(dest, SEED_SUITES)


def fill_registry(url: str, layout_dir: Path) -> dict[str, str]:
    """Push the seed's images; returns ``repository:tag`` -> index digest."""
    layout = Layout(layout_dir)
    digests: dict[str, str] = {}
    for repo, tag in SEED_IMAGES:
        image = build_image(layout, f"{repo}-{tag}".replace("/", "-"), seed=f"{repo}{tag}")
        push_built(url, repo, image, tag)
        digests[f"{repo}:{tag}"] = image.index_digest
    return digests


def seed_as_published(work: Path, served: dict[str, dict[str, bytes]],
                      digests: dict[str, str]) -> None:
    """Make the copied seed name what this loopback world publishes.

    The committed seed pins the real s6-overlay 3.2.3.0 checksums and the real uv index; the
    loopback world serves other bytes under the same names, which pinlock rightly calls an
    alarm (an asset replaced, a manifest gone). Tests of routine updates start from a seed
    that agrees with its upstream: each old value is replaced in Dockerfile and lock alike.
    """
    import hashlib
    import tomllib

    dockerfile, lock = work / "docker" / "Dockerfile", work / "image.lock.toml"
    data = tomllib.loads(lock.read_text())["inputs"]
    swaps: dict[str, str] = {}
    for name, asset in data["s6-overlay"]["locked"]["assets"].items():
        swaps[asset["sha256"]] = hashlib.sha256(served["3.2.3.0"][name]).hexdigest()
    uv = data["uv"]["locked"]
    swaps[uv["index-digest"]] = digests[f"astral-sh/uv:{uv['tag']}"]
    for path in (dockerfile, lock):
        text = path.read_text()
        for old, new in swaps.items():
            assert old in text, (path, old)
            text = text.replace(old, new)
        path.write_text(text)


def seed_registry(tmp: Path) -> Iterator[tuple[Registry, dict[str, str]]]:
    """A real registry holding the seed's images (skips without docker-registry); stopped
    when the generator closes. Yields the registry and ``repository:tag`` -> index digest."""
    with running_registry(tmp) as reg:
        yield reg, fill_registry(reg.url, tmp / "layout")


def commit_seed(work: Path, fake: FakeGitHub, digests: dict[str, str]) -> None:
    """Publish s6-overlay 3.2.3.0 and 3.2.4.0 on ``fake``, then commit and push a copy of this
    repository's seed into the clone ``work``, agreeing with that loopback world."""

    from support.fake_github import add_s6_overlay
    from support.git_world import git

    served = add_s6_overlay(fake, [("3.2.3.0", False), ("3.2.4.0", False)])
    copy_seed(work)
    seed_as_published(work, served, digests)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "seed")
    git(work, "push", "--quiet", "origin", "main")
