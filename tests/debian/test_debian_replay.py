"""The apt RUN pinlock writes, replayed by real apt 3.0 in a debian:13-like root a year ahead.

A debootstrapped trixie minbase root (no ca-certificates, the image's deb822 sources, no
lists) runs the stage's apt RUNs exactly as the locked Dockerfile has them (ARGs as
environment variables, as BuildKit passes them; ``apt-get install`` simulated with ``-s``)
under ``chroot`` with the clock a year ahead. snapshot.debian.org is a loopback stand-in: plain
http answers, https presents a certificate the root does not trust. What apt would install
must be exactly the lock's closure, on amd64 and on arm64.
"""

from __future__ import annotations

import re
import shutil
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.debian_archive import ArchiveServer, BuiltArchive, serve
from support.debian_mirror import require_mirrors
from support.seed_world import copy_seed
from support.trixie_root import (
    IMAGE_SOURCES,
    KEYRING,
    SOURCES,
    SnapshotStandIn,
    allow_root_sandbox,
    forget_lists,
    from_folder,
    proxy_to,
    replay,
    require_chroot,
    scratch_root,
    stage_replay_script,
    trixie_root,
)

from pinlock.cli import main

pytestmark = pytest.mark.live_debian  # the root is debootstrapped from the machine's mirror

ROOT = Path(__file__).resolve().parents[2]
# Packages whose closure does not depend on what the base holds: the test archive's base
# (its own `apt`, `alt2`) is not the root's, where real apt 3.0 is installed.
DOCKERFILE = """\
FROM debian:13.4
RUN apt-get update && \\
    apt-get install -y --no-install-recommends tool native newtool prelib epochy pyrt && \\
    rm -rf /var/lib/apt/lists/*
"""
SEED = ["curl", "nodejs", "npm", "python3", "ripgrep", "ffmpeg", "gcc", "python3-dev",
        "libffi-dev", "procps", "git", "openssh-client", "docker-cli", "xz-utils"]
A_YEAR = "+365d"


@pytest.fixture(scope="module")
def cached_root() -> Path:
    require_chroot()
    debian, _security = require_mirrors()
    root, seconds = trixie_root(debian)
    if seconds:
        print(f"\ndebootstrapped the trixie root in {seconds:.1f} s")
    # like the debian:13 image: no CA bundle, no lists
    assert not (root / "etc/ssl/certs/ca-certificates.crt").exists()
    assert not [p for p in (root / "var/lib/apt/lists").iterdir() if p.is_file()]
    return root


@pytest.fixture(scope="module")
def test_root(cached_root: Path, built_archive: BuiltArchive,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One root for the test archive's replays, its throwaway key standing in for Debian's
    keyring; each test starts with no lists and the root's own dpkg status."""
    with scratch_root(cached_root, tmp_path_factory.mktemp("test-root") / "r") as root:
        shutil.copy(built_archive.keyring, root / KEYRING)
        shutil.copy(root / "var/lib/dpkg/status", root.parent / "status.orig")
        yield root


@pytest.fixture
def root(test_root: Path) -> Iterator[Path]:
    forget_lists(test_root)
    sources = test_root / SOURCES
    yield test_root
    shutil.copy(test_root.parent / "status.orig", test_root / "var/lib/dpkg/status")
    sources.write_text(IMAGE_SOURCES)


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return 0


def _lock(project: Path, text: str, srv: ArchiveServer,
          monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, object]]:
    """``pinlock init`` + ``lock apt`` of ``text`` against the test archive."""
    project.mkdir()
    (project / "Dockerfile").write_text(text)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", srv.security())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(project.parent / "cache"))
    assert _cli("init", "--dockerfile", "Dockerfile") == 0
    assert _cli("lock", "apt") == 0
    lock = tomllib.loads((project / "image.lock.toml").read_text())["inputs"]["apt"]["locked"]
    return (project / "Dockerfile").read_text(), lock


def _closure(lock: dict[str, object], arch: str) -> dict[str, str]:
    archs = lock["arch"]
    assert isinstance(archs, dict)
    return {p["name"]: p["version"] for p in archs[arch]["closure"]}


