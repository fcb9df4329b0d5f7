"""AptSource end to end against the served archive: resolve, newest, check."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from support.debian_archive import SNAP1, SNAP2, ArchiveServer

from pinlock.errors import InputError, IntegrityError
from pinlock.http import make_client
from pinlock.kinds.apt.model import AptInput, AptIntent, AptLocked
from pinlock.model import Lock
from pinlock.sources.debian import AptSource, AptSourceConfig, UnsatisfiableError
from pinlock.sources.debian.source import snapshot_of
from pinlock.sources.interface import Context

CTX = Context(Lock())  # linux/amd64 + linux/arm64


def source(srv: ArchiveServer, when: str = "2025-01-15T13:45:00") -> AptSource:
    cfg = AptSourceConfig(mirror=srv.debian(), security_mirror=srv.security(),
                          keyring=str(srv.archive.keyring))
    now = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
    return AptSource(make_client(timeout=10), cfg, now=lambda: now)


def apt_input(*pkgs: str) -> AptInput:
    return AptInput("apt", AptIntent(
        packages=pkgs, stage="0", suites=("trixie", "trixie-updates", "trixie-security"),
    ), AptLocked())


def test_debian_snapshot_rounding() -> None:
    when = dt.datetime(2025, 1, 15, 13, 45, 12, tzinfo=dt.UTC)
    assert snapshot_of(when) == "20250115T000000Z"
    assert snapshot_of(when, 3600) == "20250115T130000Z"


def test_debian_resolve_locks_both_archs(archive_server: ArchiveServer) -> None:
    got = source(archive_server).resolve(apt_input("app", "native"), CTX)
    lk = got.locked
    assert lk.snapshot == "20250115T000000Z" and lk.archive == "snapshot" and lk.base == "minbase"
    assert set(lk.suites) == {"trixie", "trixie-updates", "trixie-security"}
    assert lk.archs["amd64"].top == {"app": "1.0-1", "native": "1.0-1+b1"}
    assert lk.archs["arm64"].top == {"app": "1.0-1", "native": "1.0-1"}
    names = [p.name for p in lk.archs["amd64"].closure]
    assert names == sorted(names) and "libfoo" in names
    libfoo = next(p for p in lk.archs["arm64"].closure if p.name == "libfoo")
    assert libfoo.architecture == "arm64" and libfoo.filename.endswith("_arm64.deb")
    assert libfoo.source == "libfoo" and len(libfoo.sha256) == 64 and libfoo.size > 0
    # deterministic: a second resolve at the locked snapshot changes nothing
    assert source(archive_server, "2025-03-01T00:00:00").resolve(got, CTX) == got


def test_debian_resolve_with_base_status(archive_server: ArchiveServer) -> None:
    status = "Package: alt1\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n"
    src = source(archive_server)
    src.base_status = lambda inp, arch: status if arch == "amd64" else None
    got = src.resolve(apt_input("app"), CTX)
    assert got.locked.base == "minbase"  # arm64 fell back
    amd = {p.name for p in got.locked.archs["amd64"].closure}
    assert "alt1" not in amd and "alt2" not in amd  # installed alt1 satisfies alt1 | alt2
    assert "libbase" not in {p.name for p in got.locked.archs["arm64"].closure}


def test_debian_newest_and_update(archive_server: ArchiveServer) -> None:
    locked = source(archive_server).resolve(apt_input("app"), CTX)
    assert source(archive_server, "2025-01-20T00:00:00").newest(locked, CTX) is None
    cand = source(archive_server, "2025-02-03T08:00:00").newest(locked, CTX)
    assert cand is not None and cand.version == "20250203T000000Z"
    moved = source(archive_server).resolve(locked, CTX, version=cand.version)
    libfoo = {p.name: p.version for p in moved.locked.archs["amd64"].closure}["libfoo"]
    assert libfoo == "2.0-1+deb13u1"  # from trixie-security at the later snapshot


def test_debian_newest_reads_no_index_while_the_archive_state_and_base_are_the_locked_ones(
        archive_server: ArchiveServer) -> None:
    locked = source(archive_server).resolve(apt_input("app"), CTX)
    archive_server.requests.clear()
    # A later day whose InRelease files are the locked ones: nothing to resolve again.
    assert source(archive_server, "2025-01-20T00:00:00").newest(locked, CTX) is None
    assert archive_server.requests and not any(_index(r) for r in archive_server.requests)
    # The base image of the stage moved in this run (another digest planned): resolved again.
    src = source(archive_server, "2025-01-20T00:00:00")
    src.base_pin = lambda inp, read: {"linux/amd64": "sha256:" + "9" * 64}
    archive_server.requests.clear()
    assert src.newest(locked, CTX) is None  # same closure, but found by resolving
    assert any(_index(r) for r in archive_server.requests)


def _index(path: str) -> bool:
    """A request for a Packages index, by name or by hash."""
    return "/Packages" in path or "/by-hash/" in path


def test_debian_check_clean_and_after_changes(archive_server: ArchiveServer) -> None:
    src = source(archive_server)
    locked = src.resolve(apt_input("app"), CTX)
    assert src.check(locked, CTX) == []
    # a lock that claims other bytes for a package: reported, not raised
    arch = locked.locked.archs["amd64"]
    bad_pkg = arch.closure[0].__class__(**{**arch.closure[0].__dict__, "sha256": "0" * 64})
    from dataclasses import replace

    bad = replace(locked, locked=replace(locked.locked, archs={
        **locked.locked.archs, "amd64": replace(arch, closure=(bad_pkg, *arch.closure[1:])),
    }))
    codes = [f.code for f in src.check(bad, CTX)]
    assert codes == ["package-changed"]
    gone = replace(bad_pkg, sha256=arch.closure[0].sha256, version="9.9-9")
    bad = replace(locked, locked=replace(locked.locked, archs={
        **locked.locked.archs, "amd64": replace(arch, closure=(gone, *arch.closure[1:])),
    }))
    assert [f.code for f in src.check(bad, CTX)] == ["package-gone"]
    archive_server.faults.add("bad-signature")
    assert {f.code for f in src.check(locked, CTX)} == {"signature"}


def test_debian_check_debs(archive_server: ArchiveServer) -> None:
    src = source(archive_server)
    locked = src.resolve(apt_input("app"), CTX)
    assert src.check_debs(locked, CTX) == []
    assert src.check_debs(locked, CTX, sample=2) == []


@pytest.mark.parametrize("fault", ["bad-signature", "tampered-index", "untrusted-signer"])
def test_debian_resolve_stops_on_integrity_faults(
    archive_server: ArchiveServer, fault: str
) -> None:
    archive_server.faults.add(fault)
    with pytest.raises(IntegrityError):
        source(archive_server).resolve(apt_input("app"), CTX)


def test_debian_resolve_bad_requests(archive_server: ArchiveServer) -> None:
    with pytest.raises(UnsatisfiableError, match="chain-mid"):
        source(archive_server).resolve(apt_input("chain-top"), CTX)
    with pytest.raises(InputError, match="not a snapshot timestamp"):
        source(archive_server).resolve(apt_input("app"), CTX, version="yesterday")
    no_suites = AptInput("apt", AptIntent(packages=("app",), stage="0"), AptLocked())
    with pytest.raises(InputError, match="names no suites"):
        source(archive_server).resolve(no_suites, CTX)


def test_debian_config_from_env() -> None:
    cfg = AptSourceConfig.from_env({"PINLOCK_DEBIAN_MIRROR": "http://m.example/debian"})
    assert cfg.security_mirror == "http://m.example/debian-security"
    assert AptSourceConfig.from_env({}).mirror.startswith("https://snapshot.debian.org/")
    flag = AptSourceConfig.from_env({"PINLOCK_DEBIAN_MIRROR": "http://a/debian"},
                                    mirror="http://b/archive/debian/{snapshot}/")
    assert flag.security_mirror == "http://b/archive/debian-security/{snapshot}/"
    with pytest.raises(InputError):
        AptSourceConfig.from_env({"PINLOCK_DEBIAN_SECURITY_MIRROR": "http://a/x"})


def test_debian_plain_mirror_lock_is_kept(archive_server: ArchiveServer) -> None:
    cfg = AptSourceConfig(mirror=archive_server.debian(SNAP1),
                          security_mirror=archive_server.security(SNAP2),
                          keyring=str(archive_server.archive.keyring))
    src = AptSource(make_client(timeout=10), cfg,
                    now=lambda: dt.datetime(2025, 1, 15, tzinfo=dt.UTC))
    got = src.resolve(apt_input("app"), CTX)
    # the security mirror serves a later run (its InRelease is dated 2025-02-01) than the
    # clock says: the snapshot is that Date, never older than what was read
    assert got.locked.archive == "mirror" and got.locked.snapshot == SNAP2
    assert src.resolve(got, CTX) is got


def test_debian_mirror_relock_moves_the_snapshot_with_the_mirror(
        archive_server: ArchiveServer) -> None:
    def at(run: str, day: dt.datetime) -> AptSource:
        cfg = AptSourceConfig(mirror=archive_server.debian(run),
                              security_mirror=archive_server.security(run),
                              keyring=str(archive_server.archive.keyring))
        return AptSource(make_client(timeout=10), cfg, now=lambda: day)

    first = at(SNAP1, dt.datetime(2025, 1, 15, tzinfo=dt.UTC)).resolve(apt_input("tool"), CTX)
    assert first.locked.snapshot == "20250115T000000Z"
    added = replace(first, intent=replace(first.intent, packages=("tool", "prelib")))
    # the mirror has not moved: the package is added, the archive state is kept
    later = dt.datetime(2025, 1, 20, tzinfo=dt.UTC)
    same = at(SNAP1, later).resolve(added, CTX)
    assert same.locked.snapshot == first.locked.snapshot
    assert same.locked.suites == first.locked.suites
    assert same.locked.archs["amd64"].top == {"tool": "1.0-1", "prelib": "0.5-1"}
    # the mirror moved on (its second run): the snapshot follows the InRelease files read
    moved = at(SNAP2, dt.datetime(2025, 2, 15, 8, tzinfo=dt.UTC)).resolve(added, CTX)
    assert moved.locked.snapshot == "20250215T080000Z"
    assert moved.locked.suites != first.locked.suites
    assert moved.locked.archs["amd64"].top == {"tool": "1.0-1", "prelib": "0.6-1"}
    # a stale lock (an older time next to these InRelease states) is read again
    stale = replace(moved, locked=replace(moved.locked, snapshot=SNAP1))
    again = at(SNAP2, dt.datetime(2025, 2, 16, tzinfo=dt.UTC)).resolve(stale, CTX)
    assert again.locked.snapshot == "20250216T000000Z"


def test_debian_plain_mirror_snapshot_is_the_second_of_reading(
        archive_server: ArchiveServer) -> None:
    # A snapshot rounded down to the day could predate what the mirror served: not rounded.
    cfg = AptSourceConfig(mirror=archive_server.debian(SNAP2),
                          security_mirror=archive_server.security(SNAP2),
                          keyring=str(archive_server.archive.keyring))
    src = AptSource(make_client(timeout=10), cfg,
                    now=lambda: dt.datetime(2025, 2, 15, 13, 45, 12, tzinfo=dt.UTC))
    assert src.resolve(apt_input("app"), CTX).locked.snapshot == "20250215T134512Z"
    assert source(archive_server, "2025-02-15T13:45:12").snapshot_now() == "20250215T000000Z"


def test_debian_security_archive_has_its_own_keyring(archive_server: ArchiveServer) -> None:
    env = {"PINLOCK_DEBIAN_MIRROR": archive_server.debian(),
           "PINLOCK_DEBIAN_KEYRING": str(archive_server.archive.keyring),
           "PINLOCK_DEBIAN_SECURITY_KEYRING": str(archive_server.archive.untrusted_keyring)}
    cfg = AptSourceConfig.from_env(env)
    src = AptSource(make_client(timeout=10), cfg,
                    now=lambda: dt.datetime(2025, 1, 15, tzinfo=dt.UTC))
    # the security suite is signed by the archive key, which that keyring does not hold
    with pytest.raises(IntegrityError, match="trixie-security"):
        src.resolve(apt_input("app"), CTX)
    env["PINLOCK_DEBIAN_SECURITY_KEYRING"] = env["PINLOCK_DEBIAN_KEYRING"]
    src.config = AptSourceConfig.from_env(env)
    assert src.resolve(apt_input("app"), CTX).locked.archs
