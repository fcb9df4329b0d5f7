"""Hostile local faults: planted links, SIGKILL at random points, a crash between the renames,
failed renames, a read-only folder, a full disk. Each run is pinlock in its own process."""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.fake_github import FakeGitHub, add_s6_overlay
from support.git_world import dockerfile_for
from support.proc import ROOT, Proc, run_pinlock, tree_digest

OLD, NEW = "3.2.3.0", "3.2.4.0"
LOCK = "image.lock.toml"
DOCKERFILE = "docker/Dockerfile"
SIDECAR = f".{LOCK}.pinlock-lock"
JOURNAL = f".{LOCK}.pinlock-journal"
LIMIT = 60.0


@dataclass
class Project:
    folder: Path
    env: dict[str, str]

    def run(self, *args: str, limit: float = LIMIT, prefix: tuple[str, ...] = ()) -> Proc:
        return run_pinlock(*args, cwd=self.folder, env=self.env, limit=limit, prefix=prefix)

    def version(self) -> str:
        for line in (self.folder / DOCKERFILE).read_text().splitlines():
            if line.startswith("ARG S6_OVERLAY_VERSION="):
                return line.split("=", 1)[1]
        raise AssertionError("no version ARG")

    def locked_version(self) -> str:
        for line in (self.folder / LOCK).read_text().splitlines():
            if line.startswith('version = "'):
                return line.split('"')[1]
        raise AssertionError("no locked version")


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        add_s6_overlay(fake, [(OLD, False), (NEW, False)])
        yield fake


@pytest.fixture
def project(tmp_path: Path, github: FakeGitHub) -> Project:
    folder = tmp_path / "project"
    (folder / "docker").mkdir(parents=True)
    (folder / DOCKERFILE).write_text(dockerfile_for(OLD))
    env = {"GITHUB_API_URL": github.api_url, "PINLOCK_CACHE_DIR": str(tmp_path / "cache")}
    p = Project(folder, env)
    init = p.run("init")
    assert init.code == 0, init.text
    ok = p.run("verify")
    assert ok.code == 0, ok.text
    return p


def wrapper(code: str) -> tuple[str, ...]:
    """A prefix that runs ``code`` in the child, then pinlock's CLI in the same process.

    ``code`` patches the standard library where the fault is injected: nothing of the kind
    exists in pinlock itself.
    """
    run = ("import runpy, sys\n" + code + "\n"
           "sys.argv = ['pinlock', *sys.argv[4:]]\n"  # -c <python> -m pinlock ARGS
           "runpy.run_module('pinlock', run_name='__main__', alter_sys=True)\n")
    return (sys.executable, "-c", run)


def _can_mount() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\"; "
         "r=$?; rmdir \"$d\"; exit $r"],
        capture_output=True, check=False)
    return probe.returncode == 0


CAN_MOUNT = _can_mount()


def assert_unchanged(before: dict[str, str], project: Project) -> None:
    assert tree_digest(project.folder) == before
    leftovers = [p.name for p in project.folder.rglob(".*pinlock*")]
    assert leftovers == [], leftovers


# ------------------------------------------------------------------ the lock file


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_planted_link_as_lock_file_is_refused(project: Project, tmp_path: Path,
                                              kind: str) -> None:
    victim = tmp_path / "victim"
    victim.write_text("the user's precious file\n")
    os.chmod(victim, 0o600)
    sidecar = project.folder / SIDECAR
    if kind == "symlink":
        sidecar.symlink_to(victim)
    else:
        os.link(victim, sidecar)
    before = tree_digest(project.folder)
    p = project.run("bump", "s6-overlay", NEW)
    p.assert_clean()
    assert p.code == 2, p.text
    assert str(sidecar) in p.err or SIDECAR in p.err, p.err
    assert ("symbolic link" if kind == "symlink" else "hard link") in p.err, p.err
    assert victim.read_text() == "the user's precious file\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert tree_digest(project.folder) == before
    assert project.version() == OLD


