"""Registry credentials the way docker stores them: config.json auths, credHelpers, credsStore."""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pinlock import output
from pinlock.deadlines import subprocess_timeout
from pinlock.errors import InputError

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
                   "registry-1.docker.io")
HELPER_TIMEOUT = 30.0

# (helper name, server URL, environ) -> (username, secret), or None when it has none.
HelperRunner = Callable[[str, str, Mapping[str, str]], "tuple[str, str] | None"]


class CredentialError(InputError):
    """A docker config file or credential helper is broken (never carries a secret)."""


@dataclass(frozen=True)
class Credential:
    """A username and secret, with where they came from; the secret never appears in repr."""

    username: str
    secret: str = field(repr=False)
    source: str  # "config.json auths[\"ghcr.io\"]", "docker-credential-pass (credHelpers)"
    identity_token: bool = False

    def __str__(self) -> str:
        return f"{self.username} from {self.source}"


def _host_key(key: str) -> str:
    """``https://ghcr.io/v1/`` -> ``ghcr.io``; keys in auths may carry a scheme and path."""
    if "://" in key:
        return urlsplit(key).netloc
    return key.split("/", 1)[0]


def _lookup_keys(host: str) -> tuple[str, ...]:
    if host in ("registry-1.docker.io", "index.docker.io", "docker.io"):
        return DOCKER_HUB_KEYS
    return (host,)


class DockerCredentials:
    """Reads ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``) lazily.

    Credentials are looked up by the host a request actually goes to (a mirror's
    host, not the canonical registry), so a secret for one host is never sent to another.
    """

    def __init__(
        self,
        config_dir: Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        run_helper: HelperRunner | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if config_dir is None:
            config_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else (
                Path(env.get("HOME", str(Path.home()))) / ".docker"
            )
        self.path = config_dir / "config.json"
        self._run_helper = run_helper or run_credential_helper
        self._env = dict(env)
        self._data: dict[str, object] | None = None
        self._cache: dict[str, Credential | None] = {}

    def _config(self) -> dict[str, object]:
        if self._data is None:
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                self._data = {}
                return self._data
            except OSError as exc:
                raise CredentialError(f"{self.path}: cannot read: {exc.strerror}") from exc
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CredentialError(
                    f"{self.path}: not valid JSON (line {exc.lineno})",
                    hint="fix or remove the docker config file",
                ) from exc
            except RecursionError:
                raise CredentialError(f"{self.path}: JSON nested too deep",
                                      hint="fix or remove the docker config file") from None
            if not isinstance(data, dict):
                raise CredentialError(f"{self.path}: expected a JSON object")
            self._data = data
        return self._data

    def sources_for(self, host: str) -> str:
        """Where credentials for ``host`` would be looked up, for error messages."""
        cfg = self._config()
        helpers = cfg.get("credHelpers")
        if isinstance(helpers, dict):
            for key in _lookup_keys(host):
                if key in helpers:
                    return f"docker-credential-{helpers[key]} (credHelpers in {self.path})"
        where = [f"auths in {self.path}"]
        if isinstance(cfg.get("credsStore"), str):
            where.insert(0, f"docker-credential-{cfg['credsStore']} (credsStore in {self.path})")
        return " and ".join(where)

    def lookup(self, host: str) -> Credential | None:
        """Credentials for ``host`` (``ghcr.io``, ``127.0.0.1:5000``), or None for anonymous."""
        if host not in self._cache:
            self._cache[host] = self._lookup(host)
        return self._cache[host]

    def _lookup(self, host: str) -> Credential | None:
        cfg = self._config()
        keys = _lookup_keys(host)
        helpers = cfg.get("credHelpers")
        if isinstance(helpers, dict):
            for key in keys:
                name = helpers.get(key)
                if isinstance(name, str) and name:
                    # A per-registry helper is authoritative for that registry.
                    return self._from_helper(name, key, "credHelpers")
        store = cfg.get("credsStore")
        if isinstance(store, str) and store:
            for key in keys:
                cred = self._from_helper(store, key, "credsStore")
                if cred is not None:
                    return cred
        auths = cfg.get("auths")
        if isinstance(auths, dict):
            by_host: dict[str, tuple[str, object]] = {}
            for raw_key, entry in auths.items():
                by_host.setdefault(_host_key(str(raw_key)), (str(raw_key), entry))
            for key in keys:
                hit = auths.get(key)
                raw_key = key
                if hit is None and _host_key(key) in by_host:
                    raw_key, hit = by_host[_host_key(key)]
                if isinstance(hit, dict):
                    cred = self._from_auth_entry(raw_key, hit)
                    if cred is not None:
                        return cred
        return None

    def _from_auth_entry(self, key: str, entry: Mapping[str, object]) -> Credential | None:
        source = f"auths[{key!r}] in {self.path}"
        token = entry.get("identitytoken")
        auth = entry.get("auth")
        if isinstance(auth, str) and auth:
            try:
                decoded = base64.b64decode(auth, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise CredentialError(f"{source}: 'auth' is not base64 of user:password") from exc
            user, sep, secret = decoded.partition(":")
            if not sep:
                raise CredentialError(f"{source}: 'auth' does not decode to user:password")
            if isinstance(token, str) and token:
                return Credential(user, token, source, identity_token=True)
            return Credential(user, secret, source)
        user_v, pw_v = entry.get("username"), entry.get("password")
        if isinstance(user_v, str) and isinstance(pw_v, str) and user_v:
            return Credential(user_v, pw_v, source)
        if isinstance(token, str) and token:
            return Credential("<token>", token, source, identity_token=True)
        return None

    def _from_helper(self, name: str, key: str, kind: str) -> Credential | None:
        source = f"docker-credential-{name} ({kind} in {self.path})"
        result = self._run_helper(name, key, self._env)
        if result is None:
            return None
        user, secret = result
        if user == "<token>":
            # The helper protocol's marker for an identity (refresh) token.
            return Credential(user, secret, source, identity_token=True)
        return Credential(user, secret, source)


def run_credential_helper(
    name: str, server: str, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    """``docker-credential-<name> get`` with the server on stdin; None when it has none."""
    program = f"docker-credential-{name}"
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=subprocess_timeout(f"credential helper {program}", HELPER_TIMEOUT),
            env=dict(environ),
            check=False,
        )
    except FileNotFoundError as exc:
        raise CredentialError(
            f"credential helper {program} is configured but not found on PATH",
            hint="install it or remove it from credHelpers/credsStore in the docker config",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CredentialError(f"credential helper {program} did not answer within "
                              f"{HELPER_TIMEOUT:.0f}s") from exc
    # stdout may hold the secret: it is parsed, never echoed into messages (nor logged).
    output.ran([program, "get"], started, proc.returncode)
    if proc.returncode != 0:
        if b"credentials not found" in proc.stdout.lower() + proc.stderr.lower():
            return None
        raise CredentialError(
            f"credential helper {program} failed for {server} (exit {proc.returncode})"
        )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise CredentialError(f"credential helper {program} returned no JSON for {server}") from exc
    except RecursionError:
        raise CredentialError(f"credential helper {program} returned JSON nested too deep "
                              f"for {server}") from None
    if not isinstance(data, dict):
        raise CredentialError(f"credential helper {program} returned no JSON object for {server}")
    user, secret = data.get("Username"), data.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str):
        raise CredentialError(
            f"credential helper {program} answer for {server} lacks Username/Secret"
        )
    return user, secret
