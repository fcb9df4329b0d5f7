"""The OCI source's error families: transfer trouble vs bad data, each naming what it saw."""

from __future__ import annotations

from pinlock.errors import InputError, IntegrityError, NotFoundError, UpstreamError


class RegistryError(UpstreamError):
    """A registry could not be reached or answered with an error."""


class RegistryUnavailableError(RegistryError):
    """Transport errors, 429 or 5xx after every retry: the registry is down or throttling."""


class RegistryAuthError(RegistryError):
    """401/403, or a token could not be obtained; names the credential source, never a secret."""


class TagNotFoundError(RegistryError, NotFoundError):
    """The registry answered, but the repository has no such tag."""

    def __init__(self, message: str, *, hint: str | None = None,
                 nearest: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint=hint)
        self.nearest = nearest


class ManifestNotFoundError(RegistryError, NotFoundError):
    """A manifest or blob named by digest is not in the repository."""


class PlatformNotFoundError(RegistryError, NotFoundError):
    """The index has no manifest for a platform the lock asks for."""


class UnsupportedMediaTypeError(RegistryError):
    """The registry returned a manifest pinlock does not understand (e.g. Docker schema 1)."""


class ManifestIntegrityError(IntegrityError):
    """Manifest bytes do not hash to the digest that names them."""


class BlobIntegrityError(IntegrityError):
    """Blob (config or layer) bytes do not hash to their digest or size."""


class ImageReferenceError(InputError):
    """An image input cannot be resolved as written (no tag, bad reference, bad version)."""


class LayerFormatError(RegistryError):
    """A layer is not a tar archive in a supported compression."""


class LocalImageError(InputError):
    """An image on disk (an OCI layout, a docker-archive tar) is missing or malformed."""
