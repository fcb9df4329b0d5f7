"""Read a Debian archive over HTTP: signed InRelease, then Packages indexes checked against it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import lzma
import os
import threading
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pinlock import output
from pinlock.digest import sha256_stream
from pinlock.errors import InputError, IntegrityError, upstream_as
from pinlock.http import (
    MAX_DOCUMENT,
    MAX_INRELEASE,
    ResponseTooLargeError,
    iter_body,
    read_body,
    send_with_retries,
)
from pinlock.parallel import read_ahead
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
from pinlock.transport import Hop, RedirectPolicy, Refusal, follow_redirects
from pinlock.usercache import (
    check_cache_folder,
    default_key_file,
    load_cache_key,
    prune_cache,
    write_atomic,
)

SNAPSHOT_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_DEBIAN = "https://snapshot.debian.org/archive/debian/{snapshot}/"
DEFAULT_SECURITY = "https://snapshot.debian.org/archive/debian-security/{snapshot}/"
# The order a Packages index is chosen in among those InRelease lists: gzip first, as it
# expands about three times faster than xz (0.18 s against 0.52 s for trixie's main
# amd64 index here) for a third more bytes on the wire; xz first for a slow link.
COMPRESSIONS = {"gz": (".gz", ".xz", ""), "xz": (".xz", ".gz", "")}
# snapshot.debian.org redirects a timestamp to the run before it, on the same host; a
# redirect anywhere else would have another server answer for this mirror.
_REDIRECTS = RedirectPolicy(max_hops=5, same_origin_only=True)
_CHUNK = 1 << 22  # decompressed bytes scanned at a time: bounds memory, not speed
# What a Packages index may expand to, whatever its InRelease says (Debian's main/binary-amd64
# Packages of a release is ~50-70 MB): the scanned bytes stay in memory while it is read.
MAX_EXPANDED = 160 << 20


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


def decompress_chunks(
    data: bytes, path: str, size: int = _CHUNK, *, limit: int | None = None,
) -> Iterator[bytes]:
    """Decompress ``data`` (by the extension of ``path``) in pieces of at most ``size`` bytes.

    Like lzma.decompress and gzip.decompress, concatenated streams are read in
    turn; unlike them, the whole output never has to be in memory at once. With
    ``limit``, decompression stops one byte past it and raises IntegrityError:
    a small file that expands without end (a decompression bomb) costs no more
    than ``limit`` bytes of work.
    """
    total = 0

    def room() -> int:
        return size if limit is None else max(1, min(size, limit + 1 - total))

    def counted(out: bytes) -> bytes:
        nonlocal total
        total += len(out)
        if limit is not None and total > limit:
            raise IntegrityError(f"{path}: expands to more than {limit} bytes; refused")
        return out

    if not path.endswith((".xz", ".gz")):
        for i in range(0, len(data), size):
            yield counted(data[i:i + size])
        return
    try:
        first = True
        while data:
            if path.endswith(".xz"):
                xz = lzma.LZMADecompressor()
                try:
                    out = xz.decompress(data, room())
                except lzma.LZMAError:
                    if first:
                        raise
                    return  # not another xz stream: ignored, as lzma.decompress does
                first = False
                yield counted(out)
                while not xz.eof and not xz.needs_input:
                    yield counted(xz.decompress(b"", room()))
                if not xz.eof:
                    raise EOFError("compressed data ends before the end-of-stream marker")
                data = xz.unused_data
            else:
                gz = zlib.decompressobj(wbits=31)
                yield counted(gz.decompress(data, room()))
                while not gz.eof and gz.unconsumed_tail:
                    yield counted(gz.decompress(gz.unconsumed_tail, room()))
                if not gz.eof:
                    raise EOFError("compressed data ends before the end-of-stream marker")
                data = gz.unused_data
                if not data.strip(b"\0"):  # gzip allows zero padding after the last member
                    return
    except (lzma.LZMAError, OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(f"{path}: cannot decompress ({exc})") from None


def scan_index(data: bytes, path: str, *, expanded: IndexFile | None = None,
               what: str | None = None,
               advance: Callable[[int], None] | None = None) -> PackagesIndex:
    """The verified compressed index ``data`` as a PackagesIndex, decompressed as it is scanned.

    ``expanded``: the InRelease entry of the uncompressed index, when it lists one (Debian's
    do). Decompression then stops one byte past its size, and the bytes must hash to it;
    without it, past MAX_EXPANDED. Either way nothing past the cap is kept or scanned.
    """
    what = what or path
    limit = MAX_EXPANDED if expanded is None else min(expanded.size, MAX_EXPANDED)
    builder = PackagesIndexBuilder()
    digest = hashlib.sha256()
    size = 0

    def hashed(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    try:
        # Decompressed and hashed on another thread, a chunk or two ahead of the scan.
        for chunk in read_ahead(hashed(decompress_chunks(data, path, limit=limit))):
            size += len(chunk)
            builder.feed(chunk)
            if advance is not None:
                advance(len(chunk))
    except IntegrityError as exc:
        if "expands to more than" not in exc.message:
            raise
        stated = (f"the {limit} bytes InRelease lists for {expanded.path}"
                  if expanded is not None and limit == expanded.size
                  else f"{limit} bytes, pinlock's cap for an index")
        raise IntegrityError(f"{what}: decompresses to more than {stated}; refused "
                             "(a corrupt or hostile index)") from None
    if expanded is not None and (size, digest.hexdigest()) != (expanded.size, expanded.sha256):
        raise IntegrityError(
            f"{what}: decompressed, it does not match {expanded.path} in InRelease",
            expected=f"{expanded.size} bytes, sha256 {expanded.sha256}",
            observed=f"{size} bytes, sha256 {digest.hexdigest()}")
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


def _refused(refusal: Refusal) -> ArchiveError:
    if refusal.reason == "too many":
        return ArchiveError(f"GET {refusal.target}: more than {refusal.max_hops} redirects")
    return ArchiveError(f"GET {refusal.url}: redirected to another host ({refusal.target})")


class Archive:
    """HTTP access to Debian archives; every byte parsed was checked against a signature when
    it was fetched (the disk cache below says how far that reaches)."""

    def __init__(
        self, client: httpx.Client, *, now: Callable[[], dt.datetime] | None = None,
        cache_dir: str | None = None, cache_key_file: str | None = None,
        compression: str = "gz",
    ) -> None:
        """``cache_key_file``: the key scanned indexes are authenticated with; None: the
        user's (``default_key_file``). ``compression``: the index form preferred (a key of
        COMPRESSIONS), when InRelease lists it."""
        self.client = client
        self.order = COMPRESSIONS[compression]
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.cache_dir = cache_dir
        self.cache_key_file = cache_key_file
        self._parsed: dict[str, PackagesIndex] = {}
        self._verified: dict[tuple[str, str], Release] = {}  # (keyring, InRelease sha256)
        self._pruned = False  # the cache folder is pruned once per Archive, on first write
        # Indexes are fetched and scanned on several threads: the first use of the cache
        # (checking the folder, loading the key, pruning) happens once, under this lock.
        self._once = threading.Lock()
        # Compressed indexes fetched ahead (``prefetch``), by sha256, until ``packages`` scans
        # them: downloads run on other threads while this one decompresses and scans.
        self._fetched: dict[str, bytes] = {}
        self._folder_ok: bool | None = None  # the cache folder checked, once per Archive
        self._key: bytes | bool | None = False  # False: not loaded yet

    # ------------------------------------------------------------ HTTP

    def get(self, url: str, *, missing_ok: bool = False, limit: int = MAX_DOCUMENT
            ) -> bytes | None:
        """GET following same-origin redirects (snapshot.debian.org redirects to a run);
        the body (decoded) is refused past ``limit`` bytes."""
        resp = self._open(url, missing_ok=missing_ok, stream=True)
        if resp is None:
            return None
        length = resp.headers.get("content-length", "")
        try:
            if limit < _PROGRESS_FROM:  # an InRelease: no display for a blink
                return read_body(resp, what=f"GET {url}", limit=limit)
            with output.task(f"download {_short(url)}",
                             int(length) if length.isdigit() else None) as bar:
                pieces = []
                for piece in iter_body(resp, what=f"GET {url}", limit=limit):
                    bar.advance(len(piece))
                    pieces.append(piece)
                return b"".join(pieces)
        finally:
            resp.close()

    def hash_of(self, url: str, *, limit: int) -> tuple[str, int] | None:
        """sha256 and size of what ``url`` serves, streamed; reading stops past ``limit``
        bytes (the size then reported is ``limit + 1``). None: not served."""
        resp = self._open(url, missing_ok=True, stream=True)
        if resp is None:
            return None

        length = resp.headers.get("content-length", "")

        def capped() -> Iterator[bytes]:
            seen = 0
            for chunk in iter_body(resp, what=f"GET {url}", limit=None):
                bar.advance(len(chunk))
                seen += len(chunk)
                if seen > limit:
                    yield chunk[: len(chunk) - (seen - limit - 1)]
                    return
                yield chunk

        try:
            # broke off, or past the deadline, in iter_body: the archive's own error
            with upstream_as(ArchiveError), output.task(
                    f"hash {_short(url)}", int(length) if length.isdigit() else None) as bar:
                return sha256_stream(capped())
        except httpx.TransportError as exc:  # the body broke off after the headers
            raise ArchiveError(f"GET {url}: {type(exc).__name__}: {exc}") from None
        finally:
            resp.close()

    def _open(self, url: str, *, missing_ok: bool, stream: bool) -> httpx.Response | None:
        if urlsplit(url).password and not may_carry_secret(url):
            # httpx would send the URL's password as Basic auth, readable on the wire.
            raise InputError(f"{scrub(url)}: refusing to send the password in this URL over "
                             f"plain http to {plain_http_host(url)}",
                             hint="use an https:// mirror URL for a mirror that needs a login")

        def send(hop: Hop) -> httpx.Response:
            return send_with_retries(self.client, self.client.build_request("GET", hop.url),
                                     stream=stream)

        trail: list[str] = []
        resp = follow_redirects(send, url, policy=_REDIRECTS, refuse=_refused, trail=trail)
        url = trail[-1]
        if resp.status_code != 200:
            resp.close()
            if resp.status_code in (404, 410) and missing_ok:
                return None
            raise ArchiveError(
                f"GET {url}: HTTP {resp.status_code}",
                hint="check the suite name and the mirror" if resp.status_code == 404 else None,
            )
        return resp

    # ------------------------------------------------------------ InRelease

    def release(self, loc: Location, suite: str, snapshot: str | None) -> SignedRelease:
        url = urljoin(loc.base(snapshot), f"dists/{suite}/InRelease")
        data = self.get(url, limit=MAX_INRELEASE)
        assert data is not None
        sha256 = hashlib.sha256(data).hexdigest()
        # The same bytes under the same keyring verify the same way: read twice in one run
        # (newest, then check), an InRelease is verified once. Its dates are checked each time.
        rel = self._verified.get((loc.keyring, sha256))
        if rel is None:
            verified = verify_clearsigned(data, loc.keyring, what=url)
            try:
                rel = parse_release(verified.text)
            except ControlError as exc:
                raise SignatureError(
                    f"{url}: signed text is not a Release file ({exc})") from None
            self._verified[(loc.keyring, sha256)] = rel
        if not loc.is_snapshot:
            check_valid_until(rel.valid_until, now=self.now(), what=url)
        names = {rel.suite, rel.codename}
        if suite not in names:
            # guards against a mirror serving another suite's (validly signed) Release
            raise SignatureError(
                f"{url}: Release is for another suite", expected=suite,
                observed=" / ".join(sorted(n for n in names if n)),
            )
        return SignedRelease(suite, url, rel, sha256)

    # ------------------------------------------------------------ Packages

    def index_entry(self, signed: SignedRelease, component: str, arch: str) -> IndexFile:
        for ext in self.order:
            path = f"{component}/binary-{arch}/Packages{ext}"
            if path in signed.release.files:
                return signed.release.files[path]
        raise ArchiveError(
            f"{signed.url}: no Packages index for {component}/binary-{arch}",
            hint="check the component and architecture names",
        )

    def prefetch(
        self, loc: Location, signed: SignedRelease, component: str, arch: str,
        snapshot: str | None,
    ) -> None:
        """Fetch (and check) the compressed index ``packages`` will scan, unless it has it
        already or a cache holds it: the network part alone, safe on another thread."""
        entry = self.index_entry(signed, component, arch)
        if (entry.sha256 in self._parsed or entry.sha256 in self._fetched
                or self._has_cached(entry)):
            return
        self._fetched[entry.sha256] = self._fetch_index(loc, signed, entry, snapshot)

    def _has_cached(self, entry: IndexFile) -> bool:
        """A cache file for the index exists (whether it is good is for ``packages`` to see)."""
        return any(p is not None and os.path.exists(p)
                   for p in (self._index_cache_path(entry), self._cache_path(entry)))

    def packages(
        self, loc: Location, signed: SignedRelease, component: str, arch: str,
        snapshot: str | None,
    ) -> PackagesIndex:
        """The verified, parsed Packages index of one component and architecture."""
        entry = self.index_entry(signed, component, arch)
        if entry.sha256 in self._parsed:
            return self._parsed[entry.sha256]
        index = self._cached_index(entry)
        if index is not None:
            output.cache_hit(urljoin(signed.url, entry.path), self._index_cache_path(entry))
        if index is None:
            raw = self._fetched.pop(entry.sha256, None)  # fetched ahead, on another thread
            fetched = raw is not None
            if raw is None:
                raw = self._cached(entry)
                if raw is not None:
                    output.cache_hit(urljoin(signed.url, entry.path), self._cache_path(entry),
                                     len(raw))
            if raw is None:
                raw = self._fetch_index(loc, signed, entry, snapshot)
                fetched = True
            plain = entry.path.rsplit(".", 1)[0] if entry.path.endswith((".xz", ".gz")) else None
            expanded = signed.release.files.get(plain) if plain else None
            what = urljoin(signed.url, entry.path)
            try:
                with output.task(f"decompress {entry.path}",
                                 expanded.size if expanded else None) as bar:
                    index = scan_index(raw, entry.path, expanded=expanded, what=what,
                                       advance=bar.advance)
            except ControlError as exc:
                raise ArchiveError(f"{signed.url} {entry.path}: {exc}") from None
            # Cached only once it scanned cleanly: a refused index leaves no file behind.
            if fetched:
                self._store(self._cache_path(entry), [raw], keep=False)
            del raw
            path = self._index_cache_path(entry)
            key = self._cache_key()
            if path is not None and key is not None:
                chunks = index.serialize(entry.sha256, key=key)
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
        else:
            output.cache_hit(urljoin(signed.url, entry.path), self._cache_path(entry), len(raw))
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

    # The cache is never trusted more than what it was derived from (the signed InRelease):
    # the compressed bytes are content-addressed and re-hashed; the scanned index carries
    # an HMAC under the user's key, kept outside the cache folder (a CI cache restored from
    # an untrusted branch, or another user who can write the folder, cannot forge it); and
    # a folder another user owns or can write is not used at all.

    def _usable_folder(self) -> str | None:
        if not self.cache_dir:
            return None
        with self._once:
            return self._checked_folder()

    def _checked_folder(self) -> str | None:
        assert self.cache_dir is not None
        if self._folder_ok is None:
            problem = check_cache_folder(self.cache_dir)
            if problem:
                _warn(f"{self.cache_dir}: {problem}; the Debian index cache is not used "
                      "(fix its owner and mode, e.g. chmod 700)")
            self._folder_ok = problem is None
        return self.cache_dir if self._folder_ok else None

    def _cache_key(self) -> bytes | None:
        if self._usable_folder() is None:
            return None
        with self._once:
            return self._loaded_key()

    def _loaded_key(self) -> bytes | None:
        if self._key is False:
            path = self.cache_key_file or default_key_file(os.environ)
            key, problem = load_cache_key(path)
            if problem:
                _warn(f"{path}: {problem}; scanned indexes are not cached")
            self._key = key
        return self._key if isinstance(self._key, bytes) else None

    def _cache_path(self, entry: IndexFile) -> str | None:
        folder = self._usable_folder()
        if folder is None:
            return None
        return os.path.join(folder, f"{entry.sha256}{_suffix(entry.path)}")

    def _index_cache_path(self, entry: IndexFile) -> str | None:
        folder = self._usable_folder()
        if folder is None:
            return None
        return os.path.join(folder, f"{entry.sha256}.index-v{INDEX_CACHE_FORMAT}")

    def _cached(self, entry: IndexFile) -> bytes | None:
        path = self._cache_path(entry)
        data = _read(path, limit=entry.size)
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
        key = self._cache_key()
        if path is None or key is None:
            return None
        try:
            index = PackagesIndex.load(FileBytes(path), entry.sha256, key=key)
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
        with self._once:
            if not self._pruned:
                self._pruned = True
                prune_cache(folder, dt.datetime.now(dt.UTC), CACHE_KEEP)  # file times are wall time
        opened: list[FileBytes] = []
        hold = (lambda tmp: opened.append(FileBytes(tmp))) if keep else None
        if not write_atomic(path, chunks, before_rename=hold):
            return None
        return opened[0] if opened else None


CACHE_KEEP = dt.timedelta(days=30)  # an index state no run used for this long is removed


def _touch(path: str | None) -> None:
    """Mark a cache file as used now: pruning goes by the last use, not the creation."""
    if path:
        with contextlib.suppress(OSError):
            os.utime(path)


class FileBytes:
    """The bytes of a file, read by range when asked (os.pread): they stay out of memory.

    Holds the file open, so a file replaced or removed meanwhile is still the
    one read; the descriptor is closed when the object is collected.
    """

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
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


def _read(path: str | None, *, limit: int) -> bytes | None:
    """A cache file's bytes, no more than ``limit`` + 1 of them (it is hashed next)."""
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read(limit + 1)
        except OSError:
            return None


_PROGRESS_FROM = 1 << 20  # a download this large (its cap) may show progress


def _short(url: str) -> str:
    """The tail of a URL for a progress line: `main/binary-amd64/Packages.xz`."""
    return "/".join(urlsplit(url).path.rsplit("/", 4)[-4:])


def _warn(message: str) -> None:
    output.warn(message)  # --quiet silences it


def _suffix(path: str) -> str:
    for ext in (".xz", ".gz"):
        if path.endswith(ext):
            return ext
    return ""
