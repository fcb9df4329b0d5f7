"""A loopback download host, a throwaway OpenPGP key, and a project folder to run the CLI in."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.download_host import DownloadHost


@pytest.fixture
def host() -> Iterator[DownloadHost]:
    with DownloadHost() as server:
        yield server


@dataclass
class Signer:
    """A key made for one test: sign bytes, export the public key, its fingerprint."""

    home: Path
    fingerprint: str

    def sign(self, data: bytes) -> bytes:
        return _gpg(self.home, "--armor", "--detach-sign", "-o", "-", data=data)

    def public_key(self) -> bytes:
        return _gpg(self.home, "--armor", "--export", self.fingerprint)


def _gpg(home: Path, *args: str, data: bytes = b"") -> bytes:
    proc = subprocess.run(["gpg", "--batch", "--homedir", str(home), "--passphrase", "",
                           "--pinentry-mode", "loopback", *args], input=data,
                          capture_output=True, check=True, timeout=60,
                          env={**os.environ, "LC_ALL": "C"})
    return proc.stdout


def _make_signer(home: Path, uid: str) -> Signer:
    home.mkdir(mode=0o700)
    _gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")
    listing = _gpg(home, "--with-colons", "--list-keys").decode()
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    return Signer(home, fpr)


@pytest.fixture
def signers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Signer, Signer]]:
    """Two keys: the upstream's, and another (a signature by it must be refused)."""
    base = tmp_path_factory.mktemp("gpg")
    made = [_make_signer(base / "upstream", "Release <release@example.org>"),
            _make_signer(base / "other", "Other <other@example.org>")]
    yield made[0], made[1]
    for s in made:  # the agents gpg started for these homes
        subprocess.run(["gpgconf", "--homedir", str(s.home), "--kill", "gpg-agent"],
                       capture_output=True, check=False, timeout=30)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docker").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    return tmp_path
