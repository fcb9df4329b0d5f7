"""Images on disk as skopeo writes them: ``oci:PATH[:TAG]`` layouts, ``docker-archive:PATH`` tars.

Both serve manifests and blobs the way RegistryClient does (the ``BlobStore`` of
``layers.py``), so a local image is read by the same code as a pushed one, with the
same checks: every manifest and config is hashed against the digest that names it,
every layer while it streams. A missing or malformed file is bad input (exit 2).
"""

from __future__ import annotations

import gzip
import json
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pinlock.digest import Digest, DigestFormatError, check_bytes, hash_as
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    LocalImageError,
    ManifestIntegrityError,
)
from pinlock.sources.oci.manifest import (
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    OCI_MANIFEST,
    Manifest,
    check_media_type,
)

REF_NAME = "org.opencontainers.image.ref.name"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
CHUNK = 1 << 16
MAX_INDEX_BYTES = 4 * 1024 * 1024


def _digest(value: object, what: str) -> Digest:
    try:
        return Digest.parse(str(value))
    except DigestFormatError as exc:
        raise LocalImageError(f"{what}: {exc}") from None


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LocalImageError(f"{what}: not JSON ({exc})") from None


def _read_capped(fh: IO[bytes], limit: int, what: str) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise LocalImageError(f"{what}: larger than {limit} bytes")
    return data


def _same_tag(a: str, b: str) -> bool:
    """``app:1`` and ``docker.io/library/app:1`` (as skopeo records it) name one image."""
    try:
        ra, rb = parse_image_ref(a), parse_image_ref(b)
    except ImageRefError:
        return a == b
    return (ra.canonical, ra.tag or "latest") == (rb.canonical, rb.tag or "latest")


def _ref_name(entry: dict[str, Any]) -> str | None:
    """The tag an index.json entry carries (``org.opencontainers.image.ref.name``)."""
    annotations = entry.get("annotations")
    name = annotations.get(REF_NAME) if isinstance(annotations, dict) else None
    return name if isinstance(name, str) else None


