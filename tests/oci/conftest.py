"""Fixtures for the OCI tests: real docker-registry processes filled with small images."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.oci_registry import (
    BuiltImage,
    Content,
    Layout,
    Registry,
    TokenIssuer,
    build_image,
    push_built,
    running_registry,
    skopeo_copy,
)

DEBIAN_TAGS = ("12.9", "13.2", "13.4", "13.5", "13.10", "14.0", "13.4-slim", "trixie")
UV_TAGS = (
    "0.11.5-python3.13-trixie",
    "0.11.6-python3.13-trixie",
    "0.11.7-python3.13-trixie",
    "0.11.10-python3.13-trixie",
    "0.11.11-python3.12-trixie",
    "0.11.12-python3.13-bookworm",
    "0.11.13-python3.13-trixie-slim",
    "0.12.0rc1-python3.13-trixie",
    "1.0.0-python3.13-trixie",
)
# Pushed with skopeo (interop with a real client); the rest over the HTTP API (faster).
SKOPEO_TAGS = {("library/debian", "13.4"), ("astral-sh/uv", "0.11.6-python3.13-trixie")}

def _fill(base: Path) -> Content:
    layout = Layout(base / "layout")
    images: dict[str, dict[str, BuiltImage]] = {"library/debian": {}, "astral-sh/uv": {}}
    for tag in DEBIAN_TAGS:
        images["library/debian"][tag] = build_image(layout, f"debian-{tag}", seed=f"deb-{tag}")
    for tag in UV_TAGS:
        images["astral-sh/uv"][tag] = build_image(layout, f"uv-{tag}", seed=f"uv-{tag}")
    # A Docker manifest list (no attestation), a single-platform image, and a plain-tar one.
    images["library/alpine"] = {
        "3.20": build_image(layout, "alpine-3.20", seed="alpine", docker_types=True,
                            platforms=("linux/amd64", "linux/arm64/v8", "linux/arm/v7")),
    }
    images["library/busybox"] = {
        "1.36": build_image(layout, "busybox-1.36", seed="busybox", single_platform=True),
    }
    images["library/plain"] = {"1.0": build_image(layout, "plain-1.0", seed="plain",
                                                  compress=False)}
    storage = base / "storage"
    with running_registry(base, storage=storage) as registry:
        for repo, tags in images.items():
            for tag, image in tags.items():
                if (repo, tag) in SKOPEO_TAGS:
                    skopeo_copy(layout, image.tag, registry, repo, dest_tag=tag,
                                workdir=base)
                else:
                    push_built(registry.url, repo, image, tag)
    return Content(images, storage)


@pytest.fixture(scope="session")
def content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.skip("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
    return _fill(tmp_path_factory.mktemp("oci-content"))


@pytest.fixture(scope="session")
def registry(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A plain-HTTP registry over the shared (read-only) storage."""
    with running_registry(tmp_path_factory.mktemp("reg-plain"), storage=content.storage) as reg:
        yield reg


@pytest.fixture
def mutable_registry(content: Content, tmp_path: Path) -> Iterator[Registry]:
    """A registry over a private copy of the storage: tests may retag or delete."""
    shutil.copytree(content.storage, tmp_path / "storage")
    with running_registry(tmp_path) as reg:
        yield reg


@pytest.fixture(scope="session")
def tls_registry(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    import trustme

    with running_registry(tmp_path_factory.mktemp("reg-tls"), storage=content.storage,
                          tls=trustme.CA()) as reg:
        yield reg


@pytest.fixture
def token_registry(content: Content, tmp_path: Path) -> Iterator[Registry]:
    """Token auth like ghcr.io: library/debian public, astral-sh/uv needs alice's password."""
    issuer = TokenIssuer(tmp_path, users={"alice": "s3cret-pw"}, public={"library/debian"})
    issuer.start()
    try:
        with running_registry(tmp_path, storage=content.storage, issuer=issuer) as reg:
            yield reg
    finally:
        issuer.stop()
