"""``verify --online`` for apt: AptSource.check against the served archive."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from support.debian_archive import ArchiveServer

from pinlock.http import make_client
from pinlock.kinds.apt.model import AptInput, AptIntent, AptLocked, AptPackage
from pinlock.model import Lock
from pinlock.sources.debian import AptSource, AptSourceConfig, deb822
from pinlock.sources.interface import Context

CTX = Context(Lock())  # linux/amd64 + linux/arm64


def source(srv: ArchiveServer) -> AptSource:
    cfg = AptSourceConfig(mirror=srv.debian(), security_mirror=srv.security(),
                          keyring=str(srv.archive.keyring))
    now = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
    return AptSource(make_client(timeout=10), cfg, now=lambda: now)


def locked(srv: ArchiveServer) -> AptInput:
    inp = AptInput("apt", AptIntent(
        packages=("app", "newtool"), stage="0",
        suites=("trixie", "trixie-updates", "trixie-security"),
    ), AptLocked())
    return source(srv).resolve(inp, CTX)


def with_package(inp: AptInput, arch: str, name: str, pkg: AptPackage | None) -> AptInput:
    """``inp`` with the closure entry ``name`` of ``arch`` replaced (None: dropped)."""
    al = inp.locked.archs[arch]
    closure = tuple(
        q for p in al.closure for q in ([p] if p.name != name else [pkg] if pkg else [])
    )
    archs = {**inp.locked.archs, arch: replace(al, closure=closure)}
    return replace(inp, locked=replace(inp.locked, archs=archs))


def test_debian_check_clean_lock_reads_only_the_locked_records(
    archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    inp = locked(archive_server)
    # libfoo comes from trixie-updates: a lookup that stops at the first suite would miss it
    amd = {p.name: p for p in inp.locked.archs["amd64"].closure}
    assert amd["libfoo"].version == "2.0-1" and "/trixie-updates/" in amd["libfoo"].filename
    read: list[str] = []
    parse = deb822._read_record

    def counting(raw: bytes, order: int) -> deb822.PackageRecord:
        rec = parse(raw, order)
        read.append(rec.package)
        return rec

    monkeypatch.setattr(deb822, "_read_record", counting)
    assert source(archive_server).check(inp, CTX) == []
    names = {p.name for al in inp.locked.archs.values() for p in al.closure}
    assert read and set(read) <= names  # the name tables, not a walk over every record


@pytest.mark.parametrize(("change", "code"), [
    ({"sha256": "0" * 64}, "package-changed"),
    ({"size": 1}, "package-changed"),
    ({"filename": "pool/trixie-updates/main/l/libfoo/libfoo_2.0-1_amd64.deb.old"},
     "package-changed"),
    ({"version": "2.0-2"}, "package-gone"),
    ({"name": "libfoo-gone"}, "package-gone"),
])
def test_debian_check_reports_each_locked_field(
    archive_server: ArchiveServer, change: dict[str, object], code: str
) -> None:
    inp = locked(archive_server)
    libfoo = next(p for p in inp.locked.archs["amd64"].closure if p.name == "libfoo")
    bad = with_package(inp, "amd64", "libfoo", replace(libfoo, **change))  # type: ignore[arg-type]
    findings = source(archive_server).check(bad, CTX)
    assert [(f.code, f.severity) for f in findings] == [(code, "error")]
    assert "(amd64)" in findings[0].message


def test_debian_check_finds_a_package_missing_from_one_arch(
    archive_server: ArchiveServer,
) -> None:
    inp = locked(archive_server)
    tool = next(p for p in inp.locked.archs["arm64"].closure if p.name == "tool")
    ghost = replace(tool, name="ghost", filename="pool/trixie/main/g/ghost/ghost_1.0-1_arm64.deb")
    bad = with_package(inp, "arm64", "tool", ghost)
    findings = source(archive_server).check(bad, CTX)
    assert [(f.code, f.message) for f in findings] == [
        ("package-gone", "ghost 1.0-1 (arm64) is no longer in the locked archive state"),
    ]


def test_debian_check_not_full_trusts_the_locked_inrelease_files(
    archive_server: ArchiveServer,
) -> None:
    # outdated and update ask whether upstream moved: under the very InRelease files the lock
    # read, no index is fetched and a closure entry edited in the lock is not their finding
    # (verify --online, full, reports it above); a moved InRelease still is.
    inp = locked(archive_server)
    libfoo = next(p for p in inp.locked.archs["amd64"].closure if p.name == "libfoo")
    bad = with_package(inp, "amd64", "libfoo", replace(libfoo, sha256="0" * 64))
    src = source(archive_server)
    quick = AptSource(src.client, src.config, now=src.now, full=False)
    archive_server.requests.clear()
    assert quick.check(bad, CTX) == []
    assert archive_server.requests and all(
        p.endswith("/InRelease") for p in archive_server.requests), archive_server.requests
    suites = dict(bad.locked.suites)
    suites["trixie"] = replace(suites["trixie"], sha256="f" * 64)
    moved = replace(bad, locked=replace(bad.locked, suites=suites))
    assert [f.code for f in quick.check(moved, CTX)] == ["index-changed", "package-changed"]


def test_debian_check_suite_state_changed(archive_server: ArchiveServer) -> None:
    inp = locked(archive_server)
    suites = dict(inp.locked.suites)
    suites["trixie"] = replace(suites["trixie"], sha256="f" * 64)
    moved = replace(inp, locked=replace(inp.locked, suites=suites))
    findings = source(archive_server).check(moved, CTX)
    assert [(f.code, f.found) for f in findings] == [
        ("index-changed", inp.locked.suites["trixie"].sha256),
    ]
