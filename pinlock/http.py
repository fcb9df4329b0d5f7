"""The one HTTP policy every source shares: deadlines, size-capped bodies, bounded retries."""

from __future__ import annotations

import email.utils
import json
import os
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from pinlock import __version__, output
from pinlock.deadlines import (
    REQUEST_AT,
    DeadlineError,
    Expired,
    remaining,
    request_deadline,
    socket_timeout,
)
from pinlock.errors import UpstreamError
from pinlock.limits import nesting_exceeds
from pinlock.secrets import scrub

USER_AGENT = f"pinlock/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Only what iter_body decodes with a bounded output: brotli and zstd could expand one
# small chunk into gigabytes before a cap is looked at.
ACCEPT_ENCODING = "gzip, deflate"

# Caps on decoded bodies, per kind of document. About 1 MB of gzip on the wire can
# expand to a GiB: the cap counts what comes out of the decoder, not what came in.
KiB = 1024
MiB = 1024 * KiB
MAX_ERROR_BODY = 64 * KiB  # an error answer: only a message is read from it
MAX_TOKEN_BODY = 64 * KiB  # a registry token answer
MAX_TAG_LIST = 8 * MiB  # one page of a registry tag list
MAX_API_PAGE = 16 * MiB  # one GitHub API answer (100 releases with their notes)
MAX_INRELEASE = 16 * MiB  # Debian's InRelease is ~200 KiB
MAX_DOCUMENT = 16 * MiB  # anything else read whole
MAX_JSON_DEPTH = 64
# Parsed JSON costs Python objects, not bytes: 16 MiB of "{}," is 445 MB of dicts. A page
# of 100 releases with all their assets holds a few hundred thousand values.
MAX_JSON_VALUES = 1_000_000

_PIECE = 64 * KiB
MIN_RATE = 32 * KiB  # bytes per second a body must average once the request deadline passed


class ResponseTooLargeError(UpstreamError):
    """An answer bigger (once decoded) than any genuine document of its kind."""


