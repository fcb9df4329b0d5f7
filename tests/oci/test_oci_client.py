"""RegistryClient against real docker-registry processes: naming, manifests, tags, TLS, faults."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from support.oci_registry import (
    ACCEPT_ALL,
    Content,
    Faults,
    Registry,
    fault_proxy,
    skopeo_digest,
)
from support.retry import FAST_RETRY

from pinlock.sources.oci import make_registry_client
from pinlock.sources.oci.client import (
    ACCEPT,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
)
from pinlock.sources.oci.errors import (
    ManifestIntegrityError,
    ManifestNotFoundError,
    PlatformNotFoundError,
    RegistryError,
    RegistryUnavailableError,
    TagNotFoundError,
)

pytestmark = pytest.mark.registry
PLATFORMS = ("linux/amd64", "linux/arm64")


def client_for(url: str, tmp_path: Path, *prefixes: str,
               sleeps: list[float] | None = None) -> RegistryClient:
    mirrors = [f"{p}={url}" for p in (prefixes or ("docker.io", "ghcr.io"))]
    record = sleeps if sleeps is not None else []
    return make_registry_client({"DOCKER_CONFIG": str(tmp_path / "no-docker-config")},
                                registry_mirrors=mirrors, retry=FAST_RETRY,
                                sleep=record.append)


def test_oci_accept_header_names_all_four_manifest_types() -> None:
    assert set(ACCEPT.split(", ")) == {OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST}
    assert set(ACCEPT_ALL.split(", ")) == set(ACCEPT.split(", "))


def test_oci_docker_hub_name_resolves_through_mirror_to_skopeo_digest(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    client = client_for(registry.url, tmp_path)
    resolved = client.resolve("debian", "13.4", PLATFORMS)
    built = content.image("library/debian", "13.4")
    assert resolved.repository == "docker.io/library/debian"
    assert resolved.digest == skopeo_digest(registry, "library/debian", "13.4")
    assert resolved.digest == built.index_digest
    assert resolved.media_type == OCI_INDEX
    assert dict(resolved.platforms) == built.platforms
    assert built.attestation not in resolved.platforms.values()
    assert not resolved.single_platform
    # One HEAD for the tag's digest, one GET of the index by that digest.
    assert [r.split(" ")[0] for r in client.requests] == ["HEAD", "GET"]
    assert client.requests[1].endswith(f"/v2/library/debian/manifests/{built.index_digest}")


def test_oci_ghcr_name_resolves_through_mirror(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    client = client_for(registry.url, tmp_path)
    resolved = client.resolve("ghcr.io/astral-sh/uv", "0.11.6-python3.13-trixie", PLATFORMS)
    assert resolved.digest == content.image("astral-sh/uv", "0.11.6-python3.13-trixie").index_digest


def test_oci_all_platforms_when_none_requested_skip_attestation(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    resolved = client_for(registry.url, tmp_path).resolve("debian", "13.5")
    assert set(resolved.platforms) == {"linux/amd64", "linux/arm64"}


def test_oci_docker_manifest_list_with_variants(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    built = content.image("library/alpine", "3.20")
    client = client_for(registry.url, tmp_path)
    resolved = client.resolve("alpine", "3.20", ("linux/amd64", "linux/arm64", "linux/arm/v7"))
    assert resolved.media_type == DOCKER_LIST
    assert resolved.platforms == {
        "linux/amd64": built.platforms["linux/amd64"],
        "linux/arm64": built.platforms["linux/arm64/v8"],  # arm64 means v8
        "linux/arm/v7": built.platforms["linux/arm/v7"],
    }
    with pytest.raises(PlatformNotFoundError, match=r"linux/arm/v6.*offers: linux/amd64"):
        client.resolve("alpine", "3.20", ("linux/arm/v6",))


def test_oci_single_platform_manifest_reported_as_such(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    built = content.image("library/busybox", "1.36")
    resolved = client_for(registry.url, tmp_path).resolve("busybox", "1.36", PLATFORMS)
    assert resolved.single_platform
    assert resolved.media_type == OCI_MANIFEST
    assert resolved.digest == built.platforms["linux/amd64"]
    assert resolved.platforms == {"linux/amd64": resolved.digest}


def test_oci_resolve_by_digest_skips_head(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    built = content.image("library/debian", "13.2")
    client = client_for(registry.url, tmp_path)
    resolved = client.resolve("debian", built.index_digest, PLATFORMS)
    assert resolved.platforms == built.platforms
    assert [r.split(" ")[0] for r in client.requests] == ["GET"]


def test_oci_unknown_tag_names_nearest_tags(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(TagNotFoundError) as info:
        client_for(registry.url, tmp_path).resolve("debian", "13.3", PLATFORMS)
    assert "no such tag '13.3'" in info.value.message
    assert "13.2" in info.value.nearest and "13.4" in info.value.nearest
    assert "13.2" in info.value.diagnostics()


def test_oci_unknown_digest_is_not_found(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ManifestNotFoundError):
        client_for(registry.url, tmp_path).get_manifest("debian", "sha256:" + "0" * 64)


@pytest.mark.parametrize("page_size", [None, 1, 3, 100])
def test_oci_tag_listing_real_registry_without_pagination(
    registry: Registry, content: Content, tmp_path: Path, page_size: int | None
) -> None:
    # distribution 2.8 ignores ?n= and sends no Link: one answer holds every tag.
    client = client_for(registry.url, tmp_path)
    tags = client.list_tags("ghcr.io/astral-sh/uv", page_size=page_size)
    assert sorted(tags) == sorted(content.images["astral-sh/uv"])
    assert len([r for r in client.requests if "/tags/list" in r]) == 1


@pytest.mark.parametrize(("page_size", "server_default"), [(None, 2), (1, 50), (4, 50), (100, 3)])
def test_oci_tag_listing_follows_link_pages(
    registry: Registry, content: Content, tmp_path: Path, page_size: int | None,
    server_default: int,
) -> None:
    with fault_proxy(registry.url, Faults(paginate=server_default)) as proxy:
        client = client_for(proxy.url, tmp_path)
        tags = client.list_tags("ghcr.io/astral-sh/uv", page_size=page_size)
    assert sorted(tags) == sorted(content.images["astral-sh/uv"])
    assert len(tags) == len(set(tags))
    per_page = page_size or server_default
    pages = [r for r in client.requests if "/tags/list" in r]
    assert len(pages) == math.ceil(len(tags) / per_page)
    assert all("last=" in p for p in pages[1:])


def test_oci_tag_listing_without_link_returns_first_page(
    registry: Registry, tmp_path: Path
) -> None:
    with fault_proxy(registry.url, Faults(paginate=2, strip_link=True)) as proxy:
        client = client_for(proxy.url, tmp_path)
        tags = client.list_tags("debian", page_size=2)
    assert len(tags) == 2  # a registry that offers no next page: what it sent is all there is


def test_oci_tampered_manifest_is_an_integrity_error(registry: Registry, tmp_path: Path) -> None:
    with fault_proxy(registry.url, Faults(tamper_manifests=True)) as proxy:
        client = client_for(proxy.url, tmp_path)
        with pytest.raises(ManifestIntegrityError) as info:
            client.resolve("debian", "13.4", PLATFORMS)
    assert "do not hash to the digest" in info.value.message
    assert info.value.expected and info.value.observed
    assert info.value.expected != info.value.observed


def test_oci_tampered_manifest_without_head_digest(registry: Registry, tmp_path: Path) -> None:
    # HEAD without a digest: the body is fetched by tag and checked against the GET header.
    faults = Faults(tamper_manifests=True, strip_head_digest=True)
    with fault_proxy(registry.url, faults) as p, pytest.raises(
        ManifestIntegrityError, match="Docker-Content-Digest"
    ):
        client_for(p.url, tmp_path).resolve("debian", "13.4", PLATFORMS)


def test_oci_head_without_digest_falls_back_to_get(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    with fault_proxy(registry.url, Faults(strip_head_digest=True)) as proxy:
        client = client_for(proxy.url, tmp_path)
        resolved = client.resolve("debian", "13.4", PLATFORMS)
    assert resolved.digest == content.image("library/debian", "13.4").index_digest
    assert client.requests[1].endswith("/manifests/13.4")


def test_oci_429_with_retry_after_then_success(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    faults = Faults(statuses=[(429, "0"), (503, None)], status_path="/manifests/")
    with fault_proxy(registry.url, faults) as proxy:
        client = client_for(proxy.url, tmp_path, sleeps=sleeps)
        resolved = client.resolve("debian", "13.4", PLATFORMS)
        codes = [code for _, _, code in proxy.requests]
    assert resolved.digest == content.image("library/debian", "13.4").index_digest
    assert codes[:3] == [429, 503, 200]
    assert sleeps[0] == 0.0  # Retry-After honoured (capped by the policy's max_wait)
    assert len(sleeps) == 2


def test_oci_registry_down_is_bounded_and_clear(tmp_path: Path) -> None:
    from support.oci_registry import free_port

    sleeps: list[float] = []
    client = client_for(f"http://127.0.0.1:{free_port()}", tmp_path, sleeps=sleeps)
    with pytest.raises(RegistryUnavailableError, match=r"after 3 attempt"):
        client.resolve("debian", "13.4", PLATFORMS)
    assert len(sleeps) == 2


def test_oci_persistent_503_reported(registry: Registry, tmp_path: Path) -> None:
    faults = Faults(statuses=[(503, None)] * 5, status_path="/manifests/")
    with fault_proxy(registry.url, faults) as proxy, pytest.raises(RegistryError, match="503"):
        client_for(proxy.url, tmp_path).resolve("debian", "13.4", PLATFORMS)


def test_oci_tls_registry_with_ssl_cert_file(
    tls_registry: Registry, content: Content, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_registry.ca_pem is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_registry.ca_pem))
    client = client_for(tls_registry.url, tmp_path)
    resolved = client.resolve("ghcr.io/astral-sh/uv", "0.11.7-python3.13-trixie", PLATFORMS)
    assert resolved.digest == content.image("astral-sh/uv", "0.11.7-python3.13-trixie").index_digest


def test_oci_tls_registry_untrusted_ca_fails(
    tls_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(RegistryUnavailableError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        client_for(tls_registry.url, tmp_path).resolve("debian", "13.4", PLATFORMS)


def test_oci_registries_conf_mirror_falls_back_to_location(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    from support.oci_registry import free_port

    conf = tmp_path / "registries.conf"
    conf.write_text(
        '[[registry]]\nprefix = "docker.io"\n'
        f'location = "{registry.host}"\n'
        "[[registry.mirror]]\n"
        f'location = "127.0.0.1:{free_port()}"\n'
    )
    client = make_registry_client(
        {"CONTAINERS_REGISTRIES_CONF": str(conf), "DOCKER_CONFIG": str(tmp_path)},
        retry=FAST_RETRY, sleep=lambda _: None,
    )
    resolved = client.resolve("debian", "13.10", PLATFORMS)
    assert resolved.digest == content.image("library/debian", "13.10").index_digest
    assert resolved.endpoint == registry.url


def test_oci_manifest_json_shape(registry: Registry, tmp_path: Path) -> None:
    client = client_for(registry.url, tmp_path)
    manifest = client.get_manifest("debian", "13.4")
    assert manifest.is_index
    assert json.loads(manifest.raw)["mediaType"] == OCI_INDEX
