"""A built image to read, named as skopeo does: a registry reference, ``oci:``, ``docker-archive:``.

``parse_location`` is pure; ``open_image`` reaches the registry through the same
client, credentials, auth flow and mirrors as image inputs, or opens the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.sources.oci.errors import (
    ImageReferenceError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
)
from pinlock.sources.oci.layers import BlobStore
from pinlock.sources.oci.manifest import MAX_CONFIG_BYTES, Manifest, index_platforms

Transport = Literal["docker", "oci", "docker-archive"]
# skopeo's other transports: named, so the message can say what to do instead.
_OTHER_TRANSPORTS = ("dir", "containers-storage", "docker-daemon", "oci-archive", "sif",
                     "tarball", "ostree")


@dataclass(frozen=True)
class ImageLocation:
    transport: Transport
    name: str  # the repository as written (docker), or the path
    reference: str | None  # tag or digest (docker), tag (oci), NAME:TAG (docker-archive)

    def __str__(self) -> str:
        if self.transport == "docker":
            sep = "@" if ":" in (self.reference or "") else ":"  # digests only: no tag has one
            return f"{self.name}{sep}{self.reference}"
        return f"{self.transport}:{self.name}" + (f":{self.reference}" if self.reference else "")


def parse_location(text: str) -> ImageLocation:
    """``REF`` / ``docker://REF``, ``oci:PATH[:TAG]``, ``docker-archive:PATH[:NAME:TAG]``."""
    for transport in ("oci", "docker-archive"):
        if text.startswith(transport + ":"):
            # As skopeo splits them: the path ends at the first colon.
            path, _, tag = text[len(transport) + 1:].partition(":")
            if not path:
                raise ImageReferenceError(f"{text!r}: no path after {transport}:",
                                          hint=f"write {transport}:PATH")
            return ImageLocation(transport, path, tag or None)
    scheme = text.split(":", 1)[0]
    if scheme in _OTHER_TRANSPORTS:
        raise ImageReferenceError(
            f"{text!r}: pinlock does not read {scheme}: images",
            hint=f"copy it first (`skopeo copy {text} oci:PATH:TAG`), then pass oci:PATH:TAG")
    ref_text = text.removeprefix("docker://")
    try:
        ref = parse_image_ref(ref_text)
    except ImageRefError as exc:
        raise ImageReferenceError(
            str(exc), hint="write a registry reference (registry/name:tag or name@sha256:…), "
            "oci:PATH[:TAG] or docker-archive:PATH") from None
    if ref.tag and ref.digest:
        raise ImageReferenceError(f"{text!r}: give a tag or a digest, not both")
    return ImageLocation("docker", ref.repository, ref.digest or ref.tag or "latest")


@dataclass(frozen=True)
class OpenedImage:
    """Where the image's blobs come from, and its top manifest (an index, or one manifest)."""

    store: BlobStore
    repository: str  # for the store's calls: the repository as written, or "" on disk
    top: Manifest
    label: str


@contextmanager
def open_image(location: ImageLocation, environ: Mapping[str, str], *,
               registry_mirrors: Sequence[str] = ()) -> Iterator[OpenedImage]:
    """Open the image; the registry client (or the tar file) is closed afterwards."""
    if location.transport == "docker":
        from pinlock.sources.oci import make_registry_client

        assert location.reference is not None
        with make_registry_client(environ, registry_mirrors=registry_mirrors) as client:
            top = client.get_manifest(location.name, location.reference)
            yield OpenedImage(client, location.name, top, str(location))
        return
    from pinlock.sources.oci.local import DockerArchive, OciLayout

    if location.transport == "oci":
        layout = OciLayout(Path(location.name))
        top = layout.get_manifest("", layout.top(location.reference))
        yield OpenedImage(layout, "", top, str(location))
        return
    archive = DockerArchive(Path(location.name), location.reference)
    try:
        yield OpenedImage(archive, "", archive.get_manifest("", archive.top()), str(location))
    finally:
        archive.close()


def image_platforms(image: OpenedImage,
                    wanted: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """(platform -> manifest digest, wanted platforms the image lacks).

    An index gives each wanted platform it has (attestations never count); a single
    manifest is one platform, read from its verified config, whatever was wanted.
    """
    top = image.top
    if top.is_index:
        found: dict[str, str] = {}
        missing: list[str] = []
        for platform in wanted:
            try:
                found.update(index_platforms(top, [platform]))
            except PlatformNotFoundError:
                missing.append(platform)
        return found, missing
    config = top.json().get("config") or {}
    digest = str(config.get("digest", "")) if isinstance(config, dict) else ""
    raw = image.store.fetch_blob(image.repository, digest, limit=MAX_CONFIG_BYTES)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not data.get("os") or not data.get("architecture"):
        raise UnsupportedMediaTypeError(
            f"{image.label}: the image config names no os and architecture")
    platform = f"{data['os']}/{data['architecture']}"
    if data.get("variant"):
        platform += f"/{data['variant']}"
    return {platform: top.digest}, []
