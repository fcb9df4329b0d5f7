"""Hostile Debian indexes and caches: a poisoned scanned index, a cache folder others own or
can write, a decompression bomb and a junk-appended index in a signed archive."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import lzma
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import support.debian_archive as da
from support.debian_archive import SNAP2, ArchiveServer, BuiltArchive, build_archive, serve
from support.proc import Proc, run_pinlock, tree_digest

from pinlock.sources.debian.deb822 import INDEX_CACHE_FORMAT, PackagesIndex

DOCKERFILE = """\
FROM debian:13.4
RUN apt-get update && \\
    apt-get install -y --no-install-recommends app tool native && \\
    rm -rf /var/lib/apt/lists/*
"""
EVIL = "6.6.6"
LIMIT = 60.0
NOBODY = 65534


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("debian-archive"))


@pytest.fixture
def server(archive: BuiltArchive) -> Iterator[ArchiveServer]:
    yield from serve(archive)


@dataclass
class World:
    tmp: Path
    server: ArchiveServer

    @property
    def cache(self) -> Path:
        return self.tmp / "cache" / "debian"

    @property
    def key_file(self) -> Path:
        return self.tmp / "config" / "pinlock" / "cache-key"

    def env(self) -> dict[str, str]:
        return {
            "PINLOCK_DEBIAN_MIRROR": self.server.debian(),
            "PINLOCK_DEBIAN_SECURITY_MIRROR": self.server.security(),
            "PINLOCK_DEBIAN_KEYRING": str(self.server.archive.keyring),
            "PINLOCK_CACHE_DIR": str(self.tmp / "cache"),
            "XDG_CONFIG_HOME": str(self.tmp / "config"),
        }

    def project(self, name: str) -> Path:
        folder = self.tmp / name
        folder.mkdir()
        (folder / "Dockerfile").write_text(DOCKERFILE)
        p = self.run(folder, "init", "--dockerfile", "Dockerfile")
        assert p.code == 0, p.text
        return folder

    def run(self, folder: Path, *args: str) -> Proc:
        return run_pinlock(*args, cwd=folder, env=self.env(), limit=LIMIT)


@pytest.fixture
def world(tmp_path: Path, server: ArchiveServer) -> World:
    return World(tmp_path, server)


def _honest(world: World) -> tuple[str, str]:
    """Lock the apt input once with a fresh cache: the lock and Dockerfile an honest run
    writes (the cache is filled on the way)."""
    folder = world.project("honest")
    p = world.run(folder, "lock", "apt")
    p.assert_clean()
    assert p.code == 0, p.text
    lock = (folder / "image.lock.toml").read_text()
    assert "app" in lock and EVIL not in lock
    assert sorted(world.cache.glob(f"*.index-v{INDEX_CACHE_FORMAT}")), "no index cached"
    return lock, (folder / "Dockerfile").read_text()


def _plant(world: World, key: bytes) -> int:
    """Replace every scanned index in the cache by one whose versions are the attacker's,
    authenticated under ``key``; return how many were planted."""
    planted = 0
    for index_file in world.cache.glob(f"*.index-v{INDEX_CACHE_FORMAT}"):
        sha = index_file.name.split(".", 1)[0]
        (gz,) = world.cache.glob(f"{sha}.gz")
        text = gzip.decompress(gz.read_bytes()).replace(
            b"\nVersion: ", f"\nVersion: {EVIL}+".encode())
        chunks = PackagesIndex.parse(text).serialize(sha, key=key)
        index_file.write_bytes(b"".join(bytes(c) for c in chunks))
        planted += 1
    return planted


def _after(world: World, name: str, *args: str) -> tuple[Proc, str, str]:
    folder = world.project(name)
    p = world.run(folder, *args)
    return p, (folder / "image.lock.toml").read_text(), (folder / "Dockerfile").read_text()


# ------------------------------------------------------------------ a poisoned cache


def test_planted_index_with_a_self_consistent_checksum_changes_nothing(world: World) -> None:
    lock, dockerfile = _honest(world)
    # The attacker can compute any checksum, and an HMAC under any key but the user's.
    assert _plant(world, key=b"attacker's guess".ljust(32, b"!")) > 0
    p, lock2, dockerfile2 = _after(world, "again", "lock", "apt")
    p.assert_clean()
    assert p.code == 0, p.text
    assert (lock2, dockerfile2) == (lock, dockerfile)
    assert EVIL not in lock2 + dockerfile2


@pytest.mark.parametrize("how", ["chown nobody", "mode 0777", "mode 0770"])
def test_cache_folder_others_can_write_is_not_used(world: World, how: str) -> None:
    lock, dockerfile = _honest(world)
    # Even files carrying the user's own key are not read from such a folder.
    assert _plant(world, key=world.key_file.read_bytes()) > 0
    if how == "chown nobody":
        os.chown(world.cache, NOBODY, NOBODY)
    else:
        os.chmod(world.cache, int(how.split()[1], 8))
    before = tree_digest(world.cache)
    p, lock2, dockerfile2 = _after(world, "again", "lock", "apt")
    p.assert_clean()
    assert p.code == 0, p.text
    assert "Debian index cache is not used" in p.err, p.err
    assert ("owned by uid 65534" if how == "chown nobody" else "writable by") in p.err, p.err
    assert (lock2, dockerfile2) == (lock, dockerfile)
    assert tree_digest(world.cache) == before  # nothing written into it either


def test_key_readable_by_others_is_not_used(world: World) -> None:
    lock, _ = _honest(world)
    os.chmod(world.key_file, 0o644)
    p, lock2, _ = _after(world, "again", "lock", "apt")
    p.assert_clean()
    assert p.code == 0, p.text
    assert "readable or writable by others" in p.err and "not cached" in p.err, p.err
    assert lock2 == lock


def test_verify_online_does_not_read_the_cache(world: World) -> None:
    lock, _ = _honest(world)
    folder = world.tmp / "honest"
    # An authentic-looking poisoned cache: if verify --online read it, the locked versions
    # would be "no longer in the archive".
    assert _plant(world, key=world.key_file.read_bytes()) > 0
    world.server.requests.clear()
    p = world.run(folder, "verify", "--online", "apt")
    p.assert_clean()
    assert p.code == 0, p.text
    assert any("Packages" in r or "/by-hash/" in r for r in world.server.requests)
    # and the cache does mislead a run that trusts it, so the check above can fail
    poisoned = world.run(world.project("trusting"), "lock", "apt")
    assert EVIL in poisoned.text + (world.tmp / "trusting" / "image.lock.toml").read_text()
    assert lock  # the honest lock was written before the cache was poisoned


# ------------------------------------------------------------------ hostile indexes, signed


def _resign(built: BuiltArchive, dest: Path, files: dict[str, bytes | None]) -> BuiltArchive:
    """A copy of ``built`` where trixie's main/binary-amd64 files are replaced (None: removed)
    and its InRelease signed again by the archive key: a hostile but validly signed index.
    The last snapshot: the one `pinlock lock` reads now."""
    shutil.copytree(built.root, dest, ignore=shutil.ignore_patterns("S.*"))
    home = dest / "gnupg"
    os.chmod(home, 0o700)
    dists = dest / "archive" / "debian" / SNAP2 / "dists" / "trixie"
    folder = dists / "main" / "binary-amd64"
    for name, data in files.items():
        if data is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(data)
            (folder / "by-hash" / "SHA256" / hashlib.sha256(data).hexdigest()).write_bytes(data)
    _release(dists, home)
    return BuiltArchive(dest, built.keyring, built.untrusted_keyring, home)


def _release(dists: Path, home: Path) -> None:
    for old in ("Release", "InRelease"):
        (dists / old).unlink()
    # Dated at the snapshot, as the honest archive is: a later Date is refused on its own.
    snap = dists.parts[-3]
    date = dt.datetime.strptime(snap, "%Y%m%dT%H%M%SZ").strftime("%a, %d %b %Y %H:%M:%S UTC")
    release = da._run(
        "apt-ftparchive",
        "-o", f"APT::FTPArchive::Release::Date={date}",
        "-o", "APT::FTPArchive::Release::Suite=trixie",
        "-o", "APT::FTPArchive::Release::Codename=trixie",
        "-o", "APT::FTPArchive::Release::Origin=Debian",
        "-o", "APT::FTPArchive::Release::Label=Debian",
        "-o", f"APT::FTPArchive::Release::Architectures={' '.join(da.ARCHS)}",
        "-o", "APT::FTPArchive::Release::Components=main",
        "release", ".", cwd=dists)
    lines = release.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Date:")) + 1
    lines[at:at] = ["Valid-Until: Thu, 01 Jan 2099 00:00:00 UTC", "Acquire-By-Hash: yes"]
    (dists / "Release").write_text("\n".join(lines) + "\n")
    da._sign(home, ["archive@example.org"], dists / "Release", dists / "InRelease")
    # gpg started an agent for the copied home: stop it rather than leave it running
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False,
                   capture_output=True, timeout=30)


def _bomb(prefix: bytes, filler: bytes = b"\0") -> bytes:
    """A valid start, then 1.5 GiB of ``filler`` as 96 concatenated xz streams (~250 KB)."""
    block = lzma.compress(filler * ((16 << 20) // len(filler)))
    return lzma.compress(prefix) + block * 96


def _no_large_files(folder: Path) -> None:
    big = [(p, p.stat().st_size) for p in folder.rglob("*") if p.is_file()
           and p.stat().st_size > 4 << 20]
    assert big == [], big


@pytest.mark.parametrize(("stated", "filler"), [
    (True, b"\0"), (False, b"\0"), (False, b"\nPackage: a\nVersion: 1\n"),
], ids=["size-in-InRelease", "no-size", "no-size-tiny-paragraphs"])
def test_decompression_bomb(archive: BuiltArchive, tmp_path: Path, stated: bool,
                            filler: bytes) -> None:
    folder = archive.root / "archive" / "debian" / SNAP2 / "dists" / "trixie" / "main"
    honest = (folder / "binary-amd64" / "Packages").read_bytes()
    bomb = _bomb(honest, filler)
    assert len(bomb) < 300_000
    # the .gz (fetched first when listed) dropped: the bomb is the only compressed form
    files: dict[str, bytes | None] = {"Packages.xz": bomb, "Packages.gz": None}
    if not stated:  # only the .xz listed: no uncompressed size to go by
        files.update({"Packages": None})
    p, world = _lock_from(_resign(archive, tmp_path / "hostile", files), tmp_path)
    p.assert_clean()
    assert p.seconds < 20, p.seconds
    if stated:
        assert p.code == 1, p.text
        assert "decompresses to more than the" in p.err and "InRelease lists" in p.err, p.err
    else:
        assert p.code in (1, 3), p.text
        assert any(m in p.err for m in ("paragraph longer than", "decompresses to more than",
                                        "paragraphs")), p.err
    assert "binary-amd64/Packages.xz" in p.err, p.err
    _nothing_kept(world, tmp_path, _sha(bomb))


def _lock_from(hostile: BuiltArchive, tmp_path: Path) -> tuple[Proc, World]:
    """`pinlock lock apt` of a fresh project against ``hostile``; the project must not change."""
    for srv in serve(hostile):
        world = World(tmp_path, srv)
        project = world.project("project")
        before = tree_digest(project)
        p = world.run(project, "lock", "apt")
        assert tree_digest(project) == before, p.text
    return p, world


def _nothing_kept(world: World, tmp_path: Path, refused_sha: str) -> None:
    """A refused index leaves no cache file and nothing large anywhere in the cache."""
    cached = sorted(q.name for q in world.cache.glob("*")) if world.cache.exists() else []
    assert not [n for n in cached if n.startswith(refused_sha)], cached
    _no_large_files(tmp_path / "cache")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_junk_appended_index_is_refused(archive: BuiltArchive, tmp_path: Path) -> None:
    # Signed honestly, then served with 20 MiB of junk after it (a mirror gone bad).
    hostile = tmp_path / "hostile"
    shutil.copytree(archive.root, hostile, ignore=shutil.ignore_patterns("S.*"))
    folder = hostile / "archive" / "debian" / SNAP2 / "dists" / "trixie" / "main" / "binary-amd64"
    gz = folder / "Packages.gz"  # the form fetched first
    signed_sha = _sha(gz.read_bytes())
    junk = os.urandom(1 << 20) * 20
    for target in (gz, folder / "by-hash" / "SHA256" / signed_sha):
        target.write_bytes(target.read_bytes() + junk)
    p, world = _lock_from(BuiltArchive(hostile, archive.keyring, archive.untrusted_keyring,
                                       hostile / "gnupg"), tmp_path)
    p.assert_clean()
    assert p.code == 1, p.text
    assert "size does not match InRelease" in p.err, p.err
    _nothing_kept(world, tmp_path, signed_sha)


def test_cache_files_are_private(world: World) -> None:
    _honest(world)
    assert stat.S_IMODE(world.cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(world.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(world.key_file.parent.stat().st_mode) == 0o700
