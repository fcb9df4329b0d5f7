"""The seed's apt layer locked through the CLI against this machine's Debian mirror."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

import pytest
from support.apt_project import live_seed_project
from support.apt_run import wired
from support.cli import run_cli, snapshot

pytestmark = pytest.mark.live_debian

ROOT = Path(__file__).resolve().parents[2]
SEED = ["curl", "nodejs", "npm", "python3", "ripgrep", "ffmpeg", "gcc", "python3-dev",
        "libffi-dev", "procps", "git", "openssh-client", "docker-cli", "xz-utils"]


def test_seed_apt_lock_pins_every_package_and_wires_the_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    project, debian = live_seed_project(tmp_path, monkeypatch)
    df = project / "docker" / "Dockerfile"
    before = df.read_text()

    r = run_cli(capsys, "lock", "apt", "--debian-mirror", debian)
    assert r.code == 0, r.err
    after = df.read_text()
    lock = tomllib.loads((project / "image.lock.toml").read_text())["inputs"]["apt"]
    locked = lock["locked"]
    tops = {arch: locked["arch"][arch]["top"] for arch in ("amd64", "arm64")}
    assert set(tops["amd64"]) == set(tops["arm64"]) == set(SEED)
    assert len(locked["arch"]["amd64"]["closure"]) > 500
    assert len(locked["arch"]["arm64"]["closure"]) > 500

    # Only the apt RUN changes, plus the ARG before it: each package pinned where the
    # architectures agree, bare (held by the snapshot) where they do not.
    words = [f"{p}={tops['amd64'][p]}" if tops["amd64"][p] == tops["arm64"][p] else p
             for p in SEED]
    ts = locked["snapshot"]
    expected = before.replace(
        "RUN apt-get update && \\\n    apt-get install -y",
        f"ARG DEBIAN_SNAPSHOT={ts}\n"
        f"RUN apt-get {wired('update')} && \\\n"
        f"    apt-get {wired('install')} -y",
    ).replace(" ".join(SEED), " ".join(words))
    assert after == expected, "\n".join(difflib.unified_diff(
        expected.splitlines(), after.splitlines(), lineterm=""))

    # verify agrees, and a second run changes nothing in either file
    r = run_cli(capsys, "verify", "apt")
    assert r.code == 0, r.out + r.err
    files = snapshot(project)
    r = run_cli(capsys, "lock", "apt", "--debian-mirror", debian)
    assert r.code == 0, r.err
    assert snapshot(project) == files
