"""Scanned Packages indexes read as parse_packages does; a damaged cache file is rebuilt."""

from __future__ import annotations

import gzip
import lzma
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest
from support.debian_archive import SNAP1, ArchiveServer, BuiltArchive

import pinlock.sources.debian.archive as archive_mod
from pinlock.app import cache_dir
from pinlock.errors import IntegrityError
from pinlock.http import make_client
from pinlock.sources.debian.archive import Archive, FileBytes, Location, decompress_chunks
from pinlock.sources.debian.deb822 import (
    ControlError,
    PackageRecord,
    PackagesIndex,
    PackagesIndexBuilder,
    parse_packages,
)
from pinlock.sources.debian.resolver import Universe

SHA = "ab" * 32
KEY = b"k" * 32  # the user's cache key, in these tests

# The shapes a real index has, and the odd ones a scanner can trip on: long descriptions with
# continuation lines (one looks like a field), a name listed twice, a record providing one
# name twice, a Provides the fast path does not take, Priority spellings, a bad Size.
PACKAGES = """\
Package: a
Version: 1.0-1
Architecture: amd64
Maintainer: Someone <s@example.org>
Depends: b (>= 1), c | d
Provides: virt, virt (= 2.0), other (= 1:1.0-1)
Description: first
 a long description
 Package: not-a-field
 .
 more
Size: 123
SHA256: 00ff
Filename: pool/main/a/a_1.0-1_amd64.deb
Priority: required

Package: b
Version: 2.0
Architecture: all
Multi-Arch: foreign
Provides: virt (= 3.0), virt
Priority:required
Essential: yes
Size: x12

Package: a
Version: 0.9-1
Architecture: amd64
Priority: requiredish
Tag: role::program, interface::commandline
Section: utils

Package: odd
Version: 1
Architecture: amd64
Provides: virt [amd64], spaced-name (  =  5 )
Important: yes
Homepage: https://example.org/
Source: oddsrc (0.1)

Package: last
Version: 3
Architecture: arm64
Pre-Depends: a
Conflicts: b (<< 2)
Breaks: odd
Replaces: odd
Suggests: x
Recommends: y
Installed-Size: 42
"""


def _record_fields(rec: PackageRecord) -> dict[str, object]:
    return {f.name: getattr(rec, f.name) for f in fields(rec) if f.name != "_parsed"}


def _tables(index: PackagesIndex, names: list[str]) -> dict[str, object]:
    return {
        "named": {n: [r.order for r in index.named(n)] for n in names},
        "providing": {n: index.providing(n) for n in names},
        "required": index.required,
    }


NAMES = ["a", "b", "odd", "last", "virt", "other", "spaced-name", "missing"]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_debian_scanned_index_reads_like_parse_packages(chunk: int) -> None:
    data = PACKAGES.encode()
    builder = PackagesIndexBuilder()
    for i in range(0, len(data), chunk):  # paragraphs cut anywhere by the decompressor
        builder.feed(data[i:i + chunk])
    index = builder.finish()
    expected = parse_packages(PACKAGES)
    assert [_record_fields(r) for r in index] == [_record_fields(r) for r in expected]
    assert _tables(index, NAMES) == _tables(PackagesIndex.from_records(expected), NAMES)
    assert index.providing("virt") == [(0, None), (0, "2.0"), (1, "3.0"), (1, None), (3, None)]
    assert index.required == ("a", "b")  # "required", not "requiredish", as minbase reads it
    assert index[4].conflicts == "b (<< 2)" and index[1].essential and index[1].size == 0


def test_debian_scanned_index_returns_one_object_per_record() -> None:
    index = PackagesIndex.parse(PACKAGES.encode())
    assert index[0] is index[0] is index.named("a")[0]  # the resolver compares identities
    assert len(index) == 5 and index[-1].package == "last"


def test_debian_scanned_index_strips_unused_fields() -> None:
    index = PackagesIndex.parse(PACKAGES.encode())
    stored = b"".join(bytes(c) for c in index.serialize(SHA, key=KEY))
    assert b"Maintainer" not in stored and b"role::program" not in stored
    assert b"Depends: b (>= 1), c | d" in stored


@pytest.mark.parametrize(("text", "match"), [
    ("Version: 1\n\nPackage: a\nVersion: 1\n", "before the first"),
    ("Package: a\nArchitecture: all\n", "no Version"),
    ("Package: a\nVersion: 1\n\nPackage:b\nVersion: 1\n", "not written"),
])
def test_debian_scanned_index_rejects_malformed(text: str, match: str) -> None:
    with pytest.raises(ControlError, match=match):
        PackagesIndex.parse(text.encode())


