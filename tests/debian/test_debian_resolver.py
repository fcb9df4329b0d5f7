"""Resolution against the built archive, with real apt-get -s as the oracle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.apt_oracle import AptRoot, make_root, simulate_install, sources_entry
from support.debian_archive import SNAP1, SNAP2, ArchiveServer, BuiltArchive, serve

from pinlock.http import make_client
from pinlock.sources.debian.archive import Archive, Location
from pinlock.sources.debian.deb822 import PackagesIndex
from pinlock.sources.debian.errors import UnsatisfiableError
from pinlock.sources.debian.resolver import Universe, minbase, resolve

SUITES = ("trixie", "trixie-updates", "trixie-security")


@pytest.fixture(scope="module")
def server(built_archive: BuiltArchive) -> Iterator[ArchiveServer]:
    yield from serve(built_archive)


def indexes(srv: ArchiveServer, arch: str, snap: str) -> list[PackagesIndex]:
    a = Archive(make_client(timeout=10))
    out = []
    for suite in SUITES:
        tmpl = srv.security() if suite.endswith("-security") else srv.debian()
        loc = Location(tmpl, str(srv.archive.keyring))
        out.append(a.packages(loc, a.release(loc, suite, snap), "main", arch, snap))
    return out


class Case:
    def __init__(self, srv: ArchiveServer, root: Path, arch: str, snap: str) -> None:
        idx = indexes(srv, arch, snap)
        self.base = minbase(Universe.build(arch, idx))
        self.universe = Universe.build(arch, idx, self.base)
        keyring = str(srv.archive.keyring)
        sources = sources_entry(srv.debian(snap), ["trixie", "trixie-updates"], keyring)
        sources += sources_entry(srv.security(snap), ["trixie-security"], keyring)
        self.apt: AptRoot = make_root(
            root, arch=arch, sources=sources,
            status="\n".join(r.control() for r in self.base),
        )
        self.apt.run("update")

    def mine(self, pkgs: list[str], recommends: bool = False) -> dict[str, str]:
        res = resolve(self.universe, pkgs, install_recommends=recommends)
        return {r.package: r.version for r in res.closure}


@pytest.fixture(scope="module", params=[("amd64", SNAP1), ("arm64", SNAP1), ("amd64", SNAP2)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request: pytest.FixtureRequest, server: ArchiveServer,
         tmp_path_factory: pytest.TempPathFactory) -> Case:
    arch, snap = request.param
    return Case(server, tmp_path_factory.mktemp(f"apt-{arch}"), arch, snap)


def test_debian_minbase_is_required_plus_apt(case: Case) -> None:
    names = {r.package for r in case.base}
    # Priority: required packages, apt, and apt's first satisfiable alternative (alt2)
    assert names == {"base-req", "libbase", "apt", "alt2"}


@pytest.mark.parametrize("pkgs", [
    ["app"], ["tool"], ["native"], ["epochy", "tilde"], ["newtool"],
    ["app", "newtool", "native", "epochy"], ["ed-a", "app"], ["data-common"],
])
def test_debian_closure_matches_apt(case: Case, pkgs: list[str]) -> None:
    assert case.mine(pkgs) == simulate_install(case.apt, pkgs)


def test_debian_closure_with_recommends_matches_apt(case: Case) -> None:
    mine = case.mine(["app"], recommends=True)
    assert "extra-rec" in mine
    assert mine == simulate_install(case.apt, ["app"], recommends=True)


def test_debian_resolution_choices(case: Case) -> None:
    got = case.mine(["app"])
    assert "mta-b" in got  # first alternative has no package
    assert "alt1" not in got  # alt2 is installed and satisfies "alt1 | alt2"
    assert "ed-b" in got and "ed-a" not in got  # provider with the higher priority
    assert "impl-new" in got and "impl-old" not in got  # versioned Provides
    assert got["libfoo"].startswith("2.0-1")  # only trixie-updates satisfies (>= 2.0)
    assert case.mine(["epochy", "tilde"]) == {"epochy": "1:0.9-1", "tilde": "1.0-1"}


def test_debian_binnmu_differs_between_archs(case: Case) -> None:
    want = "1.0-1+b1" if case.universe.arch == "amd64" else "1.0-1"
    assert resolve(case.universe, ["native"]).top == {"native": want}


def test_debian_already_installed_request_is_top_but_not_closure(case: Case) -> None:
    res = resolve(case.universe, ["alt2", "tool"])
    assert res.top["alt2"] == "1.0-1"
    assert "alt2" not in {r.package for r in res.closure}


@pytest.mark.parametrize(("pkgs", "match"), [
    (["broken"], r"broken → libfoo \(>= 9\): libfoo \(>= 9\): candidate is 2\.0-1"),
    (["chain-top"], r"chain-top → chain-mid → ghost: ghost: no candidate"),
    (["ap"], r"ap: no such package .* did you mean .*app"),
    (["anyonly"], r"tool:any: tool is not Multi-Arch: allowed"),
    (["virt-editor"], r"virtual package provided by ed-a, ed-b"),
])
def test_debian_unsatisfiable_explains_and_apt_agrees(
    case: Case, pkgs: list[str], match: str
) -> None:
    with pytest.raises(UnsatisfiableError) as info:
        resolve(case.universe, pkgs)
    assert __import__("re").search(match, info.value.diagnostics().replace("\n", " ")), (
        info.value.diagnostics()
    )
    proc = case.apt.run("-s", "install", "--no-install-recommends", *pkgs, check=False)
    assert proc.returncode != 0
