"""Files on disk: reading inputs strictly, writing Dockerfile and lock together or not at all."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pinlock.errors import InputError, LockBusyError


def read_text(path: Path, what: str, *, limit: int | None = None) -> str:
    """Read a UTF-8 text file; a missing, unreadable, binary or (past ``limit`` bytes) huge
    file is bad input, refused before more than ``limit + 1`` bytes are read."""
    try:
        with path.open("rb") as f:
            data = f.read(-1 if limit is None else limit + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found",
                         hint=f"pass --{what.split()[0]} PATH, or run from the project root"
                         ) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if limit is not None and len(data) > limit:
        raise InputError(f"{path}: larger than {limit} bytes, refused as a {what}")
    if b"\0" in data:
        raise InputError(f"{path}: binary file (NUL bytes), expected a text {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}), expected a text {what}"
                         ) from None


def write_together(files: dict[Path, str]) -> None:
    """Replace every file atomically; if any replacement fails, restore all of them.

    Each new content goes to a temp file in the same folder (same filesystem, so
    os.replace is atomic), and only once all temp files are written do the
    replacements start: a crash leaves either the old or the new file, never half.
    """
    originals: dict[Path, bytes | None] = {}
    temps: dict[Path, str] = {}
    try:
        for path, text in files.items():
            originals[path] = path.read_bytes() if path.exists() else None
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                       dir=path.parent or Path("."))
            temps[path] = tmp
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        done: list[Path] = []
        try:
            for path, tmp in temps.items():
                os.replace(tmp, path)
                done.append(path)
        except BaseException:
            for path in done:
                _restore(path, originals[path])
            raise
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _restore(path: Path, original: bytes | None) -> None:
    if original is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".restore", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(original)
    os.replace(tmp, path)


@contextlib.contextmanager
def exclusive(lock_path: Path, *, wait: float = 5.0) -> Iterator[None]:
    """Hold an advisory lock for writing ``lock_path``; a second writer waits, then is told who.

    The lock is a sidecar file ``.<name>.pinlock-lock`` holding the owner's PID,
    removed on release. After acquiring, the inode is checked against the path so
    a waiter that got a removed file retries instead of sharing the lock.
    """
    sidecar = lock_path.parent / f".{lock_path.name}.pinlock-lock"
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(sidecar, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                holder = ""
                with contextlib.suppress(OSError):
                    holder = sidecar.read_text().strip()
                raise LockBusyError(
                    f"{lock_path}: another pinlock process is writing it"
                    + (f" (pid {holder})" if holder else ""),
                    hint=f"wait for it to finish; if no pinlock runs, remove {sidecar}") from None
            time.sleep(0.05)
            continue
        try:
            if os.fstat(fd).st_ino != os.stat(sidecar).st_ino:
                os.close(fd)
                continue
        except FileNotFoundError:
            os.close(fd)
            continue
        break
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sidecar)
        os.close(fd)
