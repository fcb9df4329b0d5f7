"""Images on disk: docker-archive tars (plain and gzip layers) and OCI layouts, read and checked."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from support.oci_registry import Layout, build_image, sha256, tar_layer

from pinlock.errors import IntegrityError
from pinlock.sources.oci.errors import LocalImageError
from pinlock.sources.oci.image import image_platforms, open_image, parse_location
from pinlock.sources.oci.layers import read_image_files

STATUS = "var/lib/dpkg/status"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: list[dict[str, bytes | None]], *, gzip_layers: bool = False,
                   tags: tuple[str, ...] = ("app:1",), tamper: bool = False,
                   config_name: str | None = None, images: int = 1) -> None:
    """A ``docker save`` tar: manifest.json, ``<hex>.json`` config, ``<id>/layer.tar`` layers."""
    with tarfile.open(path, "w") as tar:
        entries = []
        for i in range(images):
            names, diff_ids = [], []
            for n, files in enumerate(layers):
                raw, diff_id = tar_layer(files, compress=False)
                if tamper and n == len(layers) - 1:
                    raw, _ = tar_layer({**files, "etc/evil": b"x"}, compress=False)
                name = f"{i}{n:063d}/layer.tar"
                _add(tar, name, gzip.compress(raw, mtime=0) if gzip_layers else raw)
                names.append(name)
                diff_ids.append(diff_id)
            config = json.dumps({"architecture": "arm64", "os": "linux", "rootfs": {
                "type": "layers", "diff_ids": diff_ids}, "n": i}).encode()
            cname = config_name or f"{hashlib.sha256(config).hexdigest()}.json"
            _add(tar, cname, config)
            entries.append({"Config": cname, "RepoTags": [f"docker.io/library/{t}" for t in tags]
                            if i == 0 else [f"other:{i}"], "Layers": names})
        _add(tar, "manifest.json", json.dumps(entries).encode())


LAYERS: list[dict[str, bytes | None]] = [
    {"var": None, "var/lib": None, "var/lib/dpkg": None, STATUS: b"Package: base\n"},
    {"var/lib/dpkg/status": b"Package: app\n", "var/lib/dpkg/status.d": None,
     "var/lib/dpkg/status.d/x": b"Package: x\n"},
]


def _read(ref: str) -> tuple[dict[str, str], dict[str, bytes]]:
    with open_image(parse_location(ref), {}) as image:
        found, missing = image_platforms(image, ["linux/arm64"])
        assert not missing
        (digest,) = found.values()
        return found, read_image_files(image.store, image.repository, digest, files=[STATUS],
                                       dirs=["var/lib/dpkg/status.d"])


@pytest.mark.parametrize("gzip_layers", [False, True])
def test_docker_archive_layers_plain_and_gzip(tmp_path: Path, gzip_layers: bool) -> None:
    path = tmp_path / "app.tar"
    docker_archive(path, LAYERS, gzip_layers=gzip_layers)
    found, files = _read(f"docker-archive:{path}")
    assert list(found) == ["linux/arm64"]
    assert files == {STATUS: b"Package: app\n", "var/lib/dpkg/status.d/x": b"Package: x\n"}
    # the tag as written and as skopeo records it name the same image
    assert _read(f"docker-archive:{path}:app:1")[1] == files


@pytest.mark.parametrize(("kwargs", "ref_tail", "error", "message"), [
    ({"tamper": True}, "", IntegrityError, "do not hash to the digest"),
    ({"config_name": "f" * 64 + ".json"}, "", IntegrityError, "do not hash to its name"),
    ({"images": 2}, "", LocalImageError, "holds 2 images"),
    ({}, ":app:2", LocalImageError, "no image tagged 'app:2'"),
])
def test_docker_archive_refusals(tmp_path: Path, kwargs: dict[str, object], ref_tail: str,
                                 error: type[Exception], message: str) -> None:
    path = tmp_path / "app.tar"
    docker_archive(path, LAYERS, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        _read(f"docker-archive:{path}{ref_tail}")


def test_docker_archive_corrupt_gzip_layer(tmp_path: Path) -> None:
    path = tmp_path / "app.tar"
    docker_archive(path, LAYERS, gzip_layers=True)
    data = bytearray(path.read_bytes())
    at = data.index(b"\x1f\x8b", data.index(b"\x1f\x8b") + 1)  # the second layer
    data[at + 40: at + 60] = b"\0" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(LocalImageError) as caught:
        _read(f"docker-archive:{path}")
    assert "cannot be read" in caught.value.message


def test_oci_layout_missing_and_tampered_blobs(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    image = build_image(layout, "v1", seed="s")
    blobs = layout.path / "blobs" / "sha256"
    found, files = _read(f"oci:{layout.path}:v1")
    assert files == {STATUS: image.status["linux/arm64"]}
    with pytest.raises(LocalImageError, match="no image tagged 'v2'"):
        _read(f"oci:{layout.path}:v2")
    digest = found["linux/arm64"]
    manifest = (blobs / digest.split(":")[1]).read_bytes()
    (blobs / digest.split(":")[1]).write_bytes(manifest + b" ")
    with pytest.raises(IntegrityError, match="do not hash to the digest"):
        _read(f"oci:{layout.path}:v1")
    (blobs / digest.split(":")[1]).unlink()
    with pytest.raises(LocalImageError, match=f"blob {digest} is missing"):
        _read(f"oci:{layout.path}")
    assert sha256(manifest) == digest
