"""A release input: a version ARG and the assets whose sha256 ARGs the Dockerfile checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pinlock.model import platform_arch


@dataclass(frozen=True)
class AssetIntent:
    """One asset of a release; ``{arch}`` in either template is mapped per platform.

    ``{ARCH}`` is the upper-case arch name, for ARG names like S6_OVERLAY_X86_64_SHA256;
    ``{version}`` in the name is the release's version (``tool-{version}-amd64.tgz``).
    ``sha256_arg`` names the ARG or ENV holding the sha256; None: the sha256 is written
    literally where the file is checked (RUN text, ``ADD --checksum``), found by its URL.
    """

    name: str  # "s6-overlay-{arch}.tar.xz"
    sha256_arg: str | None  # "S6_OVERLAY_{ARCH}_SHA256"

    @property
    def per_arch(self) -> bool:
        return "{arch}" in self.name or "{ARCH}" in self.name


@dataclass(frozen=True)
class PlannedAsset:
    """One concrete file an input needs: a template expanded for one platform (or for all)."""

    name: str
    sha256_arg: str | None
    platform: str | None  # None: one file for every platform


def _fill_arch(template: str | None, arch: str) -> str | None:
    # ARG names cannot hold '-': an arch like "x86-64" becomes X86_64 in {ARCH}.
    if template is None:
        return None
    return template.replace("{arch}", arch).replace("{ARCH}", arch.upper().replace("-", "_"))


@dataclass(frozen=True)
class ReleaseIntent:
    repository: str  # "owner/name" on GitHub
    # The ARG or ENV that holds the version; None: the version is written only in the URLs
    # (each place in their words is a pin site, found from the checks of the assets).
    version_arg: str | None
    assets: tuple[AssetIntent, ...]
    tag_template: str = "v{version}"
    arch_map: Mapping[str, str] = field(default_factory=dict)  # platform -> arch name
    download_url: str = "https://github.com/{repository}/releases/download/{tag}/{name}"
    allow_prerelease: bool = False
    group: str | None = None  # `pinlock pr` updates a group's inputs together, in one PR
    min_age: str | None = None  # e.g. "3d": update/outdated/pr propose only older candidates

    def arch_for(self, platform: str) -> str:
        """The upstream arch name of a platform: arch_map by platform, then by arch, else as is."""
        arch = platform_arch(platform)
        return self.arch_map.get(platform) or self.arch_map.get(arch) or arch

    def plan(self, platforms: Sequence[str], version: str = "") -> list[PlannedAsset]:
        """Every file the input needs at ``version``, in intent order then platform order
        (deterministic)."""
        out: list[PlannedAsset] = []
        for asset in self.assets:
            name = asset.name.replace("{version}", version)
            if not asset.per_arch:
                out.append(PlannedAsset(name, asset.sha256_arg, None))
                continue
            for platform in platforms:
                arch = self.arch_for(platform)
                out.append(PlannedAsset(_fill_arch(name, arch) or name,
                                        _fill_arch(asset.sha256_arg, arch), platform))
        return out

    def url_for(self, *, tag: str, version: str, name: str) -> str:
        """``download_url`` with ``{repository}``, ``{tag}``, ``{version}``, ``{name}`` filled."""
        return (self.download_url.replace("{repository}", self.repository)
                .replace("{tag}", tag).replace("{version}", version).replace("{name}", name))


def tag_version(tag_template: str, tag: str) -> str | None:
    """The version ``tag`` names under ``tag_template`` ("v{version}", "v1.2.3" -> "1.2.3")."""
    pre, mark, post = tag_template.partition("{version}")
    if not mark or not tag.startswith(pre) or not tag.endswith(post) \
            or len(tag) <= len(pre) + len(post):
        return None
    return tag[len(pre):len(tag) - len(post)]


@dataclass(frozen=True)
class LockedAsset:
    name: str  # concrete file name, "s6-overlay-x86_64.tar.xz"
    sha256_arg: str | None  # None: written literally where the file is checked
    platform: str | None  # None: the same file for every platform
    url: str
    sha256: str | None
    size: int | None = None
    verified_by: tuple[str, ...] = ()  # "sidecar", "api-digest", "bytes", "dockerfile"


@dataclass(frozen=True)
class ReleaseLocked:
    version: str
    tag: str
    assets: tuple[LockedAsset, ...] = ()


@dataclass(frozen=True)
class ReleaseInput:
    name: str
    intent: ReleaseIntent
    locked: ReleaseLocked
    kind: Literal["github-release"] = "github-release"


