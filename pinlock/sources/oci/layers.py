"""Read files out of an image's layers, streaming, with whiteouts and blob digests honoured.

The Debian source uses it to read ``/var/lib/dpkg/status`` of a locked base image.
``read_image_file`` reads layers top-down: the first layer that holds the path, or
deletes it with a whiteout (``.wh.<name>``) or an opaque directory marker
(``.wh..wh..opq``), decides. ``read_image_files`` reads every layer in order and
applies each one's changes to the files asked for (``verify --image``).
Every layer read is hashed while it streams and checked against its descriptor
digest (and size) before anything it held is believed.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import posixpath
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pinlock.sources.oci.errors import (
    BlobIntegrityError,
    LayerFormatError,
    UnsupportedMediaTypeError,
)
from pinlock.sources.oci.manifest import Manifest

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_FILE_BYTES = 256 * 1024 * 1024
_T = TypeVar("_T")

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


class BlobStore(Protocol):
    """Where manifests and blobs come from: a registry (RegistryClient) or a local image."""

    def get_manifest(self, repository: str, reference: str, *,
                     expected: str | None = None) -> Manifest: ...

    def open_blob(self, repository: str,
                  digest: str) -> AbstractContextManager[tuple[Iterator[bytes], str]]: ...

    def fetch_blob(self, repository: str, digest: str, *, limit: int = ...) -> bytes: ...


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


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Every member in stream order, each forgotten once passed: TarFile keeps a TarInfo per
    member read (about 500 bytes), so a layer of 300,000 files would hold 140 MB."""
    while (member := tar.next()) is not None:
        yield member
        tar.members.clear()  # type: ignore[attr-defined]  # not in typeshed; CPython has it


def _scan(tar: tarfile.TarFile, target: str, max_size: int, what: str) -> _LayerVerdict:
    content: bytes | None = None
    present = False
    deleted = False
    for member in _members(tar):
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


def _stream_layer(
    client: BlobStore, repository: str, layer: Mapping[str, Any],
    scan: Callable[[tarfile.TarFile, str], _T],
) -> _T:
    """Stream one layer blob through ``scan``; the digest (and size) is checked before the
    result is returned, so nothing a tampered layer held is ever believed."""
    digest = str(layer.get("digest", ""))
    media_type = str(layer.get("mediaType", ""))
    size = layer.get("size")
    with client.open_blob(repository, digest) as (chunks, what):
        reader = _HashingReader(chunks, digest.split(":", 1)[0])
        failure: Exception | None = None
        result: _T | None = None
        try:
            with _open_tar(reader, media_type, what) as tar:
                result = scan(tar, what)
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
    if failure is not None or result is None:
        raise LayerFormatError(f"{what}: not a readable tar layer ({failure})") from failure
    return result


def read_layer_file(
    client: BlobStore, repository: str, layer: Mapping[str, Any], target: str,
    *, max_size: int = MAX_FILE_BYTES,
) -> _LayerVerdict:
    """Stream one layer blob, scanning for ``target``; the digest is checked before returning."""
    return _stream_layer(client, repository, layer,
                         lambda tar, what: _scan(tar, target, max_size, what))


def read_image_file(
    client: BlobStore, repository: str, manifest_digest: str, path: str,
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


# ------------------------------------------------------------------ several files, every layer


@dataclass(frozen=True)
class LayerChanges:
    """What one layer does to the files asked for."""

    files: Mapping[str, bytes] = field(default_factory=dict)  # regular files it holds
    hidden: tuple[str, ...] = ()  # whiteouts and non-directories: the path and all below it
    opaque: tuple[str, ...] = ()  # directories whose lower contents it hides ("": the root)


def _under(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")


def _scan_many(tar: tarfile.TarFile, what: str, *, files: Sequence[str],
               dirs: Sequence[str], budget: int) -> LayerChanges:
    targets = (*files, *dirs)

    def wanted(name: str) -> bool:
        return name in files or posixpath.dirname(name) in dirs

    def above(name: str) -> bool:  # a target or one of its parents
        return any(_under(t, name) for t in targets)

    found: dict[str, bytes] = {}
    hidden: list[str] = []
    opaque: list[str] = []
    for member in _members(tar):
        name = normalise_path(member.name)
        parent, base = posixpath.split(name)
        if base == OPAQUE:
            if above(parent):
                opaque.append(parent)
            continue
        if base.startswith(WHITEOUT):
            gone = posixpath.join(parent, base[len(WHITEOUT):])
            if above(gone) or wanted(gone):
                hidden.append(gone)
            continue
        if wanted(name) and member.isfile():
            budget -= member.size
            if budget < 0:
                # A status file is a few MB; more is an image built to exhaust memory.
                raise LayerFormatError(
                    f"{what}: /{name} is {member.size} bytes: the files read would pass "
                    f"the limit ({budget + member.size} bytes were left)")
            f = tar.extractfile(member)
            found[name] = f.read() if f is not None else b""
        elif wanted(name) and (member.issym() or member.islnk()):
            raise LayerFormatError(
                f"{what}: /{name} is a link to {member.linkname!r}; "
                "pinlock reads regular files only")
        elif (wanted(name) or above(name)) and not member.isdir():
            hidden.append(name)  # a device, or a parent replaced by a non-directory
        elif wanted(name):
            hidden.append(name)  # a directory where a file was
    return LayerChanges(found, tuple(hidden), tuple(opaque))


def apply_layer(state: dict[str, bytes], changes: LayerChanges) -> None:
    """Put one layer over ``state``: its whiteouts and opaque markers hide what lies below
    (never what the same layer adds: the OCI layer rules), then its files replace."""
    for top in (*changes.opaque, *changes.hidden):
        for path in [p for p in state if _under(p, top)]:
            del state[path]
    state.update(changes.files)


def read_image_files(
    client: BlobStore, repository: str, manifest_digest: str, *,
    files: Sequence[str] = (), dirs: Sequence[str] = (), max_total: int = MAX_FILE_BYTES,
) -> dict[str, bytes]:
    """The files of one platform's image: each of ``files`` and every regular file directly
    in one of ``dirs`` that the final filesystem holds, by normalised path.

    Every layer is streamed in order (bottom first) and checked against its digest;
    memory holds the files asked for only, at most ``max_total`` bytes of them.
    """
    files = tuple(normalise_path(f) for f in files)
    dirs = tuple(normalise_path(d) for d in dirs)
    if not all(files) or not all(dirs):
        raise LayerFormatError("the root is not a file path")
    manifest = client.get_manifest(repository, manifest_digest)
    if manifest.is_index:
        raise UnsupportedMediaTypeError(
            f"{manifest_digest} is an index; pass the digest of one platform's manifest")
    layers = manifest.json().get("layers") or []
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise UnsupportedMediaTypeError(f"manifest {manifest_digest}: bad 'layers' list")
    state: dict[str, bytes] = {}
    for layer in layers:
        scan = functools.partial(_scan_many, files=files, dirs=dirs,
                                 budget=max_total - sum(len(v) for v in state.values()))
        changes = _stream_layer(client, repository, layer, scan)
        apply_layer(state, changes)
    return state
