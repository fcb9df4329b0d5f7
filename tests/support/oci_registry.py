"""Real OCI registries on loopback for tests: docker-registry, a JWT token issuer, image builders.

- ``start_registry`` runs Debian's ``docker-registry`` (CNCF distribution 2.8) with
  its own YAML config on a free 127.0.0.1 port: plain HTTP, TLS (a trustme CA) and/or
  token auth (``auth.token`` trusting the issuer's root via ``rootcertbundle``).
- ``TokenIssuer`` is a loopback HTTP server issuing ES256 JWTs with an ``x5c`` chain,
  the way ghcr.io and Docker Hub hand out registry tokens.
- ``build_image`` writes a small multi-platform OCI image (per-platform gzip layers
  with ``/var/lib/dpkg/status`` and whiteouts, an attestation manifest with platform
  ``unknown/unknown``, an index) into an OCI image layout; ``skopeo_copy`` pushes it.
- ``push_blob``/``push_manifest`` speak the distribution HTTP API directly (for a
  Docker manifest list, and for retagging).
- ``FaultProxy`` sits in front of a registry to inject faults.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

REGISTRY_BIN = "/usr/bin/docker-registry"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ACCEPT_ALL = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
PLATFORMS = ("linux/amd64", "linux/arm64")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# ------------------------------------------------------------------ certificates / JWT


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """A loopback token endpoint (the ``realm``): GET ?service=&scope= → ES256 JWT with x5c.

    ``users`` maps username → password for Basic credentials; anonymous callers get
    ``pull`` on ``public`` repositories (all when ``public`` is None). Every request is
    recorded in ``requests`` as (scope list, username or None).
    """

    def __init__(self, workdir: Path, *, service: str = "pinlock-test-registry",
                 issuer: str = "pinlock-test-issuer", users: Mapping[str, str] | None = None,
                 public: set[str] | None = None) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.service, self.issuer = service, issuer
        self.users = dict(users or {})
        self.public = public
        self.requests: list[tuple[tuple[str, ...], str | None]] = []
        now = datetime.datetime.now(datetime.UTC)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinlock test token root")])
        root = (
            x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        self._key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token signer")]))
            .issuer_name(root_name).public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        self.root_bundle = workdir / "token-root.pem"
        self.root_bundle.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        self._x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                     for c in (leaf, root)]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.realm = ""

    def sign(self, claims: Mapping[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        header = {"typ": "JWT", "alg": "ES256", "x5c": self._x5c}
        signing_input = f"{_b64url(canonical_json(header))}.{_b64url(canonical_json(claims))}"
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        # JWS wants the raw r||s form, not DER.
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _grant(self, scopes: list[str], user: str | None) -> list[dict[str, Any]]:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            wanted = [a for a in actions.split(",") if a]
            if user is not None:
                allowed = [a for a in wanted if a in ("pull", "push", "delete", "*")]
            elif self.public is None or name in self.public:
                allowed = [a for a in wanted if a == "pull"]
            else:
                allowed = []
            access.append({"type": "repository", "name": name, "actions": allowed})
        return access

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scopes = [s for v in query.get("scope", []) for s in v.split(" ") if s]
                user: str | None = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    raw = base64.b64decode(auth[6:]).decode()
                    name, _, password = raw.partition(":")
                    if issuer.users.get(name) != password:
                        issuer.requests.append((tuple(scopes), f"{name}(rejected)"))
                        self.send_response(401)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        self.wfile.write(b'{"details":"incorrect username or password"}')
                        return
                    user = name
                issuer.requests.append((tuple(scopes), user))
                now = int(time.time())
                claims = {
                    "iss": issuer.issuer, "sub": user or "", "aud": issuer.service,
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                    "access": issuer._grant(scopes, user),
                }
                body = json.dumps({"token": issuer.sign(claims), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# ------------------------------------------------------------------ the registry process


@dataclass
class Registry:
    """A running docker-registry; ``host`` is ``127.0.0.1:<port>``."""

    url: str
    host: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path
    ca_pem: Path | None = None
    issuer: TokenIssuer | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def running_registry(
    tmp: Path, *, storage: Path | None = None, tls: Any = None, issuer: TokenIssuer | None = None,
) -> Iterator[Registry]:
    """A real registry for a fixture or a test (``with``), stopped when the block ends; skips
    when the docker-registry binary is missing. Its own files go to ``tmp/reg``, its images to
    ``storage`` (``tmp/storage`` by default); ``tls`` and ``issuer`` are start_registry's."""
    if shutil.which("docker-registry") is None:
        import pytest

        pytest.skip("needs docker-registry (apt-get install docker-registry)")
    reg = start_registry(tmp / "reg", storage=storage or tmp / "storage", tls=tls, issuer=issuer)
    try:
        yield reg
    finally:
        reg.stop()