class BodyBrokenError(UpstreamError):
    """The connection broke off in the middle of an answer's body."""

    cause = ""  # the transport error's name: RemoteProtocolError, ReadError, …


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded in count and in time: an upstream that keeps failing is reported, not waited on."""

    attempts: int = 4
    backoff: float = 0.5  # first wait; doubles each time
    max_wait: float = 30.0  # longest single wait, Retry-After included
    max_total: float = 60.0  # all waits of one request together


DEFAULT_RETRY = RetryPolicy()


# ---------------------------------------------------------------- deadlines
# httpx's timeouts are per read: a server sending one byte a second never trips them.
# Every socket operation of a client made here checks the earliest of the command's
# deadline and the current request's deadline instead (pinlock.deadlines).


class _DeadlineStream:
    """An httpcore network stream whose every read and write honours the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _call(self, fn: Callable[..., Any], timeout: float | None, *args: Any) -> Any:
        import httpcore

        bounded = socket_timeout(timeout)
        try:
            return fn(*args, timeout=bounded)
        except httpcore.TimeoutException:
            socket_timeout(None)  # raises Expired when it was our deadline
            raise

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._call(self._inner.read, timeout, max_bytes)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._call(self._inner.write, timeout, buffer)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> _DeadlineStream:
        return _DeadlineStream(self._call(self._inner.start_tls, timeout, ssl_context,
                                          server_hostname))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's network backend, its streams wrapped in _DeadlineStream."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> Any:
        stream = self._inner.connect_tcp(host, port, timeout=socket_timeout(timeout),
                                         local_address=local_address,
                                         socket_options=socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> Any:
        return _DeadlineStream(self._inner.connect_unix_socket(
            path, timeout=socket_timeout(timeout), socket_options=socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _guard_transport(transport: object) -> None:
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None and not isinstance(backend, _DeadlineBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]


def make_client(
    *, timeout: float = 30.0, headers: dict[str, str] | None = None, verify: bool = True
) -> httpx.Client:
    """An httpx client with a timeout on every read, the deadlines on every socket operation
    and ``SSL_CERT_FILE`` honoured."""
    ca: ssl.SSLContext | bool = verify
    if verify and os.environ.get("SSL_CERT_FILE"):
        ca = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    client = httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING,
                 **(headers or {})},
        verify=ca,
        follow_redirects=False,
        transport=httpx.HTTPTransport(verify=ca),
    )
    _guard_transport(client._transport)
    for mounted in client._mounts.values():
        _guard_transport(mounted)
    return client


# ---------------------------------------------------------------- bodies


class _Inflate:
    """gzip/deflate with a bounded output per step (zlib's max_length): a bomb never
    expands further than one piece before the cap is counted."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._d: Any = None
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else None
        self._ended = False  # one stream (gzip member) ended
        self._done = False  # what follows is ignored

    def _new(self, first: bytes) -> Any:
        wbits = self._wbits
        if wbits is None:
            # "deflate" is zlib-wrapped by the RFC, raw deflate by some servers.
            zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (
                (first[0] << 8) | first[1]) % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._done:
            if self._d is None:
                if self._ended and not (self._wbits is not None
                                        and data[:2] == b"\x1f\x8b"[:len(data[:2])]):
                    # After the end: another gzip member is decoded, anything else
                    # (padding) ignored, as httpx does.
                    self._done = True
                    return
                self._d = self._new(data)
            out = self._d.decompress(data, _PIECE)
            if out:
                yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                data = self._d.unused_data
                self._d = None
                self._ended = True
            elif not data:
                while True:  # output zlib holds back although the input is used up
                    out = self._d.decompress(b"", _PIECE)
                    if not out:
                        break
                    yield out

    def finish(self) -> None:
        # An empty body (HEAD, 204) is no stream at all, not a truncated one.
        if self._d is not None and not self._d.eof:
            raise zlib.error("compressed body ends before its end marker")


def _decoders(header: str | None, what: str) -> list[_Inflate]:
    names = [n.strip().lower() for n in (header or "").split(",") if n.strip()]
    out = []
    for name in names:
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise UpstreamError(f"{what}: answer has Content-Encoding {name!r}, which pinlock "
                                f"did not ask for (it accepts {ACCEPT_ENCODING})")
        out.append(_Inflate(name))
    return out[::-1]  # applied in the reverse order of the header


def _stepped(it: Iterator[bytes], deadline: float | None) -> Iterator[bytes]:
    """Each step of ``it`` (a read from the socket) under the request's deadline, which
    every byte received pushes back by 1/MIN_RATE s: a big index or asset arriving at a
    steady pace is not cut off, a trickle of a few bytes a second gains nothing."""
    received = 0
    while True:
        at = None if deadline is None else deadline + received / MIN_RATE
        token = REQUEST_AT.set(at)
        try:
            chunk = next(it, None)
        finally:
            REQUEST_AT.reset(token)
        if chunk is None:
            return
        received += len(chunk)
        yield chunk


def iter_body(response: httpx.Response, *, what: str, limit: int | None) -> Iterator[bytes]:
    """The decoded body in pieces of at most 64 KiB, stopping one byte past ``limit``.

    Reads the raw bytes and decodes them here, never through httpx's decoders
    (they expand a whole chunk at once); the request's and the command's
    deadlines are checked on every read, so a server trickling bytes is cut off.
    """
    deadline = response.request.extensions.get("pinlock.deadline") if _has_request(
        response) else None
    total = 0
    try:
        decoders = _decoders(response.headers.get("content-encoding"), what)
        if response.is_stream_consumed or hasattr(response, "_content"):
            pieces: Iterable[bytes] = [response.content]  # already in memory (and decoded)
            decoders = []
        else:
            pieces = _stepped(response.iter_raw(_PIECE), deadline)
        for raw in pieces:
            remaining(what)
            stream: Iterable[bytes] = [raw]
            for dec in decoders:
                stream = _chain(dec, stream)
            for piece in stream:
                total += len(piece)
                if limit is not None and total > limit:
                    raise ResponseTooLargeError(
                        f"{what}: answer larger than {limit} bytes (decoded), refused",
                        hint="the upstream sends far more than a genuine answer holds")
                yield piece
        for dec in decoders:
            dec.finish()
    except Expired as exc:
        raise DeadlineError(f"{what}: {exc.message}", hint=exc.hint) from None
    except zlib.error as exc:
        raise UpstreamError(f"{what}: answer's encoding is broken ({exc})") from None
    except httpx.TimeoutException as exc:
        raise UpstreamError(f"{what}: timed out reading the answer ({type(exc).__name__})"
                            ) from None
    except httpx.StreamError as exc:
        raise UpstreamError(f"{what}: the answer could not be read ({type(exc).__name__})"
                            ) from None
    except httpx.TransportError as exc:
        broken = BodyBrokenError(f"{what}: the answer broke off after {total} bytes "
                                 f"({type(exc).__name__})")
        broken.cause = type(exc).__name__
        raise broken from None


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without one
    except RuntimeError:
        return False
    return True


def _chain(dec: _Inflate, stream: Iterable[bytes]) -> Iterator[bytes]:
    for data in stream:
        yield from dec.feed(data)


def read_body(response: httpx.Response, *, what: str, limit: int) -> bytes:
    """The whole decoded body, refused once it is larger than ``limit`` bytes."""
    return b"".join(iter_body(response, what=what, limit=limit))


def read_error_body(response: httpx.Response, *, what: str) -> bytes:
    """The first MAX_ERROR_BODY bytes of an error answer (only a message is read from it);
    the rest is never read, and the status stays what is reported."""
    data = bytearray()
    try:
        for piece in iter_body(response, what=what, limit=None):
            data += piece
            if len(data) >= MAX_ERROR_BODY:
                break
    except UpstreamError:
        pass  # a broken error body is still an error answer: its status says enough
    finally:
        response.close()
    return bytes(data[:MAX_ERROR_BODY])


def parse_json(raw: bytes | str, what: str, *,
               error: type[UpstreamError] = UpstreamError,
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON from an upstream: an error (never a RecursionError) when nested deeper than
    ``max_depth`` (a genuine answer nests a handful of levels) or holding more values
    than MAX_JSON_VALUES (counted before parsing, separators in strings included)."""
    counted = raw.encode() if isinstance(raw, str) else raw
    values = counted.count(b",") + counted.count(b"[") + counted.count(b"{")
    if values > MAX_JSON_VALUES:
        raise error(f"{what}: answer holds more than {MAX_JSON_VALUES} JSON values, refused")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise error(f"{what}: answer is JSON nested deeper than {max_depth} levels, refused"
                    ) from None
    except (ValueError, UnicodeDecodeError):
        raise error(f"{what}: answer is not JSON") from None
    if nesting_exceeds(data, max_depth):
        raise error(f"{what}: answer is JSON nested deeper than {max_depth} levels, refused")
    return data


# ---------------------------------------------------------------- retries


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


def buffered(response: httpx.Response, request: httpx.Request, body: bytes) -> httpx.Response:
    """A response holding ``body`` (already decoded): its encoding headers dropped."""
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(response.status_code, headers=headers, content=body,
                          request=request, extensions={"http_version": b"HTTP/1.1"})


def send_with_retries(
    client: httpx.Client,
    request: httpx.Request,
    *,
    stream: bool = False,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    what: str | None = None,
    retry_statuses: frozenset[int] = RETRY_STATUSES,
    limit: int = MAX_DOCUMENT,
) -> httpx.Response:
    """Send ``request``, retrying transport errors, 429 and 5xx with backoff.

    Returns the last response (any status) once it is not retryable; raises
    UpstreamError when every attempt failed at the transport level or the wait
    budget ran out. Redirects are not followed here: pinlock.transport's
    follow_redirects calls this once per hop, deciding what each hop may carry.

    Without ``stream`` the body is read here, decoded and capped at ``limit``
    bytes, under the request's deadline; with ``stream`` the caller reads it
    with iter_body/read_body, under the same deadline. Retries and their waits
    stay within the deadlines.
    """
    label = scrub(what or f"{request.method} {request.url}")
    started = time.monotonic()
    # -v: every request pinlock sends is logged here, and only here (output.safe_url
    # drops user info and credential-like query values; scrub() the registered tokens).
    try:
        with request_deadline(label):
            request.extensions["pinlock.deadline"] = REQUEST_AT.get()
            response = _send_with_retries(client, request, stream=stream, policy=policy,
                                          sleep=sleep, label=label,
                                          retry_statuses=retry_statuses)
    except UpstreamError:
        output.http(request.method, str(request.url), "failed", 0, started)
        raise
    if stream:
        length = response.headers.get("content-length", "")
        output.http(request.method, str(request.url), response.status_code,
                    int(length) if length.isdigit() else None, started)
        return response
    if response.status_code >= 400:
        body = read_error_body(response, what=label)
        output.http(request.method, str(request.url), response.status_code, len(body), started)
        return buffered(response, request, body)
    try:
        # Under the deadline recorded on the request (see _stepped), as a caller's would be.
        body = read_body(response, what=label, limit=limit)
    finally:
        response.close()
    output.http(request.method, str(request.url), response.status_code, len(body), started)
    return buffered(response, request, body)


def _send_with_retries(
    client: httpx.Client, request: httpx.Request, *, stream: bool, policy: RetryPolicy,
    sleep: Callable[[float], None], label: str, retry_statuses: frozenset[int],
) -> httpx.Response:
    waited = 0.0
    delay = policy.backoff
    last_error: str = ""
    for attempt in range(1, policy.attempts + 1):
        remaining(label)
        try:
            # Always streamed: a body is only ever read through iter_body's caps.
            response = client.send(request, stream=True)
        except Expired:
            raise
        except httpx.TimeoutException as exc:
            last_error = f"timed out ({type(exc).__name__})"
            response = None
        except httpx.LocalProtocolError as exc:
            # A header pinlock cannot send (a bad token): retrying cannot help.
            raise UpstreamError(f"{label}: the request could not be sent "
                                f"({type(exc).__name__}: {scrub(str(exc))})") from None
        except httpx.TransportError as exc:
            last_error = f"{type(exc).__name__}: {scrub(str(exc))}"
            response = None
        if response is not None:
            if response.status_code not in retry_statuses:
                return response
            last_error = f"HTTP {response.status_code}"
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == policy.attempts:
                if not stream:
                    return response
                response.close()
                break
            response.close()
        else:
            wait = None
            if attempt == policy.attempts:
                break
        pause = min(policy.max_wait, wait if wait is not None else delay)
        left = remaining(label)
        if waited + pause > policy.max_total or (left is not None and pause >= left):
            break
        sleep(pause)
        waited += pause
        delay *= 2
    raise UpstreamError(
        f"{label}: {last_error} after {attempt} attempt(s)",
        hint="the upstream may be down or rate-limiting; try again later",
    )
