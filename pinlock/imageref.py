"""Image references: parse ``[registry/]repository[:tag][@digest]`` and apply Docker Hub naming."""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

# distribution/reference grammar, simplified to what matters for locating a pin.
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


class ImageRefError(ValueError):
    """Not a valid image reference."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed reference; ``repository`` is exactly as written (``debian``, ``ghcr.io/a/b``)."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def registry(self) -> str:
        first, sep, _ = self.repository.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return DOCKER_HUB if first in ("index.docker.io", "registry-1.docker.io") else first
        return DOCKER_HUB

    @property
    def path(self) -> str:
        """Repository path at the registry: ``debian`` -> ``library/debian`` on Docker Hub."""
        first, sep, rest = self.repository.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            path = rest
        else:
            path = self.repository
        if self.registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        return path

    @property
    def canonical(self) -> str:
        """``docker.io/library/debian``: the fully qualified repository name."""
        return f"{self.registry}/{self.path}"

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image_ref(text: str) -> ImageRef:
    """Parse a reference as written in a Dockerfile. Raises ImageRefError."""
    if not text or text != text.strip():
        raise ImageRefError(f"{text!r} is not an image reference")
    name, at, digest = text.partition("@")
    tag: str | None = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ImageRefError(f"{text!r}: {tag!r} is not a valid tag")
    if not name:
        raise ImageRefError(f"{text!r} has no repository")
    parts = name.split("/")
    has_host = len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost")
    start = 1 if has_host else 0
    for part in parts[start:]:
        if not _COMPONENT_RE.match(part):
            raise ImageRefError(
                f"{text!r}: {part!r} is not a valid repository component "
                "(lowercase letters, digits and separators)"
            )
    if at and not re.fullmatch(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}", digest):
        raise ImageRefError(f"{text!r}: {digest!r} is not a valid digest")
    return ImageRef(name, tag, digest or None)


def same_repository(a: str, b: str) -> bool:
    """``debian`` and ``docker.io/library/debian`` name the same repository."""
    try:
        return parse_image_ref(a).canonical == parse_image_ref(b).canonical
    except ImageRefError:
        return a == b
