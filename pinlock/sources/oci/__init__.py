"""OCI image sources: registry client, mirrors, tag order, layers and the ImageSource."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from pinlock.http import DEFAULT_RETRY, RetryPolicy
from pinlock.sources.oci.client import RegistryClient
from pinlock.sources.oci.config import RegistryConfig
from pinlock.sources.oci.credentials import DockerCredentials
from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    ManifestIntegrityError,
    RegistryAuthError,
    RegistryError,
    TagNotFoundError,
)
from pinlock.sources.oci.layers import read_image_file
from pinlock.sources.oci.manifest import ResolvedImage
from pinlock.sources.oci.source import ImageSource

__all__ = [
    "BlobIntegrityError",
    "DockerCredentials",
    "ImageSource",
    "ManifestIntegrityError",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryConfig",
    "RegistryError",
    "ResolvedImage",
    "TagNotFoundError",
    "make_image_source",
    "make_registry_client",
    "read_image_file",
]


def make_registry_client(
    environ: Mapping[str, str] | None = None,
    *,
    registry_mirrors: Sequence[str] = (),
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> RegistryClient:
    """The client the CLI builds: mirrors from --registry-mirror, PINLOCK_REGISTRY_MIRRORS and
    CONTAINERS_REGISTRIES_CONF; credentials from DOCKER_CONFIG; CA from SSL_CERT_FILE."""
    config = RegistryConfig.from_env(environ, cli_mirrors=registry_mirrors)
    return RegistryClient(
        config, credentials=DockerCredentials(environ=environ), retry=retry, sleep=sleep
    )


def make_image_source(
    environ: Mapping[str, str] | None = None,
    *,
    registry_mirrors: Sequence[str] = (),
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> ImageSource:
    """An ImageSource over make_registry_client(...)."""
    return ImageSource(
        make_registry_client(environ, registry_mirrors=registry_mirrors, retry=retry, sleep=sleep)
    )
