"""Read a Debian archive over HTTP: signed InRelease, then Packages indexes checked against it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import lzma
import os
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pinlock.digest import sha256_stream
from pinlock.errors import InputError, IntegrityError, UpstreamError
from pinlock.http import (
    MAX_DOCUMENT,
    MAX_INRELEASE,
    ResponseTooLargeError,
    iter_body,
    read_body,
    send_with_retries,
)
from pinlock.secrets import may_carry_secret, plain_http_host, scrub
from pinlock.sources.debian.deb822 import (
    INDEX_CACHE_FORMAT,
    Buffer,
    ControlError,
    IndexFile,
    PackagesIndex,
    PackagesIndexBuilder,
    Release,
    parse_release,
)
from pinlock.sources.debian.errors import ArchiveError, SignatureError
from pinlock.sources.debian.signature import (
    DEFAULT_KEYRING,
    check_valid_until,
    verify_clearsigned,
)

SNAPSHOT_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_DEBIAN = "https://snapshot.debian.org/archive/debian/{snapshot}/"
DEFAULT_SECURITY = "https://snapshot.debian.org/archive/debian-security/{snapshot}/"
_COMPRESSIONS = (".xz", ".gz", "")
_MAX_REDIRECTS = 5
_CHUNK = 1 << 22  # decompressed bytes scanned at a time: bounds memory, not speed


@dataclass(frozen=True)
class Location:
    """Where one suite is read from: a base URL template, ``{snapshot}`` marking a snapshot root."""

    template: str
    keyring: str = DEFAULT_KEYRING

    @property
    def is_snapshot(self) -> bool:
        return "{snapshot}" in self.template

    def base(self, snapshot: str | None) -> str:
        if self.is_snapshot:
            if snapshot is None:
                raise ArchiveError(f"{self.template}: a snapshot timestamp is required")
            url = self.template.replace("{snapshot}", snapshot)
        else:
            url = self.template
        return url if url.endswith("/") else url + "/"


def security_template(template: str) -> str:
    """``…/debian/…`` -> ``…/debian-security/…``: where Debian keeps the security suites."""
    parts = urlsplit(template)
    segs = parts.path.split("/")
    for i in range(len(segs) - 1, -1, -1):
        if segs[i] == "debian":
            segs[i] = "debian-security"
            return parts._replace(path="/".join(segs)).geturl()
    raise ArchiveError(
        f"cannot derive the security archive from {template!r}",
        hint="set PINLOCK_DEBIAN_SECURITY_MIRROR as well",
    )


@dataclass(frozen=True)
class SignedRelease:
    """A verified InRelease: its parsed fields and the sha256 of the bytes served."""

    suite: str
    url: str
    release: Release
    sha256: str


def decompress_chunks(data: bytes, path: str, size: int = _CHUNK) -> Iterator[bytes]:
    """Decompress ``data`` (by the extension of ``path``) in pieces of at most ``size`` bytes.

    Like lzma.decompress and gzip.decompress, concatenated streams are read in
    turn; unlike them, the whole output never has to be in memory at once.
    """
    if not path.endswith((".xz", ".gz")):
        for i in range(0, len(data), size):
            yield data[i:i + size]
        return
    try:
        first = True
        while data:
            if path.endswith(".xz"):
                xz = lzma.LZMADecompressor()
                try:
                    out = xz.decompress(data, size)
                except lzma.LZMAError:
                    if first:
                        raise
                    return  # not another xz stream: ignored, as lzma.decompress does
                first = False
                yield out
                while not xz.eof and not xz.needs_input:
                    yield xz.decompress(b"", size)
                if not xz.eof:
                    raise EOFError("compressed data ends before the end-of-stream marker")
                data = xz.unused_data
            else:
                gz = zlib.decompressobj(wbits=31)
                yield gz.decompress(data, size)
                while not gz.eof and gz.unconsumed_tail:
                    yield gz.decompress(gz.unconsumed_tail, size)
                if not gz.eof:
                    raise EOFError("compressed data ends before the end-of-stream marker")
                data = gz.unused_data
                if not data.strip(b"\0"):  # gzip allows zero padding after the last member
                    return
    except (lzma.LZMAError, OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(f"{path}: cannot decompress ({exc})") from None


def scan_index(data: bytes, path: str) -> PackagesIndex:
    """The verified compressed index ``data`` as a PackagesIndex, decompressed as it is scanned."""
    builder = PackagesIndexBuilder()
    for chunk in decompress_chunks(data, path):
        builder.feed(chunk)
    return builder.finish()


def check_index(data: bytes, entry: IndexFile, *, what: str) -> None:
    """Size and SHA256 from the signed Release, checked before a byte is parsed."""
    if len(data) != entry.size:
        raise IntegrityError(
            f"{what}: size does not match InRelease", expected=str(entry.size),
            observed=str(len(data)),
        )
    got = hashlib.sha256(data).hexdigest()
    if got != entry.sha256:
        raise IntegrityError(
            f"{what}: SHA256 does not match InRelease", expected=entry.sha256, observed=got
        )


class Archive:
    """HTTP access to Debian archives; every byte parsed was checked against a signature when
    it was fetched (the disk cache below says how far that reaches)."""

    def __init__(
        self, client: httpx.Client, *, now: Callable[[], dt.datetime] | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.client = client
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.cache_dir = cache_dir
        self._parsed: dict[str, PackagesIndex] = {}
        self._pruned = False  # the cache folder is pruned once per Archive, on first write

    # ------------------------------------------------------------ HTTP

    def get(self, url: str, *, missing_ok: bool = False, limit: int = MAX_DOCUMENT
            ) -> bytes | None:
        """GET following same-origin redirects (snapshot.debian.org redirects to a run);
        the body (decoded) is refused past ``limit`` bytes."""
        resp = self._open(url, missing_ok=missing_ok, stream=True)
        if resp is None:
            return None
        try:
            return read_body(resp, what=f"GET {url}", limit=limit)
        finally:
            resp.close()

    def hash_of(self, url: str, *, limit: int) -> tuple[str, int] | None:
        """sha256 and size of what ``url`` serves, streamed; reading stops past ``limit``
        bytes (the size then reported is ``limit + 1``). None: not served."""
        resp = self._open(url, missing_ok=True, stream=True)
        if resp is None:
            return None

        def capped() -> Iterator[bytes]:
            seen = 0
            for chunk in iter_body(resp, what=f"GET {url}", limit=None):
                seen += len(chunk)
                if seen > limit:
                    yield chunk[: len(chunk) - (seen - limit - 1)]
                    return
                yield chunk

        try:
            return sha256_stream(capped())
        except httpx.TransportError as exc:  # the body broke off after the headers
            raise ArchiveError(f"GET {url}: {type(exc).__name__}: {exc}") from None
        except ArchiveError:
            raise
        except UpstreamError as exc:  # broke off, or past the deadline, in iter_body
            raise ArchiveError(exc.message, hint=exc.hint) from None
        finally:
            resp.close()

    def _open(self, url: str, *, missing_ok: bool, stream: bool) -> httpx.Response | None:
        if urlsplit(url).password and not may_carry_secret(url):
            # httpx would send the URL's password as Basic auth, readable on the wire.
            raise InputError(f"{scrub(url)}: refusing to send the password in this URL over "
                             f"plain http to {plain_http_host(url)}",
                             hint="use an https:// mirror URL for a mirror that needs a login")
        origin = urlsplit(url)[:2]
        for _ in range(_MAX_REDIRECTS + 1):
            resp = send_with_retries(self.client, self.client.build_request("GET", url),
                                     stream=stream)
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                resp.close()
                nxt = urljoin(url, resp.headers["location"])
                if urlsplit(nxt)[:2] != origin:
                    raise ArchiveError(f"GET {url}: redirected to another host ({nxt})")
                url = nxt
                continue
            if resp.status_code != 200:
                resp.close()
                if resp.status_code in (404, 410) and missing_ok:
                    return None
                raise ArchiveError(
                    f"GET {url}: HTTP {resp.status_code}",
                    hint="check the suite name and the mirror" if resp.status_code == 404 else None,
                )
            return resp
        raise ArchiveError(f"GET {url}: more than {_MAX_REDIRECTS} redirects")

    # ------------------------------------------------------------ InRelease

    def release(self, loc: Location, suite: str, snapshot: str | None) -> SignedRelease:
        url = urljoin(loc.base(snapshot), f"dists/{suite}/InRelease")
        data = self.get(url, limit=MAX_INRELEASE)
        assert data is not None
        verified = verify_clearsigned(data, loc.keyring, what=url)
        try:
            rel = parse_release(verified.text)
        except ControlError as exc:
            raise SignatureError(f"{url}: signed text is not a Release file ({exc})") from None
        if not loc.is_snapshot:
            check_valid_until(rel.valid_until, now=self.now(), what=url)
        names = {rel.suite, rel.codename}
        if suite not in names:
            # guards against a mirror serving another suite's (validly signed) Release
            raise SignatureError(
                f"{url}: Release is for another suite", expected=suite,
                observed=" / ".join(sorted(n for n in names if n)),
            )
        return SignedRelease(suite, url, rel, hashlib.sha256(data).hexdigest())

    # ------------------------------------------------------------ Packages

    def index_entry(self, signed: SignedRelease, component: str, arch: str) -> IndexFile:
        for ext in _COMPRESSIONS:
            path = f"{component}/binary-{arch}/Packages{ext}"
            if path in signed.release.files:
                return signed.release.files[path]
        raise ArchiveError(
            f"{signed.url}: no Packages index for {component}/binary-{arch}",
            hint="check the component and architecture names",
        )

    def packages(
        self, loc: Location, signed: SignedRelease, component: str, arch: str,
        snapshot: str | None,
    ) -> PackagesIndex:
        """The verified, parsed Packages index of one component and architecture."""
        entry = self.index_entry(signed, component, arch)
        if entry.sha256 in self._parsed:
            return self._parsed[entry.sha256]
        index = self._cached_index(entry)
        if index is None:
            raw = self.compressed(loc, signed, entry, snapshot)
            try:
                index = scan_index(raw, entry.path)
            except ControlError as exc:
                raise ArchiveError(f"{signed.url} {entry.path}: {exc}") from None
            del raw
            path = self._index_cache_path(entry)
            if path is not None:
                chunks = index.serialize(entry.sha256)
                written = self._store(path, chunks)
                if written is not None:
                    index.read_from(written, chunks)  # records from disk, not memory
        self._parsed[entry.sha256] = index
        return index

    def compressed(
        self, loc: Location, signed: SignedRelease, entry: IndexFile, snapshot: str | None
    ) -> bytes:
        """The index file's bytes as served (compressed), checked against the InRelease:
        from the disk cache when it holds them, else fetched and cached."""
        raw = self._cached(entry)
        if raw is None:
            raw = self._fetch_index(loc, signed, entry, snapshot)
            self._store(self._cache_path(entry), [raw], keep=False)
        return raw

    def _fetch_index(
        self, loc: Location, signed: SignedRelease, entry: IndexFile, snapshot: str | None
    ) -> bytes:
        base = urljoin(loc.base(snapshot), f"dists/{signed.suite}/")
        what = f"{base}{entry.path}"
        data: bytes | None = None
        if signed.release.acquire_by_hash:
            # by-hash names are immutable: no race with a mirror update between InRelease
            # and the index; fall back to the plain name when a mirror lacks the file.
            folder = entry.path.rsplit("/", 1)[0]
            data = self._get_index(f"{base}{folder}/by-hash/SHA256/{entry.sha256}", entry,
                                   missing_ok=True)
        if data is None:
            data = self._get_index(what, entry)
        assert data is not None
        check_index(data, entry, what=what)
        return data

    def _get_index(self, url: str, entry: IndexFile, *, missing_ok: bool = False
                   ) -> bytes | None:
        """An index file, read no further than the size the signed InRelease gives it."""
        try:
            return self.get(url, missing_ok=missing_ok, limit=entry.size)
        except ResponseTooLargeError:
            raise IntegrityError(f"{url}: size does not match InRelease (larger), refused",
                                 expected=f"{entry.size} bytes",
                                 observed=f"more than {entry.size}") from None

    # ------------------------------------------------------------ disk cache
    # Two files per index, both named by the index's SHA256 from the signed InRelease:
    # the compressed bytes (checked against that hash again whenever read), and the
    # scanned index, which cannot be re-checked against the hash without the work it
    # saves: it carries its own checksum and the hash it was made from, and anything
    # that does not load cleanly is rebuilt from the verified bytes.

    def _cache_path(self, entry: IndexFile) -> str | None:
        if not self.cache_dir:
            return None
        return os.path.join(self.cache_dir, f"{entry.sha256}{_suffix(entry.path)}")

    def _index_cache_path(self, entry: IndexFile) -> str | None:
        if not self.cache_dir:
            return None
        return os.path.join(self.cache_dir, f"{entry.sha256}.index-v{INDEX_CACHE_FORMAT}")

    def _cached(self, entry: IndexFile) -> bytes | None:
        path = self._cache_path(entry)
        data = _read(path)
        if data is None:
            return None
        _touch(path)
        try:
            # content-addressed: re-checked, never trusted
            check_index(data, entry, what=path or "")
        except IntegrityError:
            return None
        return data

    def _cached_index(self, entry: IndexFile) -> PackagesIndex | None:
        path = self._index_cache_path(entry)
        if path is None:
            return None
        try:
            index = PackagesIndex.load(FileBytes(path), entry.sha256)
        except (OSError, ControlError, ArchiveError):
            return None  # missing, corrupt, truncated, foreign or older: rebuilt and replaced
        _touch(path)
        return index

    def _store(
        self, path: str | None, chunks: Sequence[Buffer], *, keep: bool = True
    ) -> FileBytes | None:
        """Write atomically: a reader sees the old file or the whole new one, never a part.

        With ``keep``, the file written stays open for reading (even if another
        run replaces it meanwhile).
        """
        if path is None:
            return None
        folder = os.path.dirname(path)
        if not self._pruned:
            self._pruned = True
            prune_cache(folder, dt.datetime.now(dt.UTC))  # file times are wall time
        try:
            # Only this user may write what later runs read back (mode 0700).
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except OSError:
            return None  # a cache that cannot be written only costs time
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
            written = FileBytes(tmp) if keep else None
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return None
        return written


CACHE_KEEP = dt.timedelta(days=30)


def _touch(path: str | None) -> None:
    """Mark a cache file as used now: pruning goes by the last use, not the creation."""
    if path:
        with contextlib.suppress(OSError):
            os.utime(path)


def prune_cache(folder: str, now: dt.datetime, keep: dt.timedelta = CACHE_KEEP) -> list[str]:
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


class FileBytes:
    """The bytes of a file, read by range when asked (os.pread): they stay out of memory.

    Holds the file open, so a file replaced or removed meanwhile is still the
    one read; the descriptor is closed when the object is collected.
    """

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            self._size = os.fstat(fd).st_size
        except OSError:
            os.close(fd)
            raise
        self.path = path
        self._fd = fd
        weakref.finalize(self, os.close, fd)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, s: slice, /) -> bytes:
        start, stop, _ = s.indices(self._size)
        if stop <= start:
            return b""
        data = os.pread(self._fd, stop - start, start)
        if len(data) != stop - start:
            raise ArchiveError(f"{self.path}: the file shrank while it was read",
                               hint="something else writes to pinlock's cache; run again")
        return data


def _read(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _suffix(path: str) -> str:
    for ext in (".xz", ".gz"):
        if path.endswith(ext):
            return ext
    return ""
