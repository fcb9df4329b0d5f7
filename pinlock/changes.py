"""What an update changes, per input: the old and new locked values, named for people.

Pure: the pull-request body, `outdated` and the CLI read these without the
orchestration layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinlock.digest import Digest, DigestFormatError
from pinlock.model import AptInput, ImageInput, Input, ReleaseInput


def current_version(inp: Input) -> str:
    """What the lock names: an image's whole tag, a release's version, an apt snapshot."""
    if isinstance(inp, ImageInput):
        return inp.locked.tag
    if isinstance(inp, ReleaseInput):
        return inp.locked.version
    return inp.locked.snapshot or "unresolved"


def index_digest(inp: Input) -> str | None:
    return inp.locked.index_digest if isinstance(inp, ImageInput) else None


def short_digest(digest: str | None, hex_chars: int = 7) -> str:
    """``sha256:abcd123`` for people; the full digest stays in the lock and the PR's tables."""
    if not digest:
        return "(none)"
    try:
        return Digest.parse(digest).short(hex_chars)
    except DigestFormatError:
        return digest  # not a digest pinlock can vouch for: shown whole, never cut


@dataclass
class Change:
    input: str
    old: Input
    new: Input

    @property
    def from_version(self) -> str:
        return current_version(self.old)

    @property
    def to_version(self) -> str:
        return current_version(self.new)

    @property
    def from_digest(self) -> str | None:
        return index_digest(self.old)

    @property
    def to_digest(self) -> str | None:
        return index_digest(self.new)

    @property
    def packages_added(self) -> list[str]:
        """apt packages the install lines gained (the lock follows the Dockerfile)."""
        if not isinstance(self.old, AptInput) or not isinstance(self.new, AptInput):
            return []
        return sorted(set(self.new.intent.packages) - set(self.old.intent.packages))

    @property
    def packages_removed(self) -> list[str]:
        if not isinstance(self.old, AptInput) or not isinstance(self.new, AptInput):
            return []
        return sorted(set(self.old.intent.packages) - set(self.new.intent.packages))

    @property
    def suites_moved(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """apt suites before and after, when the base image's Debian release moved them."""
        if (isinstance(self.old, AptInput) and isinstance(self.new, AptInput)
                and self.old.intent.suites != self.new.intent.suites):
            return self.old.intent.suites, self.new.intent.suites
        return None

    @property
    def digest_moved(self) -> bool:
        """The same tag, re-pinned to the other index it points at now."""
        return (self.from_version == self.to_version and self.from_digest is not None
                and self.to_digest is not None and self.from_digest != self.to_digest)
