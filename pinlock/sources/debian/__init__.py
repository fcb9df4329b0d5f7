"""Debian archive source: signed indexes, apt-like resolution and snapshot locking."""

from pinlock.sources.debian.errors import ArchiveError, SignatureError, UnsatisfiableError
from pinlock.sources.debian.source import AptSource, AptSourceConfig

__all__ = ["AptSource", "AptSourceConfig", "ArchiveError", "SignatureError", "UnsatisfiableError"]
