"""The one HTTP policy every source shares: timeouts, CA bundle, bounded retries with backoff."""

from __future__ import annotations

import email.utils
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pinlock import __version__
from pinlock.errors import UpstreamError

USER_AGENT = f"pinlock/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded in count and in time: an upstream that keeps failing is reported, not waited on."""

    attempts: int = 4
    backoff: float = 0.5  # first wait; doubles each time
    max_wait: float = 30.0  # longest single wait, Retry-After included
    max_total: float = 60.0  # all waits of one request together


DEFAULT_RETRY = RetryPolicy()


def make_client(
    *, timeout: float = 30.0, headers: dict[str, str] | None = None, verify: bool = True
) -> httpx.Client:
    """An httpx client with a timeout on every request and ``SSL_CERT_FILE`` honoured."""
    ca: ssl.SSLContext | bool = verify
    if verify and os.environ.get("SSL_CERT_FILE"):
        ca = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        verify=ca,
        follow_redirects=False,
    )


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def send_with_retries(
    client: httpx.Client,
    request: httpx.Request,
    *,
    stream: bool = False,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    what: str | None = None,
    retry_statuses: frozenset[int] = RETRY_STATUSES,
) -> httpx.Response:
    """Send ``request``, retrying transport errors, 429 and 5xx with backoff.

    Returns the last response (any status) once it is not retryable; raises
    UpstreamError when every attempt failed at the transport level or the wait
    budget ran out. Redirects are not followed here: callers decide, because a
    redirect to another host must not carry credentials.
    """
    label = what or f"{request.method} {request.url}"
    waited = 0.0
    delay = policy.backoff
    last_error: str = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            response = client.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            last_error = f"timed out ({type(exc).__name__})"
            response = None
        except httpx.TransportError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            response = None
        if response is not None:
            if response.status_code not in retry_statuses:
                return response
            last_error = f"HTTP {response.status_code}"
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if stream:
                response.close()
            if attempt == policy.attempts:
                if not stream:
                    return response
                break
        else:
            wait = None
            if attempt == policy.attempts:
                break
        pause = min(policy.max_wait, wait if wait is not None else delay)
        if waited + pause > policy.max_total:
            break
        sleep(pause)
        waited += pause
        delay *= 2
    raise UpstreamError(
        f"{label}: {last_error} after {attempt} attempt(s)",
        hint="the upstream may be down or rate-limiting; try again later",
    )
