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

    monkeypatch.setattr(files.os, "replace", flaky)
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
