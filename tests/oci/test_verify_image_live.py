"""verify --image on the seed: its apt layer locked through this machine's Debian mirror, the
image pushed to a real registry, one real package tampered with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.debian_mirror import require_mirrors
from support.oci_registry import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    canonical_json,
    dpkg_status,
    push_blob,
    push_manifest,
    running_registry,
    sha256,
    tar_layer,
)
from support.proc import run_pinlock, tree_digest

pytestmark = [pytest.mark.live_debian, pytest.mark.registry]

ROOT = Path(__file__).resolve().parents[2]
ARCHS = ("amd64", "arm64")


_MINBASE = """
import json, sys
import httpx
from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptIntent, AptLocked
from pinlock.sources.debian import AptSource, AptSourceConfig
suites, snapshot, debian, security, arch = json.loads(sys.argv[1])
inp = AptInput("apt", AptIntent((), "1", tuple(suites)), AptLocked(
    snapshot=snapshot, base="minbase", archs={arch: AptArchLocked({})}))
with httpx.Client(timeout=60) as client:
    src = AptSource(client, AptSourceConfig.from_env({}, mirror=debian, security_mirror=security))
    print(json.dumps([(r.package, r.version, r.architecture)
                      for r in src.base_packages(inp, arch)]))
"""


def _minbase(suites: list[str], snapshot: str, debian: str, security: str,
             arch: str) -> list[tuple[str, str, str]]:
    """debootstrap's minbase at the locked state, as the lock took it (the lock names it only
    as ``base = "minbase"``): computed with pinlock's resolver, the oracle of the apt tests,
    in a child process so that the indexes it reads do not stay in this one."""
    proc = subprocess.run(
        [sys.executable, "-c", _MINBASE, json.dumps([suites, snapshot, debian, security, arch])],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [(name, version, arch) for name, version, arch in json.loads(proc.stdout)]


def test_seed_image_with_a_tampered_package(tmp_path: Path) -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("needs docker-registry (apt-get install docker-registry)")
    debian, security = require_mirrors()
    project = tmp_path / "seed"
    (project / "docker").mkdir(parents=True)
    shutil.copy(ROOT / "docker" / "Dockerfile", project / "docker" / "Dockerfile")
    shutil.copy(ROOT / "image.lock.toml", project / "image.lock.toml")
    env = {"PINLOCK_DEBIAN_MIRROR": debian, "PINLOCK_DEBIAN_SECURITY_MIRROR": security,
           "PINLOCK_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path / "home")}
    proc = run_pinlock("lock", "apt", cwd=project, env=env, limit=600)
    assert proc.code == 0, proc.text
    text = (project / "image.lock.toml").read_text()
    doc = tomllib.loads(text)["inputs"]["apt"]
    locked = doc["locked"]
    assert locked["base"] == "minbase"

    bases = {a: _minbase(doc["suites"], locked["snapshot"], debian, security, a) for a in ARCHS}
    with running_registry(tmp_path) as registry:
        def push(tag: str, tamper: str | None) -> str:
            entries = []
            for arch in ARCHS:
                # What apt leaves: the base, less what it removes, the closure over it.
                gone = {e.split("=")[0] for e in locked["arch"][arch].get("removed", [])}
                by_name = {n: (n, v, a) for n, v, a in bases[arch] if n not in gone}
                by_name.update({p["name"]: (p["name"], p["version"], p["architecture"])
                                for p in locked["arch"][arch]["closure"]})
                pkgs = list(by_name.values())
                if tamper and arch == "amd64":
                    pkgs = [(n, v + "+evil1" if n == tamper else v, a) for n, v, a in pkgs]
                blob, diff_id = tar_layer({"var": None, "var/lib": None, "var/lib/dpkg": None,
                                           "var/lib/dpkg/status": dpkg_status(*pkgs)})
                config = canonical_json({"architecture": arch, "os": "linux", "config": {},
                                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
                push_blob(registry.url, "seed", config)
                push_blob(registry.url, "seed", blob)
                raw = canonical_json({
                    "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": sha256(config),
                               "size": len(config)},
                    "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256(blob),
                                "size": len(blob)}]})
                push_manifest(registry.url, "seed", sha256(raw), raw, OCI_MANIFEST)
                entries.append({"mediaType": OCI_MANIFEST, "digest": sha256(raw),
                                "size": len(raw),
                                "platform": {"architecture": arch, "os": "linux"}})
            index = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                    "manifests": entries})
            push_manifest(registry.url, "seed", tag, index, OCI_INDEX)
            return f"{registry.host}/seed:{tag}"

        before = tree_digest(project)
        proc = run_pinlock("verify", "--image", push("good", None), cwd=project, env=env,
                           limit=600)
        proc.assert_clean()
        assert proc.code == 0, proc.text
        proc = run_pinlock("verify", "--image", push("tampered", "openssh-client"), "--json",
                           cwd=project, env=env, limit=600)
        proc.assert_clean()
        assert proc.code == 1, proc.text
        findings = json.loads(proc.out)["findings"]
        version = next(p["version"] for p in locked["arch"]["amd64"]["closure"]
                       if p["name"] == "openssh-client")
        assert [(f["code"], f["platform"], f["expected"], f["found"]) for f in findings] == [
            ("version-differs", "linux/amd64", f"openssh-client={version} (amd64)",
             f"openssh-client={version}+evil1 (amd64)")], findings
        assert tree_digest(project) == before
        print(f"\nseed image: {len(locked['arch']['amd64']['closure'])} locked packages "
              f"(amd64), verify --image {proc.seconds:.1f} s, peak RSS {proc.rss_mb:.0f} MB")
