"""Done-when: `pinlock pr` twice over a copy of this repository's seed, every upstream on loopback.

The first run opens exactly one pull request per input `pinlock outdated` calls
movable; the second makes no API write and no push.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.debian_archive import ArchiveServer, BuiltArchive, serve
from support.fake_github_pulls import FakeGitHubPulls
from support.git_world import REPOSITORY, World, git, new_repository
from support.oci_registry import Registry
from support.seed_world import build_seed_archive, commit_seed, seed_registry

ROOT = Path(__file__).resolve().parents[2]
SEED_INPUTS = {"apt", "debian", "s6-overlay", "uv"}

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, dict[str, str]]]:
    yield from seed_registry(tmp_path_factory.mktemp("seed-registry"))


@pytest.fixture(scope="module")
def seed_archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    for tool in ("dpkg-deb", "apt-ftparchive", "gpg"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} to build a signed Debian archive")
    return build_seed_archive(tmp_path_factory.mktemp("seed-archive"))


@pytest.fixture
def archive(seed_archive: BuiltArchive) -> Iterator[ArchiveServer]:
    yield from serve(seed_archive)


@pytest.fixture
def seed(tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch,
         registry: tuple[Registry, dict[str, str]], archive: ArchiveServer,
         seed_archive: BuiltArchive) -> Iterator[World]:
    remote, work = new_repository(tmp_path, monkeypatch.setenv)  # HOME: the apt index cache
    reg, digests = registry
    monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={reg.url},ghcr.io={reg.url}")
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", archive.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(seed_archive.keyring))
    with FakeGitHubPulls(remote, token=token) as fake:
        commit_seed(work, fake, digests)
        monkeypatch.chdir(work)
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", token)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        fake.clear_requests()
        yield World(work, remote, fake, token)


def test_two_runs_open_one_pr_per_movable_input_then_nothing(
    seed: World, capsys: pytest.CaptureFixture[str], archive: ArchiveServer,
    registry: tuple[Registry, dict[str, str]],
) -> None:
    run = run_cli(capsys, "outdated", "--json")
    assert run.code == 0, run.out + run.err
    movable = set(json.loads(run.out)["movable"])
    assert movable == SEED_INPUTS  # every seed input can move in this world
    seed.fake.clear_requests()

    run = run_cli(capsys, "pr", "--label", "dependencies")
    assert run.code == 0, run.out + run.err
    pulls = seed.fake.open_pulls()
    assert sorted(p.head for p in pulls) == sorted(f"pinlock/{n}" for n in movable)
    assert len(seed.fake.pulls) == len(movable)  # exactly one each, none closed
    heads = seed.remote_heads()
    assert set(heads) == {"main", *(f"pinlock/{n}" for n in movable)}
    for name in movable:
        assert git(seed.remote, "rev-list", "--count", f"main..pinlock/{name}") == "1"
        assert git(seed.remote, "rev-list", "--merges", f"pinlock/{name}") == ""
    by_head = {p.head: p for p in pulls}
    _, digests = registry

    # Every body carries the provenance table and ends with the command to reproduce it.
    for p in pulls:
        assert p.body.startswith("<!-- pinlock -->")
        assert "| input | from | to | release notes |" in p.body
        assert "| input | pin | from | to | verified by |" in p.body
        assert p.body.rstrip().splitlines()[-1].startswith("Reproduce locally: `pinlock ")
    uv = by_head["pinlock/uv"]
    assert uv.title == ("pinlock: bump uv 0.11.6-python3.13-trixie → "
                        "0.11.7-python3.13-trixie")
    assert f"`{digests['astral-sh/uv:0.11.7-python3.13-trixie']}`" in uv.body
    assert "| uv | ghcr.io/astral-sh/uv linux/arm64 |" in uv.body
    assert uv.body.rstrip().endswith("`pinlock bump uv 0.11.7`")
    debian = by_head["pinlock/debian"]
    assert debian.title == "pinlock: bump debian 13.4 → 13.5"
    assert f"`{digests['library/debian:13.5']}`" in debian.body
    assert (f"FROM debian:13.5@{digests['library/debian:13.5']}"
            in seed.remote_file("pinlock/debian", "docker/Dockerfile"))
    s6 = by_head["pinlock/s6-overlay"]
    assert s6.title == "pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0"
    assert "| api-digest, sidecar |" in s6.body
    apt = by_head["pinlock/apt"]
    assert apt.title.startswith("pinlock: bump apt unresolved → ")
    assert "### Debian packages (apt)" in apt.body
    for arch in ("amd64", "arm64"):
        assert f"<summary>{arch}: " in apt.body
    for name in ("curl", "openssh-client", "xz-utils", "git-man"):
        assert f"| {name} | — |" in apt.body
    assert "| openssh-client | — | `1:10.0p1-7+deb13u1` |" in apt.body  # from security
    apt_lock = seed.remote_file("pinlock/apt", "image.lock.toml")
    assert 'archive = "snapshot"' in apt_lock and 'name = "docker-cli"' in apt_lock
    assert "| liblzma5 |" not in apt.body  # required: already in the base, not installed
    assert seed.token not in run.out + run.err

    # Second run: nothing new upstream, so no API write and no push.
    seed.fake.clear_requests()
    run = run_cli(capsys, "pr", "--label", "dependencies", "--json")
    assert run.code == 0, run.out + run.err
    assert seed.fake.writes() == []
    assert seed.remote_heads() == heads
    report = json.loads(run.out)
    assert {a["input"]: a["action"] for a in report["actions"]} == dict.fromkeys(
        movable, "unchanged")
    assert (report["pushes"], report["api_writes"], report["failures"]) == (0, 0, [])
    assert seed.local_leftovers() == ("", "")

    # uv's pull request is merged: its suffixed tag (0.11.7-python3.13-trixie) is now
    # up to date, although the candidate's version is only 0.11.7.
    git(seed.remote, "update-ref", "refs/heads/main", "refs/heads/pinlock/uv")
    git(seed.remote, "update-ref", "-d", "refs/heads/pinlock/uv")
    seed.fake.close_by_hand(by_head["pinlock/uv"].number, merged=True)
    git(seed.work, "pull", "--quiet", "origin", "main")
    run = run_cli(capsys, "outdated", "--json", "--exit-code")
    rows = {r["input"]: r for r in json.loads(run.out)["inputs"]}
    assert (rows["uv"]["locked"], rows["uv"]["newest"], rows["uv"]["move"]) == (
        "0.11.7-python3.13-trixie", "0.11.7-python3.13-trixie", None)
    assert set(json.loads(run.out)["movable"]) == SEED_INPUTS - {"uv"}
    seed.fake.clear_requests()
    run = run_cli(capsys, "pr", "uv", "--json")
    assert run.code == 0, run.out + run.err
    assert [a["action"] for a in json.loads(run.out)["actions"]] == ["up-to-date"]
    assert seed.fake.writes() == []


def test_group_over_the_seed_makes_one_pr(
    seed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    seed.edit_lock({"uv": "images", "debian": "images"})
    run = run_cli(capsys, "pr", "--group", "images")
    assert run.code == 0, run.out + run.err
    (p,) = seed.fake.pulls
    assert p.head == "pinlock/images"
    assert p.title == ("pinlock: bump images: debian 13.4 → 13.5, "
                       "uv 0.11.6-python3.13-trixie → 0.11.7-python3.13-trixie")
    assert git(seed.remote, "rev-list", "--count", "main..pinlock/images") == "1"
    df = seed.remote_file("pinlock/images", "docker/Dockerfile")
    assert "FROM debian:13.5@sha256:" in df and "uv:0.11.7-python3.13-trixie@sha256:" in df
    assert set(seed.remote_heads()) == {"main", "pinlock/images"}
