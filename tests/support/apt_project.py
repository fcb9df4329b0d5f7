"""Project folders for apt tests: a Dockerfile against the signed test archive, or a copy of
this repository's seed against the machine's Debian mirror."""

from __future__ import annotations

from pathlib import Path

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
