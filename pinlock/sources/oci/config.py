"""Where registries are reached: registries.conf v2, PINLOCK_REGISTRY_MIRRORS, --registry-mirror."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pinlock.errors import InputError
from pinlock.imageref import DOCKER_HUB, DOCKER_HUB_API
from pinlock.secrets import is_loopback

MIRRORS_ENV = "PINLOCK_REGISTRY_MIRRORS"
REGISTRIES_CONF_ENV = "CONTAINERS_REGISTRIES_CONF"


class RegistryConfigError(InputError):
    """A registries.conf file or a mirror value cannot be used."""


@dataclass(frozen=True)
class Endpoint:
    """One place a repository's bytes can be fetched from.

    ``base_url`` is ``scheme://host[:port]``; ``path`` is the repository path at
    that host (a mirror location may add a namespace: ``mirror.example/hub`` +
    ``library/debian``). ``verify`` is False only for registries marked insecure.
    """

    base_url: str
    path: str
    verify: bool = True
    mirror: bool = False

    @property
    def host(self) -> str:
        """``host[:port]`` of the endpoint: the key credentials are looked up by."""
        return urlsplit(self.base_url).netloc

    def __str__(self) -> str:
        return f"{self.base_url}/v2/{self.path}"


@dataclass(frozen=True)
class _Location:
    """Where a prefix is served: host[:port][/namespace], with an explicit scheme or not."""

    location: str  # host[:port][/namespace], no scheme
    scheme: str | None = None  # "http"/"https" when given explicitly (mirror URLs)
    insecure: bool = False
    digest_only: bool = False


@dataclass(frozen=True)
class _Rule:
    prefix: str
    location: _Location | None  # None: keep the prefix's own host
    mirrors: tuple[_Location, ...] = ()
    blocked: bool = False
    replace: bool = False  # PINLOCK mirrors replace the registry: no fallback to the original


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip().rstrip("/")
    first, sep, rest = prefix.partition("/")
    if first in ("index.docker.io", "registry-1.docker.io"):
        first = DOCKER_HUB
    return f"{first}{sep}{rest}"


def _prefix_matches(prefix: str, canonical: str) -> bool:
    if prefix.startswith("*."):
        # registries.conf wildcard: "*.example.com" matches any subdomain host.
        host = canonical.partition("/")[0]
        return host.endswith(prefix[1:])
    return canonical == prefix or canonical.startswith(prefix + "/")


def parse_mirror_value(value: str, *, what: str) -> tuple[str, str]:
    """``ghcr.io=https://127.0.0.1:5443`` -> (prefix, url); raises RegistryConfigError."""
    prefix, sep, url = value.strip().partition("=")
    if not sep or not prefix.strip() or not url.strip():
        raise RegistryConfigError(
            f"{what}: {value!r} is not a mirror mapping",
            hint="write PREFIX=URL, e.g. docker.io=http://127.0.0.1:5000",
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryConfigError(
            f"{what}: {url.strip()!r} for {prefix.strip()!r} is not an http(s) URL",
            hint="give the scheme explicitly: https://host[:port] (http:// only for loopback)",
        )
    if parts.scheme == "http" and not is_loopback(parts.netloc):
        # Plain HTTP lets anyone on the path swap manifests; only loopback is exempt here.
        raise RegistryConfigError(
            f"{what}: plain HTTP mirror {url.strip()!r} is not on loopback",
            hint="use https, or mark the registry insecure in registries.conf",
        )
    return _normalise_prefix(prefix), url.strip().rstrip("/")


def _location_from_url(url: str) -> _Location:
    parts = urlsplit(url)
    return _Location(parts.netloc + parts.path.rstrip("/"), scheme=parts.scheme)


@dataclass(frozen=True)
class RegistryConfig:
    """The rules mapping a canonical repository (``docker.io/library/debian``) to endpoints.

    The lock and the Dockerfile keep the canonical reference; only where bytes
    come from changes. Precedence: --registry-mirror, then PINLOCK_REGISTRY_MIRRORS,
    then registries.conf, then the registry itself (Docker Hub -> registry-1.docker.io).
    """

    rules: tuple[_Rule, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        cli_mirrors: Sequence[str] = (),
    ) -> RegistryConfig:
        """Build from the environment and repeatable ``--registry-mirror PREFIX=URL`` values."""
        env = os.environ if environ is None else environ
        rules: list[_Rule] = []
        for value in cli_mirrors:
            rules.append(_mirror_rule(value, what="--registry-mirror"))
        for value in _split_list(env.get(MIRRORS_ENV, "")):
            rules.append(_mirror_rule(value, what=MIRRORS_ENV))
        conf = env.get(REGISTRIES_CONF_ENV)
        if conf:
            rules.extend(load_registries_conf(Path(conf)))
        return cls(tuple(rules))

    def endpoints(self, canonical: str, *, by_digest: bool = False) -> list[Endpoint]:
        """Endpoints to try, in order, for ``canonical`` (``registry/path``)."""
        canonical = _normalise_prefix(canonical)
        best: _Rule | None = None
        for rule in self.rules:
            # Earlier rules (CLI, env) win over later ones of the same length.
            if _prefix_matches(rule.prefix, canonical) and (
                best is None or len(rule.prefix) > len(best.prefix)
            ):
                best = rule
        registry, _, path = canonical.partition("/")
        if best is None:
            return [_default_endpoint(registry, path)]
        if best.blocked:
            raise RegistryConfigError(
                f"{canonical}: registry prefix {best.prefix!r} is blocked in registries.conf"
            )
        rest = "" if best.prefix.startswith("*.") else canonical[len(best.prefix) :]
        result: list[Endpoint] = []
        for mirror in best.mirrors:
            if mirror.digest_only and not by_digest:
                continue  # mirror-by-digest-only: a mirror may not answer what a tag means
            result.extend(_endpoints_for(mirror, rest, mirror_flag=True))
        if best.replace:
            return result
        if best.location is None:
            result.append(_default_endpoint(registry, path))
        else:
            result.extend(_endpoints_for(best.location, rest, mirror_flag=False))
        return result


def _split_list(text: str) -> list[str]:
    return [part for part in (p.strip() for p in text.replace("\n", ",").split(",")) if part]


def _mirror_rule(value: str, *, what: str) -> _Rule:
    prefix, url = parse_mirror_value(value, what=what)
    return _Rule(prefix, None, mirrors=(_location_from_url(url),), replace=True)


def _default_endpoint(registry: str, path: str) -> Endpoint:
    host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
    # Registries on loopback are reached over plain HTTP (what docker and podman do for
    # localhost); everything else needs TLS or an explicit insecure marking.
    scheme = "http" if is_loopback(host) else "https"
    return Endpoint(f"{scheme}://{host}", path)


def _endpoints_for(loc: _Location, rest: str, *, mirror_flag: bool) -> list[Endpoint]:
    host, _, namespace = loc.location.partition("/")
    if host in ("docker.io", "index.docker.io"):
        host = DOCKER_HUB_API
    path = "/".join(p for p in (namespace, rest.lstrip("/")) if p)
    if loc.scheme is not None:
        return [Endpoint(f"{loc.scheme}://{host}", path, verify=True, mirror=mirror_flag)]
    if is_loopback(host):
        return [Endpoint(f"http://{host}", path, mirror=mirror_flag)]
    if loc.insecure:
        # As containers/image does for insecure registries: TLS without verification
        # first, then plain HTTP.
        return [
            Endpoint(f"https://{host}", path, verify=False, mirror=mirror_flag),
            Endpoint(f"http://{host}", path, verify=False, mirror=mirror_flag),
        ]
    return [Endpoint(f"https://{host}", path, mirror=mirror_flag)]


def load_registries_conf(path: Path) -> list[_Rule]:
    """Parse the ``[[registry]]`` tables of a containers-registries.conf(5) v2 file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryConfigError(f"{path}: cannot read registries.conf: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise RegistryConfigError(f"{path}: TOML nested too deep") from None
    entries = data.get("registry", [])
    if not isinstance(entries, list):
        raise RegistryConfigError(f"{path}: 'registry' must be an array of tables ([[registry]])")
    return [_rule_from_table(path, i, entry) for i, entry in enumerate(entries)]


def _str(path: Path, where: str, table: Mapping[str, object], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RegistryConfigError(f"{path}: {where}.{key} must be a string, got {value!r}")
    return value


def _bool(path: Path, where: str, table: Mapping[str, object], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise RegistryConfigError(f"{path}: {where}.{key} must be true or false, got {value!r}")
    return value


def _rule_from_table(path: Path, index: int, entry: object) -> _Rule:
    where = f"registry[{index}]"
    if not isinstance(entry, dict):
        raise RegistryConfigError(f"{path}: {where} must be a table")
    location = _str(path, where, entry, "location")
    prefix = _str(path, where, entry, "prefix") or location
    if not prefix:
        raise RegistryConfigError(f"{path}: {where} has neither prefix nor location")
    insecure = _bool(path, where, entry, "insecure")
    digest_only = _bool(path, where, entry, "mirror-by-digest-only")
    mirrors: list[_Location] = []
    raw_mirrors = entry.get("mirror", [])
    if not isinstance(raw_mirrors, list):
        raise RegistryConfigError(f"{path}: {where}.mirror must be an array of tables")
    for j, m in enumerate(raw_mirrors):
        mwhere = f"{where}.mirror[{j}]"
        if not isinstance(m, dict):
            raise RegistryConfigError(f"{path}: {mwhere} must be a table")
        mloc = _str(path, mwhere, m, "location")
        if not mloc:
            raise RegistryConfigError(f"{path}: {mwhere} has no location")
        pull_from = _str(path, mwhere, m, "pull-from-mirror") or "all"
        mirrors.append(
            _Location(
                mloc.rstrip("/"),
                insecure=_bool(path, mwhere, m, "insecure"),
                digest_only=digest_only or pull_from == "digest-only",
            )
        )
    return _Rule(
        _normalise_prefix(prefix),
        _Location(location.rstrip("/"), insecure=insecure) if location else None,
        mirrors=tuple(mirrors),
        blocked=_bool(path, where, entry, "blocked"),
    )


def describe(endpoints: Iterable[Endpoint]) -> str:
    """Human list of endpoints for messages."""
    return ", ".join(str(e) for e in endpoints)
