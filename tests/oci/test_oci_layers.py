"""Reading one file out of an image's layers: whiteouts, opaque dirs, digests while streaming."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.oci_registry import Content, Faults, Registry, fault_proxy
from support.retry import FAST_RETRY

from pinlock.sources.oci import make_registry_client, read_image_file
from pinlock.sources.oci.client import RegistryClient
from pinlock.sources.oci.errors import BlobIntegrityError, UnsupportedMediaTypeError
from pinlock.sources.oci.layers import normalise_path

pytestmark = pytest.mark.registry


def client_for(url: str, tmp_path: Path) -> RegistryClient:
    return make_registry_client({"DOCKER_CONFIG": str(tmp_path)},
                                registry_mirrors=[f"docker.io={url}"], retry=FAST_RETRY,
                                sleep=lambda _: None)


@pytest.mark.parametrize("repo,tag", [("library/debian", "13.4"), ("library/plain", "1.0"),
                                      ("library/alpine", "3.20")])
@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_oci_reads_dpkg_status_per_platform(
    registry: Registry, content: Content, tmp_path: Path, repo: str, tag: str, platform: str
) -> None:
    built = content.image(repo, tag)
    key = platform if platform in built.platforms else f"{platform}/v8"
    data = read_image_file(client_for(registry.url, tmp_path), repo.split("/")[1],
                           built.platforms[key], "/var/lib/dpkg/status")
    assert data == built.status[key]
    assert data is not None
    assert f"Architecture: {platform.split('/')[1]}".encode() in data


@pytest.mark.parametrize(("path", "expected"), [
    ("/etc/gone", None),  # removed by .wh.gone in the upper layer
    ("/etc/opaque/old", None),  # hidden by .wh..wh..opq
    ("/etc/opaque/new", b"new\n"),  # added in the same layer as the opaque marker
    ("etc/seed", "seed"),  # only in the lower layer, shows through
    ("/no/such/file", None),
])
def test_oci_whiteouts_and_opaque_dirs(
    registry: Registry, content: Content, tmp_path: Path, path: str, expected: object
) -> None:
    built = content.image("library/debian", "13.5")
    digest = built.platforms["linux/arm64"]
    data = read_image_file(client_for(registry.url, tmp_path), "debian", digest, path)
    if expected == "seed":
        assert data == b"deb-13.5 linux/arm64\n"
    else:
        assert data == expected


def test_oci_lower_layers_not_read_once_found(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    built = content.image("library/debian", "13.5")
    client = client_for(registry.url, tmp_path)
    assert read_image_file(client, "debian", built.platforms["linux/amd64"],
                           "/etc/opaque/new") == b"new\n"
    assert len([r for r in client.requests if "/blobs/" in r]) == 1  # the top layer only


def test_oci_tampered_layer_is_an_integrity_error(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    built = content.image("library/debian", "13.4")
    with fault_proxy(registry.url, Faults(tamper_blobs=True)) as proxy, pytest.raises(
        BlobIntegrityError, match="layer bytes do not hash"
    ):
        read_image_file(client_for(proxy.url, tmp_path), "debian",
                        built.platforms["linux/amd64"], "/var/lib/dpkg/status")


def test_oci_index_digest_is_refused(registry: Registry, content: Content, tmp_path: Path) -> None:
    built = content.image("library/debian", "13.4")
    with pytest.raises(UnsupportedMediaTypeError, match="index"):
        read_image_file(client_for(registry.url, tmp_path), "debian", built.index_digest,
                        "/var/lib/dpkg/status")


@pytest.mark.parametrize(("raw", "norm"), [("/var/lib/dpkg/status", "var/lib/dpkg/status"),
                                           ("./etc//x", "etc/x"), ("/a/../b", "b"), ("/", "")])
def test_oci_normalise_path(raw: str, norm: str) -> None:
    assert normalise_path(raw) == norm
