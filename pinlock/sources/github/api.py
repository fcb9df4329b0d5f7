"""A small GitHub REST client on httpx: requests, pagination, rate limits, streamed downloads.

It knows GitHub's protocol (headers, ``Link`` pagination, rate-limit headers,
redirects to a download host) and the release objects, and nothing about
Dockerfiles or locks, so other parts of pinlock (pull requests) reuse it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from pinlock import output
from pinlock.digest import sha256_stream
from pinlock.errors import InputError, UpstreamError
from pinlock.http import (
    DEFAULT_RETRY,
    MAX_API_PAGE,
    RETRY_STATUSES,
    BodyBrokenError,
    RetryPolicy,
    buffered,
    iter_body,
    make_client,
    parse_json,
    read_error_body,
    retry_after_seconds,
)
from pinlock.http import send_with_retries as _send_with_retries
from pinlock.secrets import TOKEN_VARIABLES, check_token, may_carry_secret, plain_http_host
from pinlock.sources.github.errors import (
    GitHubAuthError,
    GitHubError,
    GitHubNotFoundError,
    RateLimitError,
    TruncatedDownloadError,
)
from pinlock.transport import (
    Hop,
    PageRefusal,
    RedirectPolicy,
    Refusal,
    follow_redirects,
    origin,
    paginate,
)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
JSON_MEDIA_TYPE = "application/vnd.github+json"
OCTET_STREAM = "application/octet-stream"
_CHUNK = 1 << 16
_TOKEN_HINT = "set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repository"


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class GitHubConfig:
    """Where the API is and how to authenticate; the token is kept out of repr()."""

    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    token_variable: str = "GITHUB_TOKEN"  # where the token came from, for messages

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GitHubConfig:
        """``GITHUB_API_URL`` (as Actions and Enterprise set it), ``GITHUB_TOKEN``/``GH_TOKEN``."""
        env = os.environ if environ is None else environ
        api_url = (env.get("GITHUB_API_URL") or "").strip() or DEFAULT_API_URL
        for variable in TOKEN_VARIABLES:
            if (env.get(variable) or "").strip():
                # Checked before any use: a newline in it would be retried, then printed.
                token = check_token(variable, env[variable])
                return cls(api_url=api_url, token=token, token_variable=variable)
        return cls(api_url=api_url)


# ---------------------------------------------------------------- release objects


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GitHubError(
            f"{where}: unexpected GitHub answer: field {key!r} is {value!r}, "
            f"expected {getattr(kind, '__name__', kind)}"
        )
    return value


@dataclass(frozen=True)
class ReleaseAsset:
    """One entry of a release's ``assets[]`` (GitHub's release-asset object)."""

    id: int
    name: str
    size: int
    url: str  # API URL; with Accept: application/octet-stream it serves the bytes
    browser_download_url: str
    content_type: str = OCTET_STREAM
    digest: str | None = None  # "sha256:<hex>"; null/absent on assets uploaded before mid-2025
    state: str = "uploaded"

    @classmethod
    def from_json(cls, data: object, *, where: str) -> ReleaseAsset:
        if not isinstance(data, Mapping):
            raise GitHubError(f"{where}: unexpected GitHub answer: an asset is not an object")
        digest = data.get("digest")
        return cls(
            id=_field(data, "id", int, where),
            name=_field(data, "name", str, where),
            size=_field(data, "size", int, where),
            url=_field(data, "url", str, where),
            browser_download_url=_field(data, "browser_download_url", str, where),
            content_type=str(data.get("content_type") or OCTET_STREAM),
            digest=digest if isinstance(digest, str) and digest else None,
            state=str(data.get("state") or "uploaded"),
        )


@dataclass(frozen=True)
class Release:
    """GitHub's release object, the fields pinlock reads."""

    id: int
    tag_name: str
    draft: bool
    prerelease: bool
    html_url: str
    name: str | None = None
    published_at: str | None = None
    assets: tuple[ReleaseAsset, ...] = ()

    @classmethod
    def from_json(cls, data: object, *, where: str) -> Release:
        if not isinstance(data, Mapping):
            raise GitHubError(f"{where}: unexpected GitHub answer: a release is not an object")
        raw_assets = data.get("assets") or []
        if not isinstance(raw_assets, list):
            raise GitHubError(f"{where}: unexpected GitHub answer: 'assets' is not a list")
        name = data.get("name")
        published = data.get("published_at")
        return cls(
            id=_field(data, "id", int, where),
            tag_name=_field(data, "tag_name", str, where),
            draft=bool(data.get("draft", False)),
            prerelease=bool(data.get("prerelease", False)),
            html_url=str(data.get("html_url") or ""),
            name=name if isinstance(name, str) else None,
            published_at=published if isinstance(published, str) else None,
            assets=tuple(ReleaseAsset.from_json(a, where=where) for a in raw_assets),
        )

    def asset(self, name: str) -> ReleaseAsset | None:
        for asset in self.assets:
            if asset.name == name:
                return asset
        return None


