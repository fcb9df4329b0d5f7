"""An OCI distribution client: token/Basic auth, verified manifests, platform digests, tag lists.

Knows registries, repositories, tags and digests only; nothing of Dockerfiles or locks.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pinlock import output
from pinlock.digest import Digest, DigestFormatError, check_bytes, hash_as
from pinlock.errors import UpstreamError
from pinlock.http import (
    DEFAULT_RETRY,
    MAX_ERROR_BODY,
    MAX_TAG_LIST,
    MAX_TOKEN_BODY,
    RetryPolicy,
    iter_body,
    make_client,
    parse_json,
    read_body,
    send_with_retries,
)
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.secrets import may_carry_secret, register, register_basic, token_problem
from pinlock.sources.oci.config import Endpoint, RegistryConfig
from pinlock.sources.oci.credentials import Credential, DockerCredentials
from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    ImageReferenceError,
    ManifestIntegrityError,
    ManifestNotFoundError,
    PlatformNotFoundError,
    RegistryAuthError,
    RegistryError,
    RegistryUnavailableError,
    TagNotFoundError,
    UnsupportedMediaTypeError,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # containerd's limit: a bigger "manifest" is an attack
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_TAG_PAGES = 1000  # 100k tags at Docker Hub's page size; more is a loop
MAX_TAGS = 500_000  # across pages: kept in memory, compared, sorted
MAX_REDIRECTS = 5
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Manifest:
    """Manifest bytes whose sha256 was checked against ``digest``."""

    digest: str
    media_type: str
    raw: bytes = field(repr=False)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def json(self) -> dict[str, Any]:
        data = parse_json(self.raw, f"manifest {self.digest}", error=UnsupportedMediaTypeError)
        if not isinstance(data, dict):
            raise UnsupportedMediaTypeError(f"manifest {self.digest} is not a JSON object")
        return data


@dataclass(frozen=True)
class ResolvedImage:
    """What a tag (or a digest) points at, with the digest per requested platform."""

    repository: str  # canonical: docker.io/library/debian
    reference: str  # the tag or digest that was resolved
    digest: str  # of the index, or of the single manifest
    media_type: str
    platforms: Mapping[str, str]  # platform -> manifest digest
    single_platform: bool = False
    endpoint: str = ""  # where the bytes came from (a mirror, perhaps)


@dataclass
class _Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


@dataclass
class _Token:
    value: str
    expires: float


_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> _Challenge | None:
    """Parse ``WWW-Authenticate: Bearer realm="…",service="…",scope="…"``."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _PARAM_RE.finditer(rest)}
    return _Challenge(scheme.lower(), params)


def parse_platform(text: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) < 2 or not all(parts):
        raise ImageReferenceError(
            f"{text!r} is not a platform", hint="write os/arch[/variant], e.g. linux/arm64"
        )
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def platform_of(entry: Mapping[str, Any]) -> str:
    p = entry.get("platform") or {}
    if not isinstance(p, dict):
        return "unknown/unknown"
    text = f"{p.get('os', 'unknown')}/{p.get('architecture', 'unknown')}"
    return f"{text}/{p['variant']}" if p.get("variant") else text


def is_attestation(entry: Mapping[str, Any]) -> bool:
    """BuildKit attestation manifests: platform unknown/unknown, reference-type annotation."""
    annotations = entry.get("annotations") or {}
    if isinstance(annotations, dict) and ATTESTATION_ANNOTATION in annotations:
        return True
    return platform_of(entry).startswith("unknown/unknown")


def _platform_matches(want: tuple[str, str, str], entry: Mapping[str, Any]) -> int:
    """0: no match; 2: exact; 1: variant left open (arm64 means v8)."""
    os_, arch, variant = want
    p = entry.get("platform") or {}
    if not isinstance(p, dict) or p.get("os") != os_ or p.get("architecture") != arch:
        return 0
    have = str(p.get("variant") or "")
    if have == variant:
        return 2
    if not variant or (arch == "arm64" and {have, variant} <= {"", "v8"}):
        return 1
    return 0


