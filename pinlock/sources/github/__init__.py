"""GitHub releases as an upstream: the REST client, version order, and the release source."""

from __future__ import annotations

from pinlock.sources.github.api import GitHubClient, GitHubConfig, Release, ReleaseAsset
from pinlock.sources.github.errors import (
    AssetNotFoundError,
    ChecksumMismatchError,
    GitHubAuthError,
    GitHubError,
    GitHubNotFoundError,
    RateLimitError,
    ReleaseNotAllowedError,
    ReleaseNotFoundError,
    SidecarError,
    TruncatedDownloadError,
    UnverifiableAssetError,
)
from pinlock.sources.github.source import ReleaseSource

__all__ = [
    "AssetNotFoundError",
    "ChecksumMismatchError",
    "GitHubAuthError",
    "GitHubClient",
    "GitHubConfig",
    "GitHubError",
    "GitHubNotFoundError",
    "RateLimitError",
    "Release",
    "ReleaseAsset",
    "ReleaseNotAllowedError",
    "ReleaseNotFoundError",
    "ReleaseSource",
    "SidecarError",
    "TruncatedDownloadError",
    "UnverifiableAssetError",
]