def test_debian_empty_index() -> None:
    index = PackagesIndex.parse(b"")
    assert len(index) == 0 and index.named("a") == []
    blob = b"".join(bytes(c) for c in index.serialize(SHA, key=KEY))
    assert len(PackagesIndex.load(blob, SHA, key=KEY)) == 0


# ---------------------------------------------------------------- cache file


def _cache_bytes() -> bytes:
    index = PackagesIndex.parse(PACKAGES.encode())
    return b"".join(bytes(c) for c in index.serialize(SHA, key=KEY))


def test_debian_index_cache_round_trip() -> None:
    loaded = PackagesIndex.load(_cache_bytes(), SHA, key=KEY)
    assert [_record_fields(r) for r in loaded] == [
        _record_fields(r) for r in parse_packages(PACKAGES)
    ]
    assert _tables(loaded, NAMES) == _tables(PackagesIndex.parse(PACKAGES.encode()), NAMES)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


@pytest.mark.parametrize(("damage", "match"), [
    (lambda d: _flip(d, len(d) - 5), "checksum"),  # a record's bytes
    (lambda d: _flip(d, 80), "checksum"),  # the tables
    (lambda d: d[:-1], "checksum"),  # truncated
    (lambda d: d[:10], "not a pinlock"),
    (lambda d: b"garbage" + d, "not a pinlock"),
    (lambda d: _flip(d, 23), "format"),  # the format number in the header
])
def test_debian_index_cache_damage_is_refused(damage: object, match: str) -> None:
    assert callable(damage)
    with pytest.raises(ControlError, match=match):
        PackagesIndex.load(damage(_cache_bytes()), SHA, key=KEY)


def test_debian_index_reads_records_from_the_file_it_was_written_to(tmp: Path) -> None:
    index = PackagesIndex.parse(PACKAGES.encode())
    chunks = index.serialize(SHA, key=KEY)
    path = tmp / "index"
    path.write_bytes(b"".join(bytes(c) for c in chunks))
    index.read_from(FileBytes(str(path)), chunks)
    # the records' bytes are no longer in memory: a change on disk shows (load() would refuse it)
    path.write_bytes(path.read_bytes().replace(b"Version: 3", b"Version: 4"))
    assert index[4].version == "4" and index[0].version == "1.0-1"
    with pytest.raises(ControlError, match="another size"):
        index.read_from(FileBytes(str(path)), chunks[:-1])


def test_debian_index_cache_of_another_index_is_refused() -> None:
    with pytest.raises(ControlError, match="for index"):
        PackagesIndex.load(_cache_bytes(), "cd" * 32, key=KEY)


# ---------------------------------------------------------------- decompression


def test_debian_decompress_chunks_streams_and_concatenates() -> None:
    data = PACKAGES.encode() * 50
    for path, packed in [
        ("Packages.xz", lzma.compress(data[:999]) + lzma.compress(data[999:])),
        ("Packages.gz", gzip.compress(data[:999]) + gzip.compress(data[999:])),
        ("Packages", data),
    ]:
        chunks = list(decompress_chunks(packed, path, size=256))
        assert b"".join(chunks) == data, path
        assert max(len(c) for c in chunks) <= 256, path


@pytest.mark.parametrize("path", ["Packages.xz", "Packages.gz"])
def test_debian_decompress_chunks_refuses_truncated(path: str) -> None:
    packed = (lzma.compress if path.endswith(".xz") else gzip.compress)(PACKAGES.encode() * 9)
    with pytest.raises(IntegrityError, match="cannot decompress"):
        list(decompress_chunks(packed[:-20], path, size=64))


@pytest.mark.parametrize("path", ["Packages.xz", "Packages.gz", "Packages"])
def test_debian_decompress_chunks_stops_one_byte_past_the_limit(path: str) -> None:
    data = PACKAGES.encode() * 9
    packers: dict[str, Callable[[bytes], bytes]] = {".xz": lzma.compress, ".gz": gzip.compress}
    pack = packers.get(path[-3:], bytes)
    assert b"".join(decompress_chunks(pack(data), path, limit=len(data))) == data
    seen: list[int] = []
    with pytest.raises(IntegrityError, match=f"expands to more than {len(data) - 1} bytes"):
        for chunk in decompress_chunks(pack(data), path, size=64, limit=len(data) - 1):
            seen.append(len(chunk))
    assert sum(seen) <= len(data) - 1  # the byte past the limit is never handed out


def test_debian_decompress_bomb_stops_at_the_limit_quickly() -> None:
    bomb = lzma.compress(bytes(16 << 20)) * 64  # 1 GiB of zeros in ~170 KB
    with pytest.raises(IntegrityError, match="expands to more than 1048576 bytes"):
        for _ in decompress_chunks(bomb, "Packages.xz", limit=1 << 20):
            pass


# ---------------------------------------------------------------- through the archive


def _loc(srv: ArchiveServer) -> Location:
    return Location(srv.debian(), str(srv.archive.keyring))