def index_platforms(
    manifest: Manifest, platforms: Sequence[str]
) -> dict[str, str]:
    """Platform -> manifest digest from an index, for ``platforms`` (all, if empty).

    Attestation entries (``unknown/unknown``) are never returned. A missing platform
    raises PlatformNotFoundError naming what the index does offer.
    """
    entries = [e for e in manifest.json().get("manifests") or [] if isinstance(e, dict)]
    images = [e for e in entries if not is_attestation(e)]
    for e in images:
        _check_digest_field(e.get("digest"), f"index {manifest.digest} entry")
    if not platforms:
        out: dict[str, str] = {}
        for e in images:
            out.setdefault(platform_of(e), str(e["digest"]))
        return out
    result: dict[str, str] = {}
    for text in platforms:
        want = parse_platform(text)
        best: tuple[int, str] | None = None
        for e in images:
            score = _platform_matches(want, e)
            if score and (best is None or score > best[0]):
                best = (score, str(e["digest"]))
        if best is None:
            offered = ", ".join(sorted({platform_of(e) for e in images})) or "none"
            raise PlatformNotFoundError(
                f"index {manifest.digest} has no manifest for {text} (it offers: {offered})",
                hint="drop the platform from the lock's platforms, or pick an image that has it",
            )
        result[text] = best[1]
    return result


def _check_digest_field(value: object, what: str) -> str:
    try:
        return str(Digest.parse(str(value)))
    except DigestFormatError as exc:
        raise UnsupportedMediaTypeError(f"{what}: {value!r} is not a digest") from exc