# ---------------------------------------------------------------- URLs and answers


def display_url(url: httpx.URL | str) -> str:
    """A URL for messages: without its query, which on download hosts carries signatures."""
    u = httpx.URL(str(url))
    return str(u.copy_with(query=None, fragment=None))


def _github_message(response: httpx.Response) -> str:
    """GitHub's ``{"message": …}`` error text, short; never echoes request headers."""
    try:
        body = parse_json(response.content, "GitHub's error answer")
    except (UpstreamError, httpx.ResponseNotRead):
        return ""
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])[:300]
    return ""


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _RateLimitGate:
    """Stands between send_with_retries and httpx to classify GitHub's 403/429 answers.

    send_with_retries owns the one retry loop; this only decides, per answer,
    whether a 403/429 is a secondary limit worth waiting for (Retry-After
    within the policy: returned, so the loop waits and retries) or final
    (primary limit exhausted: GitHub asks not to retry before
    ``x-ratelimit-reset``, and retrying anyway can get an integration banned).
    """

    def __init__(self, owner: GitHubClient, label: str) -> None:
        self._owner = owner
        self._label = label
        self.last_status: int | None = None

    def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        response = self._owner._http.send(request, stream=stream)
        self._owner.requests_sent += 1
        self.last_status = response.status_code
        if response.status_code not in (403, 429):
            return response
        if origin(request.url) != self._owner._origin:
            # A download host's 403 (an expired or refused signed URL) is final.
            if response.status_code == 403:
                response.close()
                raise GitHubError(f"{self._label}: HTTP 403 from the download host")
            return response
        if stream:
            response = buffered(response, request,
                                read_error_body(response, what=self._label))
        raise_for_rate_limit(response, self._label, self._owner, retry=True)
        return response


def raise_for_rate_limit(
    response: httpx.Response, label: str, client: GitHubClient, *, retry: bool
) -> None:
    """Raise for a 403/429 unless it is a secondary limit that may be waited out (``retry``)."""
    headers = response.headers
    message = _github_message(response)
    if headers.get("x-ratelimit-remaining") == "0":
        reset_text = headers.get("x-ratelimit-reset", "")
        reset = int(reset_text) if reset_text.isdigit() else None
        limit = headers.get("x-ratelimit-limit", "?")
        resource = headers.get("x-ratelimit-resource", "core")
        when = ""
        if reset is not None:
            minutes = max(0, round((reset - client.clock()) / 60))
            when = f"; it resets at {_utc(reset)} (in about {minutes} min)"
        raise RateLimitError(
            f"{label}: GitHub API rate limit exhausted ({limit} requests per hour, "
            f"resource {resource!r}){when}",
            reset_at=reset,
            hint=None
            if client.authenticated
            else "authenticate with GITHUB_TOKEN (or GH_TOKEN) "
            "for a higher limit, or wait until the reset",
        )
    wait = retry_after_seconds(headers.get("retry-after"))
    if wait is not None:
        if retry and wait <= client.retry_policy.max_wait:
            return
        raise RateLimitError(
            f"{label}: GitHub secondary rate limit: asked to wait {wait:.0f} s"
            + ("" if retry else " (still limited after retrying)"),
            retry_after=wait,
            hint="wait, then run pinlock again",
        )
    if response.status_code == 429 or "rate limit" in message.lower():
        raise RateLimitError(
            f"{label}: GitHub secondary rate limit (HTTP {response.status_code})"
            + (f": {message}" if message else ""),
            hint="GitHub asks to wait at least one minute before trying again",
        )
    raise GitHubAuthError(
        f"{label}: GitHub refused the request (HTTP 403)" + (f": {message}" if message else ""),
        hint=_TOKEN_HINT,
    )