def start_registry(
    workdir: Path, *, storage: Path, tls: Any = None, issuer: TokenIssuer | None = None,
    timeout: float = 20.0,
) -> Registry:
    """Start docker-registry on a free loopback port; wait until ``/v2/`` answers (bounded).

    ``tls`` is a ``trustme.CA``: a server certificate for 127.0.0.1 is issued from it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    host = f"127.0.0.1:{port}"
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "  delete:",
        "    enabled: true",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        f"  addr: {host}",
        f"  secret: {uuid.uuid4().hex}",
    ]
    ca_pem: Path | None = None
    scheme = "http"
    if tls is not None:
        cert = tls.issue_cert("127.0.0.1", "localhost")
        cert_path, key_path = workdir / "server.pem", workdir / "server.key"
        cert.cert_chain_pems[0].write_to_path(str(cert_path))
        for extra in cert.cert_chain_pems[1:]:
            with cert_path.open("ab") as fh:
                fh.write(extra.bytes())
        cert.private_key_pem.write_to_path(str(key_path))
        ca_pem = workdir / "ca.pem"
        tls.cert_pem.write_to_path(str(ca_pem))
        lines += ["  tls:", f"    certificate: {cert_path}", f"    key: {key_path}"]
        scheme = "https"
    if issuer is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {issuer.realm}",
            f"    service: {issuer.service}",
            f"    issuer: {issuer.issuer}",
            f"    rootcertbundle: {issuer.root_bundle}",
        ]
    config = workdir / "registry.yml"
    config.write_text("\n".join(lines) + "\n")
    log = workdir / "registry.log"
    with log.open("wb") as logfh:
        process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=logfh,
                                   stderr=subprocess.STDOUT)
    registry = Registry(f"{scheme}://{host}", host, storage, process, log, ca_pem, issuer)
    deadline = time.monotonic() + timeout
    verify: bool | ssl.SSLContext = (
        ssl.create_default_context(cafile=str(ca_pem)) if ca_pem else True
    )
    with httpx.Client(verify=verify, timeout=2.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{registry.url}/v2/").status_code in (200, 401):
                    return registry
            if time.monotonic() > deadline:
                registry.stop()
                raise RuntimeError(f"docker-registry on {host} not ready after {timeout}s")
            time.sleep(0.05)


# ------------------------------------------------------------------ images


def tar_layer(files: Mapping[str, bytes | None], *, compress: bool = True) -> tuple[bytes, str]:
    """A reproducible layer: path → bytes (file) or None (directory). Returns (blob, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    data = raw.getvalue()
    diff_id = sha256(data)
    if compress:
        data = gzip.compress(data, mtime=0)
    return data, diff_id


def dpkg_status(*packages: tuple[str, str, str]) -> bytes:
    stanzas = [
        f"Package: {n}\nStatus: install ok installed\nArchitecture: {a}\nVersion: {v}\n"
        for n, v, a in packages
    ]
    return "\n".join(stanzas).encode()


@dataclass
class BuiltImage:
    """An image written into an OCI layout, with every digest the tests compare against."""

    tag: str
    index_digest: str
    media_type: str
    platforms: dict[str, str]  # platform -> manifest digest
    attestation: str | None
    status: dict[str, bytes]  # platform -> /var/lib/dpkg/status content
    blobs: dict[str, bytes] = field(repr=False, default_factory=dict)
    manifests: dict[str, tuple[bytes, str]] = field(repr=False, default_factory=dict)


class Layout:
    """An OCI image layout directory holding several tagged images."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.refs: list[dict[str, Any]] = []
        self.images: dict[str, BuiltImage] = {}

    def add_blob(self, data: bytes) -> str:
        digest = sha256(data)
        (self.path / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return digest

    def tag(self, tag: str, media_type: str, data: bytes) -> None:
        self.refs = [r for r in self.refs
                     if r["annotations"]["org.opencontainers.image.ref.name"] != tag]
        self.refs.append({"mediaType": media_type, "digest": sha256(data), "size": len(data),
                          "annotations": {"org.opencontainers.image.ref.name": tag}})
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs}
        (self.path / "index.json").write_bytes(canonical_json(index))


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def build_image(layout: Layout, tag: str, *, seed: str, platforms: tuple[str, ...] = PLATFORMS,
                attestation: bool = True, docker_types: bool = False,
                single_platform: bool = False, compress: bool = True,
                installed: tuple[tuple[str, str], ...] | None = None,
                created: str | None = None,
                annotations: dict[str, str] | None = None) -> BuiltImage:
    """Write one tagged image into ``layout``.

    Per platform two layers: the lower one holds ``/var/lib/dpkg/status``, ``etc/gone``
    and ``etc/opaque/old``; the upper one whites out ``etc/gone`` (``.wh.gone``), makes
    ``etc/opaque`` opaque (``.wh..wh..opq``) with a new ``etc/opaque/new``, and for
    ``var/lib/dpkg/status`` nothing (so the lower file shows through). ``installed``:
    the (name, version) pairs that status file lists (default base-files and libc6).
    ``created``: each config's ``created`` time; ``annotations``: the top manifest's or
    index's annotations (``org.opencontainers.image.created``).
    """
    m_type, cfg_type, layer_type, idx_type = (
        (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST) if docker_types
        else (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP if compress else OCI_LAYER_TAR, OCI_INDEX)
    )
    built = BuiltImage(tag, "", idx_type, {}, None, {})

    def blob(data: bytes) -> str:
        built.blobs[sha256(data)] = data
        return layout.add_blob(data)

    def manifest(data: bytes, media: str) -> str:
        built.manifests[sha256(data)] = (data, media)
        return layout.add_blob(data)

    entries = []
    for platform in platforms:
        os_, arch, *variant = platform.split("/")
        status = dpkg_status(*((n, v, arch) for n, v in (
            installed if installed is not None else (("base-files", seed), ("libc6", "2.41-12")))))
        built.status[platform] = status
        lower, lower_id = tar_layer({
            "var": None, "var/lib": None, "var/lib/dpkg": None,
            "var/lib/dpkg/status": status,
            "etc": None, "etc/gone": b"removed above\n", "etc/opaque": None,
            "etc/opaque/old": b"hidden by the opaque marker\n",
            "etc/seed": f"{seed} {platform}\n".encode(),
        }, compress=compress)
        upper, upper_id = tar_layer({
            "etc": None, "etc/.wh.gone": b"", "etc/opaque": None,
            "etc/opaque/.wh..wh..opq": b"", "etc/opaque/new": b"new\n",
        }, compress=compress)
        config = canonical_json({
            "architecture": arch, "os": os_, **({"variant": variant[0]} if variant else {}),
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [lower_id, upper_id]},
            **({"created": created} if created is not None else {}),
        })
        blob(lower)
        blob(upper)
        blob(config)
        body = {
            "schemaVersion": 2, "mediaType": m_type,
            "config": _descriptor(cfg_type, config),
            "layers": [_descriptor(layer_type, lower), _descriptor(layer_type, upper)],
        }
        raw = canonical_json(body)
        digest = manifest(raw, m_type)
        built.platforms[platform] = digest
        plat: dict[str, str] = {"architecture": arch, "os": os_}
        if variant:
            plat["variant"] = variant[0]
        entries.append(_descriptor(m_type, raw, platform=plat))
    if single_platform:
        raw, _ = built.manifests[built.platforms[platforms[0]]]
        built.index_digest, built.media_type = sha256(raw), m_type
        layout.tag(tag, m_type, raw)
        layout.images[tag] = built
        return built
    if attestation and not docker_types:
        statement = canonical_json({"_type": "https://in-toto.io/Statement/v0.1",
                                    "predicateType": "https://spdx.dev/Document", "seed": seed})
        a_cfg = canonical_json({"architecture": "unknown", "os": "unknown", "config": {},
                                "rootfs": {"type": "layers", "diff_ids": [sha256(statement)]}})
        blob(statement)
        blob(a_cfg)
        a_raw = canonical_json({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": _descriptor(OCI_CONFIG, a_cfg),
            "layers": [_descriptor("application/vnd.in-toto+json", statement, annotations={
                "in-toto.io/predicate-type": "https://spdx.dev/Document"})],
        })
        built.attestation = manifest(a_raw, OCI_MANIFEST)
        entries.append(_descriptor(OCI_MANIFEST, a_raw,
                                   platform={"architecture": "unknown", "os": "unknown"},
                                   annotations={
                                       "vnd.docker.reference.digest":
                                           built.platforms[platforms[0]],
                                       "vnd.docker.reference.type": "attestation-manifest"}))
    index = canonical_json({"schemaVersion": 2, "mediaType": idx_type, "manifests": entries,
                            **({"annotations": annotations} if annotations else {})})
    built.index_digest = manifest(index, idx_type)
    layout.tag(tag, idx_type, index)
    layout.images[tag] = built
    return built


# ------------------------------------------------------------------ pushing


def skopeo_copy(layout: Layout, tag: str, registry: Registry, repository: str, *,
                dest_tag: str | None = None, creds: str | None = None,
                workdir: Path | None = None) -> None:
    """``skopeo copy --all --preserve-digests oci:<layout>:<tag> docker://<registry>/<repo>:<tag>``."""
    workdir = workdir or layout.path.parent
    policy = workdir / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    regconf = workdir / "skopeo-registries.conf"
    regconf.write_text("")
    args = ["skopeo", "--policy", str(policy), "copy", "--all", "--preserve-digests", "-q"]
    if registry.ca_pem is not None:
        certs = workdir / "skopeo-certs"
        certs.mkdir(exist_ok=True)
        shutil.copy(registry.ca_pem, certs / "ca.crt")
        args += ["--dest-cert-dir", str(certs)]
    else:
        args += ["--dest-tls-verify=false"]
    if creds is not None:
        args += ["--dest-creds", creds]
    else:
        args += ["--dest-no-creds"]
    args += [f"oci:{layout.path}:{tag}",
             f"docker://{registry.host}/{repository}:{dest_tag or tag}"]
    env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(regconf), "HOME": str(workdir)}
    proc = subprocess.run(args, capture_output=True, env=env, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo copy failed: {proc.stderr.decode()[-2000:]}")


def skopeo_digest(registry: Registry, repository: str, tag: str) -> str:
    """The digest skopeo reports for a tag (the oracle for pinned digests)."""
    args = ["skopeo", "inspect", "--raw", "--no-creds", "--tls-verify=false",
            f"docker://{registry.host}/{repository}:{tag}"]
    proc = subprocess.run(args, capture_output=True, timeout=60, check=True)
    return sha256(proc.stdout)


def push_blob(base_url: str, repository: str, data: bytes, *, headers: Mapping[str, str] = {},
              verify: bool | str = True) -> str:
    """Monolithic blob upload (POST then PUT ?digest=) through the distribution API."""
    digest = sha256(data)
    with httpx.Client(verify=verify, timeout=30) as c:
        r = c.post(f"{base_url}/v2/{repository}/blobs/uploads/", headers=dict(headers))
        r.raise_for_status()
        location = httpx.URL(base_url).join(r.headers["Location"])
        r = c.put(location.copy_add_param("digest", digest), content=data,
                  headers={**headers, "Content-Type": "application/octet-stream"})
        r.raise_for_status()
    return digest


def push_manifest(base_url: str, repository: str, reference: str, data: bytes, media_type: str,
                  *, headers: Mapping[str, str] = {}, verify: bool | str = True) -> str:
    with httpx.Client(verify=verify, timeout=30) as c:
        r = c.put(f"{base_url}/v2/{repository}/manifests/{reference}", content=data,
                  headers={**headers, "Content-Type": media_type})
        r.raise_for_status()
    return sha256(data)


def push_built(base_url: str, repository: str, image: BuiltImage, tag: str | None = None) -> None:
    """Push every blob and manifest of ``image`` over HTTP, children before the index."""
    for data in image.blobs.values():
        push_blob(base_url, repository, data)
    top = image.index_digest
    for digest, (data, media) in image.manifests.items():
        if digest != top:
            push_manifest(base_url, repository, digest, data, media)
    data, media = image.manifests[top]
    push_manifest(base_url, repository, tag or image.tag, data, media)


# ------------------------------------------------------------------ fault injection


@dataclass
class Faults:
    """What the proxy does wrong; each list is consumed one response at a time."""

    tamper_manifests: bool = False  # GET manifests: bytes that no longer hash to the digest
    tamper_blobs: bool = False  # GET blobs: one byte flipped in the middle
    statuses: list[tuple[int, str | None]] = field(default_factory=list)  # (code, Retry-After)
    status_path: str = ""  # only requests whose path contains this get ``statuses``
    strip_link: bool = False
    paginate: int | None = None  # serve tags/list in pages with Link (distribution 2.8 cannot)
    strip_head_digest: bool = False
    basic_auth: tuple[str, str] | None = None  # require Basic credentials (htpasswd stand-in)


class FaultProxy:
    """A loopback HTTP proxy in front of a registry; records (method, path, status)."""

    def __init__(self, upstream: str, faults: Faults | None = None) -> None:
        self.upstream = upstream
        self.faults = faults or Faults()
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.host = self.url.removeprefix("http://")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _reply(self, h: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str],
               body: bytes) -> None:
        with self._lock:
            self.requests.append((h.command, h.path, status))
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _paginate(self, h: BaseHTTPRequestHandler, default: int) -> None:
        """Tag pages the way distribution 3 and Docker Hub serve them: ?n=&last=, Link next."""
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        headers = {"Authorization": h.headers["Authorization"]} if h.headers.get(
            "Authorization") else {}
        with httpx.Client(timeout=30) as c:
            r = c.get(self.upstream + parts.path, headers=headers)
        if r.status_code != 200:
            self._reply(h, r.status_code, dict(r.headers), r.content)
            return
        body = r.json()
        tags = sorted(body.get("tags") or [])
        n = int(query.get("n", [str(default)])[0])
        last = query.get("last", [""])[0]
        rest = [t for t in tags if t > last] if last else tags
        page = rest[:n]
        out = {"Content-Type": "application/json"}
        if len(rest) > n and not self.faults.strip_link:
            out["Link"] = f'<{parts.path}?last={page[-1]}&n={n}>; rel="next"'
        self._reply(h, 200, out, json.dumps({"name": body["name"], "tags": page}).encode())

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        f = self.faults
        if f.basic_auth is not None and h.path.startswith("/v2/"):
            want = "Basic " + base64.b64encode(":".join(f.basic_auth).encode()).decode()
            if h.headers.get("Authorization") != want:
                self._reply(h, 401, {"WWW-Authenticate": 'Basic realm="pinlock-test"'}, b"")
                return
        with self._lock:
            injected = f.statuses.pop(0) if f.statuses and f.status_path in h.path else None
        if injected is not None:
            code, retry_after = injected
            self._reply(h, code, {"Retry-After": retry_after} if retry_after else {}, b"")
            return
        if f.paginate is not None and "/tags/list" in h.path and h.command == "GET":
            self._paginate(h, f.paginate)
            return
        length = int(h.headers.get("Content-Length", "0") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        if f.basic_auth is not None:
            headers.pop("Authorization", None)
        with httpx.Client(timeout=30) as c:
            r = c.request(h.command, self.upstream + h.path, headers=headers, content=body)
        out = {k: v for k, v in r.headers.items()
               if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                    "content-encoding")}
        data = r.content
        if f.tamper_manifests and "/manifests/" in h.path and h.command == "GET":
            data = data.replace(b'"schemaVersion":2', b'"schemaVersion":2 ', 1) + b"\n"
        if f.tamper_blobs and "/blobs/" in h.path and h.command == "GET" and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        if f.strip_link:
            out.pop("link", None)
            out.pop("Link", None)
        if f.strip_head_digest and h.command == "HEAD":
            out = {k: v for k, v in out.items() if k.lower() != "docker-content-digest"}
        if h.command == "HEAD":
            out["Content-Length"] = r.headers.get("Content-Length", "0")
        self._reply(h, r.status_code, out, data)