def _media_type(raw: bytes, content_type: str | None, what: str) -> str:
    declared = None
    data = parse_json(raw, f"{what}: manifest", error=UnsupportedMediaTypeError)
    if isinstance(data, dict) and isinstance(data.get("mediaType"), str):
        declared = data["mediaType"]
    header = (content_type or "").split(";")[0].strip()
    media = declared or header
    if not media and isinstance(data, dict):
        # OCI allows mediaType to be absent; the shape decides.
        media = OCI_INDEX if "manifests" in data else OCI_MANIFEST if "layers" in data else ""
    if media not in INDEX_TYPES | MANIFEST_TYPES:
        raise UnsupportedMediaTypeError(
            f"{what}: unsupported manifest media type {media or '(none)'!r}",
            hint="pinlock understands OCI index/manifest and Docker manifest list/v2 schema 2",
        )
    return media


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
        self.credentials = credentials if credentials is not None else DockerCredentials()
        self._http = http
        self._insecure_http = insecure_http
        self._owned: list[httpx.Client] = []
        self.retry = retry
        self._sleep = sleep
        self._clock = clock
        self._challenges: dict[str, _Challenge] = {}
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}
        self._basic: dict[str, Credential] = {}
        self.requests: list[str] = []  # "METHOD url", for request counting; never headers

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
        auth = self._known_auth(ep, scope)
        response = self._do(ep, method, url, {**(headers or {}), **auth}, stream, what, limit)
        if response.status_code == 401:
            header = response.headers.get("WWW-Authenticate", "")
            response.close()
            challenge = parse_challenge(header)
            if challenge is None or challenge.scheme not in ("bearer", "basic"):
                raise RegistryAuthError(
                    f"{what}: 401 Unauthorized with an unsupported challenge {header!r}"
                )
            self._challenges[ep.base_url] = challenge
            auth = self._authorize(ep, challenge, scope, what, fresh=True)
            response = self._do(ep, method, url, {**(headers or {}), **auth}, stream, what,
                                limit)
            if response.status_code == 401:
                response.close()
                raise self._auth_error(ep, what, 401)
        if response.status_code == 403:
            response.close()
            raise self._auth_error(ep, what, 403)
        return response

    def _do(
        self, ep: Endpoint, method: str, url: str, headers: Mapping[str, str],
        stream: bool, what: str, limit: int,
    ) -> httpx.Response:
        client = self._client(ep.verify)
        request = client.build_request(method, url, headers=dict(headers))
        self.requests.append(f"{method} {url}")
        try:
            return send_with_retries(
                client, request, stream=stream, policy=self.retry, sleep=self._sleep, what=what,
                limit=limit,
            )
        except RegistryError:
            raise
        except UpstreamError as exc:
            raise RegistryUnavailableError(exc.message, hint=exc.hint) from exc

    def _auth_error(self, ep: Endpoint, what: str, status: int) -> RegistryAuthError:
        cred = self.credentials.lookup(ep.host)
        tried = f"credentials {cred}" if cred else (
            f"anonymous access (no credentials for {ep.host} in "
            f"{self.credentials.sources_for(ep.host)})"
        )
        verb = "401 Unauthorized" if status == 401 else "403 Forbidden"
        return RegistryAuthError(
            f"{what}: {verb} with {tried}",
            hint=f"log in to {ep.host} (docker login / a credential helper), or check that "
            "the account may pull this repository",
        )

    def _known_auth(self, ep: Endpoint, scope: str) -> dict[str, str]:
        """Authorization for a registry whose challenge is already known: no extra 401."""
        challenge = self._challenges.get(ep.base_url)
        if challenge is None:
            return {}
        return self._authorize(ep, challenge, scope, what=f"{ep}", fresh=False)

    def _authorize(
        self, ep: Endpoint, challenge: _Challenge, scope: str, what: str, *, fresh: bool
    ) -> dict[str, str]:
        cred = self.credentials.lookup(ep.host)
        if challenge.scheme == "basic":
            if cred is None or cred.identity_token:
                raise RegistryAuthError(
                    f"{what}: the registry asks for Basic auth and no username/password "
                    f"was found for {ep.host} in {self.credentials.sources_for(ep.host)}",
                    hint=f"docker login {ep.host}",
                )
            self._refuse_plain_http(ep.base_url, what)
            return {"Authorization": register_basic(cred.username, cred.secret)}
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError(f"{what}: Bearer challenge without a realm")
        service = challenge.params.get("service", "")
        key = (realm, service, scope, cred.source if cred else "")
        token = self._tokens.get(key)
        now = self._clock()
        if token is not None and token.expires > now and not fresh:
            return {"Authorization": f"Bearer {token.value}"}
        token = self._fetch_token(ep, realm, service, scope, cred, what)
        self._tokens[key] = token
        return {"Authorization": f"Bearer {token.value}"}

    @staticmethod
    def _refuse_plain_http(url: str, what: str) -> None:
        parts = urlsplit(url)
        if not may_carry_secret(url):
            # Credentials over plain HTTP to a non-loopback host would be readable on the wire.
            raise RegistryAuthError(
                f"{what}: refusing to send credentials over plain HTTP to {parts.netloc}"
            )

    def _fetch_token(
        self, ep: Endpoint, realm: str, service: str, scope: str,
        cred: Credential | None, what: str,
    ) -> _Token:
        if urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryAuthError(f"{what}: token realm {realm!r} is not an http(s) URL")
        params = {"scope": scope}
        if service:
            params["service"] = service
        client = self._client(ep.verify)
        headers: dict[str, str] = {}
        if cred is not None:
            register(cred.secret)
            self._refuse_plain_http(realm, what)
        if cred is not None and cred.identity_token:
            # OAuth2 refresh-token grant (docker's identitytoken).
            request = client.build_request(
                "POST", realm, data={**params, "grant_type": "refresh_token",
                                     "refresh_token": cred.secret, "client_id": "pinlock"},
            )
        else:
            if cred is not None:
                headers["Authorization"] = register_basic(cred.username, cred.secret)
            request = client.build_request("GET", realm, params=params, headers=headers)
        self.requests.append(f"{request.method} {realm} (token {scope})")
        try:
            response = send_with_retries(
                client, request, policy=self.retry, sleep=self._sleep,
                what=f"token from {realm} for {scope}", limit=MAX_TOKEN_BODY,
            )
        except UpstreamError as exc:
            raise RegistryUnavailableError(exc.message, hint=exc.hint) from exc
        if response.status_code in (401, 403):
            who = f"credentials {cred}" if cred else "anonymous access"
            raise RegistryAuthError(
                f"token from {realm} for {scope}: {response.status_code} with {who}",
                hint=f"check the credentials for {ep.host} "
                f"({self.credentials.sources_for(ep.host)})",
            )
        if response.status_code != 200:
            raise RegistryError(
                f"token from {realm} for {scope}: HTTP {response.status_code}, expected 200"
            )
        body = parse_json(response.content, f"token from {realm}", error=RegistryAuthError)
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryAuthError(f"token from {realm}: answer has no token")
        register(value)
        if token_problem(value) is not None:
            # It would be refused as a header value on the next request, and printed.
            raise RegistryAuthError(f"token from {realm}: answer's token is not a header value")
        expires_in = body.get("expires_in", 60)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 60.0
        # Renew a little early so a token does not expire between HEAD and GET.
        return _Token(value, self._clock() + max(lifetime - 5.0, 1.0))

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
            _check_digest_field(digest, what)
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
            _check_digest_field(reference, what)
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
        media = _media_type(raw, r.headers.get("Content-Type"), what)
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
        digest = _check_digest_field(config.get("digest"), f"manifest {manifest.digest} config")
        raw = self._fetch_blob_at(ep, digest, MAX_CONFIG_BYTES)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return "unknown/unknown"
        except RecursionError:
            raise UnsupportedMediaTypeError(f"config {digest}: JSON nested too deep") from None
        if not isinstance(data, dict):
            return "unknown/unknown"
        text = f"{data.get('os', 'unknown')}/{data.get('architecture', 'unknown')}"
        return f"{text}/{data['variant']}" if data.get("variant") else text

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
        _check_digest_field(digest, f"blob {digest!r}")
        url = f"{ep.base_url}/v2/{ep.path}/blobs/{digest}"
        what = f"GET {url}"
        r = self._send(ep, "GET", url, stream=True, what=what)
        try:
            hops = 0
            while r.status_code in (301, 302, 303, 307, 308) and hops < MAX_REDIRECTS:
                # Registries hand blobs to a storage host; the registry's token must not
                # follow to it, so redirects are fetched without Authorization.
                location = urljoin(str(r.url), r.headers.get("Location", ""))
                r.close()
                hops += 1
                client = self._client(ep.verify)
                self.requests.append(f"GET {location} (redirect)")
                try:
                    r = send_with_retries(client, client.build_request("GET", location),
                                          stream=True, policy=self.retry, sleep=self._sleep,
                                          what=f"{what} -> {location}")
                except UpstreamError as exc:
                    raise RegistryUnavailableError(exc.message, hint=exc.hint) from exc
            if r.status_code in (301, 302, 303, 307, 308):
                raise RegistryError(f"{what}: more than {MAX_REDIRECTS} redirects")
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
        seen: set[str] = set()
        tags: dict[str, None] = {}
        for _ in range(MAX_TAG_PAGES):
            seen.add(url)
            what = f"GET {url}"
            r = self._send(ep, "GET", url, what=what, limit=MAX_TAG_LIST)
            if r.status_code == 404:
                raise TagNotFoundError(f"{what}: repository {ep.path} not found",
                                       hint="check the image name and the registry mirror")
            if r.status_code != 200:
                raise RegistryError(f"{what}: HTTP {r.status_code}, expected 200")
            body = parse_json(r.content, f"{what}: tag list", error=RegistryError)
            page = body.get("tags") if isinstance(body, dict) else None
            for tag in page or []:
                if isinstance(tag, str):
                    tags.setdefault(tag, None)
            if len(tags) > MAX_TAGS:
                raise RegistryError(f"{what}: more than {MAX_TAGS} tags, stopped",
                                    hint="no genuine repository has that many tags")
            nxt = _next_link(r.headers.get("Link"))
            if nxt is None:
                break
            nxt = urljoin(ep.base_url + "/", nxt)
            if urlsplit(nxt).netloc != urlsplit(ep.base_url).netloc:
                # A Link to another host would receive this registry's token.
                raise RegistryError(f"{what}: pagination Link points to another host: {nxt}")
            if nxt in seen:
                # A registry repeating a page would be followed for ever.
                raise RegistryError(f"{what}: tag list pagination loops back to {nxt}",
                                    hint="the registry's Link headers repeat a page")
            url = nxt
        else:
            raise RegistryError(
                f"GET {ep.base_url}/v2/{ep.path}/tags/list: more than {MAX_TAG_PAGES} pages "
                "of tags, stopped", hint="the registry's Link headers never end")
        return list(tags)


_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    m = _LINK_RE.search(header)
    return m.group(1) if m else None


def _blob_chunks(r: httpx.Response, what: str) -> Iterator[bytes]:
    length = r.headers.get("content-length", "")
    try:
        with output.task(f"download {what.rsplit('/', 1)[-1][:19]}",
                         int(length) if length.isdigit() else None) as bar:
            for chunk in iter_body(r, what=what, limit=None):
                bar.advance(len(chunk))
                yield chunk
    except RegistryError:
        raise
    except UpstreamError as exc:
        raise RegistryError(exc.message, hint=exc.hint) from None


def _read_limited(r: httpx.Response, limit: int, what: str) -> bytes:
    try:
        return read_body(r, what=what, limit=limit)
    except RegistryError:
        raise
    except UpstreamError as exc:
        raise RegistryError(exc.message, hint=exc.hint) from None
