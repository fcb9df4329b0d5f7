"""apt resolved on top of the locked base image's own dpkg status, read from a real registry."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.debian_archive import ArchiveServer
from support.oci_registry import Layout, Registry, build_image, push_built, running_registry

# What the image has installed: apt's base, alt1 for `alt1 | alt2`, and prelib 0.5-1, which
# satisfies app's Pre-Depends though the archive's candidate is 0.6-1.
INSTALLED = (("base-req", "1.0-1"), ("libbase", "1.1-1"), ("apt", "2.9-1"), ("alt1", "1.0-1"),
             ("prelib", "0.5-1"))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with running_registry(tmp_path) as reg:
        image = build_image(Layout(tmp_path / "layout"), "13.4", seed="debian",
                            installed=INSTALLED)
        push_built(reg.url, "library/debian", image, "13.4")
        yield reg


def _closure(lock_text: str, arch: str) -> dict[str, str]:
    apt = tomllib.loads(lock_text)["inputs"]["apt"]["locked"]
    return {p["name"]: p["version"] for p in apt["arch"][arch]["closure"]}


def test_apt_closure_is_relative_to_the_locked_base_image(
        tmp_path: Path, registry: Registry, archive_server: ArchiveServer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM debian:13.4\nRUN apt-get update && "
                                     "apt-get install -y --no-install-recommends app\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={registry.url}")
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", archive_server.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(archive_server.archive.keyring))
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
    lock = root / "image.lock.toml"

    # Without a locked base image: debootstrap's minbase is the base (alt2 for apt's
    # `alt2 | alt1`, no prelib), so app pulls prelib 0.6-1 in.
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    assert 'base = "minbase"' in lock.read_text()
    assert _closure(lock.read_text(), "amd64")["prelib"] == "0.6-1"
    # With the image locked, its /var/lib/dpkg/status (streamed from the registry's layers,
    # whiteouts honoured) is the base: apt input re-resolved at the same snapshot.
    r = run_cli(capsys, "lock", "debian")
    assert r.code == 0, r.err
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    text = lock.read_text()
    assert 'base = "image-dpkg-status"' in text
    for arch in ("amd64", "arm64"):
        closure = _closure(text, arch)
        assert "app" in closure and "libfoo" in closure
        # installed in the image and good enough: not downloaded again, not upgraded
        assert not {n for n, _ in INSTALLED} & set(closure), closure
    assert run_cli(capsys, "verify").code == 0