def _read(srv: ArchiveServer, cache: Path) -> PackagesIndex:
    a = Archive(make_client(timeout=10), cache_dir=str(cache),
                cache_key_file=str(cache.parent / "config" / "cache-key"))
    rel = a.release(_loc(srv), "trixie", SNAP1)
    return a.packages(_loc(srv), rel, "main", "amd64", SNAP1)


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes, path: str, **_: object) -> PackagesIndex:
        raise AssertionError(f"{path} scanned again")

    monkeypatch.setattr(archive_mod, "scan_index", refuse)


def test_debian_index_cache_is_used_without_fetching_or_scanning(
    archive_server: ArchiveServer, tmp: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = [_record_fields(r) for r in _read(archive_server, tmp)]
    archive_server.requests.clear()
    _no_scan(monkeypatch)
    again = _read(archive_server, tmp)
    assert [_record_fields(r) for r in again] == first
    assert not any("Packages" in p or "by-hash" in p for p in archive_server.requests)


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign"])
def test_debian_damaged_index_cache_is_rebuilt_from_verified_bytes(
    archive_server: ArchiveServer, tmp: Path, monkeypatch: pytest.MonkeyPatch, damage: str,
) -> None:
    first = [_record_fields(r) for r in _read(archive_server, tmp)]
    (cached,) = tmp.glob("*.index-v*")
    data = cached.read_bytes()
    if damage == "flip":
        cached.write_bytes(_flip(data, len(data) // 2))
    elif damage == "truncate":
        cached.write_bytes(data[: len(data) // 2])
    else:  # a whole, valid cache file of another index, under this index's name
        cached.write_bytes(_cache_bytes())
    archive_server.requests.clear()
    again = _read(archive_server, tmp)
    assert [_record_fields(r) for r in again] == first
    assert not any("Packages" in p for p in archive_server.requests)  # the .gz was cached
    assert cached.read_bytes() == data  # replaced by a good one
    _no_scan(monkeypatch)
    assert [_record_fields(r) for r in _read(archive_server, tmp)] == first


def test_debian_unwritable_cache_only_costs_time(
    archive_server: ArchiveServer, tmp: Path,
) -> None:
    blocked = tmp / "file"
    blocked.write_text("not a folder")
    index = _read(archive_server, blocked / "cache")
    assert any(r.package == "app" for r in index)


def test_debian_records_read_from_the_cache_file_equal_those_in_memory(
    archive_server: ArchiveServer, built_archive: BuiltArchive, tmp: Path,
) -> None:
    on_disk = _read(archive_server, tmp)
    (gz,) = tmp.glob("*.gz")
    in_memory = PackagesIndex.parse(gzip.decompress(gz.read_bytes()))
    assert [_record_fields(r) for r in on_disk] == [_record_fields(r) for r in in_memory]
    u_disk, u_mem = Universe.build("amd64", [on_disk]), Universe.build("amd64", [in_memory])
    for name in ("virt-editor", "libapi", "mail-transport-agent"):
        assert [(r.package, v) for r, v in u_disk.providers(name)] == [
            (r.package, v) for r, v in u_mem.providers(name)
        ]
    assert u_disk.required() == u_mem.required() == ["base-req", "libbase"]


# ---------------------------------------------------------------- where the CLI keeps it


def test_debian_cache_dir_follows_env_and_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    assert cache_dir({}) == "/home/u/.cache/pinlock"
    assert cache_dir({"XDG_CACHE_HOME": "/x/cache"}) == "/x/cache/pinlock"
    assert cache_dir({"XDG_CACHE_HOME": "relative"}) == "/home/u/.cache/pinlock"
    assert cache_dir({"XDG_CACHE_HOME": "/x", "PINLOCK_CACHE_DIR": "/p"}) == "/p"
    assert os.path.isabs(cache_dir(os.environ))


def test_debian_cache_prune_removes_only_long_unused_pinlock_files(tmp_path: Path) -> None:
    import datetime as dt
    import os

    from pinlock.sources.debian.archive import CACHE_KEEP
    from pinlock.usercache import prune_cache

    now = dt.datetime.now(dt.UTC)
    old = (now - CACHE_KEEP - dt.timedelta(days=1)).timestamp()
    names = {"a" * 64 + ".xz": old, "b" * 64 + ".index-v1": old, "c" * 64 + ".xz": None,
             "notes.txt": old}
    for name, mtime in names.items():
        (tmp_path / name).write_bytes(b"x")
        if mtime is not None:
            os.utime(tmp_path / name, (mtime, mtime))
    assert sorted(prune_cache(str(tmp_path), now, CACHE_KEEP)) == [
        "a" * 64 + ".xz", "b" * 64 + ".index-v1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c" * 64 + ".xz", "notes.txt"]