def _without(text: str, *pieces: str) -> str:
    """The locked Dockerfile with options taken out (an older or a hand-cut form)."""
    for piece in pieces:
        cut = re.sub(r" \\\n[ \t]+" + re.escape(piece) + r"\S*", "", text)
        assert cut != text, piece
        text = cut
    return text


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory,
           built_archive: BuiltArchive) -> tuple[str, dict[str, object]]:
    mp = pytest.MonkeyPatch()
    try:
        for srv in serve(built_archive):
            return _lock(tmp_path_factory.mktemp("locked") / "p", DOCKERFILE, srv, mp)
    finally:
        mp.undo()
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("arch", "security_host"), [
    ("amd64", "deb.debian.org"),  # as the debian:13 image has it
    ("arm64", "deb.debian.org"),
    ("amd64", "security.debian.org"),  # as older images and many hand-written sources do
])
def test_the_written_run_installs_the_locked_closure_a_year_ahead(
        root: Path, built_archive: BuiltArchive, locked: tuple[str, dict[str, object]],
        arch: str, security_host: str) -> None:
    text, lock = locked
    allow_root_sandbox(root, arch=arch)
    (root / SOURCES).write_text(IMAGE_SOURCES.replace(
        "http://deb.debian.org/debian-security", f"http://{security_host}/debian-security"))
    stand_in = SnapshotStandIn(from_folder(built_archive.root)).start()
    try:
        stand_in.point_root_at_me(root)
        # the clock really is a year ahead inside the root
        year = replay(root, "date -u +%Y", {}, clock=A_YEAR)
        assert year.output.strip() == str(datetime.now(UTC).year + 1)
        script, env = stage_replay_script(text)
        assert env == {"DEBIAN_SNAPSHOT": lock["snapshot"]}
        r = replay(root, script, env, clock=A_YEAR)
        print(f"\nreplay ({arch}, a year ahead): exit {r.code} in {r.seconds:.1f} s")
        assert r.code == 0, r.output
        want = _closure(lock, arch)
        assert r.installed() == want, r.output
        assert all(f"[{arch}])" in x or "[all])" in x
                   for x in r.output.splitlines() if x.startswith("Inst ")), r.output
        # from all three suites: libfoo from -security, prelib and epochy from -updates
        assert {"tool", "data-common", "native", "newtool", "libfoo", "prelib"} <= set(want)
        assert want["libfoo"] == "2.0-1+deb13u1" and want["prelib"] == "0.6-1"
        # every index came from the snapshot over plain http; https was never used
        snap = [p for p in stand_in.paths() if p.startswith("/archive/")]
        for suite in ("trixie", "trixie-updates", "trixie-security"):
            assert any(f"/dists/{suite}/InRelease" in p for p in snap), snap
        assert any(f"binary-{arch}/" in p for p in snap)
        assert stand_in.paths("https") == []
        assert "W:" not in r.output, r.output
    finally:
        stand_in.stop()


def test_the_debs_come_from_the_snapshot_over_http(
        root: Path, built_archive: BuiltArchive, locked: tuple[str, dict[str, object]]) -> None:
    """``-s`` downloads nothing: a real install (the test debs hold only a README) proves
    the install command fetches each .deb from the snapshot, over http, a year ahead."""
    text, lock = locked
    allow_root_sandbox(root)
    stand_in = SnapshotStandIn(from_folder(built_archive.root)).start()
    try:
        stand_in.point_root_at_me(root)
        script, env = stage_replay_script(text)
        r = replay(root, script.replace("install -s", "install"), env, clock=A_YEAR)
        assert r.code == 0, r.output
        debs = [p for p in stand_in.paths() if p.endswith(".deb")]
        assert debs and all(p.startswith("/archive/debian") for p in debs), debs
        archs = lock["arch"]
        assert isinstance(archs, dict)
        # each locked file, asked for at the locked snapshot (then redirected, as
        # snapshot.debian.org does, to the archive run it belongs to)
        assert {unquote(p.rsplit("/", 1)[1]) for p in debs} == {
            p["filename"].rsplit("/", 1)[1] for p in archs["amd64"]["closure"]}
        assert {p for p in debs if f"/{lock['snapshot']}/" in p}
        status = (root / "var/lib/dpkg/status").read_text()
        for name, version in _closure(lock, "amd64").items():
            assert f"Package: {name}\nStatus: install ok installed\n" in status, name
            assert f"Package: {name}\n" in status and f"Version: {version}\n" in status
    finally:
        stand_in.stop()


