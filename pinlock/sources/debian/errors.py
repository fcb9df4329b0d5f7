"""Errors of the Debian source: transfer trouble, bad signatures, unsatisfiable requests."""

from __future__ import annotations

from pinlock.errors import InputError, IntegrityError, UpstreamError


class ArchiveError(UpstreamError):
    """The archive could not be read: down, an index missing, an HTTP error after retries."""


class SignatureError(IntegrityError):
    """An InRelease file is unsigned, badly signed, signed by an unknown key, or expired."""


class UnsatisfiableError(InputError):
    """The requested packages cannot be installed from the archive state.

    An InputError (exit code 2), not an UpstreamError: the archive answered and
    is consistent; it is the request (a package name, a combination) that apt
    itself would refuse, and retrying does not help. The message carries the
    failing dependency chain so the user can change the request.
    """
