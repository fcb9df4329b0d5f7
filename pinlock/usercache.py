"""The user's cache folder and key: what a cache file must be to be read back at all.

A cache is never trusted more than what it was derived from. Files that cannot be checked
again against their source carry an HMAC under the user's key, kept outside the cache folder
(a CI cache restored from an untrusted branch, or another user who can write the folder,
cannot forge it); a folder another user owns or can write is not used at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping


def check_cache_folder(folder: str) -> str | None:
    """Why ``folder`` must not be used as this user's cache, or None when it may.

    Created (mode 0700) when missing. Refused: a symlink, not a folder, another
    user's, or writable by group or others (the threat: another local user plants
    files that a later run, perhaps as root, would read).
    """
    with contextlib.suppress(OSError):  # one that cannot be created: the lstat below says so
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        st = os.lstat(folder)
    except OSError as exc:
        return f"cannot use it ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if st.st_uid != os.geteuid():
        return f"is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        return f"is writable by {'others' if st.st_mode & 0o002 else 'its group'} " \
               f"(mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def default_key_file(env: Mapping[str, str]) -> str:
    """``$XDG_CONFIG_HOME/pinlock/cache-key``, else ``~/.config/pinlock/cache-key``: beside
    the user's configuration, away from the cache (which CI systems save and restore)."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "pinlock", "cache-key")


_KEY_SIZE = 32


def load_cache_key(path: str) -> tuple[bytes | None, str | None]:
    """The user's cache key (32 random bytes, mode 0600), created on first use.

    (key, None), or (None, why not): a key another user owns or can read, or that
    sits in a folder others can write, is not used.
    """
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        return None, f"cannot create its folder ({exc.strerror})"
    problem = check_cache_folder(folder)
    if problem:
        return None, f"its folder {problem}"
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        try:
            _create_key(path)
            fd = os.open(path, flags)
        except OSError as exc:
            return None, f"cannot create it ({exc.strerror})"
    except OSError as exc:
        return None, f"cannot read it ({exc.strerror})"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None, "is not a file of this user"
        if st.st_mode & 0o077:
            return None, f"is readable or writable by others (mode {stat.S_IMODE(st.st_mode):04o})"
        key = f.read(_KEY_SIZE + 1)
    if len(key) != _KEY_SIZE:
        return None, f"does not hold a {_KEY_SIZE}-byte key"
    return key, None


def _create_key(path: str) -> None:
    """Write the key to a temp file, then link it into place: a concurrent run sees no key
    or the whole key, and the first one made wins."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".cache-key-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(_KEY_SIZE))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_atomic(path: str, chunks: Iterable[bytes | bytearray | memoryview], *,
                 before_rename: Callable[[str], object] | None = None) -> bool:
    """Write ``path`` whole or not at all (a reader sees the old file or the new one); its
    folder made 0700. ``before_rename`` is called with the written temporary file's path
    (to open it: an open file stays the one written, whatever replaces it later). False
    when it could not be written: a cache that cannot be written only costs time."""
    folder = os.path.dirname(path)
    try:
        # Only this user may write what later runs read back (mode 0700).
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        if before_rename is not None:
            before_rename(tmp)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def seal(key: bytes, body: bytes) -> str:
    """The HMAC-SHA256 of ``body`` under the user's key, in hex."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def sealed(key: bytes, body: bytes, mac: str) -> bool:
    return hmac.compare_digest(seal(key, body), mac)


def prune_cache(folder: str, now: dt.datetime, keep: dt.timedelta) -> list[str]:
    """Remove what the cache holds that no run used for ``keep`` (an index state long gone,
    a file of an older format); return the names removed. Only pinlock's own names."""
    removed: list[str] = []
    cutoff = (now - keep).timestamp()
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        stem = name.split(".", 1)[0]
        if len(stem) != 64 or not all(c in "0123456789abcdef" for c in stem):
            continue  # not a file pinlock named (content-addressed)
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if os.stat(path).st_mtime < cutoff:
                os.unlink(path)
                removed.append(name)
    return removed
