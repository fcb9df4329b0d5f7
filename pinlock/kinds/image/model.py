"""An OCI image input: a repository and tag as meant, the index and platform digests locked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# What an untagged input's version reads as: the Dockerfile names no tag to follow.
UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class ImageIntent:
    """An OCI image reference as a person means it."""

    image: str  # repository as written in the Dockerfile: "debian", "ghcr.io/astral-sh/uv"
    tag_pattern: str | None = None  # e.g. "{version}-python3.13-trixie"; None: derived from tag
    stage: str | None = None  # name (or index) of the stage whose FROM holds it, if any
    allow_prerelease: bool = False
    group: str | None = None  # `pinlock pr` updates a group's inputs together, in one PR
    min_age: str | None = None  # e.g. "3d": update/outdated/pr propose only older candidates
    # The Dockerfile names the image without a tag (``alpine``, ``alpine@sha256:…``): the
    # lock records no tag, the pin is the digest alone, and updates follow what the registry
    # serves for no tag (``latest``) by digest.
    untagged: bool = False


@dataclass(frozen=True)
class ImageLocked:
    tag: str  # "" for an untagged input
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

    @property
    def reference(self) -> str:
        """What the lock wants written: ``repository[:tag][@index-digest]``."""
        ref = self.intent.image
        if self.locked.tag:
            ref += f":{self.locked.tag}"
        if self.locked.index_digest:
            ref += f"@{self.locked.index_digest}"
        return ref