def test_each_piece_is_needed_and_the_replay_can_fail(
        root: Path, built_archive: BuiltArchive, locked: tuple[str, dict[str, object]]) -> None:
    """Take a piece out of what pinlock writes and the replay fails, as a build would."""
    text, lock = locked
    lock_closure = _closure(lock, "amd64")
    faults: set[str] = set()
    stand_in = SnapshotStandIn(from_folder(built_archive.root, faults)).start()
    allow_root_sandbox(root)
    stand_in.point_root_at_me(root)

    def run(dockerfile: str) -> tuple[int, str]:
        forget_lists(root)
        script, env = stage_replay_script(dockerfile)
        r = replay(root, script, env, clock=A_YEAR)
        installed.clear()
        installed.update(r.installed())
        return r.code, r.output

    installed: dict[str, str] = {}

    try:
        # --snapshot alone (what pinlock wrote before): apt maps the archive to https,
        # cannot check the certificate, warns, exits 0 from the update with the live lists
        # only; the pinned install then fails.
        code, out = run(_without(text, "-o Acquire::", "--error-on"))
        assert code != 0 and "certificate verify failed" in out, out
        assert "Unable to locate package" in out or "was not found" in out, out
        # with --error-on=any the failed fetch stops the update itself, loudly
        code, out = run(_without(text, "-o Acquire::"))
        assert code != 0 and "certificate verify failed" in out, out
        assert "Unable to locate package" not in out and "was not found" not in out, out
        # sources naming security.debian.org: without its Host option the first update reads
        # the live -security lists (apt finds no snapshot server for that host and silently
        # goes without), the install then finds no snapshot -security lists, and a
        # dependency quietly comes from -updates instead: the build "works", wrongly
        (root / SOURCES).write_text(IMAGE_SOURCES.replace(
            "http://deb.debian.org/debian-security", "http://security.debian.org/debian-security"))
        code, out = run(_without(text, "-o Acquire::Snapshots::URI::Host::security"))
        assert code == 0 and installed["libfoo"] != lock_closure["libfoo"], out
        code, out = run(text)
        assert code == 0 and installed == lock_closure, out
        (root / SOURCES).write_text(IMAGE_SOURCES)
        # an InRelease past its Valid-Until (the test archive's say 2099; the fault serves
        # ones that expired in 2000, as Debian's -security ones do 7 days after their Date)
        # stops the build unless Check-Valid-Until is off; with every piece it builds
        faults.add("expired")
        code, out = run(_without(text, "-o Acquire::Check-Valid-Until"))
        assert code != 0 and "expired" in out, out
        code, out = run(text)
        assert code == 0, out
    finally:
        stand_in.stop()


@pytest.fixture(scope="module")
def seed_lock(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object], Path]:
    """The seed Dockerfile, locked through the machine's mirror by the pinlock CLI, its lock,
    and the project folder."""
    project = copy_seed(tmp_path_factory.mktemp("seed"))
    _lock_apt(project, cache=project / "cache")
    lock = tomllib.loads((project / "image.lock.toml").read_text())["inputs"]["apt"]["locked"]
    return (project / "docker" / "Dockerfile").read_text(), lock, project


