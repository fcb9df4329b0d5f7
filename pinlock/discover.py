"""``pinlock init``: find a Dockerfile's inputs and adopt the pins already there (no network)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pinlock.dockerfile.sites import Sites
from pinlock.kinds import kinds
from pinlock.kinds.base import Detection
from pinlock.model import DEFAULT_PLATFORMS, Lock, Skipped


@dataclass
class Discovery:
    lock: Lock
    notes: list[str] = field(default_factory=list)  # what could not be inferred; what to add
    skipped: list[Skipped] = field(default_factory=list)


def discover(sites: Sites, path: str, platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> Discovery:
    found = Detection(sites, path, platforms)
    for kind in kinds():
        kind.detect(found)
    for i, u in enumerate(sites.urls):
        if i not in found.used_urls:
            found.skipped.append(Skipped(u.url, "a download not tied to a release input: "
                                         "pinlock cannot check its checksum", path, u.line))
    found.skipped.extend(unmanaged(sites, path))
    return Discovery(Lock(path, platforms, found.inputs), found.notes, found.skipped)


def unmanaged(sites: Sites, path: str) -> list[Skipped]:
    """What the Dockerfile installs that no lock can pin (curl | sh, apk, …), as reported."""
    return [Skipped(un.what, un.reason, path, un.line) for un in sites.unmanaged]
