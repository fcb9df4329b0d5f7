"""The one small interface every kind of upstream implements.

A source receives its HTTP client (and any other upstream handle) through its
constructor, never touches the Dockerfile or the lock file on disk, and raises
its own subclass of UpstreamError / IntegrityError. The orchestration layer
(pinlock.app) is the only caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pinlock.model import Finding, Input, Lock

I = TypeVar("I", bound=Input)  # noqa: E741


@dataclass(frozen=True)
class Candidate:
    """A version an input could move to."""

    version: str  # the human version ("3.2.4.0", "13.5", "0.11.7")
    ref: str  # what is written: tag, release tag, …
    notes_url: str | None = None  # release notes or tag page, for PR bodies
    # What ``ref`` points at now, when the source can tell cheaply (an image's index
    # digest): a ref that moved without a new version (a re-pushed tag) is an update too.
    # None when the source has no such notion (a release's version is its identity).
    digest: str | None = None
    # When upstream published it (a release's published_at, an image's created time, a
    # Debian run's InRelease Date), for ``min-age``; None when the source cannot tell.
    published: dt.datetime | None = None


@dataclass(frozen=True)
class Context:
    """What a source may read besides its own input: the whole lock (platforms, other inputs)."""

    lock: Lock

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.lock.platforms


class Source(Protocol[I]):
    """Resolve, look for newer versions of, and check one kind of input against upstream."""

    def resolve(self, inp: I, ctx: Context, *, version: str | None = None) -> I:
        """Return ``inp`` with every locked value filled from upstream.

        ``version=None`` keeps the locked version (tag, release) and fills what
        is missing or re-resolves it; a version moves the input there. Raises on
        any upstream disagreement; never returns half-resolved values.
        """
        ...

    def newest(
        self, inp: I, ctx: Context, *, allow_major: bool = False, prerelease: bool = False
    ) -> Candidate | None:
        """The newest version the input's intent allows, or None if upstream has none.

        With ``digest`` when the source can tell what the candidate's ref points at
        now, so a ref that moved under the same version is seen (``app.plan_move``).
        """
        ...

    def check(self, inp: I, ctx: Context) -> list[Finding]:
        """Online verify: do the locked values still hold upstream? Findings, not exceptions."""
        ...

    def take_notes(self) -> list[Finding]:
        """Warnings collected since the last call (an asset vouched for by one source only),
        oldest first; the orchestration prints them."""
        ...

    def close(self) -> None:
        """Release what the source holds open (not the shared HTTP client it was given)."""
        ...
