"""An OCI image input: a repository and tag as meant, the index and platform digests locked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


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


