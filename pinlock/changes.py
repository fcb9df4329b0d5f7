"""What an update changes, per input: the old and new locked values, named for people.

Pure: the pull-request body, `outdated` and the CLI read these without the
orchestration layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinlock.digest import Digest, DigestFormatError
from pinlock.kinds import kind_of
from pinlock.kinds.base import IntentDelta
from pinlock.model import Input


def current_version(inp: Input) -> str:
    """What the lock names: an image's whole tag, a release's version, an apt snapshot."""
    return kind_of(inp).version(inp)


def index_digest(inp: Input) -> str | None:
    """The content digest the locked version points at (an image's index), if any."""
    return kind_of(inp).digest(inp)


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
    def delta(self) -> IntentDelta:
        """How the intent itself changed (apt packages edited by hand, suites moved)."""
        return kind_of(self.new).delta(self.old, self.new)

    @property
    def digest_moved(self) -> bool:
        """The same tag, re-pinned to the other index it points at now."""
        return (self.from_version == self.to_version and self.from_digest is not None
                and self.to_digest is not None and self.from_digest != self.to_digest)
