"""pinlock verify --image: built images (registry, oci: layout, docker-archive:) against the lock.

The lock is made against the signed test archive, on top of a base image pushed to a
real docker-registry; the images checked are pushed there too: a base layer with the
base image's dpkg status, then a layer holding a status written from the lock's
closure, as ``apt-get install`` in a Dockerfile would leave it (or a tampered one).
Every case runs pinlock in its own process: exit code, findings, no traceback, no
file written.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.cli import check_json_output
from support.debian_archive import ArchiveServer, build_archive
from support.oci_registry import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_MANIFEST,
    PLATFORMS,
    Faults,
    Layout,
    Registry,
    TokenIssuer,
    build_image,
    canonical_json,
    dpkg_status,
    fault_proxy,
    push_blob,
    push_built,
    push_manifest,
    running_registry,
    sha256,
    tar_layer,
)
from support.proc import Proc, run_pinlock, tree_digest

pytestmark = pytest.mark.registry

# The base image's packages (as in test_debian_base_image): apt resolves app on top of them.
INSTALLED = (("base-req", "1.0-1"), ("libbase", "1.1-1"), ("apt", "2.9-1"), ("alt1", "1.0-1"),
             ("prelib", "0.5-1"))
DOCKERFILE = ("FROM debian:13.4\nRUN apt-get update && "
              "apt-get install -y --no-install-recommends app\n")
Pkgs = list[tuple[str, str, str]]  # (name, version, architecture) as dpkg_status takes them


@dataclass
class World:
    root: Path  # the project: Dockerfile and image.lock.toml
    env: dict[str, str]
    registry: Registry
    closure: dict[str, Pkgs]  # arch -> the lock's closure
    work: Path

    def base(self, arch: str) -> Pkgs:
        return [(n, v, arch) for n, v in INSTALLED]

    def good(self, arch: str) -> Pkgs:
        return self.base(arch) + self.closure[arch]

    def run(self, *args: str, env: dict[str, str] | None = None, limit: float = 120) -> Proc:
        before = tree_digest(self.root)
        proc = run_pinlock(*args, cwd=self.root, env={**self.env, **(env or {})}, limit=limit)
        proc.assert_clean()
        assert tree_digest(self.root) == before, "verify --image wrote to the project"
        return proc


def _skopeo(work: Path, *args: str) -> None:
    policy = work / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    regconf = work / "skopeo-registries.conf"
    regconf.write_text("")
    env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(regconf), "HOME": str(work)}
    proc = subprocess.run(["skopeo", "--policy", str(policy), *args], capture_output=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.skip("needs docker-registry and skopeo (apt-get install docker-registry skopeo)")
    work = tmp_path_factory.mktemp("verify-image")
    archive = build_archive(work / "archive")
    with ArchiveServer(archive) as server, running_registry(work) as registry:
        base = build_image(Layout(work / "base-layout"), "13.4", seed="debian",
                           installed=INSTALLED)
        push_built(registry.url, "library/debian", base, "13.4")
        root = work / "project"
        root.mkdir()
        (root / "Dockerfile").write_text(DOCKERFILE)
        env = {"PINLOCK_REGISTRY_MIRRORS": f"docker.io={registry.url}",
               "PINLOCK_DEBIAN_MIRROR": server.debian(),
               "PINLOCK_DEBIAN_KEYRING": str(archive.keyring),
               "PINLOCK_CACHE_DIR": str(work / "cache"),
               "DOCKER_CONFIG": str(work / "no-docker-config")}
        for args in (("init", "--dockerfile", "Dockerfile"), ("lock", "debian"),
                     ("lock", "apt")):
            proc = run_pinlock(*args, cwd=root, env=env)
            assert proc.code == 0, proc.text
        lock = tomllib.loads((root / "image.lock.toml").read_text())
        apt = lock["inputs"]["apt"]["locked"]
        assert apt["base"] == "image-dpkg-status"
        closure = {arch: [(p["name"], p["version"], p["architecture"])
                          for p in apt["arch"][arch]["closure"]] for arch in ("amd64", "arm64")}
        yield World(root, env, registry, closure, work)


# ------------------------------------------------------------------ building images


Layer = tuple[bytes, str, str]  # (blob, diff_id, media type)


def _layer(files: dict[str, bytes | None], compress: bool = True) -> Layer:
    blob, diff_id = tar_layer(files, compress=compress)
    return blob, diff_id, OCI_LAYER_GZIP if compress else OCI_LAYER_TAR


def status_layer(status: bytes) -> Layer:
    return _layer({"var": None, "var/lib": None, "var/lib/dpkg": None,
                   "var/lib/dpkg/status": status})


def base_layer(arch: str) -> Layer:
    return _layer({"etc": None, "etc/debian_version": b"13.4\n", "var": None, "var/lib": None,
                   "var/lib/dpkg": None, "var/lib/dpkg/status":
                   dpkg_status(*((n, v, arch) for n, v in INSTALLED))})


def push_image(url: str, repository: str, tag: str,
               layers: dict[str, list[Layer]], *, index: bool = True) -> dict[str, str]:
    """Push one image per platform (and an index over them, with an attestation manifest as
    BuildKit writes one); platform -> manifest digest."""
    entries = []
    digests: dict[str, str] = {}
    manifests: list[tuple[bytes, dict[str, str]]] = []
    for platform, plat_layers in layers.items():
        os_, arch = platform.split("/")[:2]
        config = canonical_json({"architecture": arch, "os": os_, "config": {},
                                 "rootfs": {"type": "layers",
                                            "diff_ids": [d for _, d, _ in plat_layers]}})
        push_blob(url, repository, config)
        for blob, _, _ in plat_layers:
            push_blob(url, repository, blob)
        raw = canonical_json({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": m, "digest": sha256(b), "size": len(b)}
                       for b, _, m in plat_layers]})
        digests[platform] = push_manifest(url, repository, sha256(raw), raw, OCI_MANIFEST)
        manifests.append((raw, {"architecture": arch, "os": os_}))
        entries.append({"mediaType": OCI_MANIFEST, "digest": sha256(raw), "size": len(raw),
                        "platform": {"architecture": arch, "os": os_}})
    if index:
        # BuildKit's provenance: an attestation manifest, platform unknown/unknown.
        statement = canonical_json({"_type": "https://in-toto.io/Statement/v0.1"})
        a_config = canonical_json({"architecture": "unknown", "os": "unknown", "config": {},
                                   "rootfs": {"type": "layers",
                                              "diff_ids": [sha256(statement)]}})
        push_blob(url, repository, statement)
        push_blob(url, repository, a_config)
        a_raw = canonical_json({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(a_config),
                       "size": len(a_config)},
            "layers": [{"mediaType": "application/vnd.in-toto+json",
                        "digest": sha256(statement), "size": len(statement)}]})
        push_manifest(url, repository, sha256(a_raw), a_raw, OCI_MANIFEST)
        entries.append({"mediaType": OCI_MANIFEST, "digest": sha256(a_raw), "size": len(a_raw),
                        "platform": {"architecture": "unknown", "os": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                        "vnd.docker.reference.digest": entries[0]["digest"]}})
        raw = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        push_manifest(url, repository, tag, raw, OCI_INDEX)
    else:
        (raw, _), = manifests
        push_manifest(url, repository, tag, raw, OCI_MANIFEST)
    return digests


def built(world: World, tag: str, status: Callable[[str], bytes | None], *,
          platforms: tuple[str, ...] = PLATFORMS, index: bool = True) -> str:
    """``127.0.0.1:PORT/app:TAG``: per platform the base layer and a layer with ``status``
    (None: a whiteout deleting /var/lib/dpkg/status)."""
    layers: dict[str, list[Layer]] = {}
    for platform in platforms:
        arch = platform.split("/")[1]
        text = status(arch)
        top = status_layer(text) if text is not None else _layer(
            {"var": None, "var/lib": None, "var/lib/dpkg": None,
             "var/lib/dpkg/.wh.status": b""})
        layers[platform] = [base_layer(arch), top]
    push_image(world.registry.url, "app", tag, layers, index=index)
    return f"{world.registry.host}/app:{tag}"


def _json(proc: Proc) -> dict[str, object]:
    # Every --json answer of verify --image follows docs/schemas (the verify-image definition).
    check_json_output("verify", proc.out, proc.code, ("--image",))
    data = json.loads(proc.out)
    assert isinstance(data, dict)
    return data


def _findings(proc: Proc) -> list[dict[str, object]]:
    data = _json(proc)
    assert set(data) == {"ok", "image", "inputs", "platforms", "findings"}, data
    findings = data["findings"]
    assert isinstance(findings, list)
    return findings


# ------------------------------------------------------------------ cases


def test_good_image_passes_on_every_platform(world: World) -> None:
    ref = built(world, "good", lambda a: dpkg_status(*world.good(a)))
    proc = world.run("verify", "--image", ref)
    assert proc.code == 0, proc.text
    assert "ok: the image holds exactly the packages the lock says" in proc.out
    assert "linux/amd64" in proc.out and "linux/arm64" in proc.out
    proc = world.run("verify", "--image", ref, "--json")
    assert proc.code == 0, proc.text
    data = _json(proc)
    assert data["ok"] is True and data["findings"] == [] and data["inputs"] == ["apt"]
    platforms = data["platforms"]
    assert isinstance(platforms, dict) and set(platforms) == set(PLATFORMS)
    for p in PLATFORMS:
        assert platforms[p]["packages"] == len(world.good(p.split("/")[1]))
        assert str(platforms[p]["digest"]).startswith("sha256:")


def _swap(pkgs: Pkgs, name: str, version: str | None = None, arch: str | None = None) -> Pkgs:
    out = [(n, version or v, arch or a) if n == name else (n, v, a) for n, v, a in pkgs]
    assert out != pkgs, f"{name} is not in the closure"
    return out


@pytest.mark.parametrize(("case", "code", "needle"), [
    ("tampered", "version-differs", "libfoo is 2.0-1+evil1 in the image, the lock says 2.0-1"),
    ("extra", "unknown-package", "extra-rec 1.0-1 (all) is installed, but the lock does not"),
    ("missing", "missing-package", "tool 1.0-1 (amd64) is in the lock but not installed"),
    ("arch", "architecture-differs", "app 1.0-1 is built for arm64, the lock says amd64"),
    ("unpacked", "missing-package", "(dpkg status: install ok unpacked)"),
    ("no-status", "no-dpkg-status", "has no /var/lib/dpkg/status"),
])
def test_tampered_images_are_findings(world: World, case: str, code: str, needle: str) -> None:
    def status(arch: str) -> bytes | None:
        good = world.good(arch)
        if arch != "amd64":
            return dpkg_status(*good)  # only amd64 is altered: arm64 must stay clean
        if case == "tampered":
            return dpkg_status(*_swap(good, "libfoo", version="2.0-1+evil1"))
        if case == "extra":
            return dpkg_status(*good, ("extra-rec", "1.0-1", "all"))
        if case == "missing":
            return dpkg_status(*[p for p in good if p[0] != "tool"])
        if case == "arch":
            return dpkg_status(*_swap(good, "app", arch="arm64"))
        if case == "unpacked":
            text = dpkg_status(*good)
            return text.replace(b"Package: tool\nStatus: install ok installed",
                                b"Package: tool\nStatus: install ok unpacked")
        return None

    ref = built(world, case, status)
    proc = world.run("verify", "--image", ref)
    assert proc.code == 1, proc.text
    assert needle in proc.out, proc.out
    assert "linux/arm64" not in proc.out.split("error", 1)[1], proc.out
    findings = _findings(world.run("verify", "--image", ref, "--json"))
    assert [(f["code"], f["platform"], f["input"], f["severity"]) for f in findings] == [
        (code, "linux/amd64", "apt", "error")], findings
    assert needle in str(findings[0]["message"])


def test_base_package_missing_and_unknown_package_named(world: World) -> None:
    # The base's alt1 is not in the closure: an image listing a package the lock never
    # mentions next to a missing base package gives both findings, each named.
    ref = built(world, "base-gone", lambda a: dpkg_status(
        *[p for p in world.good(a) if p[0] != "alt1"], ("impl-old", "1.0-1", a)))
    proc = world.run("verify", "--image", ref, "--json", "--platform", "linux/arm64")
    assert proc.code == 1, proc.text
    got = {(f["code"], f["found"] or f["expected"]) for f in _findings(proc)}
    assert got == {("missing-package", "alt1=1.0-1 (arm64)"),
                   ("unknown-package", "impl-old=1.0-1 (arm64)")}, got


def test_platform_the_image_lacks(world: World) -> None:
    ref = built(world, "amd64-only", lambda a: dpkg_status(*world.good(a)),
                platforms=("linux/amd64",))
    proc = world.run("verify", "--image", ref, "--json")
    assert proc.code == 1, proc.text
    findings = _findings(proc)
    assert [(f["code"], f["platform"]) for f in findings] == [("platform-missing", None)]
    assert "no linux/arm64 image" in str(findings[0]["message"])
    assert world.run("verify", "--image", ref, "--platform", "linux/amd64").code == 0


def test_single_platform_manifest_is_checked_for_its_platform(world: World) -> None:
    ref = built(world, "single", lambda a: dpkg_status(*world.good(a)),
                platforms=("linux/arm64",), index=False)
    proc = world.run("verify", "--image", ref, "--json")
    assert proc.code == 0, proc.text
    platforms = _json(proc)["platforms"]
    assert isinstance(platforms, dict) and set(platforms) == {"linux/arm64"}
    proc = world.run("verify", "--image", ref, "--platform", "linux/amd64")
    assert proc.code == 1 and "no linux/amd64 image" in proc.out, proc.text


def test_oci_layout_and_docker_archive(world: World) -> None:
    good = built(world, "good", lambda a: dpkg_status(*world.good(a)))
    bad = built(world, "tampered", lambda a: dpkg_status(
        *_swap(world.good(a), "libfoo", version="2.0-1+evil1")))
    layout = world.work / "copied-layout"
    for tag, ref in (("good", good), ("bad", bad)):
        _skopeo(world.work, "copy", "-q", "--all", "--preserve-digests",
                "--src-tls-verify=false", f"docker://{ref}", f"oci:{layout}:{tag}")
    proc = world.run("verify", "--image", f"oci:{layout}:good")
    assert proc.code == 0, proc.text
    proc = world.run("verify", "--image", f"oci:{layout}:bad", "--json")
    assert proc.code == 1, proc.text
    assert {(f["code"], f["platform"]) for f in _findings(proc)} == {
        ("version-differs", "linux/amd64"), ("version-differs", "linux/arm64")}
    for arch in ("amd64", "arm64"):
        tar = world.work / f"{arch}.tar"
        tar.unlink(missing_ok=True)
        _skopeo(world.work, "copy", "-q", "--override-arch", arch, "--src-tls-verify=false",
                f"docker://{bad}", f"docker-archive:{tar}:app:bad")
        proc = world.run("verify", "--image", f"docker-archive:{tar}", "--json")
        assert proc.code == 1, proc.text
        findings = _findings(proc)
        assert [(f["code"], f["platform"]) for f in findings] == [
            ("version-differs", f"linux/{arch}")], findings
        proc = world.run("verify", "--image", f"docker-archive:{tar}:app:bad")
        assert proc.code == 1 and "libfoo is 2.0-1+evil1" in proc.out, proc.text
    tar = world.work / "good.tar"
    tar.unlink(missing_ok=True)
    _skopeo(world.work, "copy", "-q", "--override-arch", "arm64", "--src-tls-verify=false",
            f"docker://{good}", f"docker-archive:{tar}")
    assert world.run("verify", "--image", f"docker-archive:{tar}").code == 0


@pytest.mark.parametrize(("ref", "message"), [
    ("Not A Ref", "is not a valid"),
    ("127.0.0.1:1/app:a:b", "is not a valid"),
    ("oci:", "no path after oci:"),
    ("oci:{work}/nowhere:good", "not an OCI image layout"),
    ("oci:{work}/copied-layout:nosuchtag", "no image tagged 'nosuchtag'"),
    ("docker-archive:{work}/none.tar", "no such file"),
    ("docker-archive:{work}/copied-layout/index.json", "not a tar archive"),
    ("containers-storage:app", "does not read containers-storage: images"),
])
def test_bad_references_are_bad_input(world: World, ref: str, message: str) -> None:
    layout = world.work / "copied-layout"
    if not layout.exists():
        good = built(world, "good", lambda a: dpkg_status(*world.good(a)))
        _skopeo(world.work, "copy", "-q", "--all", "--src-tls-verify=false",
                f"docker://{good}", f"oci:{layout}:good")
    proc = world.run("verify", "--image", ref.replace("{work}", str(world.work)))
    assert proc.code == 2, proc.text
    assert message in proc.err, proc.err


def test_usage_errors(world: World) -> None:
    proc = world.run("verify", "--image", "x/app:1", "--online")
    assert proc.code == 2 and "--image" in proc.err, proc.text
    proc = world.run("verify", "--platform", "linux/amd64")
    assert proc.code == 2 and "add --image" in proc.err, proc.text
    proc = world.run("verify", "--image", f"{world.registry.host}/app:good", "debian")
    assert proc.code == 2 and "not an apt input" in proc.err, proc.text
    proc = world.run("verify", "--image", f"{world.registry.host}/app:good", "--platform", "amd64")
    assert proc.code == 2 and "is not a platform" in proc.err, proc.text


def test_registry_failures_exit_3(world: World) -> None:
    built(world, "good", lambda a: dpkg_status(*world.good(a)))
    proc = world.run("verify", "--image", f"{world.registry.host}/app:nosuchtag")
    assert proc.code == 3 and "nosuchtag" in proc.err, proc.text
    from support.oci_registry import free_port

    proc = world.run("verify", "--image", f"127.0.0.1:{free_port()}/app:good")
    assert proc.code == 3, proc.text


def test_tampered_bytes_are_integrity_errors(world: World) -> None:
    ref = built(world, "good", lambda a: dpkg_status(*world.good(a)))
    with fault_proxy(world.registry.url, Faults(tamper_blobs=True)) as proxy:
        proc = world.run("verify", "--image", ref.replace(world.registry.host, proxy.host))
    assert proc.code == 1 and "layer bytes do not hash to the digest" in proc.err, proc.text
    layout = world.work / "tampered-layout"
    _skopeo(world.work, "copy", "-q", "--all", "--src-tls-verify=false", f"docker://{ref}",
            f"oci:{layout}:good")
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda b: b.stat().st_size)
    biggest = blobs[-1]  # a layer: gzip bytes, one flipped
    data = bytearray(biggest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    biggest.write_bytes(bytes(data))
    proc = world.run("verify", "--image", f"oci:{layout}:good")
    assert proc.code == 1 and "do not hash to the digest" in proc.err, proc.text


def test_registry_mirror_serves_the_image(world: World) -> None:
    built(world, "good", lambda a: dpkg_status(*world.good(a)))
    proc = world.run("verify", "--image", "registry.example/app:good", "--registry-mirror",
                     f"registry.example={world.registry.url}")
    assert proc.code == 0, proc.text
    assert "registry.example/app:good" in proc.out


def test_tls_registry_trusted_through_ssl_cert_file(world: World, tmp_path: Path) -> None:
    import trustme

    built(world, "good", lambda a: dpkg_status(*world.good(a)))
    with running_registry(tmp_path, storage=world.work / "storage", tls=trustme.CA()) as reg:
        assert reg.ca_pem is not None
        mirror = ["--registry-mirror", f"registry.example={reg.url}"]
        proc = world.run("verify", "--image", "registry.example/app:good", *mirror)
        assert proc.code == 3 and "CERTIFICATE_VERIFY_FAILED" in proc.err, proc.text
        proc = world.run("verify", "--image", "registry.example/app:good", *mirror,
                         env={"SSL_CERT_FILE": str(reg.ca_pem)})
        assert proc.code == 0, proc.text


def test_status_as_a_symlink_is_refused(world: World) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(info)
    blob = raw.getvalue()
    layers = {"linux/amd64": [base_layer("amd64"), (blob, sha256(blob), OCI_LAYER_TAR)]}
    push_image(world.registry.url, "app", "symlink", layers)
    proc = world.run("verify", "--image", f"{world.registry.host}/app:symlink", "--json")
    assert proc.code == 1, proc.text
    findings = _findings(proc)
    assert [(f["code"], f["platform"]) for f in findings] == [
        ("platform-missing", None), ("image-unreadable", "linux/amd64")], findings
    assert "pinlock reads regular files only" in str(findings[1]["message"])


def test_distroless_status_d(world: World) -> None:
    # One control file per package under status.d (no status file), as distroless keeps
    # them; an upper layer's whiteout of one of them makes that package missing.
    def layers(arch: str, gone: str | None) -> list[Layer]:
        files: dict[str, bytes | None] = {"var": None, "var/lib": None, "var/lib/dpkg": None,
                                          "var/lib/dpkg/status.d": None}
        for name, version, a in world.good(arch):
            files[f"var/lib/dpkg/status.d/{name}"] = dpkg_status((name, version, a))
            files[f"var/lib/dpkg/status.d/{name}.md5sums"] = b"00  usr/share/doc/x\n"
        out = [_layer(files)]
        if gone is not None:
            out.append(_layer({"var": None, "var/lib": None, "var/lib/dpkg": None,
                               "var/lib/dpkg/status.d": None,
                               f"var/lib/dpkg/status.d/.wh.{gone}": b""}))
        return out

    push_image(world.registry.url, "app", "distroless",
               {p: layers(p.split("/")[1], None) for p in PLATFORMS})
    proc = world.run("verify", "--image", f"{world.registry.host}/app:distroless")
    assert proc.code == 0, proc.text
    push_image(world.registry.url, "app", "distroless-gone",
               {p: layers(p.split("/")[1], "tool") for p in PLATFORMS})
    proc = world.run("verify", "--image", f"{world.registry.host}/app:distroless-gone", "--json")
    assert proc.code == 1, proc.text
    assert sorted((f["code"], f["expected"]) for f in _findings(proc)) == [
        ("missing-package", "tool=1.0-1 (amd64)"), ("missing-package", "tool=1.0-1 (arm64)")]


def test_basic_auth_with_docker_config(world: World, tmp_path: Path) -> None:
    ref = built(world, "good", lambda a: dpkg_status(*world.good(a)))
    with fault_proxy(world.registry.url, Faults(basic_auth=("bob", "hunter2-pw"))) as proxy:
        ref = ref.replace(world.registry.host, proxy.host)
        proc = world.run("verify", "--image", ref)
        assert proc.code == 3 and "Basic" in proc.err, proc.text
        config = tmp_path / "docker"
        config.mkdir()
        auth = base64.b64encode(b"bob:hunter2-pw").decode()
        (config / "config.json").write_text(json.dumps({"auths": {proxy.host: {"auth": auth}}}))
        proc = world.run("verify", "--image", ref, env={"DOCKER_CONFIG": str(config)})
        proc.assert_clean("hunter2-pw", auth)
        assert proc.code == 0, proc.text


def test_token_auth_with_docker_config(world: World, tmp_path: Path) -> None:
    built(world, "good", lambda a: dpkg_status(*world.good(a)))
    issuer = TokenIssuer(tmp_path, users={"alice": "s3cret-pw"}, public={"library/debian"})
    issuer.start()
    try:
        with running_registry(tmp_path, storage=world.work / "storage", issuer=issuer) as reg:
            env = {"PINLOCK_REGISTRY_MIRRORS": f"docker.io={reg.url}"}
            ref = f"{reg.host}/app:good"
            proc = world.run("verify", "--image", ref, env=env)
            assert proc.code == 3 and "401" in proc.err, proc.text
            config = tmp_path / "docker"
            config.mkdir()
            auth = base64.b64encode(b"alice:s3cret-pw").decode()
            (config / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
            proc = world.run("verify", "--image", ref, env={**env, "DOCKER_CONFIG": str(config)})
            proc.assert_clean("s3cret-pw", auth)
            assert proc.code == 0, proc.text
            assert any(user == "alice" and any("repository:app:pull" in s for s in scopes)
                       for scopes, user in issuer.requests), issuer.requests
    finally:
        issuer.stop()


def test_minbase_lock_is_checked_against_minbase(world: World, tmp_path: Path) -> None:
    # No base image in the lock: the closure sits on debootstrap's minbase, read from the
    # archive at the locked snapshot; an image built on the real base differs from it.
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(DOCKERFILE.replace(" app\n", " tool\n"))
    env = {**world.env, "PINLOCK_CACHE_DIR": str(tmp_path / "cache")}
    for args in (("init", "--dockerfile", "Dockerfile"), ("lock", "apt")):
        proc = run_pinlock(*args, cwd=root, env=env)
        assert proc.code == 0, proc.text
    lock = tomllib.loads((root / "image.lock.toml").read_text())["inputs"]["apt"]["locked"]
    assert lock["base"] == "minbase"
    closure = {a: [(p["name"], p["version"], p["architecture"])
                   for p in lock["arch"][a]["closure"]] for a in ("amd64", "arm64")}
    minbase = {a: [("base-req", "1.0-1", a), ("libbase", "1.1-1", a), ("apt", "2.9-1", a),
                   ("alt2", "1.0-1", a)] for a in ("amd64", "arm64")}
    ref = built(world, "minbase", lambda a: dpkg_status(*minbase[a], *closure[a]))
    proc = run_pinlock("verify", "--image", ref, cwd=root, env=env)
    proc.assert_clean()
    assert proc.code == 0, proc.text
    ref = built(world, "on-real-base", lambda a: dpkg_status(*world.base(a), *closure[a]))
    proc = run_pinlock("verify", "--image", ref, "--json", cwd=root, env=env)
    proc.assert_clean()
    assert proc.code == 1, proc.text
    got = sorted((f["code"], f["platform"], f["found"] or f["expected"])
                 for f in json.loads(proc.out)["findings"])
    assert got == sorted(
        [("missing-package", p, f"alt2=1.0-1 ({p[6:]})") for p in PLATFORMS]
        + [(c, p, f"{n}=1.0-1 ({p[6:]})") for p in PLATFORMS
           for c, n in (("unknown-package", "alt1"),)]
        + [("unknown-package", p, f"prelib=0.5-1 ({p[6:]})") for p in PLATFORMS]), got


# ------------------------------------------------------------------ a big layer, streamed


def _big_layer(path: Path, status: bytes, *, size: int = 0, files: int = 0,
               status_size: int = 0) -> tuple[str, int]:
    """An uncompressed layer on disk: ``size`` bytes of file content, or ``files`` empty
    files, then the status (``status_size`` zero bytes after it, when given)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("opt", "var", "var/lib", "var/lib/dpkg"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        if size:
            info = tarfile.TarInfo("opt/big.bin")
            info.size = size
            with open("/dev/zero", "rb") as zero:
                tar.addfile(info, zero)
        for i in range(files):
            tar.addfile(tarfile.TarInfo(f"opt/many/{i % 100}/file-{i}.txt"))
            tar.members.clear()  # type: ignore[attr-defined]  # TarFile keeps each TarInfo
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.size = len(status) + status_size
        with open("/dev/zero", "rb") as zero:
            tar.addfile(info, io.BufferedReader(_Concat(status, zero)))
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest(), path.stat().st_size


class _Concat(io.RawIOBase):
    """``head`` then whatever ``tail`` reads: a status text padded without holding it."""

    def __init__(self, head: bytes, tail: io.BufferedReader) -> None:
        self.head, self.tail = head, tail

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        return self.tail.readinto(b)


def _push_file(url: str, repository: str, path: Path, digest: str) -> None:
    def chunks() -> Iterator[bytes]:
        with path.open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")

    with httpx.Client(timeout=120) as c:
        r = c.post(f"{url}/v2/{repository}/blobs/uploads/")
        r.raise_for_status()
        location = httpx.URL(url).join(r.headers["Location"])
        r = c.put(location.copy_add_param("digest", digest), content=chunks(),
                  headers={"Content-Type": "application/octet-stream",
                           "Content-Length": str(path.stat().st_size)})
        r.raise_for_status()


@pytest.mark.parametrize(("what", "size", "files", "status_size", "max_rss"), [
    # 200 MB of file content before the status: streamed, never held.
    ("200 MB file", 200 * 1024 * 1024, 0, 0, 80),
    # 150,000 files before it: tarfile would keep a TarInfo for each (about 65 MB).
    ("150,000 files", 0, 150_000, 0, 80),
    # a 65 MB status: past what pinlock reads, refused before it is read.
    ("65 MB status", 0, 0, 65 * 1024 * 1024, 80),
])
def test_big_layer_is_streamed_with_bounded_memory(
        world: World, tmp_path: Path, what: str, size: int, files: int, status_size: int,
        max_rss: float) -> None:
    blob = tmp_path / "big.tar"
    digest, length = _big_layer(blob, dpkg_status(*_swap(
        world.good("amd64"), "libfoo", version="2.0-1+evil1")), size=size, files=files,
        status_size=status_size)
    _push_file(world.registry.url, "app", blob, digest)
    blob.unlink()
    base = base_layer("amd64")
    config = canonical_json({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [base[1], digest]}})
    push_blob(world.registry.url, "app", config)
    push_blob(world.registry.url, "app", base[0])
    raw = canonical_json({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256(base[0]),
                    "size": len(base[0])},
                   {"mediaType": OCI_LAYER_TAR, "digest": digest, "size": length}]})
    push_manifest(world.registry.url, "app", "big", raw, OCI_MANIFEST)
    proc = world.run("verify", "--image", f"{world.registry.host}/app:big", "--json",
                     limit=300)
    assert proc.code == 1, proc.text
    assert [f["code"] for f in _findings(proc)] == [
        "image-unreadable" if status_size else "version-differs"], proc.out
    print(f"\nverify --image, layer with {what}: peak RSS {proc.rss_mb:.0f} MB, "
          f"{proc.seconds:.1f} s")
    assert proc.rss_mb < max_rss, proc.rss_mb
