"""OCI manifests and indexes, pure: media types, verified manifest bytes, platforms, digests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pinlock.digest import Digest, DigestFormatError
from pinlock.http import parse_json
from pinlock.sources.oci.errors import (
    ImageReferenceError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # containerd's limit: a bigger "manifest" is an attack
MAX_CONFIG_BYTES = 8 * 1024 * 1024
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Manifest:
    """Manifest bytes whose sha256 was checked against ``digest``."""

    digest: str
    media_type: str
    raw: bytes = field(repr=False)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def json(self) -> dict[str, Any]:
        data = parse_json(self.raw, f"manifest {self.digest}", error=UnsupportedMediaTypeError)
        if not isinstance(data, dict):
            raise UnsupportedMediaTypeError(f"manifest {self.digest} is not a JSON object")
        return data


@dataclass(frozen=True)
class ResolvedImage:
    """What a tag (or a digest) points at, with the digest per requested platform."""

    repository: str  # canonical: docker.io/library/debian
    reference: str  # the tag or digest that was resolved
    digest: str  # of the index, or of the single manifest
    media_type: str
    platforms: Mapping[str, str]  # platform -> manifest digest
    single_platform: bool = False
    endpoint: str = ""  # where the bytes came from (a mirror, perhaps)



def parse_platform(text: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) < 2 or not all(parts):
        raise ImageReferenceError(
            f"{text!r} is not a platform", hint="write os/arch[/variant], e.g. linux/arm64"
        )
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def platform_of(entry: Mapping[str, Any]) -> str:
    p = entry.get("platform") or {}
    if not isinstance(p, dict):
        return "unknown/unknown"
    text = f"{p.get('os', 'unknown')}/{p.get('architecture', 'unknown')}"
    return f"{text}/{p['variant']}" if p.get("variant") else text


def is_attestation(entry: Mapping[str, Any]) -> bool:
    """BuildKit attestation manifests: platform unknown/unknown, reference-type annotation."""
    annotations = entry.get("annotations") or {}
    if isinstance(annotations, dict) and ATTESTATION_ANNOTATION in annotations:
        return True
    return platform_of(entry).startswith("unknown/unknown")


def _platform_matches(want: tuple[str, str, str], entry: Mapping[str, Any]) -> int:
    """0: no match; 2: exact; 1: variant left open (arm64 means v8)."""
    os_, arch, variant = want
    p = entry.get("platform") or {}
    if not isinstance(p, dict) or p.get("os") != os_ or p.get("architecture") != arch:
        return 0
    have = str(p.get("variant") or "")
    if have == variant:
        return 2
    if not variant or (arch == "arm64" and {have, variant} <= {"", "v8"}):
        return 1
    return 0


def index_platforms(
    manifest: Manifest, platforms: Sequence[str]
) -> dict[str, str]:
    """Platform -> manifest digest from an index, for ``platforms`` (all, if empty).

    Attestation entries (``unknown/unknown``) are never returned. A missing platform
    raises PlatformNotFoundError naming what the index does offer.
    """
    entries = [e for e in manifest.json().get("manifests") or [] if isinstance(e, dict)]
    images = [e for e in entries if not is_attestation(e)]
    for e in images:
        check_digest_field(e.get("digest"), f"index {manifest.digest} entry")
    if not platforms:
        out: dict[str, str] = {}
        for e in images:
            out.setdefault(platform_of(e), str(e["digest"]))
        return out
    result: dict[str, str] = {}
    for text in platforms:
        want = parse_platform(text)
        best: tuple[int, str] | None = None
        for e in images:
            score = _platform_matches(want, e)
            if score and (best is None or score > best[0]):
                best = (score, str(e["digest"]))
        if best is None:
            offered = ", ".join(sorted({platform_of(e) for e in images})) or "none"
            raise PlatformNotFoundError(
                f"index {manifest.digest} has no manifest for {text} (it offers: {offered})",
                hint="drop the platform from the lock's platforms, or pick an image that has it",
            )
        result[text] = best[1]
    return result


def check_digest_field(value: object, what: str) -> str:
    """``value`` as a canonical digest; UnsupportedMediaTypeError naming ``what`` if it is none."""
    try:
        return str(Digest.parse(str(value)))
    except DigestFormatError as exc:
        raise UnsupportedMediaTypeError(f"{what}: {value!r} is not a digest") from exc


def check_media_type(raw: bytes, content_type: str | None, what: str) -> str:
    """The media type of manifest bytes (their ``mediaType``, else the Content-Type, else
    their shape); UnsupportedMediaTypeError unless it is an index or manifest pinlock reads."""
    declared = None
    data = parse_json(raw, f"{what}: manifest", error=UnsupportedMediaTypeError)
    if isinstance(data, dict) and isinstance(data.get("mediaType"), str):
        declared = data["mediaType"]
    header = (content_type or "").split(";")[0].strip()
    media = declared or header
    if not media and isinstance(data, dict):
        # OCI allows mediaType to be absent; the shape decides.
        media = OCI_INDEX if "manifests" in data else OCI_MANIFEST if "layers" in data else ""
    if media not in INDEX_TYPES | MANIFEST_TYPES:
        raise UnsupportedMediaTypeError(
            f"{what}: unsupported manifest media type {media or '(none)'!r}",
            hint="pinlock understands OCI index/manifest and Docker manifest list/v2 schema 2",
        )
    return media


def config_platform(raw: bytes, digest: str) -> str:
    """``os/arch[/variant]`` of an image config blob; ``unknown/unknown`` when it says none."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "unknown/unknown"
    except RecursionError:
        raise UnsupportedMediaTypeError(f"config {digest}: JSON nested too deep") from None
    if not isinstance(data, dict):
        return "unknown/unknown"
    text = f"{data.get('os', 'unknown')}/{data.get('architecture', 'unknown')}"
    return f"{text}/{data['variant']}" if data.get("variant") else text
