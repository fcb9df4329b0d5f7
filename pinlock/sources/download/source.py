"""The download source: versions from a tag list, an index or a directory listing; each file's
sha256 from a sidecar, a sums file, an index or its bytes, cross-checked and (when the upstream
signs its checksum file) checked against the OpenPGP key the lock pins."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from pinlock import grammar
from pinlock.clock import parse_time
from pinlock.errors import IntegrityError, UpstreamDataError, UsageError
from pinlock.http import MAX_DOCUMENT, KiB, MiB
from pinlock.kinds.base import Value
from pinlock.kinds.download.model import (
    GITLAB_URL,
    DownloadInput,
    DownloadLocked,
    LockedFile,
    PlannedFile,
    VersionsFrom,
    file_name,
    fill,
)
from pinlock.kinds.download.schema import fetched_url
from pinlock.model import Finding
from pinlock.sources.debian.errors import SignatureError
from pinlock.sources.debian.signature import verify_detached
from pinlock.sources.download.errors import (
    ChecksumFileError,
    DownloadError,
    DownloadNotFoundError,
    DownloadSignatureError,
    VersionNotFoundError,
)
from pinlock.sources.download.fetch import Fetcher
from pinlock.sources.download.indexes import (
    Offer,
    dearmor_key,
    json_index_offers,
    json_index_sha256,
    listing_names,
    listing_offers,
    listing_pattern,
    tag_offers,
)
from pinlock.sources.github.api import GitHubClient
from pinlock.sources.github.checksums import BYTES, SIDECAR, parse_sidecar, reconcile, same_file
from pinlock.sources.github.errors import SidecarError
from pinlock.sources.github.versions import (
    is_prerelease_version,
    major,
    tag_for,
    version_from_tag,
    version_key,
)
from pinlock.sources.interface import Candidate, Context
from pinlock.values import require

# The `verified-by` words of a file (besides BYTES, SIDECAR).
SUMS_FILE = "sums-file"
JSON_INDEX = "json-index"
SIGNATURE = "signature"  # the checksum file is signed by the pinned key
MAX_CHECKSUM_FILE = 1 * MiB  # SHASUMS256.txt of a Node release is ~5 KiB
MAX_SIDECAR = 64 * KiB
MAX_SIGNATURE = 64 * KiB
MAX_KEY = 1 * MiB
MAX_GITLAB_PAGES = 50


class DownloadSource:
    """Implements ``Source[DownloadInput]``. ``deep`` also hashes every file's bytes.

    Documents read once per source (a sums file shared by every platform, an index, a key)
    are kept for its lifetime: one command, one look at upstream.
    """

    kind = "download"

    def __init__(self, fetch: Fetcher, *, github: GitHubClient | None = None,
                 environ: Mapping[str, str] | None = None, deep: bool = False,
                 allow_prerelease: bool = False) -> None:
        self.fetch = fetch
        self._github = github
        self.environ = environ
        self.deep = deep
        self.allow_prerelease = allow_prerelease
        self.notes: list[Finding] = []
        self._documents: dict[str, bytes] = {}
        self._json: dict[str, Any] = {}
        self._signed: dict[tuple[str, str], None] = {}  # (checksum file URL, its sha) verified

    @classmethod
    def from_env(cls, http: httpx.Client, *, environ: Mapping[str, str] | None = None,
                 deep: bool = False, allow_prerelease: bool = False) -> DownloadSource:
        return cls(Fetcher(http), environ=environ, deep=deep, allow_prerelease=allow_prerelease)

    @property
    def github(self) -> GitHubClient:
        """GitHub's API client (``GITHUB_API_URL``, ``GITHUB_TOKEN``), built on first use."""
        if self._github is None:
            self._github = GitHubClient.from_env(self.fetch.http, self.environ)
        return self._github

    def take_notes(self) -> list[Finding]:
        notes, self.notes = self.notes, []
        return notes

    def close(self) -> None:
        """Nothing of its own to close: the HTTP client is the caller's."""

    # ------------------------------------------------------------ Source interface

    def resolve(self, inp: DownloadInput, ctx: Context, *,
                version: str | None = None) -> DownloadInput:
        d = inp.intent
        if d.fixed:
            if version is not None:
                raise UsageError(
                    f"{inp.name} is a fixed download: its URLs hold no version pinlock can "
                    "move, so there is nothing to bump",
                    hint=f"edit its URLs and sha256s in the Dockerfile, then run `pinlock init` "
                    f"again; or give {inp.name} a version-arg (docs/lockfile.md)")
            return self._resolve(inp, ctx, "")
        target = version or inp.locked.version or None
        if target is None:
            cand = self.newest(inp, ctx, allow_major=True)
            if cand is None:
                raise VersionNotFoundError(f"{inp.name}: no version found upstream")
            target = cand.version
        # Before it is put into any URL: a version is a word, never shell or URL syntax.
        require(f"download {inp.name}", [("version", target, grammar.release_version)])
        return self._resolve(inp, ctx, target)

    def _resolve(self, inp: DownloadInput, ctx: Context, target: str) -> DownloadInput:
        """Every file of ``target`` ("" for a fixed download) with its sha256."""
        d = inp.intent
        previous: dict[tuple[str, str | None], LockedFile] = {}
        if target == inp.locked.version:
            previous = {(f.name, f.platform): f for f in inp.locked.files}
        files: list[LockedFile] = []
        for planned in d.plan(target, ctx.platforms):
            _require_planned(inp, planned)
            what = _what(inp, planned, target)
            prior = previous.get((planned.name, planned.platform))
            if d.checksums is None and not self.deep and prior is not None and prior.sha256:
                # Adopted by `init`, nothing upstream to ask: kept as the Dockerfile holds
                # it (a new version needs a source; see _checksums).
                self.notes.append(Finding(
                    inp.name, "warning", "unverified",
                    f"{what}: sha256 kept as locked, not checked upstream: the lock has no "
                    "`checksums` (set one, or run with --deep)", found=prior.sha256))
                files.append(prior)
                continue
            values, signed, size = self._checksums(inp, target, planned, what=what)
            sha256 = reconcile(values, what=what)
            verified = set(values) | ({SIGNATURE} if signed else set())
            if prior is not None:
                verified |= same_file(prior.sha256, prior.verified_by, sha256, values,
                                      what=what,
                                      hint="find out why the file changed before accepting "
                                           "the new one")
            if len(values) == 1 and not signed:
                self.notes.append(_single_source_note(inp, what, values))
            files.append(LockedFile(planned.name, planned.sha256_arg, planned.platform,
                                    planned.url, sha256, size, tuple(sorted(verified))))
        require(f"download {inp.name} {grammar.shown(target or 'fixed')}", [
            *((f"sha256 of {f.name}", f.sha256 or "", grammar.sha256_hex) for f in files),
        ])
        return replace(inp, locked=DownloadLocked(target, tuple(files)))

    def newest(self, inp: DownloadInput, ctx: Context, *, allow_major: bool = False,
               prerelease: bool = False) -> Candidate | None:
        """The highest version the versions source lists that fits the template; pre-releases
        (the source's flag, or a version like ``1.0rc1``) only when allowed; without
        ``allow_major`` the locked version's leading number is kept."""
        d = inp.intent
        if d.fixed:
            self.notes.append(Finding(
                inp.name, "warning", "no-versions-source",
                f"{inp.name}: a fixed download (no version in its URLs): nothing to move; "
                "`pinlock verify --online` checks its sha256s upstream"))
            return None
        if d.versions is None:
            self.notes.append(Finding(
                inp.name, "warning", "no-versions-source",
                f"{inp.name}: no `versions` in the lock, so pinlock cannot look for a newer "
                'version; set versions = { from = "github-tags", … } (docs/lockfile.md)'))
            return None
        allow_pre = prerelease or d.allow_prerelease
        locked_major = major(inp.locked.version) if inp.locked.version else None
        best: Offer | None = None
        for offer in self._offers(inp, ctx, d.versions):
            if (offer.prerelease or is_prerelease_version(offer.version)) and not allow_pre:
                continue
            if not allow_major and locked_major is not None and major(
                    offer.version) != locked_major:
                continue
            if best is None or version_key(offer.version) > version_key(best.version):
                best = offer
        if best is None:
            return None
        values: list[Value] = [("version", best.version, grammar.release_version),
                               ("ref", best.ref, grammar.release_tag)]
        if best.notes_url:
            values.append(("notes url", best.notes_url, grammar.url))
        require(f"download {inp.name}: {d.versions.source}", values)
        return Candidate(best.version, best.ref, notes_url=best.notes_url,
                         published=best.published)

    def check(self, inp: DownloadInput, ctx: Context) -> list[Finding]:
        """Do the locked sha256s still hold upstream? Disagreements become findings; a
        transfer failure still raises ("could not look" is not "looked and it differs")."""
        d, dl = inp.intent, inp.locked
        findings: list[Finding] = []
        if d.checksums is None and not self.deep:
            return [Finding(inp.name, "warning", "no-checksum-source",
                            f"{inp.name}: no `checksums` in the lock: only --deep can check "
                            "the files upstream")]
        for lf in dl.files:
            arch = d.arch_for(lf.platform) if lf.platform is not None else None
            planned = PlannedFile(lf.name, lf.url, lf.sha256_arg, lf.platform, arch)
            what = _what(inp, planned, dl.version)
            try:
                values, _signed, _size = self._checksums(inp, dl.version, planned, what=what)
                current = reconcile(values, what=what)
            except DownloadNotFoundError as exc:
                findings.append(Finding(inp.name, "error", "asset-missing",
                                        f"{what}: {exc.message}", expected=lf.url))
                continue
            except IntegrityError as exc:
                code = ("signature-invalid" if isinstance(exc, DownloadSignatureError)
                        else "checksum-disagreement")
                findings.append(Finding(inp.name, "error", code, exc.message,
                                        expected=exc.expected, found=exc.observed))
                continue
            if lf.sha256 is None:
                findings.append(Finding(inp.name, "warning", "not-pinned",
                                        f"{what}: no sha256 locked", found=current))
            elif current != lf.sha256:
                findings.append(Finding(
                    inp.name, "error", "asset-replaced",
                    f"{what}: file replaced upstream: locked sha256 {lf.sha256}, upstream "
                    f"({', '.join(sorted(values))}) {current}",
                    expected=lf.sha256, found=current))
        return findings

    # ------------------------------------------------------------ versions

    def _offers(self, inp: DownloadInput, ctx: Context, v: VersionsFrom) -> Iterator[Offer]:
        source = f"download {inp.name}: versions from {v.source}"
        if v.source == "github-tags":
            assert v.repository is not None  # the schema requires it
            yield from tag_offers(self.github.paginate(f"/repos/{v.repository}/tags"),
                                  v.template, source=source)
        elif v.source == "github-releases":
            assert v.repository is not None
            for rel in self.github.releases(v.repository):
                if rel.draft:
                    continue
                version = version_from_tag(v.template, rel.tag_name)
                if version is not None:
                    yield Offer(version, rel.tag_name, prerelease=rel.prerelease,
                                published=parse_time(rel.published_at),
                                notes_url=rel.html_url or None)
        elif v.source == "gitlab-tags":
            yield from tag_offers(self._gitlab_tags(v), v.template, source=source)
        elif v.source == "json-index":
            assert v.url is not None
            yield from json_index_offers(self._index(v.url), v.template, source=source)
        else:  # directory
            url, segment = listing_of(inp.intent.url, v.url)
            arch = inp.intent.arch_for(ctx.platforms[0]) if (
                inp.intent.per_arch and ctx.platforms) else None
            html = self._document(url, limit=MAX_DOCUMENT).decode("utf-8", "replace")
            yield from listing_offers(listing_names(html), listing_pattern(segment, arch))

    def _gitlab_tags(self, v: VersionsFrom) -> Iterator[Any]:
        """GitLab's tags API, every page (``X-Next-Page``), bounded."""
        assert v.repository is not None
        host = (v.url or GITLAB_URL).rstrip("/")
        project = quote(v.repository, safe="")
        page: str | None = "1"
        pages = 0
        while page:
            pages += 1
            if pages > MAX_GITLAB_PAGES:
                raise DownloadError(f"GitLab {v.repository}: more than {MAX_GITLAB_PAGES} "
                                    "pages of tags")
            url = (f"{host}/api/v4/projects/{project}/repository/tags"
                   f"?per_page=100&page={quote(page, safe='')}")
            data, headers = self.fetch.get_json(url, limit=MAX_DOCUMENT)
            if not isinstance(data, list):
                raise UpstreamDataError(f"GitLab {v.repository}", "tags: expected a JSON list")
            if len(data) > 100:
                raise DownloadError(f"GET {url}: {len(data)} tags on one page, more than the "
                                    "100 asked for")
            yield from data
            nxt = headers.get("x-next-page", "").strip()
            page = nxt if nxt.isdigit() and int(nxt) > int(page) else None

    # ------------------------------------------------------------ checksums

    def _checksums(self, inp: DownloadInput, version: str, planned: PlannedFile, *,
                   what: str) -> tuple[dict[str, str], bool, int | None]:
        """Every available source's sha256 for one file, whether a verified signature covers
        the checksum file, and the size when a source tells it."""
        d, c = inp.intent, inp.intent.checksums
        values: dict[str, str] = {}
        signed = False
        size: int | None = None
        arch = planned.arch

        def url_of(template: str) -> str:
            url = fill(template, version=version, arch=arch, name=file_name(planned.url))
            require(f"download {inp.name}", [("checksum URL", url, fetched_url)])
            return url

        if c is not None and c.has_file:
            url = url_of(c.url) if c.url else planned.url + ".sha256"
            data = self._document(url, limit=MAX_SIDECAR if c.source == "sidecar"
                                  else MAX_CHECKSUM_FILE)
            if d.signature is not None:
                self._check_signature(inp, version, planned, url, data)
                signed = True
            word = SIDECAR if c.source == "sidecar" else SUMS_FILE
            values[word] = _parse_sums(data, file_name(planned.url), f"{what}: {word} {url}")
        elif c is not None and c.source == "json-index":
            index_url = c.url or (d.versions.url if d.versions else None)
            assert index_url is not None  # the schema requires one
            ref = tag_for(d.versions.template if d.versions else "{version}", version)
            sha, size = json_index_sha256(self._index(url_of(index_url)), ref,
                                          file_name(planned.url),
                                          source=f"download {inp.name}: {index_url}")
            if sha is None:
                raise ChecksumFileError(f"{what}: the JSON index lists no sha256 for "
                                        f"{file_name(planned.url)} in version {ref}")
            require(f"download {inp.name}: {index_url}", [("sha256", sha, grammar.sha256_hex)])
            values[JSON_INDEX] = sha
        if self.deep:
            values[BYTES], size = self.fetch.sha256(planned.url, name=planned.name)
        if not values:
            raise ChecksumFileError(
                f"{what}: no checksum source" + (
                    ": checksums.from is \"bytes\", which needs --deep"
                    if c is not None else ": the lock has no `checksums`"),
                hint="run with --deep to hash the downloaded bytes, or set checksums = "
                "{ from = \"sums-file\", url = \"…\" } (docs/lockfile.md)")
        return values, signed, size

    def _check_signature(self, inp: DownloadInput, version: str, planned: PlannedFile,
                         url: str, data: bytes) -> None:
        sig = inp.intent.signature
        assert sig is not None
        key = (url, hashlib.sha256(data).hexdigest())
        if key in self._signed:
            return
        sig_url = fill(sig.url, version=version, arch=planned.arch, name=file_name(planned.url))
        require(f"download {inp.name}", [("signature URL", sig_url, fetched_url)])
        signature = self._document(sig_url, limit=MAX_SIGNATURE)
        what = f"{inp.name}: signature {sig_url} of {url}"
        with tempfile.TemporaryDirectory(prefix="pinlock-key-") as tmp:
            if sig.key_url is not None:
                keyring = os.path.join(tmp, "key.gpg")
                with open(keyring, "wb") as f:
                    f.write(dearmor_key(self._document(sig.key_url, limit=MAX_KEY)))
            else:
                assert sig.keyring is not None
                keyring = os.path.abspath(os.path.expanduser(sig.keyring))
            try:
                signers = verify_detached(data, signature, keyring, what=what)
            except SignatureError as exc:
                raise DownloadSignatureError(
                    exc.message, hint="the checksum file is not signed by the pinned key: "
                    "nothing was written") from None
        if sig.fingerprint not in (s.upper() for s in signers):
            # A key served from key-url is believed only through the pinned fingerprint.
            raise DownloadSignatureError(
                f"{what}: signed by {', '.join(signers)}, not by the key the lock pins",
                expected=sig.fingerprint, observed=", ".join(signers))
        self._signed[key] = None

    # ------------------------------------------------------------ documents

    def _document(self, url: str, *, limit: int) -> bytes:
        if url not in self._documents:
            self._documents[url] = self.fetch.get(url, limit=limit)[0]
        return self._documents[url]

    def _index(self, url: str) -> Any:
        if url not in self._json:
            self._json[url] = self.fetch.get_json(url, limit=MAX_DOCUMENT)[0]
        return self._json[url]