@contextlib.contextmanager
def fault_proxy(upstream: str, faults: Faults | None = None) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, faults)
    try:
        yield proxy
    finally:
        proxy.stop()


def write_docker_config(directory: Path, config: Mapping[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path


def write_credential_helper(bindir: Path, name: str, answers: Mapping[str, tuple[str, str]],
                            log: Path) -> Path:
    """A ``docker-credential-<name>`` script: ``get`` reads a server on stdin, logs it."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / f"docker-credential-{name}"
    table = {k: {"ServerURL": k, "Username": u, "Secret": s} for k, (u, s) in answers.items()}
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"TABLE = {json.dumps(table)!r}\n"
        "if sys.argv[1:] != ['get']:\n    sys.exit(2)\n"
        "server = sys.stdin.read().strip()\n"
        f"open({str(log)!r}, 'a').write(server + '\\n')\n"
        "hit = json.loads(TABLE).get(server)\n"
        "if hit is None:\n    print('credentials not found in native keychain')\n    sys.exit(1)\n"
        "print(json.dumps(hit))\n"
    )
    script.chmod(0o755)
    return script


@dataclass
class Content:
    """What the registries hold: repository -> tag -> image."""

    images: dict[str, dict[str, BuiltImage]]
    storage: Path

    def image(self, repository: str, tag: str) -> BuiltImage:
        return self.images[repository][tag]
