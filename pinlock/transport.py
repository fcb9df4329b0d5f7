"""Redirects followed by hand and ``Link: rel="next"`` pages: one policy for every source."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


# ---------------------------------------------------------------- redirects


@dataclass(frozen=True)
class RedirectPolicy:
    """How far, and where, a source lets an upstream send it.

    Each hop is one request the caller sends (through send_with_retries, so its
    retries, size caps and deadline apply per hop); this decides only whether
    the next hop is taken and what it may carry.
    """

    max_hops: int = 5  # redirects followed; the answer after the last must not be one
    refuse_downgrade: bool = True  # https -> http would put the request in clear text
    # A mirror redirecting to another host could serve anything under the mirror's name:
    # compared verbatim (scheme and host[:port], a login in the URL included).
    same_origin_only: bool = False
    # Credentials go only to ``credentials_origin`` (see follow_redirects); False: only
    # with the first request, never with a redirected one, even to the same origin.
    credentials_on_redirect: bool = True


@dataclass(frozen=True)
class Hop:
    """One request to send: the caller adds headers, and credentials only when ``credentials``."""

    url: str
    method: str
    number: int  # 0: the request asked for; then one per redirect followed
    credentials: bool  # the URL is on the credentials' origin, and the policy allows them
    body: bool  # send the request body (dropped once a 301/302/303 turned it into a GET)


@dataclass(frozen=True)
class Refusal:
    """Why a redirect was not followed, for the source to word in its own error."""

    reason: Literal["too many", "downgrade", "other origin"]
    first: str  # the URL asked for
    url: str  # the URL whose answer was the redirect
    target: str  # where it pointed
    method: str  # of the request to ``target``
    max_hops: int


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in, as browsers compare."""
    u = httpx.URL(str(url))
    return (u.scheme, u.host, u.port or {"http": 80, "https": 443}.get(u.scheme))


def follow_redirects(
    send: Callable[[Hop], httpx.Response],
    url: str,
    *,
    method: str = "GET",
    policy: RedirectPolicy,
    refuse: Callable[[Refusal], Exception],
    credentials_origin: str | None = None,
    trail: list[str] | None = None,
) -> httpx.Response:
    """The first answer that is not a redirect (or a redirect without a Location).

    ``send`` sends one hop; every redirect answer is closed before the next hop.
    ``refuse`` turns a refused redirect into the source's own error. Credentials
    belong to the origin of ``credentials_origin`` (None: to no origin).
    ``trail`` receives each URL requested, in order.
    """
    home = origin(credentials_origin) if credentials_origin is not None else None
    body = True
    current = target = url
    for number in range(policy.max_hops + 1):
        current = target
        credentials = home is not None and origin(current) == home and (
            number == 0 or policy.credentials_on_redirect)
        if trail is not None:
            trail.append(current)
        response = send(Hop(current, method, number, credentials, body))
        if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
            return response
        target = urljoin(current, response.headers["location"])
        response.close()
        refusal = _refusal(policy, current, target)
        if refusal is not None:
            raise refuse(Refusal(refusal, url, current, target, method, policy.max_hops))
        if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
            # What browsers and curl do: the body is not sent again.
            method, body = "GET", False
    raise refuse(Refusal("too many", url, current, target, method, policy.max_hops))


def _refusal(policy: RedirectPolicy, url: str, target: str
             ) -> Literal["downgrade", "other origin"] | None:
    here, there = urlsplit(url), urlsplit(target)
    if policy.same_origin_only and (here.scheme, here.netloc) != (there.scheme, there.netloc):
        return "other origin"
    if policy.refuse_downgrade and here.scheme == "https" and there.scheme != "https":
        return "downgrade"
    return None


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class PageRefusal:
    """Why pagination stopped before its end, for the source to word in its own error."""

    reason: Literal["too many", "loop", "other host"]
    first: str  # the first page's URL
    url: str  # the page whose Link header is refused (for too many: the last page read)
    target: str  # the next page it names
    max_pages: int


_LINK_ENTRY = re.compile(r",\s*(?=<)")
_LINK_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*(?:"([^"]*)"|([^\s;,]*))')


def next_link(header: str | None) -> str | None:
    """The URL of the first ``rel="next"`` entry of a Link header (RFC 8288), as written."""
    for entry in _LINK_ENTRY.split(header or ""):
        target, sep, params = entry.strip().partition(">")
        if not sep or not target.startswith("<"):
            continue
        for m in _LINK_PARAM.finditer(params):
            value = m.group(2) if m.group(2) is not None else m.group(3)
            if m.group(1).lower() == "rel" and "next" in value.lower().split():
                return target[1:]
    return None


def paginate(
    fetch: Callable[[str], httpx.Response],
    url: str,
    *,
    max_pages: int,
    refuse: Callable[[PageRefusal], Exception],
    base: str | None = None,
    same_host: bool = False,
) -> Iterator[tuple[str, httpx.Response]]:
    """Each page as (URL, answer), following the answer's ``Link: <…>; rel="next"``.

    The next page is looked for once the caller is done with one. Relative links
    resolve against ``base`` (None: the page they came with). A link back to a
    page already read, to another host than ``url``'s (with ``same_host``: a
    registry's token would follow it), or past ``max_pages`` is refused.
    """
    seen: set[str] = set()
    current = target = url
    for _ in range(max_pages):
        current = target
        seen.add(current)
        response = fetch(current)
        yield current, response
        link = next_link(response.headers.get("link"))
        if link is None:
            return
        target = urljoin(base if base is not None else current, link)
        if same_host and urlsplit(target).netloc != urlsplit(url).netloc:
            raise refuse(PageRefusal("other host", url, current, target, max_pages))
        if target in seen:
            # A server repeating a page would be followed for ever.
            raise refuse(PageRefusal("loop", url, current, target, max_pages))
    raise refuse(PageRefusal("too many", url, current, target, max_pages))
