"""Errors of the GitHub release source: transfer failures apart from bad data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pinlock.errors import InputError, IntegrityError, NotFoundError, UpstreamError


class GitHubError(UpstreamError):
    """GitHub (or its download host) could not be reached or answered with an error."""


class GitHubNotFoundError(GitHubError, NotFoundError):
    """GitHub answered 404: the repository, release or asset does not exist (or is private)."""


class GitHubAuthError(GitHubError):
    """GitHub refused the credentials (401) or the request (403 that is not a rate limit)."""


class RateLimitError(GitHubError):
    """GitHub's primary or secondary rate limit stopped the request.

    ``reset_at`` is the UTC epoch second from ``x-ratelimit-reset`` (primary
    limit), ``retry_after`` the seconds GitHub asked to wait (secondary limit).
    """

    def __init__(
        self,
        message: str,
        *,
        reset_at: int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.reset_at = reset_at
        self.retry_after = retry_after


class TruncatedDownloadError(GitHubError):
    """A download ended before the size its Content-Length or the API promised."""


class ReleaseNotFoundError(GitHubNotFoundError):
    """No release for the asked version; ``nearest`` holds the closest versions that exist."""

    def __init__(
        self, message: str, *, nearest: Sequence[str] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.nearest = tuple(nearest)


class AssetNotFoundError(GitHubNotFoundError):
    """A release lacks an asset the input needs (for one platform, or for all)."""


class ReleaseNotAllowedError(InputError):
    """The asked release is a draft, or a pre-release the input's intent does not allow."""


class SidecarError(IntegrityError):
    """A ``.sha256`` sidecar is malformed or names another file."""


class ChecksumMismatchError(IntegrityError):
    """The checksum sources of one asset disagree; ``values`` maps each source to its sha256."""

    def __init__(
        self,
        message: str,
        *,
        values: Mapping[str, str],
        expected: str | None = None,
        observed: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, expected=expected, observed=observed, hint=hint)
        self.values = dict(values)


class UnverifiableAssetError(IntegrityError):
    """No checksum source at all for an asset: no sidecar, no API digest, no --deep."""
