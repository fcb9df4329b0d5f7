"""Files on disk: reading inputs strictly, writing Dockerfile and lock together or not at all."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from pinlock.errors import InputError, LocalFileError, LockBusyError

# Names of pinlock's own scratch files beside the files it writes. `pinlock pr` ignores
# them when it checks for uncommitted changes: a run killed with SIGKILL cannot remove them.
LOCK_SUFFIX = ".pinlock-lock"
TEMP_SUFFIX = ".pinlock-tmp"
OLD_SUFFIX = ".pinlock-old"
JOURNAL_SUFFIX = ".pinlock-journal"
_JOURNAL_FORMAT = 1


def is_scratch(path: str) -> bool:
    """A file pinlock leaves only when killed mid-run (the next run removes or replaces it).

    The journal is not scratch: while it exists, the Dockerfile/lock pair is mid-write.
    """
    name = os.path.basename(path.strip().strip('"').rstrip("/"))
    return name.startswith(".") and name.endswith((LOCK_SUFFIX, TEMP_SUFFIX, OLD_SUFFIX))


def note(message: str) -> None:
    """A message about the local files (a stale lock taken over, a write repaired)."""
    from pinlock import output

    output.warn(message, label="note")  # --quiet silences it


def local_error(path: Path | str, action: str, exc: OSError) -> LocalFileError:
    """``path: cannot <action>: <errno text> (ERRNO)``: exit 2, naming the file."""
    code = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc)
    hints = {
        errno.EROFS: "the folder is on a read-only file system; --dry-run writes nothing",
        errno.ENOSPC: "the disk is full; free some space and run again",
        errno.EDQUOT: "the disk quota is exceeded; free some space and run again",
        errno.EACCES: "check the permissions of the file and its folder",
        errno.EPERM: "check the permissions of the file and its folder",
        errno.ENAMETOOLONG: "use a shorter file or folder name",
        errno.EXDEV: "the file is a mount point of its own; pinlock replaces files by rename",
    }
    return LocalFileError(f"{path}: cannot {action}: {text}" + (f" ({code})" if code else ""),
                          hint=hints.get(exc.errno or 0))


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


def journal_for(lock_path: Path) -> Path:
    """Where a write of ``lock_path`` (and its Dockerfile) records what it is replacing."""
    return lock_path.parent / f".{lock_path.name}{JOURNAL_SUFFIX}"


@dataclass(frozen=True)
class _Planned:
    path: Path
    temp: str  # the new content, written and synced, in the same folder
    sha256: str
    backup: str | None  # a hard link to the original (same inode: mode and owner kept)
    existed: bool


def write_together(files: dict[Path, str], *, journal: Path | None = None) -> None:
    """Replace every file atomically; if any replacement fails, restore all of them.

    Order of operations, so that a crash at any point leaves a pair the next run
    makes consistent (``recover``): (1) every new content goes to a temp file in
    its file's folder (same filesystem, so os.replace is atomic) and is synced;
    (2) the journal naming those temp files and their hashes is written and
    synced: from here on the write is committed; (3) the renames; (4) the journal
    is removed. A crash before (2) leaves the old pair (and temp files the next
    write removes); a crash after it leaves a journal the next run completes.
    Modes and ownership of existing files are kept, on success and on rollback.
    A failure is a LocalFileError naming the file and the errno text.
    """
    if not files:
        return
    journal = journal or journal_for(next(iter(files)))
    planned: list[_Planned] = []
    journal_written = False
    stranded = False  # a rollback failed: journal and temp files stay for `recover`
    try:
        for path, text in files.items():
            planned.append(_prepare(path, text.encode("utf-8")))
        _write_journal(journal, planned)
        journal_written = True
        done: list[_Planned] = []
        try:
            for p in planned:
                try:
                    os.replace(p.temp, p.path)
                except OSError as exc:
                    raise local_error(p.path, "replace it", exc) from None
                done.append(p)
            _sync_folders(p.path for p in planned)
        except BaseException:
            # SIGTERM and Ctrl-C land here too (see exclusive): the old pair comes back.
            stranded = not _rollback(done)
            raise
        with contextlib.suppress(FileNotFoundError):
            os.unlink(journal)
        journal_written = False
    finally:
        if stranded:
            # Neither pair is whole on disk: the next run completes the new one from the
            # journal and the temp files, which are kept for it.
            note(f"could not restore the old files; the next pinlock command completes the "
                 f"new ones ({journal})")
            planned = []
        elif journal_written:
            # the renames failed and were rolled back: the journal must not roll them forward
            with contextlib.suppress(OSError):
                os.unlink(journal)
        for p in planned:
            _ORIGINALS.pop(p.temp, None)
            for leftover in (p.temp, p.backup):
                if leftover:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)


def _prepare(path: Path, data: bytes) -> _Planned:
    folder = path.parent
    _remove_orphans(folder, path.name)
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise local_error(path, "read it", exc) from None
    try:
        if st is not None:
            tmp = _write_temp(path, data, mode=stat.S_IMODE(st.st_mode),
                              owner=(st.st_uid, st.st_gid))
        else:
            tmp = _write_temp(path, data, mode=0o666 & ~_umask())
    except OSError as exc:
        raise local_error(path, "write it", exc) from None
    backup: str | None = None
    if st is not None:
        backup = f"{tmp[: -len(TEMP_SUFFIX)]}{OLD_SUFFIX}"
        try:
            os.link(path, backup)
        except OSError:
            backup = None  # no hard links here: rollback rewrites the bytes instead
            _ORIGINALS[tmp] = (_read_original(path), stat.S_IMODE(st.st_mode),
                               st.st_uid, st.st_gid)
    return _Planned(path, tmp, hashlib.sha256(data).hexdigest(), backup, st is not None)


# Originals kept in memory only where hard links are not available, by temp file name.
_ORIGINALS: dict[str, tuple[bytes, int, int, int]] = {}


def _read_original(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise local_error(path, "read it", exc) from None


def _write_temp(like: Path, data: bytes, *, mode: int,
                owner: tuple[int, int] | None = None) -> str:
    """A synced temp file beside ``like`` holding ``data`` with ``mode`` (and ``owner`` where
    allowed: only root may give a file away); removed again if it cannot be written whole."""
    fd, tmp = tempfile.mkstemp(prefix=f".{like.name}.", suffix=TEMP_SUFFIX, dir=like.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if owner is not None:
                with contextlib.suppress(OSError):
                    os.fchown(fh.fileno(), *owner)
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _rollback(done: list[_Planned]) -> bool:
    """Put the originals back; False when one of them could not be."""
    ok = True
    for p in reversed(done):
        try:
            if p.backup is not None:
                os.replace(p.backup, p.path)  # the original inode itself: mode, owner kept
            elif not p.existed:
                os.unlink(p.path)
            else:
                data, mode, uid, gid = _ORIGINALS.pop(p.temp)
                os.replace(_write_temp(p.path, data, mode=mode, owner=(uid, gid)), p.path)
        except OSError:
            ok = False
    return ok


def _write_journal(journal: Path, planned: list[_Planned]) -> None:
    folder = journal.parent
    body = json.dumps({
        "format": _JOURNAL_FORMAT,
        "files": [{"path": os.path.relpath(p.path, folder),
                   "temp": os.path.relpath(p.temp, folder), "sha256": p.sha256}
                  for p in planned],
    }, indent=1, sort_keys=True)
    try:
        tmp = _write_temp(journal, body.encode(), mode=0o600)
    except OSError as exc:
        raise local_error(journal, "write it", exc) from None
    try:
        os.replace(tmp, journal)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise local_error(journal, "write it", exc) from None
    _sync_folders([journal])


def _sync_folders(paths: Iterable[Path]) -> None:
    """Make the renames durable (a power cut, not only a crash)."""
    for folder in {p.parent for p in paths}:
        with contextlib.suppress(OSError):
            fd = os.open(folder or ".", os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def discard_scratch(path: Path) -> None:
    """Remove the temp files a killed run left beside ``path``; call with the lock held."""
    _remove_orphans(path.parent, path.name)


def _remove_orphans(folder: Path, name: str, keep: AbstractSet[str] = frozenset()) -> None:
    """Temp files of ``name`` a killed run left: the caller holds the lock, so none is live."""
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if (entry.name.startswith(prefix) and entry.name.endswith((TEMP_SUFFIX, OLD_SUFFIX))
                    and entry.name not in keep and entry.is_file(follow_symlinks=False)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def recover(journal: Path, *, dry_run: bool = False) -> list[Path]:
    """Complete a write a crash interrupted between its renames; return the files repaired.

    Every file the journal names either still has its synced temp file (then it
    is renamed into place) or already holds the new content: the pair ends up
    new, as the interrupted run meant it. A journal that does not fit what is on
    disk (files edited since) is set aside with a message, and the files left as
    they are: `pinlock verify` then says whether they agree.
    """
    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise local_error(journal, "read it", exc) from None
    folder = journal.parent
    try:
        doc = json.loads(raw)
        if doc.get("format") != _JOURNAL_FORMAT:
            raise ValueError("unknown format")
        entries = [(folder / str(e["path"]), folder / str(e["temp"]), str(e["sha256"]))
                   for e in doc["files"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        entries = None
    if dry_run:
        if entries:
            note(f"an earlier run stopped between its renames ({journal}); "
                 "run without --dry-run to complete it")
        return []
    todo: list[tuple[Path, Path]] = []
    if entries is not None:
        for path, temp, sha in entries:
            if _sha256_of(temp) == sha:
                todo.append((temp, path))
            elif _sha256_of(path) != sha:
                entries = None
                break
    if entries is None:
        note(f"{journal}: a journal of an interrupted write that does not match the files "
             "(edited since?); removed it and left the files as they are: check them with "
             "`pinlock verify`")
        with contextlib.suppress(OSError):
            os.unlink(journal)
        return []
    for path, _, _ in entries:
        _remove_orphans(path.parent, path.name, keep={t.name for t, _ in todo})
    for temp, path in todo:
        try:
            os.replace(temp, path)
        except OSError as exc:
            raise local_error(path, "complete the interrupted write of it", exc) from None
    _sync_folders([p for p, _, _ in entries])
    try:
        os.unlink(journal)
    except OSError as exc:
        raise local_error(journal, "remove it", exc) from None
    repaired = [p for p, _, _ in entries]
    note("completed a write an earlier run left half done (stopped between its renames): "
         + ", ".join(str(p) for p in repaired) + " now hold its new contents")
    return repaired


def _sha256_of(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _open_sidecar(sidecar: Path) -> int:
    """Open (creating if need be) the lock file, never through a symlink, never a foreign file.

    The threat: someone who can write the project folder plants a symlink (or a hard
    link) under the lock file's name pointing at a file of the user's; following it
    would truncate that file.
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(sidecar, flags | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            fd = os.open(sidecar, flags | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise  # removed meanwhile: the caller tries again
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LocalFileError(
                    f"{sidecar}: is a symbolic link, not pinlock's lock file; "
                    "refusing to follow it",
                    hint="remove it (pinlock creates the file itself) and run again") from None
            raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise LocalFileError(
            f"{sidecar}: is not a plain file pinlock created "
            f"({'a hard link to another file' if stat.S_ISREG(st.st_mode) else 'not a file'})",
            hint="remove it (pinlock creates the file itself) and run again")
    return fd


@contextlib.contextmanager
def exclusive(lock_path: Path, *, wait: float = 5.0, dry_run: bool = False) -> Iterator[None]:
    """Hold an advisory lock for writing ``lock_path``; a second writer waits, then is told who.

    The lock is a sidecar file ``.<name>.pinlock-lock`` holding the owner's PID,
    removed on release (SIGTERM and SIGHUP included; a SIGKILLed run leaves it, and
    the next run takes it over, saying so). After acquiring, the inode is checked
    against the path so a waiter that got a removed file retries instead of sharing
    the lock. Once held, a write an earlier run left half done is completed
    (``recover``). With ``dry_run``, a folder where the lock file cannot be created
    (read-only, full) is no error: nothing will be written there.
    """
    sidecar = lock_path.parent / f".{lock_path.name}{LOCK_SUFFIX}"
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = _open_sidecar(sidecar)
        except FileNotFoundError:
            if not lock_path.parent.is_dir():
                raise LocalFileError(f"{lock_path.parent}: no such folder") from None
            continue
        except OSError as exc:
            if dry_run:
                recover(journal_for(lock_path), dry_run=True)
                yield
                return
            raise local_error(sidecar, "create the lock file", exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise local_error(sidecar, "lock it", exc) from None
            if time.monotonic() >= deadline:
                holder = ""
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    holder = _read_pid(sidecar)
                raise LockBusyError(
                    f"{lock_path}: another pinlock process is writing it"
                    + (f" (pid {holder})" if holder else ""),
                    hint=f"wait for it to finish; if no pinlock runs, remove {sidecar}") from None
            time.sleep(0.05)
            continue
        try:
            if os.fstat(fd).st_ino != os.stat(sidecar, follow_symlinks=False).st_ino:
                os.close(fd)
                continue
        except FileNotFoundError:
            os.close(fd)
            continue
        break
    restore = _signals_raise()
    try:
        _take_over(fd, sidecar)
        recover(journal_for(lock_path), dry_run=dry_run)
        if not dry_run:
            discard_scratch(lock_path)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(sidecar)
        os.close(fd)
        restore()


def _read_pid(sidecar: Path) -> str:
    fd = os.open(sidecar, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        return os.read(fd, 64).decode().strip()
    finally:
        os.close(fd)


def _take_over(fd: int, sidecar: Path) -> None:
    """Record our PID; a PID left by a run that no longer exists is reported, then replaced."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        old = os.pread(fd, 64, 0).decode().strip()
        if old.isdigit() and int(old) != os.getpid() and not _alive(int(old)):
            note(f"took over the lock file {sidecar} left by pid {old}, which no longer runs")
    with contextlib.suppress(OSError):  # the PID is for messages only: a full disk may refuse it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


class _Terminated(SystemExit):
    """SIGTERM/SIGHUP while a lock is held: unwinds like Ctrl-C, so the lock file is removed."""


def _signals_raise() -> Callable[[], None]:
    """Turn SIGTERM and SIGHUP into an exception until the returned function is called."""
    old: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum: int, frame: FrameType | None) -> None:
            raise _Terminated(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(sig) in (signal.SIG_DFL, None):
                    old[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, previous in old.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(sig, previous)

    return restore
