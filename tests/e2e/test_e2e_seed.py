"""The seed's main jobs through the CLI: lock images from a real registry, bump s6-overlay."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli, snapshot
from support.fake_github import FakeGitHub, add_s6_overlay
from support.oci_registry import Layout, Registry, build_image, push_built, running_registry
from support.seed_world import copy_seed, seed_registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_seed(tmp_path / "project")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[Registry, dict[str, str]]]:
    yield from seed_registry(tmp_path)


def _changed_lines(before: str, after: str) -> list[str]:
    return [d for d in difflib.ndiff(before.splitlines(), after.splitlines())
            if d.startswith(("- ", "+ "))]


def test_lock_and_bump_images(project: Path, registry: tuple[Registry, dict[str, str]],
                              capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    reg, digests = registry
    monkeypatch.chdir(project)
    mirrors = f"docker.io={reg.url},ghcr.io={reg.url}"
    monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", mirrors)
    df = project / "docker" / "Dockerfile"
    before = df.read_text()
    r = run_cli(capsys, "lock", "debian")
    assert r.code == 0, r
    after = df.read_text()
    d134 = digests["library/debian:13.4"]
    assert _changed_lines(before, after) == ["- FROM debian:13.4", f"+ FROM debian:13.4@{d134}"]
    lock = (project / "image.lock.toml").read_text()
    assert f'index-digest = "{d134}"' in lock and '"linux/arm64" = "sha256:' in lock
    # bump uv: the tag keeps its shape, the stage name stays.
    r = run_cli(capsys, "bump", "uv", "0.11.7")
    assert r.code == 0, r
    d_uv = digests["astral-sh/uv:0.11.7-python3.13-trixie"]
    assert (f"FROM ghcr.io/astral-sh/uv:0.11.7-python3.13-trixie@{d_uv} AS uv_source"
            in df.read_text())
    assert run_cli(capsys, "verify", "uv", "debian", "--strict").code == 0
    # update moves debian within 13.x to the newest tag the registry has.
    r = run_cli(capsys, "update", "debian")
    assert r.code == 0, r
    assert f"FROM debian:13.5@{digests['library/debian:13.5']}" in df.read_text()
    # A tag that does not exist: exit non-zero, nothing written.
    before_all = snapshot(project)
    r = run_cli(capsys, "bump", "debian", "13.99")
    assert r.code != 0 and "13.99" in r.err and "nothing was written" in r.err
    assert snapshot(project) == before_all


def test_update_repins_a_tag_pushed_again(project: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """debian:13.4 rebuilt upstream (same tag, new index): update re-pins it, keeping the tag."""
    layout = Layout(tmp_path / "layout")
    with running_registry(tmp_path) as reg:
        first = build_image(layout, "debian-13.4-first", seed="debian-13.4-first")
        push_built(reg.url, "library/debian", first, "13.4")
        monkeypatch.chdir(project)
        monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={reg.url}")
        assert run_cli(capsys, "lock", "debian").code == 0
        df, lock_file = project / "docker" / "Dockerfile", project / "image.lock.toml"
        before, lock_before = df.read_text(), lock_file.read_text()
        r = run_cli(capsys, "update", "debian")
        assert (r.code, r.out) == (0, "nothing to update\n"), r
        rebuilt = build_image(layout, "debian-13.4-rebuilt", seed="debian-13.4-rebuilt")
        push_built(reg.url, "library/debian", rebuilt, "13.4")
        old, new = first.index_digest, rebuilt.index_digest
        r = run_cli(capsys, "update", "debian", "--dry-run", "--json")
        assert r.code == 0, r
        (c,) = json.loads(r.out)["changes"]
        assert (c["from"], c["to"], c["digest_moved"]) == ("13.4", "13.4", True)
        assert (c["from_digest"], c["to_digest"]) == (old, new)
        # A dry run shows exactly what it would write, as a unified diff of both files.
        diff = json.loads(r.out)["diff"]
        assert "--- a/" in diff and "docker/Dockerfile\n" in diff and "image.lock.toml\n" in diff
        assert f"-FROM debian:13.4@{old}\n" in diff and f"+FROM debian:13.4@{new}\n" in diff
        assert f'+index-digest = "{new}"\n' in diff
        r = run_cli(capsys, "update", "debian", "--dry-run")
        assert r.code == 0 and r.out.endswith("dry run: nothing written\n"), r
        assert f"+FROM debian:13.4@{new}\n" in r.out
        assert df.read_text() == before and lock_file.read_text() == lock_before
        r = run_cli(capsys, "update", "debian")
        assert r.code == 0, r
        assert r.out == f"debian: 13.4 ({old[:15]}… → {new[:15]}…)\n"
        assert _changed_lines(before, df.read_text()) == [f"- FROM debian:13.4@{old}",
                                                          f"+ FROM debian:13.4@{new}"]
        lock = lock_file.read_text()
        assert f'index-digest = "{new}"' in lock and 'tag = "13.4"' in lock
        assert old not in lock
        for platform, digest in rebuilt.platforms.items():
            assert f'"{platform}" = "{digest}"' in lock
            assert first.platforms[platform] not in lock
        changed = _changed_lines(lock_before, lock)
        assert all("digest" in line or '"linux/' in line for line in changed), changed
        assert run_cli(capsys, "verify", "--online", "debian", "--strict").code == 0
        # Upstream did not move again: the second update changes nothing.
        after = snapshot(project)
        r = run_cli(capsys, "update", "debian", "--json")
        assert r.code == 0, r
        assert json.loads(r.out)["changes"] == []
        assert snapshot(project) == after


def test_bump_s6_overlay(project: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub() as fake:
        served = add_s6_overlay(fake)
        monkeypatch.chdir(project)
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        df = project / "docker" / "Dockerfile"
        before = df.read_text()
        r = run_cli(capsys, "bump", "s6-overlay", "3.2.4.0")
        assert r.code == 0, r
        after = df.read_text()
        sha = {n: hashlib.sha256(b).hexdigest() for n, b in served["3.2.4.0"].items()}
        changed = _changed_lines(before, after)
        assert len(changed) == 10  # five ARG lines out, five in; every other byte stays
        assert "+ ARG S6_OVERLAY_VERSION=3.2.4.0" in changed
        assert f"+ ARG S6_OVERLAY_X86_64_SHA256={sha['s6-overlay-x86_64.tar.xz']}" in changed
        assert f"+ ARG S6_OVERLAY_AARCH64_SHA256={sha['s6-overlay-aarch64.tar.xz']}" in changed
        assert f"+ ARG S6_OVERLAY_NOARCH_SHA256={sha['s6-overlay-noarch.tar.xz']}" in changed
        assert (f"+ ARG S6_OVERLAY_SYMLINKS_SHA256={sha['s6-overlay-symlinks-noarch.tar.xz']}"
                in changed)
        lock = (project / "image.lock.toml").read_text()
        assert 'version = "3.2.4.0"' in lock
        assert 'verified-by = ["api-digest", "sidecar"]' in lock
        assert run_cli(capsys, "verify", "s6-overlay", "--strict").code == 0
        # A replaced asset upstream is a finding online, naming both values.
        fake.replace_asset("just-containers/s6-overlay", "v3.2.4.0", "s6-overlay-noarch.tar.xz",
                           b"tampered")
        r = run_cli(capsys, "verify", "--online", "s6-overlay")
        assert r.code == 1 and sha["s6-overlay-noarch.tar.xz"] in r.out
        # A version with no release: exit non-zero, nearest versions named, nothing written.
        before_all = snapshot(project)
        r = run_cli(capsys, "bump", "s6-overlay", "3.2.5.0")
        assert r.code != 0 and "3.2.4.0" in r.err and "nothing was written" in r.err
        assert snapshot(project) == before_all
