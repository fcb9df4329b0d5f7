"""Against the Debian archive this machine's apt uses (read at run time), with apt-get as oracle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from support.apt_oracle import make_root, simulate_install, sources_entry
from support.debian_mirror import require_mirrors

from pinlock.http import make_client
from pinlock.kinds.apt.model import AptInput, AptIntent, AptLocked
from pinlock.model import Lock
from pinlock.sources.debian import AptSource, AptSourceConfig
from pinlock.sources.debian.archive import Archive, Location
from pinlock.sources.debian.resolver import Universe, minbase
from pinlock.sources.debian.signature import DEFAULT_KEYRING
from pinlock.sources.interface import Context

pytestmark = pytest.mark.live_debian

SEED = [
    "curl", "nodejs", "npm", "python3", "ripgrep", "ffmpeg", "gcc", "python3-dev", "libffi-dev",
    "procps", "git", "openssh-client", "docker-cli", "xz-utils",
]
SUITES = ("trixie", "trixie-updates", "trixie-security")


@pytest.fixture(scope="session")
def mirrors() -> tuple[str, str]:
    return require_mirrors()


@pytest.fixture(scope="session")
def index_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("debian-index-cache"))


def test_debian_live_trixie_signature(mirrors: tuple[str, str]) -> None:
    a = Archive(make_client())
    rel = a.release(Location(mirrors[0]), "trixie", None)
    assert rel.release.codename == "trixie"
    assert "main/binary-amd64/Packages.xz" in rel.release.files
    sec = a.release(Location(mirrors[1]), "trixie-security", None)
    assert sec.release.codename == "trixie-security"


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_debian_live_seed_closure_matches_apt(
    mirrors: tuple[str, str], index_cache: str, arch: str, tmp_path: Path
) -> None:
    cfg = AptSourceConfig(mirror=mirrors[0], security_mirror=mirrors[1], cache_dir=index_cache)
    src = AptSource(make_client(timeout=60), cfg)
    inp = AptInput("apt", AptIntent(packages=tuple(SEED), stage="0", suites=SUITES), AptLocked())
    locked = src.resolve(inp, Context(Lock(platforms=(f"linux/{arch}",))))
    got = locked.locked.archs[arch]
    assert set(got.top) == set(SEED)
    assert locked.locked.archive == "mirror" and locked.locked.base == "minbase"

    # the same base set, as a dpkg status file for apt
    indexes = []
    for suite in SUITES:
        loc = src.location(suite)
        signed = src.archive.release(loc, suite, None)
        indexes.append(src.archive.packages(loc, signed, "main", arch, None))
    base = minbase(Universe.build(arch, indexes))
    sources = sources_entry(mirrors[0], ["trixie", "trixie-updates"], DEFAULT_KEYRING)
    sources += sources_entry(mirrors[1], ["trixie-security"], DEFAULT_KEYRING)
    root = make_root(tmp_path / "apt", arch=arch, sources=sources,
                     status="\n".join(r.control() for r in base))
    root.run("update")
    apt = simulate_install(root, SEED)
    mine = {p.name: p.version for p in got.closure}
    assert mine == apt
    for name, version in got.top.items():
        assert apt.get(name, version) == version
    assert dt.datetime.strptime(locked.locked.snapshot or "", "%Y%m%dT%H%M%SZ")