def test_stale_lock_file_is_taken_over_and_removed(project: Project) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (project.folder / SIDECAR).write_text(f"{dead.pid}\n")
    p = project.run("bump", "s6-overlay", NEW)
    p.assert_clean()
    assert p.code == 0, p.text
    assert f"left by pid {dead.pid}" in p.err, p.err
    assert not (project.folder / SIDECAR).exists()
    assert project.version() == project.locked_version() == NEW


def test_sigterm_removes_the_lock_file(project: Project) -> None:
    # The child stops inside the lock (its first rename waits on a pipe), then gets SIGTERM.
    code = ("import os, time\n_real = os.replace\n"
            "def replace(src, dst, *a, **k):\n"
            f"    if str(dst).endswith(({LOCK!r}, 'Dockerfile')):\n"
            "        print('renaming', flush=True); time.sleep(60)\n"
            "    return _real(src, dst, *a, **k)\n"
            "os.replace = replace\n")
    before = tree_digest(project.folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **project.env}
    child = subprocess.Popen([*wrapper(code), sys.executable, "-m", "pinlock", "bump",
                              "s6-overlay", NEW], cwd=project.folder, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "renaming"
    assert (project.folder / SIDECAR).exists()
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert_unchanged(before, project)


# ------------------------------------------------------------------ SIGKILL at random points


def test_kill_9_loop_leaves_a_consistent_pair(project: Project) -> None:
    """40 runs of `bump`, each SIGKILLed at a random point; the next run always finds a
    consistent pair (old or new, never mixed) and no lock file that blocks it."""
    rng = random.Random(13)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **project.env}
    env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_TOKEN", "GH_"))}
    start = time.monotonic()
    whole = project.run("bump", "s6-overlay", NEW)
    assert whole.code == 0, whole.text
    whole.assert_clean()
    span = time.monotonic() - start  # a whole run: the kills land anywhere inside it
    outcomes: dict[str, int] = {}
    for i in range(40):
        target = OLD if project.version() == NEW else NEW
        child = subprocess.Popen(
            [sys.executable, "-m", "pinlock", "bump", "s6-overlay", target],
            cwd=project.folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        delay = rng.uniform(0.0, span * 1.1)
        time.sleep(delay)
        os.killpg(child.pid, signal.SIGKILL)
        _, child_err = child.communicate()
        left = sorted(p.name for p in project.folder.rglob(".*pinlock*"))
        repaired = "journal" if JOURNAL in left else ("lock file" if SIDECAR in left else "clean")
        nxt = project.run("lock")
        check = project.run("verify")
        why = (f"run {i}: killed after {delay:.3f} s (exit {child.returncode}), left {left}\n"
               f"killed run said: {child_err.decode(errors='replace')[-500:]}\n"
               f"next lock ({nxt.code}): {nxt.text[-1500:]}\nverify ({check.code}): "
               f"{check.text[-1500:]}")
        nxt.assert_clean()
        assert nxt.code == 0, why
        assert check.code == 0, why
        assert project.version() == project.locked_version() in (OLD, NEW), why
        assert not [p.name for p in project.folder.rglob(".*pinlock*")], why
        outcome = f"{repaired}, {'moved' if project.version() == target else 'kept'}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"\nkill -9 outcomes: {outcomes}")
    assert sum(outcomes.values()) == 40


# ------------------------------------------------------------------ a crash between renames


def test_crash_between_the_renames_is_repaired_by_the_next_run(project: Project) -> None:
    code = ("import os\n_real = os.replace\n"
            "def replace(src, dst, *a, **k):\n"
            "    _real(src, dst, *a, **k)\n"
            f"    if str(dst).endswith(({LOCK!r}, 'Dockerfile')):\n"
            "        os._exit(9)\n"
            "os.replace = replace\n")
    crash = project.run("bump", "s6-overlay", NEW, prefix=wrapper(code))
    assert crash.code == 9, crash.text
    assert (project.folder / JOURNAL).exists()
    mixed = project.run("verify")
    assert mixed.code == 1, mixed.text  # the pair really is mixed until the next run
    assert "`pinlock lock` completes it" in mixed.err, mixed.err
    nxt = project.run("lock")
    nxt.assert_clean()
    assert nxt.code == 0, nxt.text
    assert "completed a write an earlier run left half done" in nxt.err, nxt.err
    assert project.version() == project.locked_version() == NEW
    check = project.run("verify")
    assert check.code == 0, check.text
    assert not [p.name for p in project.folder.rglob(".*pinlock*")]


# ------------------------------------------------------------------ modes, failed renames


def test_modes_and_owners_are_kept_on_success(project: Project) -> None:
    os.chmod(project.folder / DOCKERFILE, 0o644)
    os.chmod(project.folder / LOCK, 0o640)
    owner = os.geteuid() == 0  # only root may give a file to another user
    if owner:
        os.chown(project.folder / DOCKERFILE, 65534, 65534)
    p = project.run("bump", "s6-overlay", NEW)
    p.assert_clean()
    assert p.code == 0, p.text
    assert project.version() == project.locked_version() == NEW
    assert stat.S_IMODE((project.folder / DOCKERFILE).stat().st_mode) == 0o644
    assert stat.S_IMODE((project.folder / LOCK).stat().st_mode) == 0o640
    if owner:
        st = (project.folder / DOCKERFILE).stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534)


