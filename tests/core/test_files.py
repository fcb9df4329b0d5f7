"""Safe writes: both files or neither; a second writer waits, then is told who holds the lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinlock import files
from pinlock.errors import LocalFileError, LockBusyError


def test_write_together_replaces_both(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    files.write_together({a: "new a", b: "new b"})
    assert a.read_text() == "new a" and b.read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_write_together_restores_both_when_one_fails(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    b.write_text("old b")
    real_replace = os.replace
    calls: list[str] = []

    def flaky(src: str, dst: os.PathLike[str] | str) -> None:
        calls.append(str(dst))
        if Path(dst) == b and not str(src).endswith(files.OLD_SUFFIX):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("pinlock.files.os.replace", flaky)
    with pytest.raises(LocalFileError, match="No space left on device"):
        files.write_together({a: "new a", b: "new b"})
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert str(a) in calls  # a really was replaced before b failed, then restored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_second_writer_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "image.lock.toml"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, pathlib\nfrom pinlock.files import exclusive\n"
         f"with exclusive(pathlib.Path({str(lock)!r})):\n"
         "    print('held', flush=True)\n    sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusyError) as exc, files.exclusive(lock, wait=0.3):
            pass
        assert f"pid {holder.pid}" in str(exc.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    with files.exclusive(lock, wait=0.3):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("links", [True, False], ids=["hard-link backup", "no hard links"])
def test_rollback_keeps_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              links: bool) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    b.write_text("old b")
    os.chmod(a, 0o644)
    os.chmod(b, 0o640)
    real_replace = os.replace
    if not links:
        def no_link(*_: object, **__: object) -> None:
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr("pinlock.files.os.link", no_link)

    def flaky(src: str, dst: os.PathLike[str] | str) -> None:
        if Path(dst) == b and str(src).endswith(files.TEMP_SUFFIX) and ".b." in str(src):
            raise OSError(18, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr("pinlock.files.os.replace", flaky)
    with pytest.raises(LocalFileError, match="Invalid cross-device link"):
        files.write_together({a: "new a", b: "new b"})
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert (a.stat().st_mode & 0o777, b.stat().st_mode & 0o777) == (0o644, 0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        files.write_together({tmp_path / "new": "x"})
    finally:
        os.umask(old)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o640


def test_recover_completes_an_interrupted_write(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    b.write_text("old b")
    journal = tmp_path / ".b.pinlock-journal"
    real_replace = os.replace
    seen: list[str] = []

    def crash(src: str, dst: os.PathLike[str] | str) -> None:
        real_replace(src, dst)
        if Path(dst) in (a, b):
            seen.append(str(dst))
            raise SystemExit("killed")  # stands for the process ending right here

    with pytest.MonkeyPatch.context() as m:
        m.setattr("pinlock.files.os.replace", crash)
        m.setattr(files, "_rollback", lambda done: None)  # a killed process rolls nothing back
        m.setattr("pinlock.files.os.unlink", lambda *a, **k: None)  # ... nor cleans up
        with pytest.raises(SystemExit):
            files.write_together({a: "new a", b: "new b"}, journal=journal)
    assert (a.read_text(), b.read_text()) == ("new a", "old b") and journal.exists()
    assert files.recover(journal) == [a, b]
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert "completed a write" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_failed_rollback_leaves_what_recover_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    b.write_text("old b")
    journal = tmp_path / ".b.pinlock-journal"
    real_replace = os.replace

    def failing(src: str, dst: os.PathLike[str] | str) -> None:
        if Path(dst) == b or str(src).endswith(files.OLD_SUFFIX):
            raise OSError(5, "Input/output error")  # the second rename, and the way back
        real_replace(src, dst)

    monkeypatch.setattr("pinlock.files.os.replace", failing)
    with pytest.raises(LocalFileError, match="Input/output error"):
        files.write_together({a: "new a", b: "new b"}, journal=journal)
    assert "could not restore the old files" in capsys.readouterr().err
    assert (a.read_text(), b.read_text()) == ("new a", "old b") and journal.exists()
    monkeypatch.setattr("pinlock.files.os.replace", real_replace)
    assert files.recover(journal) == [a, b]
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