# ---------------------------------------------------------------- the client


class GitHubClient:
    """GitHub's REST API over an httpx client that the caller owns (and may share).

    The token is sent only to the API's own origin, per request, never set on
    the shared client: a redirect to a download host, or another source using
    the same httpx client, never sees it.
    """

    def __init__(
        self,
        http: httpx.Client,
        config: GitHubConfig | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_pages: int = 100,
        max_redirects: int = 5,
    ) -> None:
        config = config or GitHubConfig()
        base = httpx.URL(config.api_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise InputError(
                f"GITHUB_API_URL {config.api_url!r} is not an http(s) URL",
                hint="e.g. https://api.github.com or https://HOST/api/v3 for GitHub Enterprise",
            )
        if config.token and not may_carry_secret(str(base)):
            raise InputError(
                f"GITHUB_API_URL {str(base)!r}: refusing to send {config.token_variable} over "
                f"plain http to {plain_http_host(str(base))}: anyone on the way could read it",
                hint="use an https:// API URL (plain http is allowed only to localhost)",
            )
        self._http = http
        self._base = str(base).rstrip("/")
        self._origin = origin(base)
        self._token = config.token
        self.retry_policy = retry
        self._sleep = sleep
        self.clock = clock
        self.max_pages = max_pages
        self.max_redirects = max_redirects
        self.requests_sent = 0  # every HTTP exchange, redirects and retries included

    @classmethod
    def from_env(
        cls,
        http: httpx.Client | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> GitHubClient:
        return cls(http or make_client(), GitHubConfig.from_env(environ), **kwargs)

    def __repr__(self) -> str:
        auth = "token" if self._token else "anonymous"
        return f"GitHubClient({self._base!r}, {auth})"

    @property
    def api_url(self) -> str:
        return self._base

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` relative to the API base, or already absolute."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self._base}/{path.lstrip('/')}"

    # ------------------------------------------------------------ transport

    def _headers(self, accept: str, *, api: bool) -> dict[str, str]:
        headers = {"Accept": accept}
        if api:
            headers["X-GitHub-Api-Version"] = API_VERSION
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: object = None,
        accept: str = JSON_MEDIA_TYPE,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with bounded retries; follow redirects by hand, dropping credentials off-origin."""
        first = httpx.URL(url, params=dict(params)) if params else httpx.URL(url)

        def send(hop: Hop) -> httpx.Response:
            current = httpx.URL(hop.url)
            label = f"{hop.method} {display_url(current)}"
            request = self._http.build_request(
                hop.method,
                current,
                # The token and API version only to the API's own origin, never to a
                # download host a redirect leads to.
                headers=self._headers(accept, api=hop.credentials),
                json=json_body if hop.body else None,
            )
            gate = _RateLimitGate(self, label)
            try:
                # cast: send_with_retries needs only .send(request, stream=); the gate has it.
                response = _send_with_retries(
                    cast(httpx.Client, gate),
                    request,
                    stream=stream,
                    policy=self.retry_policy,
                    sleep=self._sleep,
                    what=label,
                    retry_statuses=RETRY_STATUSES | {403},
                    limit=MAX_API_PAGE,
                )
            except GitHubError:
                raise
            except UpstreamError as exc:
                if gate.last_status in (403, 429):
                    raise RateLimitError(
                        f"{label}: still rate limited by GitHub after retrying",
                        hint="wait, then run pinlock again",
                    ) from exc
                raise GitHubError(exc.message, hint=exc.hint) from exc
            if response.status_code in (403, 429):
                raise_for_rate_limit(response, label, self, retry=False)
            return response

        def refused(refusal: Refusal) -> GitHubError:
            if refusal.reason == "too many":
                return GitHubError(f"{refusal.method} {display_url(url)}: more than "
                                   f"{refusal.max_hops} redirects")
            # A downgrade would expose the request (and any later token) in clear text.
            return GitHubError(f"{refusal.method} {display_url(refusal.url)}: refused redirect "
                               f"from https to {display_url(refusal.target)}")

        return follow_redirects(send, str(first), method=method, refuse=refused,
                                policy=RedirectPolicy(max_hops=self.max_redirects),
                                credentials_origin=self._base)

    def _raise_for_status(
        self, response: httpx.Response, label: str, ok: frozenset[int] | tuple[int, ...]
    ) -> None:
        if response.status_code in ok:
            return
        message = _github_message(response)
        detail = f": {message}" if message else ""
        if response.status_code == 404:
            raise GitHubNotFoundError(
                f"{label}: not found (HTTP 404){detail}",
                hint=None if self.authenticated else "if the repository is private, " + _TOKEN_HINT,
            )
        if response.status_code == 401:
            raise GitHubAuthError(
                f"{label}: GitHub rejected the credentials (HTTP 401){detail}", hint=_TOKEN_HINT
            )
        raise GitHubError(f"{label}: HTTP {response.status_code}{detail}")

    # ------------------------------------------------------------ generic API calls

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        ok: frozenset[int] | tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        """One API call; an answer outside ``ok`` becomes a GitHubError subclass."""
        url = self.url(path)
        response = self._send(method, url, params=params, json_body=json)
        self._raise_for_status(response, f"{method} {display_url(url)}", ok)
        return response

    def get_json(self, path: str, *, params: Mapping[str, str | int] | None = None) -> Any:
        response = self.request("GET", path, params=params, ok=(200,))
        return parse_json(response.content, f"GET {display_url(self.url(path))}",
                          error=GitHubError)

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        per_page: int = 100,
    ) -> Iterator[Any]:
        """Yield the items of a list endpoint, following ``Link: <…>; rel="next"``."""
        query: dict[str, str | int] = {**(params or {}), "per_page": per_page}
        first = self.url(path)

        def fetch(page: str) -> httpx.Response:
            nonlocal query
            response = self.request("GET", page, params=query, ok=(200,))
            query = {}  # the next link carries the whole query
            return response

        def refused(refusal: PageRefusal) -> GitHubError:
            if refusal.reason == "too many":
                return GitHubError(f"GET {display_url(first)}: more than {refusal.max_pages} "
                                   "pages")
            return GitHubError(f"GET {display_url(refusal.target)}: pagination loops back to "
                               "a seen page")

        for page, response in paginate(fetch, first, max_pages=self.max_pages, refuse=refused):
            items = parse_json(response.content, f"GET {display_url(page)}", error=GitHubError)
            if not isinstance(items, list):
                raise GitHubError(f"GET {display_url(page)}: expected a JSON list")
            if len(items) > max(per_page, 100):
                # GitHub never sends more than asked: a bigger page is a server piling
                # up memory in pinlock across pages.
                raise GitHubError(f"GET {display_url(page)}: {len(items)} items on one page, "
                                  f"more than the {per_page} asked for")
            yield from items

    # ------------------------------------------------------------ releases

    def release_by_tag(self, repository: str, tag: str) -> Release:
        """``GET /repos/{owner}/{repo}/releases/tags/{tag}``."""
        path = f"/repos/{repository}/releases/tags/{tag}"
        return Release.from_json(self.get_json(path), where=f"{repository} {tag}")

    def releases(self, repository: str) -> Iterator[Release]:
        """``GET /repos/{owner}/{repo}/releases``, every page, newest first as GitHub lists them."""
        for item in self.paginate(f"/repos/{repository}/releases"):
            yield Release.from_json(item, where=f"{repository} releases")

    def release_assets(self, repository: str, release_id: int) -> Iterator[ReleaseAsset]:
        """``GET /repos/{owner}/{repo}/releases/{id}/assets``, every page."""
        for item in self.paginate(f"/repos/{repository}/releases/{release_id}/assets"):
            yield ReleaseAsset.from_json(item, where=f"{repository} release {release_id}")

    # ------------------------------------------------------------ downloads

    @contextmanager
    def open_download(self, url: str, *, accept: str = OCTET_STREAM) -> Iterator[httpx.Response]:
        """A streamed GET that follows redirects (credentials stay on the API origin)."""
        response = self._send("GET", self.url(url), accept=accept, stream=True)
        try:
            if response.status_code != 200:
                body = read_error_body(response, what=f"GET {display_url(url)}")
                response = buffered(response, response.request, body)
                self._raise_for_status(response, f"GET {display_url(url)}", (200,))
            yield response
        finally:
            response.close()

    def iter_download(
        self,
        url: str,
        *,
        expected_size: int | None = None,
        limit: int | None = None,
        chunk_size: int = _CHUNK,
        name: str | None = None,
    ) -> Iterator[bytes]:
        """Yield the bytes of ``url`` chunk by chunk; raise if they end short or run long.

        Guards against a truncated transfer passing as a complete file: the
        byte count must equal Content-Length (when the body is not encoded) and
        ``expected_size`` (the API's ``size``).
        """
        label = f"GET {display_url(url)}"
        with self.open_download(url) as response:
            declared: int | None = None
            length = response.headers.get("content-length", "")
            if length.isdigit() and not response.headers.get("content-encoding"):
                declared = int(length)
            if limit is not None and declared is not None and declared > limit:
                raise GitHubError(f"{label}: {declared} bytes, more than the {limit} expected")
            received = 0
            name = name or urlsplit(url).path.rsplit("/", 1)[-1]  # for the progress line
            try:
                # Decoded here with a bounded output per piece, under the deadlines.
                with output.task(f"download {name}", expected_size or declared) as bar:
                    for chunk in iter_body(response, what=label, limit=None):
                        received += len(chunk)
                        bar.advance(len(chunk))
                        if limit is not None and received > limit:
                            raise GitHubError(f"{label}: more than the {limit} bytes expected")
                        yield chunk
            except BodyBrokenError as exc:
                of = f" of {declared}" if declared is not None else ""
                got = response.num_bytes_downloaded
                raise TruncatedDownloadError(
                    f"{label}: download cut off after {got}{of} bytes ({exc.cause})",
                    hint="try again; if it persists the download host is failing",
                ) from None
            except GitHubError:
                raise
            except UpstreamError as exc:
                raise GitHubError(f"{exc.message} (after {received} bytes)",
                                  hint=exc.hint) from None
            if declared is not None and received != declared:
                raise TruncatedDownloadError(
                    f"{label}: received {received} bytes, Content-Length promised {declared}"
                )
            if expected_size is not None and received != expected_size:
                raise TruncatedDownloadError(
                    f"{label}: received {received} bytes, the GitHub API lists the asset "
                    f"as {expected_size} bytes"
                )

    def download_sha256(self, asset: ReleaseAsset) -> tuple[str, int]:
        """Stream an asset (never whole in memory) and return (sha256 hex, size)."""
        return sha256_stream(self.iter_download(asset.url, expected_size=asset.size,
                                                name=asset.name))

    def download_small(self, asset: ReleaseAsset, *, limit: int = 1 << 16) -> bytes:
        """The whole body of a small asset (a checksum sidecar), refusing more than ``limit``."""
        return b"".join(self.iter_download(asset.url, expected_size=asset.size, limit=limit))
