"""Editing an apt install line by hand: `pinlock lock`/`update` follow it, `verify` reports it.

Every closure is checked against real ``apt-get -s`` reading the same signed test archive.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.apt_oracle import make_root, simulate_install, sources_entry
from support.cli import run_cli, snapshot
from support.debian_archive import SNAP1, ArchiveServer

from pinlock.http import make_client
from pinlock.sources.debian.archive import Archive, Location
from pinlock.sources.debian.resolver import Universe, minbase

SUITES = ("trixie", "trixie-updates", "trixie-security")
DOCKERFILE = """\
FROM debian:13.4
RUN apt-get update && \\
    apt-get install -y --no-install-recommends tool prelib && \\
    rm -rf /var/lib/apt/lists/*
"""


def _setup(root: Path, text: str, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text(text)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", srv.security())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(root.parent / "cache"))
    assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
    # the base image is not an input here (no registry): the lock is the apt input alone
    lock = root / "image.lock.toml"
    text = lock.read_text()
    lock.write_text(text[:text.index("[inputs.debian]")])
    return root / "Dockerfile"


@pytest.fixture
def locked(tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Path:
    """The Dockerfile, locked at the archive's first run (an older snapshot than today's)."""
    df = _setup(tmp_path / "p", DOCKERFILE, archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "bump", "apt", SNAP1)
    assert r.code == 0, r.err
    assert "tool=1.0-1 prelib=0.5-1 &&" in df.read_text()
    assert run_cli(capsys, "verify", "--strict", "apt").code == 0
    return df


def _apt(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((root / "image.lock.toml").read_text())
    return data["inputs"]["apt"]  # type: ignore[no-any-return]


def _closure(apt: dict[str, Any], arch: str) -> dict[str, str]:
    return {p["name"]: p["version"] for p in apt["locked"]["arch"][arch]["closure"]}


def _apt_installs(srv: ArchiveServer, root: Path, arch: str, snap: str,
                  pkgs: list[str]) -> dict[str, str]:
    """What real apt installs on a minimal base at ``snap`` (the lock's base is minbase)."""
    archive = Archive(make_client(timeout=10))
    indexes = []
    for suite in SUITES:
        loc = Location(srv.security() if suite.endswith("-security") else srv.debian(),
                       str(srv.archive.keyring))
        indexes.append(archive.packages(loc, archive.release(loc, suite, snap), "main", arch,
                                        snap))
    base = minbase(Universe.build(arch, indexes))
    keyring = str(srv.archive.keyring)
    sources = sources_entry(srv.debian(snap), ["trixie", "trixie-updates"], keyring)
    sources += sources_entry(srv.security(snap), ["trixie-security"], keyring)
    apt = make_root(root, arch=arch, sources=sources,
                    status="\n".join(r.control() for r in base))
    apt.run("update")
    return simulate_install(apt, pkgs)


def test_a_package_added_by_hand_is_locked_at_the_locked_snapshot(
        locked: Path, archive_server: ArchiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = locked.parent
    before, text = _apt(root), locked.read_text()
    locked.write_text(text.replace("prelib=0.5-1 &&", "prelib=0.5-1 newtool &&"))
    r = run_cli(capsys, "verify")
    assert r.code == 0, r.out
    assert ("Dockerfile:3: [apt] apt package newtool is installed but not locked yet "
            "(run `pinlock lock apt`)") in r.out
    assert run_cli(capsys, "verify", "--strict").code == 1
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    assert f"apt: {SNAP1} (packages +newtool)" in r.out
    after = _apt(root)
    # the snapshot, the suites, the other pins: as they were; the new package is pinned
    assert after["locked"]["snapshot"] == SNAP1
    assert after["locked"]["suites"] == before["locked"]["suites"]
    assert after["packages"] == ["tool", "prelib", "newtool"]
    assert locked.read_text() == text.replace("prelib=0.5-1 &&", "prelib=0.5-1 newtool=0.1-1 &&")
    for arch in ("amd64", "arm64"):
        old, new = _closure(before, arch), _closure(after, arch)
        assert {k: v for k, v in new.items() if k in old} == old
        assert sorted(set(new) - set(old)) == ["libfoo", "newtool"]
        assert new == _apt_installs(archive_server, tmp_path / f"apt-{arch}", arch, SNAP1,
                                    ["tool", "prelib", "newtool"])
    assert run_cli(capsys, "verify", "--strict").code == 0
    r = run_cli(capsys, "lock")
    assert r.code == 0 and "nothing to lock" in r.out


def test_a_package_removed_by_hand_leaves_the_lock(
        locked: Path, archive_server: ArchiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = locked.parent
    before, text = _apt(root), locked.read_text()
    locked.write_text(text.replace(" prelib=0.5-1 &&", " &&"))
    r = run_cli(capsys, "verify", "--strict")
    assert r.code == 1 and "apt package prelib is in the lock but no longer installed" in r.out
    r = run_cli(capsys, "lock")  # no name: the edit is what is not locked yet
    assert r.code == 0, r.err
    assert f"apt: {SNAP1} (packages -prelib)" in r.out
    after = _apt(root)
    assert after["packages"] == ["tool"] and after["locked"]["snapshot"] == SNAP1
    for arch in ("amd64", "arm64"):
        old, new = _closure(before, arch), _closure(after, arch)
        assert "prelib" in old and "prelib" not in new and set(new) < set(old)
        assert new == _apt_installs(archive_server, tmp_path / f"apt-{arch}", arch, SNAP1,
                                    ["tool"])
    assert locked.read_text() == text.replace(" prelib=0.5-1 &&", " &&")
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_a_reorder_changes_nothing(locked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = locked.read_text().replace("tool=1.0-1 prelib=0.5-1", "prelib=0.5-1 tool=1.0-1")
    locked.write_text(text)
    files = snapshot(locked.parent)
    for args in (["lock", "apt"], ["lock"]):
        r = run_cli(capsys, *args)
        assert r.code == 0 and "nothing to lock" in r.out, r.out + r.err
    assert snapshot(locked.parent) == files
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_update_follows_the_edit_and_may_move_the_snapshot(
        locked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked.write_text(locked.read_text().replace("prelib=0.5-1 &&", "prelib=0.5-1 newtool &&"))
    r = run_cli(capsys, "update", "apt")
    assert r.code == 0, r.err
    after = _apt(locked.parent)
    assert after["locked"]["snapshot"] > SNAP1 and "(packages +newtool)" in r.out
    # today's archive state: prelib moved with it, newtool pinned at its version there
    assert "tool=1.0-1 prelib=0.6-1 newtool=0.1-1 &&" in locked.read_text()
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_unknown_apt_options_are_kept_as_written(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = ("FROM debian:13.4\nRUN apt-get update -q=2 --frobnicate && apt-get install "
            "--no-frobnicate -o Foo::Bar=1 -y -qq --allow-unknown app\n")
    df = _setup(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
    # how apt is pointed at the snapshot is inserted after the subcommand; every word the
    # user wrote stays, in order
    out = df.read_text()
    assert " -q=2 --frobnicate && apt-get install " in out
    assert out.endswith(" --no-frobnicate -o Foo::Bar=1 -y -qq --allow-unknown app=1.0-1\n")
    assert run_cli(capsys, "verify", "--strict").code == 0
