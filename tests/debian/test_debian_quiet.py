"""Quiet apt updates: a newer archive state that installs the same bytes moves nothing.

Through the CLI against the real signed test archive: `update apt`, `outdated` and
`pr` agree that a snapshot whose closure is unchanged is no update, and that one
changed closure package is (and the pull request's closure diff names only it).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.clock import freeze_clock
from support.debian_archive import (
    SNAP1,
    ArchiveServer,
    BuiltArchive,
    P,
    Pkg,
    build_archive,
    serve,
)
from support.fake_github_pulls import FakeGitHubPulls
from support.git_world import REPOSITORY, git, new_repository
from support.proc import worktree_digest

SNAP_SAME = "20250201T000000Z"  # a later run: every suite re-signed, no package changed
SNAP_MOVED = "20250301T000000Z"  # a later run still: one closure package has a new version
SUITES = ("trixie", "trixie-updates", "trixie-security")
_MAIN = [
    P("base-req", "1.0-1", Priority="required", Essential="yes", Depends="libbase (>= 1)"),
    P("libbase", "1.1-1", Priority="required", Multi_Arch="same"),
    P("tool", "1.0-1", Multi_Arch="foreign", Depends="data-common"),
    P("data-common", "1.0-1", "all"),
    P("prelib", "0.5-1"),
]
_UNRELATED = [P("elsewhere", "1.0-1")]  # in a suite, but never in the closure
SAME: dict[str, list[Pkg]] = {
    "trixie": _MAIN, "trixie-updates": _UNRELATED, "trixie-security": [],
}
# Only trixie-updates changes between SNAP1 and SNAP_SAME, and only in a package the
# install line does not reach: its InRelease moves, what is installed does not.
SNAPSHOTS_SAME = {SNAP1: SAME, SNAP_SAME: {**SAME, "trixie-updates": [
    *_UNRELATED, P("elsewhere-too", "2.0-1")]}}
SNAPSHOTS_MOVED = {**SNAPSHOTS_SAME, SNAP_MOVED: {**SAME, "trixie-security": [
    P("data-common", "1.0-1+deb13u1", "all")]}}

DOCKERFILE = """\
FROM debian:13.4
# the tools the build needs
RUN apt-get update && \\
    apt-get install -y --no-install-recommends tool prelib && \\
    rm -rf /var/lib/apt/lists/*
"""


def _need_tools() -> None:
    for tool in ("dpkg-deb", "apt-ftparchive", "gpg"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} to build a signed Debian archive")


@pytest.fixture(scope="module")
def same_archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    _need_tools()
    return build_archive(tmp_path_factory.mktemp("quiet-same"), SNAPSHOTS_SAME)


@pytest.fixture(scope="module")
def moved_archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    _need_tools()
    return build_archive(tmp_path_factory.mktemp("quiet-moved"), SNAPSHOTS_MOVED)


def _project(tmp_path: Path, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Path:
    """A git clone with the Dockerfile locked at SNAP1 (the apt input alone), committed."""
    _, work = new_repository(tmp_path, monkeypatch.setenv)
    (work / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(work)
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", srv.security())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
    lock = work / "image.lock.toml"
    text = lock.read_text()
    lock.write_text(text[:text.index("[inputs.debian]")])  # no registry here: apt alone
    bumped = run_cli(capsys, "bump", "apt", SNAP1)
    assert bumped.code == 0, bumped.err
    assert run_cli(capsys, "verify", "--strict").code == 0
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "locked")
    git(work, "push", "--quiet", "origin", "main")
    return work


@pytest.fixture
def pulls(tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[FakeGitHubPulls]:
    with FakeGitHubPulls(tmp_path / "remote.git", token=token) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", token)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        yield fake


@pytest.fixture
def token() -> str:
    return "ghp_" + "q" * 36


def _locked(work: Path) -> str:
    lock = work / "image.lock.toml"
    return next(line for line in lock.read_text().splitlines()
                if line.startswith("snapshot = "))


def test_no_change_update_apt_writes_nothing(
    tmp_path: Path, same_archive: BuiltArchive, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], pulls: FakeGitHubPulls,
) -> None:
    for srv in serve(same_archive):
        work = _project(tmp_path, srv, monkeypatch, capsys)
        assert _locked(work) == f'snapshot = "{SNAP1}"'
        before = worktree_digest(work)
        srv.requests.clear()

        run = run_cli(capsys, "update", "apt", "--json")
        assert run.code == 0, run.out + run.err
        data = json.loads(run.out)
        assert data["changes"] == [] and not data["lock_changed"]
        assert not data["dockerfile_changed"]
        # It did read the newer state (today's snapshot redirects to SNAP_SAME) ...
        assert any(f"/{SNAP_SAME}/dists/trixie-updates/InRelease" in r for r in srv.requests)
        # ... and found it installs what the lock holds: not one byte written.
        assert worktree_digest(work) == before

        run = run_cli(capsys, "outdated", "--json")
        assert run.code == 0, run.out + run.err
        rows = {r["input"]: r for r in json.loads(run.out)["inputs"]}
        assert rows["apt"]["move"] is None and rows["apt"]["newest"] is None
        assert json.loads(run.out)["movable"] == []

        pulls.clear_requests()
        run = run_cli(capsys, "pr", "--dry-run", "--json")
        assert run.code == 0, run.out + run.err
        # nothing to open: the only word on apt is that it is up to date
        assert [a["action"] for a in json.loads(run.out)["actions"]] in ([], ["up-to-date"])
        assert pulls.writes() == []
        assert worktree_digest(work) == before


def test_one_changed_closure_package_moves_and_the_diff_names_it(
    tmp_path: Path, moved_archive: BuiltArchive, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], pulls: FakeGitHubPulls,
) -> None:
    for srv in serve(moved_archive):
        work = _project(tmp_path, srv, monkeypatch, capsys)
        run = run_cli(capsys, "outdated", "--json")
        assert run.code == 0, run.out + run.err
        assert json.loads(run.out)["movable"] == ["apt"]

        run = run_cli(capsys, "pr", "--json")
        assert run.code == 0, run.out + run.err
        [pull] = pulls.open_pulls()
        assert pull.head == "pinlock/apt"
        section = pull.body[pull.body.index("### Debian packages (apt)"):]
        changed = [line for line in section.splitlines()
                   if line.startswith("| ") and "`" in line]
        for arch in ("amd64", "arm64"):
            assert f"<summary>{arch}: " in section
        # exactly the one package, once per architecture; nothing else listed as moved
        assert {line.split(" | ")[0] for line in changed} == {"| data-common"}, section
        assert all("`1.0-1`" in line and "`1.0-1+deb13u1`" in line for line in changed)
        moved_lock = git(work, "show", "origin/pinlock/apt:image.lock.toml")
        [snapshot] = [line for line in moved_lock.splitlines() if line.startswith("snapshot = ")]
        assert snapshot > f'snapshot = "{SNAP_MOVED}"'  # today's, served by the SNAP_MOVED run

        # And updating locally moves it the same way, after which nothing is left to move.
        run = run_cli(capsys, "update", "apt")
        assert run.code == 0, run.out + run.err
        assert _locked(work) == snapshot
        assert run_cli(capsys, "verify", "--strict").code == 0
        again = worktree_digest(work)
        assert run_cli(capsys, "update", "apt").code == 0
        assert worktree_digest(work) == again


def test_installs_sees_every_part_of_what_is_installed() -> None:
    """Not only versions: other bytes under the same version, another architecture, a base
    package removed, a top-level version: each is a change of what the line installs."""
    from dataclasses import replace

    from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptIntent, AptLocked, AptPackage
    from pinlock.sources.debian.source import installs

    pkg = AptPackage("tool", "1.0-1", "amd64", "a" * 64, 10, "pool/t/tool_1.0-1_amd64.deb",
                     "tool")
    arch = AptArchLocked(top={"tool": "1.0-1"}, closure=(pkg,), removed=())
    inp = AptInput("apt", AptIntent(("tool",), "0", SUITES),
                   AptLocked(snapshot=SNAP1, archs={"amd64": arch}))

    def with_arch(changed: AptArchLocked) -> AptInput:
        return replace(inp, locked=replace(inp.locked, archs={"amd64": changed}))

    # the snapshot and the InRelease states are not what is installed
    assert installs(replace(inp, locked=replace(inp.locked, snapshot=SNAP_SAME))) == installs(inp)
    for changed in (
        with_arch(replace(arch, closure=(replace(pkg, sha256="b" * 64),))),
        with_arch(replace(arch, closure=(replace(pkg, architecture="all"),))),
        with_arch(replace(arch, closure=(replace(pkg, version="1.0-2"),))),
        with_arch(replace(arch, removed=("alt1=1.0-1",))),
        with_arch(replace(arch, top={"tool": "1.0-2"})),
        replace(inp, locked=replace(inp.locked, archs={"amd64": arch, "arm64": arch})),
    ):
        assert installs(changed) != installs(inp)


def test_min_age_holds_a_young_snapshot_back(
    tmp_path: Path, moved_archive: BuiltArchive, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], pulls: FakeGitHubPulls,
) -> None:
    """The run that changed the closure (SNAP_MOVED, InRelease Date 2025-03-01) is the age."""
    import datetime as dt

    for srv in serve(moved_archive):
        work = _project(tmp_path, srv, monkeypatch, capsys)
        lock = work / "image.lock.toml"
        lock.write_text(lock.read_text().replace("[inputs.apt]\n",
                                                 '[inputs.apt]\nmin-age = "1w"\n', 1))
        before = worktree_digest(work)
        published = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
        freeze_clock(monkeypatch, published + dt.timedelta(days=2))
        run = run_cli(capsys, "outdated", "--json")
        assert run.code == 0, run.out + run.err
        [row] = json.loads(run.out)["inputs"]
        assert row["waiting"] == "5d left" and not row["movable"]
        assert run_cli(capsys, "update", "apt").code == 0
        assert worktree_digest(work) == before

        freeze_clock(monkeypatch, published + dt.timedelta(days=7))
        run = run_cli(capsys, "outdated", "--json")
        assert json.loads(run.out)["movable"] == ["apt"]
        assert run_cli(capsys, "update", "apt").code == 0
        assert _locked(work) == 'snapshot = "20250308T000000Z"'
        assert run_cli(capsys, "verify", "--strict").code == 0


def test_through_a_plain_mirror_a_reread_that_installs_the_same_writes_nothing(
    tmp_path: Path, moved_archive: BuiltArchive, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plain mirror (no `{snapshot}`) is read as it is now: its re-signed InRelease files
    are no update, a changed closure package is."""
    for srv in serve(moved_archive):
        work = tmp_path / "work"
        work.mkdir()
        (work / "Dockerfile").write_text(DOCKERFILE)
        monkeypatch.chdir(work)
        monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
        monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))

        def mirror_at(snap: str, srv: ArchiveServer = srv) -> None:
            monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian(snap))
            monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", srv.security(snap))

        # One second for the whole test: the mirror's reads cannot be told apart by time.
        import datetime as dt

        freeze_clock(monkeypatch, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
        mirror_at(SNAP1)
        assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
        lock = work / "image.lock.toml"
        text = lock.read_text()
        lock.write_text(text[:text.index("[inputs.debian]")])
        run = run_cli(capsys, "lock")
        assert run.code == 0, run.out + run.err
        assert 'archive = "mirror"' in lock.read_text()
        assert _locked(work) == 'snapshot = "20260102T030405Z"'
        before = worktree_digest(work)

        mirror_at(SNAP_SAME)  # the mirror synced: trixie-updates re-signed, nothing we use
        run = run_cli(capsys, "update", "apt", "--json")
        assert run.code == 0, run.out + run.err
        assert json.loads(run.out)["changes"] == [] and worktree_digest(work) == before
        assert json.loads(run_cli(capsys, "outdated", "--json").out)["movable"] == []

        mirror_at(SNAP_MOVED)  # data-common has a security update
        run = run_cli(capsys, "update", "apt", "--json")
        assert run.code == 0, run.out + run.err
        [change] = json.loads(run.out)["changes"]
        assert change["input"] == "apt" and worktree_digest(work) != before
        assert 'version = "1.0-1+deb13u1"' in lock.read_text()
        assert run_cli(capsys, "verify", "--strict").code == 0