def listing_of(template: str, listing: str | None) -> tuple[str, str]:
    """The directory to list and the path segment of ``template`` its entries match: the
    first segment holding ``{version}`` (``v{version}/`` or the file name)."""
    parts = template.split("/")
    at = next(i for i, p in enumerate(parts) if "{version}" in p and i >= 3)
    default = "/".join(parts[:at]) + "/"
    segment = parts[at] + ("/" if at < len(parts) - 1 else "")
    if listing is None:
        return default, segment
    base = listing if listing.endswith("/") else listing + "/"
    rest = template[len(base):] if template.startswith(base) else parts[-1]
    first = rest.split("/")
    i = next((n for n, p in enumerate(first) if "{version}" in p), len(first) - 1)
    return base, first[i] + ("/" if i < len(first) - 1 else "")


def _parse_sums(data: bytes, name: str, label: str) -> str:
    """The sha256 a sidecar or sums file gives ``name`` (``<hex>  <file>``, ``*`` binary
    marker, BSD form, or one bare hex)."""
    try:
        return parse_sidecar(data, asset_name=name, sidecar=label)
    except SidecarError as exc:
        if exc.expected == name:
            # Lists other files only: it vouches for nothing here (never the nearest name).
            raise ChecksumFileError(f"{label}: lists no {name}", expected=name,
                                    hint="the version or the arch-map may be wrong, or the "
                                    "upstream dropped the file") from None
        raise


def _require_planned(inp: DownloadInput, planned: PlannedFile) -> None:
    require(f"download {inp.name}", [
        ("url", planned.url, grammar.url), ("file name", planned.name, grammar.asset_name),
        *([("sha256 ARG", planned.sha256_arg, grammar.arg_name)]
          if planned.sha256_arg is not None else [])])


def _where(p: PlannedFile) -> str:
    return f"{p.name} ({p.platform})" if p.platform else p.name


def _what(inp: DownloadInput, p: PlannedFile, version: str) -> str:
    return f"{inp.name}: {_where(p)}" + (f" {version}" if version else " (fixed)")


def _single_source_note(inp: DownloadInput, what: str, values: Mapping[str, str]) -> Finding:
    ((source, value),) = values.items()
    advice = ("upstream publishes no checksum for it" if source == BYTES
              else "run with --deep to hash the bytes too")
    return Finding(inp.name, "warning", "single-checksum-source",
                   f"{what}: sha256 {value} comes from the {source} alone, with nothing to "
                   f"cross-check it against ({advice})", found=value)
