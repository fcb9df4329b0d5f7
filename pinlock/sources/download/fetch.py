"""Every HTTP request of the download source, through http.py's policy (retries, caps,
deadlines) and transport.py's redirects: followed to any host (a release or toolchain
download lives on a CDN, and every byte is checked against a sha256 anyway), never from https
down to http, at most five hops."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from pinlock import output
from pinlock.digest import sha256_stream
from pinlock.errors import InputError, upstream_as
from pinlock.http import (
    DEFAULT_RETRY,
    RetryPolicy,
    iter_body,
    parse_json,
    read_body,
    read_error_body,
    send_with_retries,
)
from pinlock.secrets import may_carry_secret, plain_http_host, scrub
from pinlock.sources.download.errors import DownloadError, DownloadNotFoundError
from pinlock.transport import Hop, RedirectPolicy, Refusal, follow_redirects

_REDIRECTS = RedirectPolicy(max_hops=5)


def _refused(r: Refusal) -> DownloadError:
    if r.reason == "too many":
        return DownloadError(f"GET {scrub(r.first)}: more than {r.max_hops} redirects")
    return DownloadError(f"GET {scrub(r.url)}: refused redirect to {scrub(r.target)} "
                         f"({r.reason})", hint="write the final URL into the input's templates")


class Fetcher:
    """GET over the caller's httpx client: small documents whole, big files hashed as streamed."""

    def __init__(self, http: httpx.Client, *, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.retry = retry
        self.sleep = sleep

    def _open(self, url: str) -> httpx.Response:
        if httpx.URL(url).password and not may_carry_secret(url):
            # httpx would send the URL's password as Basic auth, readable on the wire.
            raise InputError(f"{scrub(url)}: refusing to send the password in this URL over "
                             f"plain http to {plain_http_host(url)}")
        def send(hop: Hop) -> httpx.Response:
            return send_with_retries(self.http, self.http.build_request("GET", hop.url),
                                     stream=True, policy=self.retry, sleep=self.sleep,
                                     what=f"GET {scrub(hop.url)}")

        trail: list[str] = []
        with upstream_as(DownloadError):
            resp = follow_redirects(send, url, policy=_REDIRECTS, refuse=_refused, trail=trail)
        if resp.status_code == 200:
            return resp
        label = f"GET {scrub(trail[-1])}"
        read_error_body(resp, what=label)  # closes it
        if resp.status_code in (404, 410):
            raise DownloadNotFoundError(f"{label}: not found (HTTP {resp.status_code})")
        raise DownloadError(f"{label}: HTTP {resp.status_code}")

    def get(self, url: str, *, limit: int) -> tuple[bytes, httpx.Headers]:
        """The whole (decoded) body and the headers; refused past ``limit`` bytes."""
        resp = self._open(url)
        try:
            with upstream_as(DownloadError):
                return read_body(resp, what=f"GET {scrub(url)}", limit=limit), resp.headers
        finally:
            resp.close()

    def get_json(self, url: str, *, limit: int) -> tuple[Any, httpx.Headers]:
        data, headers = self.get(url, limit=limit)
        return parse_json(data, f"GET {scrub(url)}", error=DownloadError), headers

    def sha256(self, url: str, *, name: str) -> tuple[str, int]:
        """sha256 and size of what ``url`` serves, streamed (never whole in memory)."""
        resp = self._open(url)
        label = f"GET {scrub(url)}"
        length = resp.headers.get("content-length", "")
        declared = int(length) if length.isdigit() and not resp.headers.get(
            "content-encoding") else None

        def body() -> Iterator[bytes]:
            with output.task(f"download {name}", declared) as bar:
                for chunk in iter_body(resp, what=label, limit=None):
                    bar.advance(len(chunk))
                    yield chunk

        try:
            with upstream_as(DownloadError):
                digest, size = sha256_stream(body())
        finally:
            resp.close()
        if declared is not None and size != declared:
            # A transfer cut short must not pass as a complete (other) file.
            raise DownloadError(f"{label}: received {size} bytes, Content-Length promised "
                                f"{declared}")
        return digest, size
