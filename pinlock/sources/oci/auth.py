"""Registry auth: WWW-Authenticate challenges, Basic credentials and Bearer tokens per scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from pinlock.http import MAX_TOKEN_BODY, parse_json
from pinlock.secrets import may_carry_secret, register, register_basic, token_problem
from pinlock.sources.oci.config import Endpoint
from pinlock.sources.oci.credentials import Credential, DockerCredentials
from pinlock.sources.oci.errors import RegistryAuthError, RegistryError


@dataclass
class Challenge:
    """A parsed ``WWW-Authenticate`` header."""

    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


@dataclass
class Token:
    """A Bearer token and the clock reading at which it is renewed."""

    value: str
    expires: float


_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``WWW-Authenticate: Bearer realm="…",service="…",scope="…"``."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _PARAM_RE.finditer(rest)}
    return Challenge(scheme.lower(), params)


class Exchange(Protocol):
    """The registry client's one request (its retries, caps and request log): auth sends
    its token requests through it."""

    def __call__(
        self, ep: Endpoint, method: str, url: str, *, what: str, log: str, limit: int,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response: ...


class RegistryAuth:
    """The Authorization header for each registry request: challenges are remembered per
    registry and tokens per (realm, service, scope, credential), so only the first request
    to a registry meets a 401."""

    def __init__(self, credentials: DockerCredentials, exchange: Exchange,
                 clock: Callable[[], float]) -> None:
        self.credentials = credentials
        self._exchange = exchange
        self._clock = clock
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str, str, str], Token] = {}

    def known(self, ep: Endpoint, scope: str) -> dict[str, str]:
        """Authorization for a registry whose challenge is already known: no extra 401."""
        challenge = self._challenges.get(ep.base_url)
        if challenge is None:
            return {}
        return self._authorize(ep, challenge, scope, what=f"{ep}", fresh=False)

    def answer(self, ep: Endpoint, header: str, scope: str, what: str) -> dict[str, str]:
        """Authorization answering a 401's ``WWW-Authenticate`` header, remembered for later."""
        challenge = parse_challenge(header)
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise RegistryAuthError(
                f"{what}: 401 Unauthorized with an unsupported challenge {header!r}"
            )
        self._challenges[ep.base_url] = challenge
        return self._authorize(ep, challenge, scope, what, fresh=True)

    def denied(self, ep: Endpoint, what: str, status: int) -> RegistryAuthError:
        """The error for a 401 (after answering the challenge) or a 403: what was tried."""
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

    def _authorize(
        self, ep: Endpoint, challenge: Challenge, scope: str, what: str, *, fresh: bool
    ) -> dict[str, str]:
        cred = self.credentials.lookup(ep.host)
        if challenge.scheme == "basic":
            if cred is None or cred.identity_token:
                raise RegistryAuthError(
                    f"{what}: the registry asks for Basic auth and no username/password "
                    f"was found for {ep.host} in {self.credentials.sources_for(ep.host)}",
                    hint=f"docker login {ep.host}",
                )
            _refuse_plain_http(ep.base_url, what)
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

    def _fetch_token(
        self, ep: Endpoint, realm: str, service: str, scope: str,
        cred: Credential | None, what: str,
    ) -> Token:
        if urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryAuthError(f"{what}: token realm {realm!r} is not an http(s) URL")
        params = {"scope": scope}
        if service:
            params["service"] = service
        if cred is not None:
            register(cred.secret)
            _refuse_plain_http(realm, what)
        label = f"token from {realm} for {scope}"
        if cred is not None and cred.identity_token:
            # OAuth2 refresh-token grant (docker's identitytoken).
            response = self._exchange(
                ep, "POST", realm, what=label, log=f"POST {realm} (token {scope})",
                limit=MAX_TOKEN_BODY,
                data={**params, "grant_type": "refresh_token", "refresh_token": cred.secret,
                      "client_id": "pinlock"},
            )
        else:
            headers: dict[str, str] = {}
            if cred is not None:
                headers["Authorization"] = register_basic(cred.username, cred.secret)
            response = self._exchange(
                ep, "GET", realm, what=label, log=f"GET {realm} (token {scope})",
                limit=MAX_TOKEN_BODY, params=params, headers=headers,
            )
        if response.status_code in (401, 403):
            who = f"credentials {cred}" if cred else "anonymous access"
            raise RegistryAuthError(
                f"{label}: {response.status_code} with {who}",
                hint=f"check the credentials for {ep.host} "
                f"({self.credentials.sources_for(ep.host)})",
            )
        if response.status_code != 200:
            raise RegistryError(f"{label}: HTTP {response.status_code}, expected 200")
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
        return Token(value, self._clock() + max(lifetime - 5.0, 1.0))


def _refuse_plain_http(url: str, what: str) -> None:
    if not may_carry_secret(url):
        # Credentials over plain HTTP to a non-loopback host would be readable on the wire.
        raise RegistryAuthError(
            f"{what}: refusing to send credentials over plain HTTP to {urlsplit(url).netloc}"
        )
