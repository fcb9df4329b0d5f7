"""Editing an apt install line by hand: `pinlock lock`/`update` follow it, `verify` reports it.

Every closure is checked against real ``apt-get -s`` reading the same signed test archive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.apt_oracle import make_root, simulate_install, sources_entry
from support.apt_project import apt_only_project, apt_table
from support.cli import run_cli, snapshot
from support.debian_archive import SNAP1, ArchiveServer, P, build_archive, serve
from support.oci_registry import Layout, build_image, push_built, running_registry

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


@pytest.fixture
def locked(tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Path:
    """The Dockerfile, locked at the archive's first run (an older snapshot than today's)."""
    df = apt_only_project(tmp_path / "p", DOCKERFILE, archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "bump", "apt", SNAP1)
    assert r.code == 0, r.err
    assert "tool=1.0-1 prelib=0.5-1 &&" in df.read_text()
    assert run_cli(capsys, "verify", "--strict", "apt").code == 0
    return df


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
    before, text = apt_table(root), locked.read_text()
    locked.write_text(text.replace("prelib=0.5-1 &&", "prelib=0.5-1 newtool &&"))
    r = run_cli(capsys, "verify")
    assert r.code == 0, r.out
    assert ("Dockerfile:3: [apt] apt package newtool is installed but not locked yet "
            "(run `pinlock lock apt`)") in r.out
    assert run_cli(capsys, "verify", "--strict").code == 1
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    assert f"apt: {SNAP1} (packages +newtool)" in r.out
    after = apt_table(root)
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
    before, text = apt_table(root), locked.read_text()
    locked.write_text(text.replace(" prelib=0.5-1 &&", " &&"))
    r = run_cli(capsys, "verify", "--strict")
    assert r.code == 1 and "apt package prelib is in the lock but no longer installed" in r.out
    r = run_cli(capsys, "lock")  # no name: the edit is what is not locked yet
    assert r.code == 0, r.err
    assert f"apt: {SNAP1} (packages -prelib)" in r.out
    after = apt_table(root)
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
    after = apt_table(locked.parent)
    assert after["locked"]["snapshot"] > SNAP1 and "(packages +newtool)" in r.out
    # today's archive state: prelib moved with it, newtool pinned at its version there
    assert "tool=1.0-1 prelib=0.6-1 newtool=0.1-1 &&" in locked.read_text()
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_unknown_apt_options_are_kept_as_written(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = ("FROM debian:13.4\nRUN apt-get update -q=2 --frobnicate && apt-get install "
            "--no-frobnicate -o Foo::Bar=1 -y -qq --allow-unknown app\n")
    df = apt_only_project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
    # how apt is pointed at the snapshot is inserted after the subcommand; every word the
    # user wrote stays, in order
    out = df.read_text()
    assert " -q=2 --frobnicate && apt-get install " in out
    assert out.endswith(" --no-frobnicate -o Foo::Bar=1 -y -qq --allow-unknown app=1.0-1\n")
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_verify_flags_a_snapshot_older_than_a_locked_inrelease(
        locked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = locked.parent / "image.lock.toml"
    text = lock.read_text()
    date = apt_table(locked.parent)["locked"]["suites"]["trixie-updates"]["date"]
    later = "Sat, 01 Mar 2025 00:00:00 UTC"  # after the locked snapshot, SNAP1
    lock.write_text(text.replace(date, later, 1))
    assert later in lock.read_text()
    r = run_cli(capsys, "verify", "apt")
    assert r.code == 1, r.out
    assert (f"snapshot {SNAP1} is older than the locked InRelease of" in r.out
            and "(run `pinlock lock apt`)" in r.out), r.out
    # `lock` reads the archive state at the snapshot again: its own Date, honest again
    r = run_cli(capsys, "lock")
    assert r.code == 0, r.err
    assert later not in lock.read_text() and apt_table(locked.parent)["locked"]["snapshot"] == SNAP1
    assert run_cli(capsys, "verify", "--strict").code == 0


def _two_releases() -> dict[str, dict[str, list[Any]]]:
    def release(app: str) -> list[Any]:
        return [P("base-req", "1.0-1", Priority="required", Essential="yes"),
                P("apt", "3.0-1", Priority="important"), P("app", app)]
    return {SNAP1: {"trixie": release("1.0-1"), "trixie-updates": [], "trixie-security": [],
                    "forky": release("2.0-1"), "forky-updates": [], "forky-security": []}}


def test_a_debian_major_bump_of_the_base_moves_the_suites(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = "FROM debian:13.4\nRUN apt-get update && apt-get install -y app\n"
    for srv in serve(build_archive(tmp_path / "archive", _two_releases())):
        df = apt_only_project(tmp_path / "p", text, srv, monkeypatch, capsys)
        assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
        assert apt_table(df.parent)["suites"] == ["trixie", "trixie-updates", "trixie-security"]
        assert "app=1.0-1" in df.read_text()
        # the base moves to Debian 14 by hand: trixie packages would land on forky
        df.write_text(df.read_text().replace("FROM debian:13.4", "FROM debian:14"))
        r = run_cli(capsys, "verify", "apt")
        assert r.code == 1 and ("the base image of stage 0 is Debian forky, but the apt "
                                "input reads trixie suites") in r.out, r.out
        r = run_cli(capsys, "lock", "apt")
        assert r.code == 0, r.err
        apt = apt_table(df.parent)
        assert apt["suites"] == ["forky", "forky-updates", "forky-security"]
        assert sorted(apt["locked"]["suites"]) == ["forky", "forky-security", "forky-updates"]
        assert apt["locked"]["snapshot"] == SNAP1  # resolved at the locked snapshot
        assert "app=2.0-1" in df.read_text()
        assert run_cli(capsys, "verify", "--strict").code == 0
        # a Debian release pinlock does not know: it stops, says what to do, writes nothing
        df.write_text(df.read_text().replace("FROM debian:14", "FROM debian:16"))
        files = snapshot(df.parent)
        r = run_cli(capsys, "lock", "apt")
        assert r.code == 2 and "is a Debian release pinlock does not know" in r.err, r.err
        assert "set `suites` of [inputs.apt]" in r.err and "nothing was written" in r.err
        assert snapshot(df.parent) == files
        r = run_cli(capsys, "verify", "apt")
        assert r.code == 1 and "(set `suites` in the lock file)" in r.out


def test_bumping_the_base_image_a_debian_major_moves_the_apt_input_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with running_registry(tmp_path) as reg:
        layout = Layout(tmp_path / "layout")
        installed = (("base-req", "1.0-1"), ("apt", "3.0-1"))
        for tag in ("13.4", "14.0"):
            push_built(reg.url, "library/debian",
                       build_image(layout, tag, seed=f"debian-{tag}", installed=installed), tag)
        # a tag that names no release: its dpkg status does (base-files ships os-release)
        push_built(reg.url, "library/debian", build_image(
            layout, "stable-slim", seed="stable",
            installed=(*installed, ("base-files", "14.1"))), "stable-slim")
        monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={reg.url}")
        text = "FROM debian:13.4\nRUN apt-get update && apt-get install -y app\n"
        for srv in serve(build_archive(tmp_path / "archive", _two_releases())):
            root = tmp_path / "p"
            root.mkdir()
            df = root / "Dockerfile"
            df.write_text(text)
            monkeypatch.chdir(root)
            monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian())
            monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
            monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
            assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
            assert run_cli(capsys, "lock", "debian").code == 0
            assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
            assert "app=1.0-1" in df.read_text()
            # only the image is named: the apt input of its stage moves along, never left
            # with trixie suites under a forky base
            r = run_cli(capsys, "bump", "debian", "14.0")
            assert r.code == 0, r.err
            assert "debian: 13.4 -> 14.0" in r.out
            assert (f"apt: {SNAP1} (suites trixie trixie-updates trixie-security -> forky "
                    "forky-updates forky-security)") in r.out
            apt = apt_table(root)
            assert apt["suites"] == ["forky", "forky-updates", "forky-security"]
            assert apt["locked"]["snapshot"] == SNAP1
            assert apt["locked"]["base"] == "image-dpkg-status"
            out = df.read_text()
            assert "FROM debian:14.0@sha256:" in out and "app=2.0-1" in out
            assert run_cli(capsys, "verify", "--strict").code == 0
            # a base whose tag does not say, locked with trixie suites: apt stops, exit 2
            lock = root / "image.lock.toml"
            df.write_text(out.replace(out.split("\n")[0], "FROM debian:stable-slim"))
            assert run_cli(capsys, "init", "--force", "--dockerfile", "Dockerfile").code == 0
            lock.write_text(lock.read_text().replace(
                "suites = []", 'suites = ["trixie", "trixie-updates", "trixie-security"]'))
            assert run_cli(capsys, "lock", "debian").code == 0
            files = snapshot(root)
            r = run_cli(capsys, "lock", "apt")
            assert r.code == 2, r.out + r.err
            assert ("the base image is Debian forky (base-files 14.1 in its dpkg status), but "
                    "the input reads trixie suites") in r.err
            assert 'set `suites = ["forky", "forky-updates", "forky-security"]`' in r.err
            assert snapshot(root) == files


def test_a_relock_through_a_plain_mirror_moves_the_snapshot_when_the_mirror_moved(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # A plain mirror (no {snapshot} in its URL) serving the archive's first run.
    text = "FROM debian:13.4\nRUN apt-get update && apt-get install -y tool\n"
    df = apt_only_project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    lock = df.parent / "image.lock.toml"
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", archive_server.debian(SNAP1))
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", archive_server.security(SNAP1))
    assert run_cli(capsys, "lock", "apt").code == 0
    read_at = apt_table(df.parent)["locked"]["snapshot"]
    assert apt_table(df.parent)["locked"]["archive"] == "mirror" and read_at > SNAP1
    # as if locked on an earlier day, still after the InRelease files it read
    earlier = "20250115T000000Z"
    for f in (lock, df):
        f.write_text(f.read_text().replace(read_at, earlier))
    assert run_cli(capsys, "verify", "--strict").code == 0
    # a package added, the mirror unchanged: the same archive state, the same time
    df.write_text(df.read_text().replace("tool=1.0-1", "tool=1.0-1 prelib"))
    assert run_cli(capsys, "lock", "apt").code == 0
    assert apt_table(df.parent)["locked"]["snapshot"] == earlier
    assert "prelib=0.5-1" in df.read_text()
    # the mirror moved on to the second run: a re-lock records when it read that state
    suites = apt_table(df.parent)["locked"]["suites"]
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", archive_server.debian("20250301T000000Z"))
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR",
                       archive_server.security("20250301T000000Z"))
    df.write_text(df.read_text().replace("prelib=0.5-1", "prelib=0.5-1 alt1"))
    assert run_cli(capsys, "lock", "apt").code == 0
    apt = apt_table(df.parent)
    assert apt["locked"]["snapshot"] >= read_at > earlier
    assert apt["locked"]["suites"] != suites
    assert "prelib=0.6-1 alt1=1.0-1" in df.read_text()  # read at the mirror's state
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_dry_run_and_json_name_the_edit_and_write_nothing(
        locked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked.write_text(locked.read_text().replace(" prelib=0.5-1 &&", " newtool &&"))
    files = snapshot(locked.parent)
    r = run_cli(capsys, "lock", "--dry-run", "--json")
    assert r.code == 0, r.err
    (change,) = json.loads(r.out)["changes"]
    assert change["input"] == "apt" and change["from"] == change["to"] == SNAP1
    assert change["packages_added"] == ["newtool"] and change["packages_removed"] == ["prelib"]
    assert snapshot(locked.parent) == files


def test_a_package_list_edited_in_the_lock_alone_is_not_locked_yet(
        locked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The lock's intent says one thing, its resolved tables another (edited by hand).
    lock = locked.parent / "image.lock.toml"
    lock.write_text(lock.read_text().replace('packages = ["tool", "prelib"]',
                                             'packages = ["tool"]'))
    r = run_cli(capsys, "verify", "--strict", "apt")
    assert r.code == 1
    assert "the lock's package list and its resolved packages differ (prelib)" in r.out
    # the Dockerfile still installs prelib: `lock` takes the list from there again
    r = run_cli(capsys, "lock")
    assert r.code == 0, r.err
    assert apt_table(locked.parent)["packages"] == ["tool", "prelib"], r.out
    assert run_cli(capsys, "verify", "--strict").code == 0
