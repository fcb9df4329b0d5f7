"""Read a Debian archive over HTTP: signed InRelease, then Packages indexes checked against it."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import lzma
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pinlock.errors import IntegrityError
from pinlock.http import send_with_retries
from pinlock.sources.debian.deb822 import (
    ControlError,
    IndexFile,
    PackageRecord,
    Release,
    parse_packages,
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


def decompress(data: bytes, path: str) -> bytes:
    try:
        if path.endswith(".xz"):
            return lzma.decompress(data)
        if path.endswith(".gz"):
            return gzip.decompress(data)
    except (lzma.LZMAError, OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(f"{path}: cannot decompress ({exc})") from None
    return data


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
    """HTTP access to Debian archives; every byte parsed has been checked against a signature."""

    def __init__(
        self, client: httpx.Client, *, now: Callable[[], dt.datetime] | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.client = client
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.cache_dir = cache_dir
        self._parsed: dict[str, list[PackageRecord]] = {}

    # ------------------------------------------------------------ HTTP

    def get(self, url: str, *, missing_ok: bool = False) -> bytes | None:
        """GET following same-origin redirects (snapshot.debian.org redirects to a run)."""
        origin = urlsplit(url)[:2]
        for _ in range(_MAX_REDIRECTS + 1):
            resp = send_with_retries(self.client, self.client.build_request("GET", url))
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                nxt = urljoin(url, resp.headers["location"])
                if urlsplit(nxt)[:2] != origin:
                    raise ArchiveError(f"GET {url}: redirected to another host ({nxt})")
                url = nxt
                continue
            if resp.status_code in (404, 410) and missing_ok:
                return None
            if resp.status_code != 200:
                raise ArchiveError(
                    f"GET {url}: HTTP {resp.status_code}",
                    hint="check the suite name and the mirror" if resp.status_code == 404 else None,
                )
            return resp.content
        raise ArchiveError(f"GET {url}: more than {_MAX_REDIRECTS} redirects")

    # ------------------------------------------------------------ InRelease

    def release(self, loc: Location, suite: str, snapshot: str | None) -> SignedRelease:
        url = urljoin(loc.base(snapshot), f"dists/{suite}/InRelease")
        data = self.get(url)
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
    ) -> list[PackageRecord]:
        """The verified, parsed Packages index of one component and architecture."""
        entry = self.index_entry(signed, component, arch)
        if entry.sha256 in self._parsed:
            return self._parsed[entry.sha256]
        raw = self._cached(entry)
        if raw is None:
            raw = self._fetch_index(loc, signed, entry, snapshot)
            self._store(entry, raw)
        text = decompress(raw, entry.path).decode("utf-8", "replace")
        try:
            recs = parse_packages(text)
        except ControlError as exc:
            raise ArchiveError(f"{signed.url} {entry.path}: {exc}") from None
        self._parsed[entry.sha256] = recs
        return recs

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
            data = self.get(f"{base}{folder}/by-hash/SHA256/{entry.sha256}", missing_ok=True)
        if data is None:
            data = self.get(what)
        assert data is not None
        check_index(data, entry, what=what)
        return data

    def _cache_path(self, entry: IndexFile) -> str | None:
        if not self.cache_dir:
            return None
        return os.path.join(self.cache_dir, f"{entry.sha256}{_suffix(entry.path)}")

    def _cached(self, entry: IndexFile) -> bytes | None:
        path = self._cache_path(entry)
        if path is None or not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            data = f.read()
        try:
            check_index(data, entry, what=path)  # content-addressed: re-checked, never trusted
        except IntegrityError:
            return None
        return data

    def _store(self, entry: IndexFile, data: bytes) -> None:
        path = self._cache_path(entry)
        if path is None:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)


def _suffix(path: str) -> str:
    for ext in (".xz", ".gz"):
        if path.endswith(ext):
            return ext
    return ""
