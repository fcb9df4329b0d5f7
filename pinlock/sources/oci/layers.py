"""Read one file out of an image's layers, streaming, with whiteouts and blob digests honoured.

The Debian source uses it to read ``/var/lib/dpkg/status`` of a locked base image.
Layers are read top-down: the first layer that holds the path, or deletes it with a
whiteout (``.wh.<name>``) or an opaque directory marker (``.wh..wh..opq``), decides.
Every layer read is hashed while it streams and checked against its descriptor
digest (and size) before anything it held is believed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import posixpath
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pinlock.sources.oci.client import Manifest, RegistryClient
from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    LayerFormatError,
    UnsupportedMediaTypeError,
)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_FILE_BYTES = 256 * 1024 * 1024

_GZIP_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
})
_TAR_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
})
_ZSTD_TYPES = frozenset({"application/vnd.oci.image.layer.v1.tar+zstd"})


def normalise_path(path: str) -> str:
    """``/var/lib/dpkg/status`` and ``./var/lib/dpkg/status`` -> ``var/lib/dpkg/status``."""
    norm = posixpath.normpath("/" + path).lstrip("/")
    return "" if norm == "." else norm


class _HashingReader(io.RawIOBase):
    """A file object over an iterator of chunks that hashes everything it hands out."""

    def __init__(self, chunks: Iterator[bytes], algorithm: str) -> None:
        self._chunks = chunks
        self._buf = b""
        self.hash = hashlib.new(algorithm)
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
            self.hash.update(self._buf)
            self.size += len(self._buf)
        n = min(len(view), len(self._buf))
        view[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def drain(self) -> None:
        self._buf = b""
        for chunk in self._chunks:
            self.hash.update(chunk)
            self.size += len(chunk)


@dataclass(frozen=True)
class _LayerVerdict:
    content: bytes | None  # the file's bytes, when this layer holds it as a regular file
    deleted: bool  # the layer hides the path from the layers below


def _scan(tar: tarfile.TarFile, target: str, max_size: int, what: str) -> _LayerVerdict:
    content: bytes | None = None
    present = False
    deleted = False
    for member in tar:
        name = normalise_path(member.name)
        parent, base = posixpath.split(name)
        if base == OPAQUE:
            # Opaque directory: everything below ``parent`` in lower layers is hidden.
            if parent == "" or target.startswith(parent + "/"):
                deleted = True
            continue
        if base.startswith(WHITEOUT):
            gone = posixpath.join(parent, base[len(WHITEOUT):])
            if target == gone or target.startswith(gone + "/"):
                deleted = True
            continue
        if name == target:
            present = True
            if member.isfile():
                if member.size > max_size:
                    raise LayerFormatError(
                        f"{what}: /{target} is {member.size} bytes, more than {max_size}"
                    )
                f = tar.extractfile(member)
                content = f.read() if f is not None else b""
            elif member.issym() or member.islnk():
                raise LayerFormatError(
                    f"{what}: /{target} is a link to {member.linkname!r}; "
                    "pinlock reads regular files only"
                )
            else:
                content = None  # a directory or device replaces the file
        elif target.startswith(name + "/") and not member.isdir():
            # A parent path replaced by a non-directory hides the file too.
            present, content = True, None
    if present:
        return _LayerVerdict(content, deleted=content is None)
    return _LayerVerdict(None, deleted)


def _open_tar(reader: _HashingReader, media_type: str, what: str) -> tarfile.TarFile:
    buffered = io.BufferedReader(reader, buffer_size=1 << 16)
    if media_type in _ZSTD_TYPES:
        raise UnsupportedMediaTypeError(
            f"{what}: zstd-compressed layers are not supported",
            hint="use an image with gzip or uncompressed layers",
        )
    if media_type in _GZIP_TYPES or (media_type not in _TAR_TYPES and buffered.peek(2)[:2]
                                     == b"\x1f\x8b"):
        return tarfile.open(fileobj=gzip.GzipFile(fileobj=buffered, mode="rb"), mode="r|")
    if media_type in _TAR_TYPES or media_type.endswith(".tar"):
        return tarfile.open(fileobj=buffered, mode="r|")
    raise UnsupportedMediaTypeError(f"{what}: unsupported layer media type {media_type!r}")


def read_layer_file(
    client: RegistryClient, repository: str, layer: Mapping[str, Any], target: str,
    *, max_size: int = MAX_FILE_BYTES,
) -> _LayerVerdict:
    """Stream one layer blob, scanning for ``target``; the digest is checked before returning."""
    digest = str(layer.get("digest", ""))
    media_type = str(layer.get("mediaType", ""))
    size = layer.get("size")
    with client.open_blob(repository, digest) as (chunks, what):
        reader = _HashingReader(chunks, digest.split(":", 1)[0])
        failure: Exception | None = None
        verdict = _LayerVerdict(None, False)
        try:
            with _open_tar(reader, media_type, what) as tar:
                verdict = _scan(tar, target, max_size, what)
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            failure = exc  # judged after the digest: altered bytes explain most breakage
        reader.drain()
    observed = f"{digest.split(':', 1)[0]}:{reader.hash.hexdigest()}"
    if observed != digest:
        raise BlobIntegrityError(f"{what}: layer bytes do not hash to the digest",
                                 expected=digest, observed=observed)
    if isinstance(size, int) and reader.size != size:
        raise BlobIntegrityError(f"{what}: layer size differs from the manifest",
                                 expected=str(size), observed=str(reader.size))
    if failure is not None:
        raise LayerFormatError(f"{what}: not a readable tar layer ({failure})") from failure
    return verdict


def read_image_file(
    client: RegistryClient, repository: str, manifest_digest: str, path: str,
    *, max_size: int = MAX_FILE_BYTES,
) -> bytes | None:
    """The content of ``path`` in the image ``manifest_digest`` (one platform), or None.

    ``repository`` is as written (``debian``); ``manifest_digest`` a platform manifest
    digest from the lock (not an index). The manifest is fetched by digest and verified.
    """
    target = normalise_path(path)
    if not target:
        raise LayerFormatError(f"{path!r} is not a file path")
    manifest: Manifest = client.get_manifest(repository, manifest_digest)
    if manifest.is_index:
        raise UnsupportedMediaTypeError(
            f"{manifest_digest} is an index; pass the digest of one platform's manifest"
        )
    layers = manifest.json().get("layers") or []
    if not isinstance(layers, list):
        raise UnsupportedMediaTypeError(f"manifest {manifest_digest}: 'layers' is not a list")
    for layer in reversed(layers):
        if not isinstance(layer, dict):
            raise UnsupportedMediaTypeError(f"manifest {manifest_digest}: bad layer entry")
        verdict = read_layer_file(client, repository, layer, target, max_size=max_size)
        if verdict.content is not None:
            return verdict.content
        if verdict.deleted:
            return None
    return None
