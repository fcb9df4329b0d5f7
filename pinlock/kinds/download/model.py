"""A download input: a URL template, its version ARG or ENV (none for a fixed download), and the
sha256s that check it (held in ARGs/ENVs, or written literally where the file is checked)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pinlock.kinds.download.expansion import fill_version
from pinlock.model import platform_arch

# Where new versions come from, and where the expected sha256 comes from.
VERSION_SOURCES = ("github-tags", "github-releases", "gitlab-tags", "json-index", "directory")
CHECKSUM_SOURCES = ("sidecar", "sums-file", "json-index", "bytes")
GITLAB_URL = "https://gitlab.com"


@dataclass(frozen=True)
class VersionsFrom:
    """``versions = { from = …, … }``: the list a newer version is picked from."""

    source: str  # one of VERSION_SOURCES (the key `from`)
    repository: str | None = None  # GitHub "owner/name"; GitLab project path or id
    url: str | None = None  # json-index: the index; directory: the listing; gitlab: the host
    template: str = "v{version}"  # how upstream spells a version: a tag, an index `version`


@dataclass(frozen=True)
class ChecksumsFrom:
    """``checksums = { from = …, url = … }``: what vouches for each file's sha256."""

    source: str  # one of CHECKSUM_SOURCES (the key `from`)
    url: str | None = None  # template; sidecar default: the file's URL + ".sha256"

    @property
    def has_file(self) -> bool:
        """A checksum file is downloaded (and can be signed)."""
        return self.source in ("sidecar", "sums-file")


@dataclass(frozen=True)
class SignatureIntent:
    """``signature = { url, fingerprint, key-url | keyring }``: an OpenPGP signature of the
    checksum file, by the key whose fingerprint the lock pins."""

    url: str  # template of the detached signature (.asc or .sig)
    fingerprint: str  # 40 upper-case hex digits
    key_url: str | None = None  # where the public key is fetched (checked by fingerprint)
    keyring: str | None = None  # or a keyring file on this machine


@dataclass(frozen=True)
class PlannedFile:
    """One concrete file an input needs: the template expanded for one platform (or all)."""

    name: str  # the URL's last path segment
    url: str
    sha256_arg: str | None  # None: the sha256 is written literally where the file is checked
    platform: str | None  # None: one file for every platform
    arch: str | None


def fill(template: str, *, version: str, arch: str | None = None, name: str | None = None
         ) -> str:
    """``{version}`` (and its expansions, ``{version%%[a-z]*}``), ``{arch}``, ``{ARCH}`` (upper
    case, '-' as '_') and ``{name}`` filled."""
    out = fill_version(template, version)
    if arch is not None:
        out = out.replace("{arch}", arch).replace("{ARCH}", arch.upper().replace("-", "_"))
    if name is not None:
        out = out.replace("{name}", name)
    return out


@dataclass(frozen=True)
class DownloadIntent:
    url: str  # "https://nodejs.org/dist/v{version}/node-v{version}-linux-{arch}.tar.xz"
    # An ARG, else an ENV, of that name. None: a fixed download, whose URLs hold no version
    # pinlock can move (`fixed = true`): its sha256s are kept and checked, never moved.
    version_arg: str | None
    # "NODE_SHA256" or, per platform, "NODE_SHA256_{ARCH}" (an ARG, else an ENV); None: each
    # file's sha256 is written literally in the RUN (or ADD --checksum) that checks it.
    sha256_arg: str | None
    arch_map: Mapping[str, str] = field(default_factory=dict)  # platform -> arch name
    versions: VersionsFrom | None = None  # None: `update` cannot look for newer versions
    checksums: ChecksumsFrom | None = None  # None: only --deep can vouch for a file
    signature: SignatureIntent | None = None
    allow_prerelease: bool = False
    group: str | None = None
    min_age: str | None = None
    # The ARG/ENV whose default is the file's URL with the version written in it (`ENV
    # HAPROXY_URL https://…/haproxy-2.8.26.tar.gz`): rewritten whole when the version moves.
    url_arg: str | None = None
    # Other ARGs/ENVs whose default is a URL with the version written in it (`ENV PHP_ASC_URL
    # https://…/php-8.5.0.tar.xz.asc`): name -> that URL's template, rewritten with the version.
    more_urls: Mapping[str, str] = field(default_factory=dict)
    # The platforms a per-arch `case` block downloads a file for: planned whatever the lock's
    # platforms, since a version move must move every arm's URL and sha256 together.
    platforms: tuple[str, ...] = ()

    @property
    def per_arch(self) -> bool:
        return "{arch}" in self.url

    @property
    def fixed(self) -> bool:
        return self.version_arg is None

    def arch_for(self, platform: str) -> str:
        """The upstream arch name of a platform: arch_map by platform, then by arch, else as is."""
        arch = platform_arch(platform)
        return self.arch_map.get(platform) or self.arch_map.get(arch) or arch

    def plan(self, version: str, platforms: Sequence[str]) -> list[PlannedFile]:
        """Every file of ``version``, in platform order (one file when the URL has no {arch})."""
        if not self.per_arch:
            url = fill(self.url, version=version)
            return [PlannedFile(file_name(url), url, self.sha256_arg, None, None)]
        out = []
        for platform in self.platforms or platforms:
            arch = self.arch_for(platform)
            url = fill(self.url, version=version, arch=arch)
            arg = (fill(self.sha256_arg, version=version, arch=arch)
                   if self.sha256_arg is not None else None)
            out.append(PlannedFile(file_name(url), url, arg, platform, arch))
        names = [f.name for f in out]
        if len(set(names)) != len(names):
            # One file name in every arch's folder (rustup's `{arch}/rustup-init`): the lock
            # keys each file by name, so the arch goes into the key.
            out = [replace(f, name=f"{f.name}@{f.arch}") for f in out]
        return out


def file_name(url: str) -> str:
    """The URL's last path segment: the name a sidecar or sums file lists the file by."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LockedFile:
    name: str  # the file name, "node-v20.11.1-linux-x64.tar.xz"
    sha256_arg: str | None  # None: written literally where the file is checked
    platform: str | None
    url: str
    sha256: str | None
    size: int | None = None
    # "sidecar", "sums-file", "json-index", "bytes", "signature", "dockerfile"
    verified_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class DownloadLocked:
    version: str
    files: tuple[LockedFile, ...] = ()


@dataclass(frozen=True)
class DownloadInput:
    name: str
    intent: DownloadIntent
    locked: DownloadLocked
    kind: Literal["download"] = "download"
