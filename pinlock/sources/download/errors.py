"""Errors of the download source: transfer failures apart from bad data."""

from __future__ import annotations

from pinlock.errors import IntegrityError, NotFoundError, UpstreamError


class DownloadError(UpstreamError):
    """A download host, index or tag list could not be reached or answered with an error."""


class DownloadNotFoundError(DownloadError, NotFoundError):
    """The host answered 404/410: the file, checksum file or index does not exist."""


class VersionNotFoundError(DownloadNotFoundError):
    """The versions source lists no version the input's template fits."""


class ChecksumFileError(IntegrityError):
    """A checksum file or index does not vouch for the file: malformed, or it lacks it."""


class DownloadSignatureError(IntegrityError):
    """The checksum file's OpenPGP signature is bad, or not by the key the lock pins."""