@pytest.mark.parametrize(("err", "text"), [
    ("EXDEV", "Invalid cross-device link"), ("EIO", "Input/output error"),
    ("EACCES", "Permission denied"),
])
def test_failed_second_rename_restores_both_with_their_modes(project: Project, err: str,
                                                              text: str) -> None:
    os.chmod(project.folder / DOCKERFILE, 0o644)
    os.chmod(project.folder / LOCK, 0o640)
    before = tree_digest(project.folder)
    code = ("import errno, os\n_real = os.replace\nseen = []\n"
            "def replace(src, dst, *a, **k):\n"
            f"    if str(dst).endswith(({LOCK!r}, 'Dockerfile')) and '.pinlock-old' not in str(src):\n"  # noqa: E501
            "        seen.append(dst)\n"
            "        if len(seen) == 2:\n"
            f"            raise OSError(errno.{err}, os.strerror(errno.{err}), str(dst))\n"
            "    return _real(src, dst, *a, **k)\n"
            "os.replace = replace\n")
    p = project.run("bump", "s6-overlay", NEW, prefix=wrapper(code))
    p.assert_clean()
    assert p.code == 2, p.text
    assert text in p.err and "cannot replace it" in p.err, p.err
    assert_unchanged(before, project)


# ------------------------------------------------------------------ read-only folder, full disk


def _read_only(folder: Path) -> tuple[str, ...]:
    if CAN_MOUNT:
        script = ('mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && '
                  'cd "$D" && exec "$@"')  # cd: the cwd inherited is on the writable mount
        return ("unshare", "-m", "--propagation", "private", "env", f"D={folder}",
                "sh", "-c", script, "sh")
    # No mount here: every open for writing under the folder fails as a read-only mount would.
    code = ("import errno, os\n_real = os.open\n"
            f"_ro = {str(folder)!r}\n"
            "def open_(path, flags, *a, **k):\n"
            "    if (os.path.abspath(path).startswith(_ro)\n"
            "            and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):\n"
            "        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)\n"
            "    return _real(path, flags, *a, **k)\n"
            "os.open = open_\n")
    return wrapper(code)