class OciLayout:
    """An OCI image layout directory: ``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / "oci-layout").is_file() or not (path / "index.json").is_file():
            raise LocalImageError(
                f"{path}: not an OCI image layout (no oci-layout and index.json)",
                hint="write one with `skopeo copy docker://REF oci:PATH:TAG`")

    def __str__(self) -> str:
        return f"oci:{self.path}"

    def _blob_path(self, digest: str, what: str) -> Path:
        d = _digest(digest, what)  # validated: no path can escape blobs/
        blob = self.path / "blobs" / d.algorithm / d.hex
        if not blob.is_file():
            raise LocalImageError(f"{self}: blob {digest} is missing ({what})")
        return blob

    def top(self, tag: str | None) -> str:
        """The digest ``index.json`` names for ``tag`` (or its only entry when no tag)."""
        what = f"{self}: index.json"
        with (self.path / "index.json").open("rb") as fh:
            index = _json(_read_capped(fh, MAX_INDEX_BYTES, what), what)
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list):
            raise LocalImageError(f"{what}: no 'manifests' list")
        entries = [e for e in entries if isinstance(e, dict)]
        named = [(_ref_name(e), e) for e in entries]
        tags = sorted({n for n, _ in named if n})
        if tag is None:
            if len(entries) != 1:
                raise LocalImageError(
                    f"{what}: holds {len(entries)} images; name one as oci:PATH:TAG",
                    hint=f"tags in the layout: {', '.join(tags) or 'none'}")
            chosen = entries[0]
        else:
            hits = [e for n, e in named if n == tag]
            if not hits:
                raise LocalImageError(f"{what}: no image tagged {tag!r}",
                                      hint=f"tags in the layout: {', '.join(tags) or 'none'}")
            chosen = hits[-1]
        return str(_digest(chosen.get("digest"), what))

    def get_manifest(self, repository: str, reference: str, *,
                     expected: str | None = None) -> Manifest:
        what = f"{self}: manifest {reference}"
        with self._blob_path(reference, what).open("rb") as fh:
            raw = _read_capped(fh, MAX_MANIFEST_BYTES, what)
        check_bytes(raw, reference, what=f"{what}: bytes do not hash to the digest",
                    error=ManifestIntegrityError)
        return Manifest(reference, check_media_type(raw, None, what), raw)

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[tuple[Iterator[bytes], str]]:
        what = f"{self}: blob {digest}"
        with self._blob_path(digest, what).open("rb") as fh:
            yield iter(lambda: fh.read(CHUNK), b""), what

    def fetch_blob(self, repository: str, digest: str, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        what = f"{self}: blob {digest}"
        with self._blob_path(digest, what).open("rb") as fh:
            raw = _read_capped(fh, limit, what)
        check_bytes(raw, digest, what=f"{what}: bytes do not hash to the digest",
                    error=BlobIntegrityError)
        return raw


class DockerArchive:
    """A ``docker save`` / ``skopeo copy … docker-archive:`` tarball, seen as one manifest.

    Its ``manifest.json`` names a config and the layer files. The config is checked
    against its name when that is a digest (``<hex>.json``, ``blobs/sha256/<hex>``); each
    layer against the config's ``rootfs.diff_ids`` (the sha256 of the uncompressed tar,
    which is what ``docker load`` checks). The manifest built from them is named by the
    config digest, the image ID ``docker images`` shows.
    """

    def __init__(self, path: Path, reference: str | None) -> None:
        self.path = path
        self.reference = reference
        try:
            self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise LocalImageError(f"{path}: no such file",
                                  hint="write one with `skopeo copy docker://REF "
                                  "docker-archive:PATH`") from None
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise LocalImageError(f"{path}: not a tar archive ({exc})") from None
        try:
            self._load()
        except BaseException:
            self._tar.close()
            raise

    def __str__(self) -> str:
        return f"docker-archive:{self.path}"

    def close(self) -> None:
        self._tar.close()

    def _member(self, name: str, what: str) -> IO[bytes]:
        try:
            fh = self._tar.extractfile(name)
        except KeyError:
            fh = None
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise LocalImageError(f"{self}: {what}: {exc}") from None
        if fh is None:
            raise LocalImageError(f"{self}: {what}: {name!r} is not a file in the archive")
        return fh

    def _load(self) -> None:
        what = "manifest.json"
        entries = _json(_read_capped(self._member("manifest.json", what), MAX_INDEX_BYTES,
                                     what), f"{self}: {what}")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise LocalImageError(f"{self}: manifest.json is not a list of images")
        tags = sorted(str(t) for e in entries for t in (e.get("RepoTags") or []))
        if self.reference is None:
            if len(entries) != 1:
                raise LocalImageError(
                    f"{self}: holds {len(entries)} images; name one as "
                    "docker-archive:PATH:NAME:TAG", hint=f"tags: {', '.join(tags) or 'none'}")
            entry = entries[0]
        else:
            hits = [e for e in entries if any(_same_tag(self.reference, str(t))
                                              for t in e.get("RepoTags") or [])]
            if not hits:
                raise LocalImageError(f"{self}: no image tagged {self.reference!r}",
                                      hint=f"tags: {', '.join(tags) or 'none'}")
            entry = hits[0]
        config_name = str(entry.get("Config", ""))
        layer_names = entry.get("Layers")
        if not config_name or not isinstance(layer_names, list):
            raise LocalImageError(f"{self}: manifest.json entry without Config and Layers")
        what = f"config {config_name}"
        raw = _read_capped(self._member(config_name, what), MAX_CONFIG_BYTES, what)
        self.config_digest = hash_as(raw, "sha256")
        named = config_name.rsplit("/", 1)[-1].removesuffix(".json")
        if len(named) == 64 and all(c in "0123456789abcdef" for c in named):
            check_bytes(raw, f"sha256:{named}", what=f"{self}: {what}: bytes do not hash to "
                        "its name", error=BlobIntegrityError)
        config = _json(raw, f"{self}: {what}")
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") if isinstance(config, dict) \
            else None
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_names):
            raise LocalImageError(
                f"{self}: {what}: rootfs.diff_ids does not list one digest per layer "
                f"({len(layer_names)} layers)")
        self._layers: dict[str, str] = {}
        for diff_id, name in zip(diff_ids, layer_names, strict=True):
            self._layers[str(_digest(diff_id, f"{self}: {what}"))] = str(name)
        self._config_raw = raw
        self._manifest_raw = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": self.config_digest, "size": len(raw)},
            "layers": [{"mediaType": OCI_LAYER_TAR, "digest": str(d)} for d in diff_ids],
        }, sort_keys=True).encode()

    def top(self) -> str:
        return self.config_digest

    def get_manifest(self, repository: str, reference: str, *,
                     expected: str | None = None) -> Manifest:
        if reference != self.config_digest:
            raise LocalImageError(f"{self}: no manifest {reference}")
        return Manifest(self.config_digest, OCI_MANIFEST, self._manifest_raw)

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[tuple[Iterator[bytes], str]]:
        name = self._layers.get(digest)
        if name is None:
            raise LocalImageError(f"{self}: no layer {digest}")
        what = f"{self}: layer {name}"
        fh = self._member(name, what)
        gzipped = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        # docker load takes gzip layers as well; diff_ids name the uncompressed tar.
        stream: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh)

        def chunks() -> Iterator[bytes]:
            try:
                yield from iter(lambda: stream.read(CHUNK), b"")
            except (OSError, EOFError, zlib.error) as exc:
                raise LocalImageError(f"{what}: cannot be read ({exc})") from None

        yield chunks(), what

    def fetch_blob(self, repository: str, digest: str, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        if digest != self.config_digest:
            raise LocalImageError(f"{self}: no blob {digest}")
        return self._config_raw
