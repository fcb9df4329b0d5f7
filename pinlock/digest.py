"""Content digests: parsing, validation and hashing (pure, no I/O beyond the iterables given)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pinlock.errors import IntegrityError

_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class DigestFormatError(ValueError):
    """A string is not a well-formed digest."""


@dataclass(frozen=True, order=True)
class Digest:
    """An OCI content digest, e.g. ``sha256:<64 hex>``."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def short(self, hex_chars: int = 7) -> str:
        """``sha256:abcd123``: enough for a person to tell two digests apart."""
        return f"{self.algorithm}:{self.hex[:hex_chars]}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        algorithm, sep, hexpart = text.partition(":")
        if not sep or algorithm not in _HEX:
            raise DigestFormatError(
                f"{text!r} is not a digest: expected 'sha256:' followed by 64 lowercase hex digits"
            )
        if len(hexpart) != _HEX[algorithm] or not re.fullmatch(r"[0-9a-f]+", hexpart):
            raise DigestFormatError(
                f"{text!r} is not a digest: expected {_HEX[algorithm]} lowercase hex digits "
                f"after '{algorithm}:'"
            )
        return cls(algorithm, hexpart)

    @classmethod
    def of(cls, data: bytes) -> Digest:
        return cls("sha256", hashlib.sha256(data).hexdigest())


def parse_sha256(text: str) -> str:
    """Validate a bare sha256 hex string (the form checksum ARGs and sha256sum use)."""
    if not _SHA256_RE.match(text):
        raise DigestFormatError(f"{text!r} is not a sha256: expected 64 lowercase hex digits")
    return text


def is_sha256(text: str) -> bool:
    return bool(_SHA256_RE.match(text))


def hash_as(data: bytes, algorithm: str) -> str:
    """``algorithm:hex`` of ``data``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def check_bytes(data: bytes, expected: str, *, what: str,
                error: type[IntegrityError] = IntegrityError, hint: str | None = None) -> None:
    """Raise ``error`` unless ``data`` hashes to ``expected`` (``algorithm:hex``).

    Guards against a registry or mirror that serves bytes other than the ones a
    digest names: a header or an index entry alone is never trusted.
    """
    observed = hash_as(data, expected.split(":", 1)[0])
    if observed != expected:
        raise error(what, expected=expected, observed=observed, hint=hint)


def sha256_stream(chunks: Iterable[bytes]) -> tuple[str, int]:
    """Hash a stream chunk by chunk (never whole in memory); return (hex, size)."""
    h = hashlib.sha256()
    size = 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size
