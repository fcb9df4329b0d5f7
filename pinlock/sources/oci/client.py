"""An OCI distribution client: requests to a repository's endpoints, manifests, blobs, tag lists.

Knows registries, repositories, tags and digests only; nothing of Dockerfiles or locks.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from pinlock import output
from pinlock.digest import check_bytes, hash_as
from pinlock.errors import UpstreamError, upstream_as
from pinlock.http import (
    DEFAULT_RETRY,
    MAX_DOCUMENT,
    MAX_ERROR_BODY,
    MAX_TAG_LIST,
    RetryPolicy,
    iter_body,
    make_client,
    parse_json,
    read_body,
    send_with_retries,
)
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.sources.oci.auth import RegistryAuth
from pinlock.sources.oci.config import Endpoint, RegistryConfig
from pinlock.sources.oci.credentials import DockerCredentials
from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    ImageReferenceError,
    ManifestIntegrityError,
    ManifestNotFoundError,
    RegistryError,
    RegistryUnavailableError,
    TagNotFoundError,
)
from pinlock.sources.oci.manifest import (
    ACCEPT,
    ATTESTATION_ANNOTATION,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    ResolvedImage,
    check_digest_field,
    check_media_type,
    config_platform,
    index_platforms,
    is_attestation,
    parse_platform,
    platform_of,
)
from pinlock.transport import (
    Hop,
    PageRefusal,
    RedirectPolicy,
    Refusal,
    follow_redirects,
    paginate,
)

# The manifest names were defined here before pinlock.sources.oci.manifest: still importable.
__all__ = [
    "ACCEPT",
    "ATTESTATION_ANNOTATION",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "MAX_CONFIG_BYTES",
    "MAX_MANIFEST_BYTES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Manifest",
    "RegistryClient",
    "ResolvedImage",
    "check_digest_field",
    "check_media_type",
    "config_platform",
    "index_platforms",
    "is_attestation",
    "parse_platform",
    "platform_of",
]

MAX_TAG_PAGES = 1000  # 100k tags at Docker Hub's page size; more is a loop
MAX_TAGS = 500_000  # across pages: kept in memory, compared, sorted
MAX_REDIRECTS = 5
# Registries hand blobs to a storage host (S3, a CDN) by redirect: the registry's token
# must not follow, so it goes with the first request only. The blob is hashed against its
# digest whatever host serves it, hence no refusal of other hosts or of plain http.
BLOB_REDIRECTS = RedirectPolicy(max_hops=MAX_REDIRECTS, refuse_downgrade=False,
                                credentials_on_redirect=False)


class RegistryClient:
    """Talks to OCI distribution registries over httpx.

    ``config`` says where each repository is reached (mirrors); ``credentials``
    supplies secrets per host; ``http``/``insecure_http`` are the clients for
    verified and unverified TLS (built with pinlock.http.make_client when omitted);
    ``retry``/``sleep`` are passed to pinlock.http.send_with_retries.
    """

    def __init__(
        self,
        config: RegistryConfig | None = None,
        *,
        credentials: DockerCredentials | None = None,
        http: httpx.Client | None = None,
        insecure_http: httpx.Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or RegistryConfig()
        self._http = http
        self._insecure_http = insecure_http
        self._owned: list[httpx.Client] = []
        self.retry = retry
        self._sleep = sleep
        self.auth = RegistryAuth(
            credentials if credentials is not None else DockerCredentials(), self._exchange,
            clock)
        self.requests: list[str] = []  # "METHOD url", for request counting; never headers

    @property
    def credentials(self) -> DockerCredentials:
        return self.auth.credentials

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        for c in self._owned:
            c.close()
        self._owned.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client(self, verify: bool) -> httpx.Client:
        if verify:
            if self._http is None:
                self._http = make_client()
                self._owned.append(self._http)
            return self._http
        if self._insecure_http is None:
            self._insecure_http = make_client(verify=False)
            self._owned.append(self._insecure_http)
        return self._insecure_http

    # ------------------------------------------------------------ naming

    @staticmethod
    def canonical(repository: str) -> str:
        """``debian`` -> ``docker.io/library/debian``; tags and digests are rejected."""
        try:
            ref = parse_image_ref(repository)
        except ImageRefError as exc:
            raise ImageReferenceError(str(exc)) from exc
        if ref.tag or ref.digest:
            raise ImageReferenceError(
                f"{repository!r}: expected a repository without tag or digest"
            )
        return ref.canonical

    def endpoints(self, repository: str, *, by_digest: bool = False) -> list[Endpoint]:
        return self.config.endpoints(self.canonical(repository), by_digest=by_digest)

    # ------------------------------------------------------------ transport

    def _send(
        self,
        ep: Endpoint,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        what: str,
        limit: int = MAX_ERROR_BODY,
    ) -> httpx.Response:
        """One registry request with auth: a 401 challenge is answered once, then cached."""
        scope = f"repository:{ep.path}:pull"
        auth = self.auth.known(ep, scope)
        response = self._exchange(ep, method, url, headers={**(headers or {}), **auth},
                                  stream=stream, what=what, limit=limit)
        if response.status_code == 401:
            header = response.headers.get("WWW-Authenticate", "")
            response.close()
            auth = self.auth.answer(ep, header, scope, what)
            response = self._exchange(ep, method, url, headers={**(headers or {}), **auth},
                                      stream=stream, what=what, limit=limit)
            if response.status_code == 401:
                response.close()
                raise self.auth.denied(ep, what, 401)
        if response.status_code == 403:
            response.close()
            raise self.auth.denied(ep, what, 403)
        return response

    def _exchange(
        self, ep: Endpoint, method: str, url: str, *, what: str, log: str | None = None,
        limit: int = MAX_DOCUMENT, stream: bool = False,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request (no auth of its own) under the retry policy, logged in ``requests``;
        a transfer that keeps failing is a RegistryUnavailableError."""
        client = self._client(ep.verify)
        request = client.build_request(method, url, headers=dict(headers or {}),
                                       params=params, data=data)
        self.requests.append(log or f"{method} {url}")
        try:
            return send_with_retries(
                client, request, stream=stream, policy=self.retry, sleep=self._sleep, what=what,
                limit=limit,
            )
        except RegistryError:
            raise
        except UpstreamError as exc:
            raise RegistryUnavailableError(exc.message, hint=exc.hint) from exc

    def _over_endpoints(
        self, repository: str, action: Callable[[Endpoint], Any], *, by_digest: bool
    ) -> Any:
        """Try each endpoint in order; fall through on an unreachable or incomplete mirror."""
        endpoints = self.endpoints(repository, by_digest=by_digest)
        last: RegistryError | None = None
        for i, ep in enumerate(endpoints):
            try:
                return action(ep)
            except (RegistryUnavailableError, TagNotFoundError, ManifestNotFoundError) as exc:
                if i == len(endpoints) - 1:
                    raise
                last = exc
        assert last is not None
        raise last

    # ------------------------------------------------------------ manifests

    def head_manifest(self, repository: str, reference: str) -> tuple[str | None, str | None]:
        """(digest, media type) a tag or digest points at, from headers only.

        Returns (None, None) when the registry's HEAD gives no digest. Never trusted
        on its own: callers fetch and hash the bytes before recording a digest.
        """
        def action(ep: Endpoint) -> tuple[str | None, str | None]:
            return self._head_at(ep, reference)

        result: tuple[str | None, str | None] = self._over_endpoints(
            repository, action, by_digest=reference.startswith("sha")
        )
        return result

    def _manifest_url(self, ep: Endpoint, reference: str) -> str:
        return f"{ep.base_url}/v2/{ep.path}/manifests/{reference}"

    def _head_at(self, ep: Endpoint, reference: str) -> tuple[str | None, str | None]:
        what = f"HEAD {self._manifest_url(ep, reference)}"
        r = self._send(ep, "HEAD", self._manifest_url(ep, reference),
                       headers={"Accept": ACCEPT}, what=what)
        if r.status_code == 404:
            self._not_found(ep, reference, what)
        if r.status_code != 200:
            raise RegistryError(f"{what}: HTTP {r.status_code}, expected 200")
        digest = r.headers.get("Docker-Content-Digest")
        media = r.headers.get("Content-Type", "").split(";")[0].strip() or None
        if digest:
            check_digest_field(digest, what)
        return digest or None, media

    def _not_found(self, ep: Endpoint, reference: str, what: str) -> None:
        if reference.startswith(("sha256:", "sha384:", "sha512:")):
            raise ManifestNotFoundError(f"{what}: manifest {reference} not found")
        nearest: tuple[str, ...] = ()
        try:
            tags = self._list_tags_at(ep, None)
            nearest = tuple(difflib.get_close_matches(reference, tags, n=5, cutoff=0.5))
        except (RegistryError, ManifestIntegrityError):
            tags = []  # the listing is a courtesy; the missing tag is the error
        hint = f"existing tags nearby: {', '.join(nearest)}" if nearest else (
            "the repository has no tags" if not tags else "no similar tag exists"
        )
        raise TagNotFoundError(
            f"{ep.base_url}/v2/{ep.path}: no such tag {reference!r}", hint=hint, nearest=nearest
        )

    def get_manifest(
        self, repository: str, reference: str, *, expected: str | None = None
    ) -> Manifest:
        """Fetch a manifest by tag or digest; its bytes are always hashed and checked.

        A digest reference is the expected digest; for a tag, ``expected`` (e.g. from
        HEAD) or the response's Docker-Content-Digest must match the bytes.
        """
        def action(ep: Endpoint) -> Manifest:
            return self._get_manifest_at(ep, reference, expected)

        result: Manifest = self._over_endpoints(
            repository, action, by_digest=reference.startswith("sha")
        )
        return result

    def _get_manifest_at(self, ep: Endpoint, reference: str, expected: str | None) -> Manifest:
        url = self._manifest_url(ep, reference)
        what = f"GET {url}"
        if reference.startswith(("sha256:", "sha384:", "sha512:")):
            check_digest_field(reference, what)
            if expected is not None and expected != reference:
                raise ManifestIntegrityError(f"{what}: asked for one digest, expected another",
                                             expected=expected, observed=reference)
            expected = reference
        r = self._send(ep, "GET", url, headers={"Accept": ACCEPT}, stream=True, what=what)
        try:
            if r.status_code == 404:
                self._not_found(ep, reference, what)
            if r.status_code != 200:
                raise RegistryError(f"{what}: HTTP {r.status_code}, expected 200")
            raw = _read_limited(r, MAX_MANIFEST_BYTES, what)
        finally:
            r.close()
        header = r.headers.get("Docker-Content-Digest")
        if expected is not None:
            check_bytes(raw, expected, what=f"{what}: manifest bytes do not hash to the digest",
                        error=ManifestIntegrityError,
                        hint="the registry or a proxy in between serves altered content; "
                        "nothing was written")
        if header:
            check_bytes(raw, header,
                        what=f"{what}: manifest bytes do not match the Docker-Content-Digest "
                        "header", error=ManifestIntegrityError)
        media = check_media_type(raw, r.headers.get("Content-Type"), what)
        return Manifest(expected or header or hash_as(raw, "sha256"), media, raw)

    def resolve(
        self, repository: str, reference: str, platforms: Sequence[str] = ()
    ) -> ResolvedImage:
        """A tag (HEAD, then GET by digest) or digest -> verified digest and platform digests."""
        def action(ep: Endpoint) -> ResolvedImage:
            return self._resolve_at(ep, repository, reference, platforms)

        result: ResolvedImage = self._over_endpoints(
            repository, action, by_digest=reference.startswith("sha")
        )
        return result

    def _resolve_at(
        self, ep: Endpoint, repository: str, reference: str, platforms: Sequence[str]
    ) -> ResolvedImage:
        if reference.startswith(("sha256:", "sha384:", "sha512:")):
            manifest = self._get_manifest_at(ep, reference, None)
        else:
            digest, _ = self._head_at(ep, reference)
            # With a digest from HEAD the body is fetched by digest (cacheable, and the
            # tag cannot move in between); without one, by tag, hashing what comes back.
            manifest = self._get_manifest_at(ep, digest or reference, None)
        if manifest.is_index:
            return ResolvedImage(
                self.canonical(repository), reference, manifest.digest, manifest.media_type,
                index_platforms(manifest, platforms), endpoint=ep.base_url,
            )
        platform = self._manifest_platform(ep, manifest)
        return ResolvedImage(
            self.canonical(repository), reference, manifest.digest, manifest.media_type,
            {platform: manifest.digest}, single_platform=True, endpoint=ep.base_url,
        )

    def _manifest_platform(self, ep: Endpoint, manifest: Manifest) -> str:
        """A single-platform manifest's platform, read from its (verified) config blob."""
        config = manifest.json().get("config") or {}
        digest = check_digest_field(config.get("digest"), f"manifest {manifest.digest} config")
        return config_platform(self._fetch_blob_at(ep, digest, MAX_CONFIG_BYTES), digest)

    # ------------------------------------------------------------ blobs

    def fetch_blob(self, repository: str, digest: str, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        """A small blob (a config), whole in memory, checked against its digest."""
        def action(ep: Endpoint) -> bytes:
            return self._fetch_blob_at(ep, digest, limit)

        result: bytes = self._over_endpoints(repository, action, by_digest=True)
        return result

    def _fetch_blob_at(self, ep: Endpoint, digest: str, limit: int) -> bytes:
        with self._blob_response(ep, digest) as (r, what):
            raw = _read_limited(r, limit, what)
        check_bytes(raw, digest, what=f"{what}: blob bytes do not hash to the digest",
                    error=BlobIntegrityError)
        return raw

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[tuple[Iterator[bytes], str]]:
        """Stream a blob: yields (chunks, description). The caller checks the digest."""
        ep = self.endpoints(repository, by_digest=True)[0]
        with self._blob_response(ep, digest) as (r, what):
            # Decoded with a bounded output per piece, the deadlines checked on every read.
            yield _blob_chunks(r, what), what

    @contextmanager
    def _blob_response(
        self, ep: Endpoint, digest: str
    ) -> Iterator[tuple[httpx.Response, str]]:
        check_digest_field(digest, f"blob {digest!r}")
        url = f"{ep.base_url}/v2/{ep.path}/blobs/{digest}"
        what = f"GET {url}"

        def send(hop: Hop) -> httpx.Response:
            if hop.credentials:
                return self._send(ep, "GET", hop.url, stream=True, what=what)
            return self._exchange(ep, "GET", hop.url, what=f"{what} -> {hop.url}",
                                  log=f"GET {hop.url} (redirect)", stream=True)

        def refused(refusal: Refusal) -> RegistryError:
            if refusal.reason == "too many":
                return RegistryError(f"{what}: more than {refusal.max_hops} redirects")
            return RegistryError(f"{what}: redirect to {refusal.target} refused "
                                 f"({refusal.reason})")

        r = follow_redirects(send, url, policy=BLOB_REDIRECTS, refuse=refused,
                             credentials_origin=ep.base_url)
        try:
            if r.status_code == 404:
                raise ManifestNotFoundError(f"{what}: blob {digest} not found")
            if r.status_code != 200:
                raise RegistryError(f"{what}: HTTP {r.status_code}, expected 200")
            yield r, what
        finally:
            r.close()

    # ------------------------------------------------------------ tags

    def list_tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag of a repository, following ``Link: <…>; rel="next"`` when offered."""
        def action(ep: Endpoint) -> list[str]:
            return self._list_tags_at(ep, page_size)

        result: list[str] = self._over_endpoints(repository, action, by_digest=False)
        return result

    def _list_tags_at(self, ep: Endpoint, page_size: int | None) -> list[str]:
        url = f"{ep.base_url}/v2/{ep.path}/tags/list"
        if page_size:
            url += f"?n={page_size}"
        tags: dict[str, None] = {}

        def fetch(page: str) -> httpx.Response:
            return self._send(ep, "GET", page, what=f"GET {page}", limit=MAX_TAG_LIST)

        def refused(refusal: PageRefusal) -> RegistryError:
            what = f"GET {refusal.url}"
            if refusal.reason == "other host":
                # A Link to another host would receive this registry's token.
                return RegistryError(
                    f"{what}: pagination Link points to another host: {refusal.target}")
            if refusal.reason == "loop":
                return RegistryError(f"{what}: tag list pagination loops back to "
                                     f"{refusal.target}",
                                     hint="the registry's Link headers repeat a page")
            return RegistryError(
                f"GET {ep.base_url}/v2/{ep.path}/tags/list: more than {refusal.max_pages} "
                "pages of tags, stopped", hint="the registry's Link headers never end")

        for page, r in paginate(fetch, url, max_pages=MAX_TAG_PAGES, refuse=refused,
                                base=ep.base_url + "/", same_host=True):
            what = f"GET {page}"
            if r.status_code == 404:
                raise TagNotFoundError(f"{what}: repository {ep.path} not found",
                                       hint="check the image name and the registry mirror")
            if r.status_code != 200:
                raise RegistryError(f"{what}: HTTP {r.status_code}, expected 200")
            body = parse_json(r.content, f"{what}: tag list", error=RegistryError)
            listed = body.get("tags") if isinstance(body, dict) else None
            for tag in listed or []:
                if isinstance(tag, str):
                    tags.setdefault(tag, None)
            if len(tags) > MAX_TAGS:
                raise RegistryError(f"{what}: more than {MAX_TAGS} tags, stopped",
                                    hint="no genuine repository has that many tags")
        return list(tags)


def _blob_chunks(r: httpx.Response, what: str) -> Iterator[bytes]:
    length = r.headers.get("content-length", "")
    with upstream_as(RegistryError), output.task(
            f"download {what.rsplit('/', 1)[-1][:19]}",
            int(length) if length.isdigit() else None) as bar:
        for chunk in iter_body(r, what=what, limit=None):
            bar.advance(len(chunk))
            yield chunk


def _read_limited(r: httpx.Response, limit: int, what: str) -> bytes:
    with upstream_as(RegistryError):
        return read_body(r, what=what, limit=limit)