def _lock_apt(project: Path, *, cache: Path) -> None:
    """`pinlock lock apt` in ``project`` through the machine's mirror, as a user runs it."""
    debian, security = require_mirrors()
    mp = pytest.MonkeyPatch()
    try:
        mp.chdir(project)
        mp.setenv("HOME", str(project / "home"))
        mp.setenv("PINLOCK_CACHE_DIR", str(cache))
        mp.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", security)
        try:
            main(["lock", "apt", "--debian-mirror", debian])
        except SystemExit as exc:
            assert exc.code == 0, exc
    finally:
        mp.undo()


def test_live_seed_replays_the_locked_closure_a_year_ahead(
        cached_root: Path, seed_lock: tuple[str, dict[str, object], Path],
        tmp_path: Path) -> None:
    text, lock, _ = seed_lock
    debian, security = require_mirrors()
    with scratch_root(cached_root, tmp_path / "r") as root:
        _replay_seed(root, text, lock, debian, security)


def test_jq_added_to_the_locked_seed_is_pinned_and_the_replay_installs_it(
        cached_root: Path, seed_lock: tuple[str, dict[str, object], Path],
        tmp_path: Path) -> None:
    # The "done when": a package added by hand to the install line is picked up by
    # `pinlock lock apt` at the locked snapshot, and the RUN as written then installs it.
    _, before, locked = seed_lock
    debian, security = require_mirrors()
    project = tmp_path / "seed"
    shutil.copytree(locked, project, ignore=shutil.ignore_patterns("cache", "home"))
    df = project / "docker" / "Dockerfile"
    df.write_text(re.sub(r"( xz-utils=\S+)", r"\1 jq", df.read_text(), count=1))
    assert " jq" in df.read_text()
    _lock_apt(project, cache=locked / "cache")
    lock = tomllib.loads((project / "image.lock.toml").read_text())["inputs"]["apt"]["locked"]
    assert lock["snapshot"] == before["snapshot"]  # resolved at the locked snapshot
    jq = _closure(lock, "amd64")["jq"]
    assert f"jq={jq}" in df.read_text()
    assert set(_closure(before, "amd64")) < set(_closure(lock, "amd64"))
    with scratch_root(cached_root, tmp_path / "r") as root:
        _replay_seed(root, df.read_text(), lock, debian, security)


def _replay_seed(root: Path, text: str, lock: dict[str, object], debian: str,
                 security: str) -> None:
    allow_root_sandbox(root)
    stand_in = SnapshotStandIn(proxy_to(debian, security)).start()
    try:
        stand_in.point_root_at_me(root)
        script, env = stage_replay_script(text, stage=1)
        started = time.monotonic()
        r = replay(root, script, env, clock=A_YEAR)
        seconds = time.monotonic() - started
        want = _closure(lock, "amd64")
        got = r.installed()
        print(f"\nlive seed replay a year ahead: exit {r.code}, {len(got)} packages "
              f"({len(want)} locked) in {seconds:.1f} s")
        assert r.code == 0, r.output[-5000:]
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        differ = sorted(n for n in set(got) & set(want) if got[n] != want[n])
        assert not (missing or extra or differ), (missing, extra, differ)
        assert set(SEED) <= set(got)
        assert stand_in.paths("https") == []
        # the install would fetch every .deb from the snapshot over http (-s downloads none)
        forget_lists(root)
        uris = replay(root, script.replace("install -s", "install --print-uris"), env,
                      clock=A_YEAR)
        assert uris.code == 0, uris.output[-3000:]
        debs = re.findall(r"^'(\S+\.deb)' ", uris.output, re.MULTILINE)
        prefix = re.compile(rf"^http://snapshot\.debian\.org/archive/debian(-security)?/"
                            rf"{lock['snapshot']}/pool/")
        assert len(debs) == len(want) and all(prefix.match(u) for u in debs), debs[:5]
        # and without Check-Valid-Until=false, Debian's own InRelease files have expired
        # (-updates and -security say Date + 7 days) a year ahead
        forget_lists(root)
        expired = replay(root, stage_replay_script(
            _without(text, "-o Acquire::Check-Valid-Until"), stage=1)[0], env, clock=A_YEAR)
        assert expired.code != 0 and "is expired" in expired.output, expired.output[-3000:]
    finally:
        stand_in.stop()
