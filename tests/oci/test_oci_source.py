"""ImageSource end to end against a real registry: resolve, bump, newest and online check."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.oci_registry import Content, Registry, push_manifest
from support.retry import FAST_RETRY

from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked
from pinlock.model import Lock
from pinlock.sources.interface import Context, Source
from pinlock.sources.oci import ImageSource, make_image_source
from pinlock.sources.oci.errors import ImageReferenceError, TagNotFoundError

pytestmark = pytest.mark.registry
CTX = Context(Lock())
UV = "astral-sh/uv"


def source_for(url: str, tmp_path: Path) -> ImageSource:
    return make_image_source({"DOCKER_CONFIG": str(tmp_path)},
                             registry_mirrors=[f"docker.io={url}", f"ghcr.io={url}"])


def uv_input(tag: str, *, pattern: str | None = None, digest: str | None = None) -> ImageInput:
    return ImageInput("uv", ImageIntent("ghcr.io/astral-sh/uv", tag_pattern=pattern,
                                        stage="uv_source"), ImageLocked(tag, digest))


def debian_input(tag: str, digest: str | None = None) -> ImageInput:
    return ImageInput("debian", ImageIntent("debian"), ImageLocked(tag, digest))


def test_oci_image_source_is_a_source(registry: Registry, tmp_path: Path) -> None:
    src: Source[ImageInput] = source_for(registry.url, tmp_path)
    assert src is not None


def test_oci_resolve_pins_unpinned_debian(registry: Registry, content: Content,
                                          tmp_path: Path) -> None:
    out = source_for(registry.url, tmp_path).resolve(debian_input("13.4"), CTX)
    built = content.image("library/debian", "13.4")
    assert out.locked == ImageLocked("13.4", built.index_digest,
                                     "application/vnd.oci.image.index.v1+json",
                                     built.platforms, False)
    assert out.intent == debian_input("13.4").intent and out.name == "debian"


def test_oci_resolve_keeps_a_pinned_digest_and_fills_platforms(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    # The Dockerfile pins 13.4 to 13.2's index (as if the tag moved since): lock keeps the pin.
    old = content.image("library/debian", "13.2")
    out = source_for(registry.url, tmp_path).resolve(debian_input("13.4", old.index_digest), CTX)
    assert out.locked.tag == "13.4"
    assert out.locked.index_digest == old.index_digest
    assert dict(out.locked.platforms) == old.platforms


@pytest.mark.parametrize(("version", "pattern", "tag"), [
    ("0.11.7", None, "0.11.7-python3.13-trixie"),
    ("0.11.10", "{version}-python3.13-trixie", "0.11.10-python3.13-trixie"),
])
def test_oci_bump_uv_derives_tag_from_shape(
    registry: Registry, content: Content, tmp_path: Path, version: str, pattern: str | None,
    tag: str,
) -> None:
    current = content.image(UV, "0.11.6-python3.13-trixie")
    inp = uv_input("0.11.6-python3.13-trixie", pattern=pattern, digest=current.index_digest)
    out = source_for(registry.url, tmp_path).resolve(inp, CTX, version=version)
    assert out.locked.tag == tag
    assert out.locked.index_digest == content.image(UV, tag).index_digest
    assert dict(out.locked.platforms) == content.image(UV, tag).platforms
    assert out.intent.stage == "uv_source"


def test_oci_bump_debian(registry: Registry, content: Content, tmp_path: Path) -> None:
    out = source_for(registry.url, tmp_path).resolve(debian_input("13.4"), CTX, version="13.10")
    assert out.locked.tag == "13.10"
    assert out.locked.index_digest == content.image("library/debian", "13.10").index_digest


def test_oci_bump_to_missing_version_is_no_such_tag(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(TagNotFoundError, match=r"13\.8"):
        source_for(registry.url, tmp_path).resolve(debian_input("13.4"), CTX, version="13.8")


def test_oci_digest_only_reference_is_refused(registry: Registry, tmp_path: Path) -> None:
    inp = ImageInput("x", ImageIntent("debian"), ImageLocked("", "sha256:" + "a" * 64))
    with pytest.raises(ImageReferenceError, match="digest only"):
        source_for(registry.url, tmp_path).resolve(inp, CTX)


@pytest.mark.parametrize(("kwargs", "tag"), [
    ({}, "0.11.10-python3.13-trixie"),
    ({"allow_major": True}, "1.0.0-python3.13-trixie"),
    ({"prerelease": True}, "0.12.0rc1-python3.13-trixie"),
])
def test_oci_newest_uv_keeps_shape(registry: Registry, tmp_path: Path,
                                   kwargs: dict[str, bool], tag: str) -> None:
    cand = source_for(registry.url, tmp_path).newest(uv_input("0.11.6-python3.13-trixie"), CTX,
                                                     **kwargs)
    assert cand is not None and cand.ref == tag
    assert cand.version == tag.split("-")[0]


@pytest.mark.parametrize(("allow_major", "tag"), [(False, "13.10"), (True, "14.0")])
def test_oci_newest_debian(registry: Registry, tmp_path: Path, allow_major: bool,
                           tag: str) -> None:
    cand = source_for(registry.url, tmp_path).newest(debian_input("13.4"), CTX,
                                                     allow_major=allow_major)
    assert cand is not None and (cand.ref, cand.version) == (tag, tag)


def test_oci_newest_names_the_digest_its_tag_points_at(
    mutable_registry: Registry, content: Content, tmp_path: Path
) -> None:
    src = source_for(mutable_registry.url, tmp_path)
    locked = src.resolve(debian_input("13.10"), CTX)
    cand = src.newest(locked, CTX)
    assert cand is not None and (cand.ref, cand.version) == ("13.10", "13.10")
    assert cand.digest == locked.locked.index_digest
    # Re-push 13.10 with other content (13.5's index): same version, another digest.
    other = content.image("library/debian", "13.5")
    raw, media = other.manifests[other.index_digest]
    push_manifest(mutable_registry.url, "library/debian", "13.10", raw, media)
    cand = src.newest(locked, CTX)
    assert cand is not None and (cand.ref, cand.digest) == ("13.10", other.index_digest)


def test_oci_newest_of_a_tag_that_is_no_version_is_that_tag(
    mutable_registry: Registry, content: Content, tmp_path: Path
) -> None:
    src = source_for(mutable_registry.url, tmp_path)
    locked = src.resolve(debian_input("trixie"), CTX)
    cand = src.newest(locked, CTX)
    assert cand is not None and (cand.ref, cand.version) == ("trixie", "trixie")
    assert cand.digest == content.image("library/debian", "trixie").index_digest
    other = content.image("library/debian", "13.5")
    raw, media = other.manifests[other.index_digest]
    push_manifest(mutable_registry.url, "library/debian", "trixie", raw, media)
    cand = src.newest(locked, CTX)
    assert cand is not None and cand.digest == other.index_digest
    assert src.newest(debian_input("sid"), CTX) is None  # no such tag: no candidate


def test_oci_check_clean_lock_has_no_findings(registry: Registry, tmp_path: Path) -> None:
    src = source_for(registry.url, tmp_path)
    locked = src.resolve(uv_input("0.11.6-python3.13-trixie"), CTX)
    assert src.check(locked, CTX) == []


def test_oci_check_reports_moved_tag_with_both_digests(
    mutable_registry: Registry, content: Content, tmp_path: Path
) -> None:
    src = source_for(mutable_registry.url, tmp_path)
    locked = src.resolve(debian_input("13.4"), CTX)
    newer = content.image("library/debian", "13.5")
    raw, media = newer.manifests[newer.index_digest]
    push_manifest(mutable_registry.url, "library/debian", "13.4", raw, media)  # retag
    findings = src.check(locked, CTX)
    assert [f.code for f in findings] == ["tag-moved"]
    f = findings[0]
    assert f.message is not None and locked.locked.index_digest is not None
    assert f.expected == locked.locked.index_digest and f.found == newer.index_digest
    assert locked.locked.index_digest in f.message and newer.index_digest in f.message
    for platform, digest in newer.platforms.items():
        assert f"{platform}: {locked.locked.platforms[platform]} -> {digest}" in f.message


def test_oci_check_reports_missing_tag_and_manifest(
    mutable_registry: Registry, content: Content, tmp_path: Path
) -> None:
    import httpx

    src = source_for(mutable_registry.url, tmp_path)
    locked = src.resolve(debian_input("13.2"), CTX)
    arm = locked.locked.platforms["linux/arm64"]
    # Deleting by digest drops the manifest and every tag pointing at it.
    r = httpx.delete(f"{mutable_registry.url}/v2/library/debian/manifests/{arm}")
    assert r.status_code == 202
    r = httpx.delete(f"{mutable_registry.url}/v2/library/debian/manifests/"
                     f"{locked.locked.index_digest}")
    assert r.status_code == 202
    codes = sorted(f.code for f in src.check(locked, CTX))
    assert codes == ["manifest-missing", "manifest-missing", "tag-missing"]


def test_oci_check_reports_platform_not_in_index(
    registry: Registry, content: Content, tmp_path: Path
) -> None:
    src = source_for(registry.url, tmp_path)
    locked = src.resolve(debian_input("13.4"), CTX)
    other = content.image("library/debian", "13.5").platforms["linux/amd64"]
    platforms = {**locked.locked.platforms, "linux/amd64": other}
    tampered = ImageInput(locked.name, locked.intent, ImageLocked(
        "13.4", locked.locked.index_digest, locked.locked.media_type, platforms))
    findings = src.check(tampered, CTX)
    assert [f.code for f in findings] == ["platform-missing"]
    assert findings[0].expected == other


def test_oci_retry_policy_is_injected(registry: Registry, tmp_path: Path) -> None:
    src = make_image_source({"DOCKER_CONFIG": str(tmp_path)},
                            registry_mirrors=[f"docker.io={registry.url}"], retry=FAST_RETRY)
    assert src.client.retry == FAST_RETRY


def test_oci_resolve_refuses_a_platform_manifest_the_registry_does_not_serve(
    mutable_registry: Registry, content: Content, tmp_path: Path
) -> None:
    import httpx
    from support.proc import run_pinlock, tree_digest

    from pinlock.sources.oci.errors import ManifestNotFoundError

    built = content.image("library/debian", "13.4")
    arm = built.platforms["linux/arm64"]
    # The index stays; the arm64 manifest it lists is gone (a push cut short, a deletion).
    r = httpx.delete(f"{mutable_registry.url}/v2/library/debian/manifests/{arm}")
    assert r.status_code == 202
    src = source_for(mutable_registry.url, tmp_path)
    with pytest.raises(ManifestNotFoundError) as exc:
        src.resolve(debian_input("13.4"), Context(Lock(platforms=("linux/amd64",
                                                                   "linux/arm64"))))
    assert arm in exc.value.message and "does not serve" in exc.value.message
    assert "linux/arm64" in exc.value.message
    # Through the CLI: nothing written, a clear message, the upstream exit code.
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text("FROM debian:13.4\n")
    env = {"PINLOCK_REGISTRY_MIRRORS": f"docker.io={mutable_registry.url}",
           "DOCKER_CONFIG": str(tmp_path)}
    assert run_pinlock("init", "--dockerfile", "Dockerfile", cwd=project, env=env).code == 0
    before = tree_digest(project)
    p = run_pinlock("lock", cwd=project, env=env, limit=60)
    p.assert_clean()
    assert p.code == 3, p.text
    assert f"{arm}, which the registry does not serve" in p.err, p.err
    assert tree_digest(project) == before