def test_read_only_folder(project: Project) -> None:
    before = tree_digest(project.folder)
    prefix = _read_only(project.folder)
    dry = project.run("bump", "s6-overlay", NEW, "--dry-run", prefix=prefix)
    dry.assert_clean()
    assert dry.code == 0, dry.text
    assert "dry run: nothing written" in dry.out
    real = project.run("bump", "s6-overlay", NEW, prefix=prefix)
    real.assert_clean()
    assert real.code == 2, real.text
    assert "Read-only file system" in real.err and SIDECAR in real.err, real.err
    assert_unchanged(before, project)


def test_full_disk(project: Project, tmp_path: Path) -> None:
    before = tree_digest(project.folder)
    if CAN_MOUNT:
        # The project on a tiny tmpfs, filled up; what is left there is listed afterwards.
        listing = tmp_path / "after.txt"
        script = ('mount -t tmpfs -o size=256k tmpfs "$D" && cp -a "$S/." "$D/" && '
                  '(dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null; true) && cd "$D" && '
                  '"$@"; rc=$?; (cd "$D" && rm -f filler && find . -type f | sort | '
                  'xargs sha256sum && stat -c "%n %a" docker/Dockerfile image.lock.toml) '
                  '> "$L"; exit $rc')
        mnt = tmp_path / "disk"
        mnt.mkdir()
        prefix: tuple[str, ...] = (
            "unshare", "-m", "--propagation", "private", "env", f"D={mnt}",
            f"S={project.folder}", f"L={listing}", "sh", "-c", script, "sh")
        p = project.run("bump", "s6-overlay", NEW, prefix=prefix)
        after = listing.read_text()
        for name in (DOCKERFILE, LOCK):
            assert f"./{name}" in after
        assert "pinlock-" not in after, after
        originals = {f"./{n}": subprocess.run(["sha256sum", n], cwd=project.folder,
                                              capture_output=True, text=True).stdout.split()[0]
                     for n in (DOCKERFILE, LOCK)}
        for name, digest in originals.items():
            assert f"{digest}  {name}" in after, after
    else:
        code = ("import errno, os\n"
                "def fsync(fd):\n"
                "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
                "os.fsync = fsync\n")
        p = project.run("bump", "s6-overlay", NEW, prefix=wrapper(code))
    p.assert_clean()
    assert p.code == 2, p.text
    assert "No space left on device" in p.err, p.err
    assert "Dockerfile" in p.err or LOCK in p.err, p.err
    assert_unchanged(before, project)


def test_name_too_long(project: Project) -> None:
    # the lock file's name fits, and so does its lock file's; its temp file's would not
    lock = project.folder / ("x" * 235 + ".toml")
    shutil.copy(project.folder / LOCK, lock)
    before = tree_digest(project.folder)
    p = project.run("bump", "--lockfile", lock.name, "s6-overlay", NEW)
    p.assert_clean()
    assert p.code == 2, p.text
    assert "File name too long" in p.err and lock.name in p.err, p.err
    assert_unchanged(before, project)


def test_pr_does_not_count_a_killed_runs_files_as_changes(project: Project) -> None:
    """What a SIGKILLed run leaves (lock file, temp files) is not an uncommitted change."""
    from pinlock.files import is_scratch
    from pinlock.pr.git import Git

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project.folder, check=True, capture_output=True)

    git("init", "--quiet", "-b", "main")
    git("-c", "user.name=Dev", "-c", "user.email=dev@example.org", "add", "-A")
    git("-c", "user.name=Dev", "-c", "user.email=dev@example.org", "commit", "--quiet",
        "-m", "initial")
    (project.folder / SIDECAR).write_text("999999999\n")
    (project.folder / "docker" / ".Dockerfile.abcd1234.pinlock-tmp").write_text("new")
    (project.folder / f".{LOCK}.abcd1234.pinlock-old").write_text("old")
    dirty = Git(project.folder).dirty()
    assert len(dirty) == 3, dirty
    assert [p for p in dirty if not is_scratch(p)] == []
    (project.folder / "notes.txt").write_text("mine")
    assert [p for p in Git(project.folder).dirty() if not is_scratch(p)] == ["notes.txt"]
