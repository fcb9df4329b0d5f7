"""Project folders for apt tests: a Dockerfile against the signed test archive, or a copy of
this repository's seed against the machine's Debian mirror."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from support.cli import run_cli
from support.debian_archive import ArchiveServer
from support.debian_mirror import require_mirrors
from support.seed_world import copy_seed

ROOT = Path(__file__).resolve().parents[2]


def archive_project(root: Path, text: str, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> Path:
    """``root`` holding a Dockerfile of ``text``, initialised, every Debian setting pointing at
    ``srv``; the working directory. Returns the Dockerfile."""
    root.mkdir()
    (root / "Dockerfile").write_text(text)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PINLOCK_DEBIAN_MIRROR", srv.debian())
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", srv.security())
    monkeypatch.setenv("PINLOCK_DEBIAN_KEYRING", str(srv.archive.keyring))
    # no index cache shared between tests: each reads (and checks) what the archive serves
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(root.parent / "cache"))
    r = run_cli(capsys, "init", "--dockerfile", "Dockerfile")
    assert r.code == 0, r.err
    return root / "Dockerfile"


def apt_only_project(root: Path, text: str, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str], *, layout: str | None = None) -> Path:
    """archive_project, its lock cut to the apt input alone (there is no registry for the base
    image here), with ``layout`` set on it when given. Returns the Dockerfile."""
    dockerfile = archive_project(root, text, srv, monkeypatch, capsys)
    lock = root / "image.lock.toml"
    text = lock.read_text()
    text = text[:text.index("[inputs.debian]")]
    if layout is not None:
        text = text.replace("[inputs.apt]\n", f'[inputs.apt]\nlayout = "{layout}"\n', 1)
    lock.write_text(text)
    return dockerfile


def apt_table(root: Path) -> dict[str, Any]:
    """The ``[inputs.apt]`` table of the lock in ``root``, as TOML reads it."""
    apt: dict[str, Any] = tomllib.loads((root / "image.lock.toml").read_text())["inputs"]["apt"]
    return apt


def live_seed_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A copy of this repository's seed in ``tmp_path/seed`` (the working directory), its
    security archive the machine's; returns the folder and the machine's Debian mirror.
    Skips when the machine has no Debian mirror."""
    debian, security = require_mirrors()
    project = copy_seed(tmp_path / "seed")
    monkeypatch.chdir(project)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINLOCK_DEBIAN_SECURITY_MIRROR", security)
    return project, debian
