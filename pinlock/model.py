"""The lock's data model: what each input is (intent) and what it resolved to (locked).

Frozen dataclasses, no I/O. Intent is edited by people; locked values only by pinlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pinlock.errors import UsageError

SCHEMA_VERSION = 1
DEFAULT_PLATFORMS: tuple[str, ...] = ("linux/amd64", "linux/arm64")
DEFAULT_DOCKERFILE = "docker/Dockerfile"


def platform_arch(platform: str) -> str:
    """``linux/arm64/v8`` -> ``arm64``: the Debian/Go architecture name of a platform."""
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


# ---------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageIntent:
    """An OCI image reference as a person means it."""

    image: str  # repository as written in the Dockerfile: "debian", "ghcr.io/astral-sh/uv"
    tag_pattern: str | None = None  # e.g. "{version}-python3.13-trixie"; None: derived from tag
    stage: str | None = None  # name (or index) of the stage whose FROM holds it, if any
    allow_prerelease: bool = False
    group: str | None = None  # `pinlock pr` updates a group's inputs together, in one PR
    min_age: str | None = None  # e.g. "3d": update/outdated/pr propose only older candidates


@dataclass(frozen=True)
class ImageLocked:
    tag: str
    index_digest: str | None = None  # "sha256:…" of the manifest the tag points at
    media_type: str | None = None
    platforms: Mapping[str, str] = field(default_factory=dict)  # platform -> "sha256:…"
    single_platform: bool = False


@dataclass(frozen=True)
class ImageInput:
    name: str
    intent: ImageIntent
    locked: ImageLocked
    kind: Literal["image"] = "image"


# ---------------------------------------------------------------- release artifacts


@dataclass(frozen=True)
class AssetIntent:
    """One asset of a release; ``{arch}`` in either template is mapped per platform.

    ``{ARCH}`` is the upper-case arch name, for ARG names like S6_OVERLAY_X86_64_SHA256.
    """

    name: str  # "s6-overlay-{arch}.tar.xz"
    sha256_arg: str  # "S6_OVERLAY_{ARCH}_SHA256"

    @property
    def per_arch(self) -> bool:
        return "{arch}" in self.name or "{ARCH}" in self.name


@dataclass(frozen=True)
class PlannedAsset:
    """One concrete file an input needs: a template expanded for one platform (or for all)."""

    name: str
    sha256_arg: str
    platform: str | None  # None: one file for every platform


def _fill_arch(template: str, arch: str) -> str:
    # ARG names cannot hold '-': an arch like "x86-64" becomes X86_64 in {ARCH}.
    return template.replace("{arch}", arch).replace("{ARCH}", arch.upper().replace("-", "_"))


@dataclass(frozen=True)
class ReleaseIntent:
    repository: str  # "owner/name" on GitHub
    version_arg: str  # the ARG that holds the version
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

    def plan(self, platforms: Sequence[str]) -> list[PlannedAsset]:
        """Every file the input needs, in intent order then platform order (deterministic)."""
        out: list[PlannedAsset] = []
        for asset in self.assets:
            if not asset.per_arch:
                out.append(PlannedAsset(asset.name, asset.sha256_arg, None))
                continue
            for platform in platforms:
                arch = self.arch_for(platform)
                out.append(PlannedAsset(_fill_arch(asset.name, arch),
                                        _fill_arch(asset.sha256_arg, arch), platform))
        return out

    def url_for(self, *, tag: str, version: str, name: str) -> str:
        """``download_url`` with ``{repository}``, ``{tag}``, ``{version}``, ``{name}`` filled."""
        return (self.download_url.replace("{repository}", self.repository)
                .replace("{tag}", tag).replace("{version}", version).replace("{name}", name))


@dataclass(frozen=True)
class LockedAsset:
    name: str  # concrete file name, "s6-overlay-x86_64.tar.xz"
    sha256_arg: str
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


# ---------------------------------------------------------------- Debian packages


@dataclass(frozen=True)
class AptIntent:
    packages: tuple[str, ...]  # the top-level package names, as in the install line
    stage: str  # name or index of the stage whose RUN holds the install
    suites: tuple[str, ...] = ()  # e.g. ("trixie", "trixie-updates", "trixie-security")
    components: tuple[str, ...] = ("main",)
    install_recommends: bool = False
    snapshot_arg: str = "DEBIAN_SNAPSHOT"
    group: str | None = None  # `pinlock pr` updates a group's inputs together, in one PR
    min_age: str | None = None  # e.g. "3d": update/outdated/pr propose only older candidates
    layout: str | None = None  # "one-per-line": pins one a line, sorted; None: in place


@dataclass(frozen=True)
class AptPackage:
    name: str
    version: str
    architecture: str
    sha256: str
    size: int
    filename: str  # pool path
    source: str


@dataclass(frozen=True)
class SuiteState:
    date: str  # InRelease Date
    sha256: str  # of the InRelease bytes


@dataclass(frozen=True)
class AptArchLocked:
    top: Mapping[str, str]  # name -> version
    closure: tuple[AptPackage, ...] = ()
    removed: tuple[str, ...] = ()  # "name=version" of base packages apt removes, sorted


@dataclass(frozen=True)
class AptLocked:
    snapshot: str | None = None  # "20261127T000000Z"
    archive: str | None = None  # where it was resolved: "snapshot" or "mirror"
    base: str | None = None  # "image-dpkg-status" or "minbase"
    suites: Mapping[str, SuiteState] = field(default_factory=dict)
    archs: Mapping[str, AptArchLocked] = field(default_factory=dict)  # "amd64" -> …


@dataclass(frozen=True)
class AptInput:
    name: str
    intent: AptIntent
    locked: AptLocked
    kind: Literal["apt"] = "apt"


Input = ImageInput | ReleaseInput | AptInput
KINDS: tuple[str, ...] = ("image", "github-release", "apt")


@dataclass(frozen=True)
class Lock:
    """The whole lock: global settings and the inputs by name."""

    dockerfile: str = DEFAULT_DOCKERFILE
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    inputs: Mapping[str, Input] = field(default_factory=dict)
    min_age: str | None = None  # the `min-age` of every input that sets none of its own

    def get(self, name: str) -> Input | None:
        return self.inputs.get(name)

    def select(self, names: Sequence[str] | None = None) -> list[Input]:
        """The inputs named (all when ``names`` is empty), in name order.

        An unknown name is a usage error: a typo must not silently check nothing.
        """
        for n in names or ():
            if n not in self.inputs:
                known = ", ".join(sorted(self.inputs)) or "none"
                raise UsageError(f"unknown input {n!r} (inputs in the lock: {known})")
        return [self.inputs[n] for n in sorted(self.inputs) if not names or n in names]

    def groups(self) -> dict[str, list[str]]:
        """Group name -> the names of its inputs (sorted), from the intents' ``group`` keys."""
        out: dict[str, list[str]] = {}
        for name in sorted(self.inputs):
            group = self.inputs[name].intent.group
            if group is not None:
                out.setdefault(group, []).append(name)
        return dict(sorted(out.items()))

    def replace_input(self, new: Input) -> Lock:
        inputs = dict(self.inputs)
        inputs[new.name] = new
        return Lock(self.dockerfile, self.platforms, inputs, self.min_age)


# ---------------------------------------------------------------- findings

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One disagreement between Dockerfile, lock and upstream, or a value not yet pinned."""

    input: str
    severity: Severity
    code: str  # stable: "mismatch", "not-pinned", "tag-moved", "asset-replaced", …
    message: str
    file: str | None = None
    line: int | None = None
    expected: str | None = None
    found: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "input": self.input,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(frozen=True)
class Skipped:
    """Something pinlock saw but cannot manage, reported rather than dropped."""

    what: str
    reason: str
    file: str | None = None
    line: int | None = None
