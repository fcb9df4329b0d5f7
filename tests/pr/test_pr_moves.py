"""`app.plan_move`: the one decision `update`, `outdated` and `pr` share about what can move."""

from __future__ import annotations

import pytest

from pinlock.app import Move, plan_move
from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.model import Input, Lock
from pinlock.sources.interface import Candidate

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
PLATFORMS = {"linux/amd64": "sha256:" + "1" * 64, "linux/arm64": "sha256:" + "2" * 64}
LOCK = Lock()  # the default platforms: linux/amd64 and linux/arm64


def debian(tag: str = "13.4", digest: str | None = A,
           platforms: dict[str, str] = PLATFORMS) -> ImageInput:
    return ImageInput("debian", ImageIntent("debian"),
                      ImageLocked(tag, digest, platforms=platforms))


UV_TAG = "0.11.6-python3.13-trixie"


def uv() -> ImageInput:
    return ImageInput("uv", ImageIntent("ghcr.io/astral-sh/uv"),
                      ImageLocked(UV_TAG, A, platforms=PLATFORMS))


def s6(sha256: str | None = "c" * 64) -> ReleaseInput:
    intent = ReleaseIntent("just-containers/s6-overlay", "S6_OVERLAY_VERSION",
                           (AssetIntent("s6-overlay-noarch.tar.xz", "S6_OVERLAY_NOARCH_SHA256"),))
    asset = LockedAsset("s6-overlay-noarch.tar.xz", "S6_OVERLAY_NOARCH_SHA256", None,
                        "https://example.org/s6-overlay-noarch.tar.xz", sha256)
    return ReleaseInput("s6-overlay", intent, ReleaseLocked("3.2.3.0", "v3.2.3.0", (asset,)))


@pytest.mark.parametrize(("inp", "cand", "move"), [
    # A re-pushed tag: same version, the tag points at another index.
    (debian(), Candidate("13.4", "13.4", digest=B), "digest"),
    (debian("trixie"), Candidate("trixie", "trixie", digest=B), "digest"),
    (debian(), Candidate("13.4", "13.4", digest=A), None),
    (debian(), Candidate("13.4", "13.4"), None),  # the source could not tell: no move
    (debian(), None, None),
    # A newer version wins over a moved tag; the newest tag is another tag.
    (debian(), Candidate("13.5", "13.5", digest=B), "version"),
    # Not pinned yet: filled in, whatever upstream offers.
    (debian(digest=None), Candidate("13.4", "13.4", digest=B), "pin"),
    (debian(platforms={"linux/amd64": PLATFORMS["linux/amd64"]}), None, "pin"),
    # A moved tag also fills a missing platform: one resolve of the new index does both.
    (debian(platforms={"linux/amd64": PLATFORMS["linux/amd64"]}),
     Candidate("13.4", "13.4", digest=B), "digest"),
    # A tag with a suffix: the candidate's version is only the version part
    # (0.11.6), what it writes is the whole tag; the lock names the whole tag.
    (uv(), Candidate("0.11.6", UV_TAG, digest=A), None),
    (uv(), Candidate("0.11.6", UV_TAG, digest=B), "digest"),
    (uv(), Candidate("0.11.7", "0.11.7-python3.13-trixie", digest=B), "version"),
    # A release is its version: the same version is never a move, whatever its bytes now.
    (s6(), Candidate("3.2.3.0", "v3.2.3.0"), None),
    (s6(), Candidate("3.2.4.0", "v3.2.4.0"), "version"),
    (s6(sha256=None), Candidate("3.2.3.0", "v3.2.3.0"), "pin"),
])
def test_plan_move(inp: Input, cand: Candidate | None, move: Move | None) -> None:
    assert plan_move(inp, cand, LOCK) == move
