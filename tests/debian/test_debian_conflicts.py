"""Conflicts and Breaks resolved as apt resolves them, with real apt-get -s as the oracle.

The image's base is the minbase of an older snapshot (SNAP1), so some base packages have
newer candidates at SNAP2, where the requests are resolved: that is how ``Breaks: foo (<< 2)``
can be fixed by an upgrade. Every case is also simulated by apt-get in a root whose dpkg status
is that base: the same packages installed at the same versions, and the same ones removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.apt_oracle import AptRoot, make_root, simulate, sources_entry
from support.debian_archive import SNAP1, SNAP2, ArchiveServer, P, build_archive, serve

from pinlock.http import make_client
from pinlock.kinds.apt.model import AptInput, AptIntent, AptLocked
from pinlock.model import Lock
from pinlock.sources.debian import AptSource, AptSourceConfig
from pinlock.sources.debian.archive import Archive, Location
from pinlock.sources.debian.deb822 import PackageRecord, PackagesIndex
from pinlock.sources.debian.errors import UnsatisfiableError
from pinlock.sources.debian.resolver import Universe, minbase, resolve
from pinlock.sources.interface import Context

_BASE = [  # all Priority: required, so all of them are the base
    P("base-req", "1.0-1", Priority="required", Essential="yes", Depends="libbase"),
    P("libbase", "1.0-1", Priority="required"),
    P("apt", "2.9-1", Priority="important", Depends="libbase"),
    P("oldtool", "1.0-1", Priority="required"),
    P("holder", "1.0-1", Priority="required", Depends="oldlib"),
    P("oldlib", "1.0-1", Priority="required"),
    P("libup", "1.0-1", Priority="required"),  # 2.0-1 in trixie-updates at SNAP2
    # the MTA idiom: one of several providers, each conflicting with the others
    P("mta-a", "1.0-1", Priority="required", Provides="mail-transport-agent",
      Conflicts="mail-transport-agent", Replaces="mail-transport-agent"),
    P("grumpy", "1.0-1", Priority="required", Conflicts="alt-r"),
    P("guarded", "1.0-1", Priority="required", Protected="yes"),
    P("stern", "1.0-1", Priority="required", Essential="yes", Conflicts="shy"),
    P("oldbrk", "1.0-1", Priority="required", Breaks="newer (>= 1)"),  # 2.0-1 does not
]
_NEW = [
    P("newtool", "1.0-1", Conflicts="oldtool", Replaces="oldtool"),
    P("wants-up", "1.0-1", Breaks="libup (<< 2)"),
    P("breaks-up", "1.0-1", Breaks="libup (<< 3)"),
    P("needs-up", "1.0-1", Depends="wants-up, libup"),
    P("kills-ess", "1.0-1", Conflicts="base-req"),
    P("kills-guarded", "1.0-1", Conflicts="guarded"),
    P("kills-oldlib", "1.0-1", Conflicts="oldlib"),
    P("mta-b", "1.0-1", Provides="mail-transport-agent", Conflicts="mail-transport-agent",
      Replaces="mail-transport-agent"),
    P("mailx", "1.0-1", Depends="default-mta | mail-transport-agent"),
    P("alt-x", "1.0-1", Conflicts="base-req"),
    P("alt-y", "1.0-1"),
    P("alt-z", "1.0-1", Conflicts="mine"),
    P("alt-w", "1.0-1"),
    P("alt-r", "1.0-1"),
    P("mine", "1.0-1"),
    P("picky", "1.0-1", Conflicts="alt-w"),
    P("use-x", "1.0-1", Depends="alt-x | alt-y"),
    P("use-z", "1.0-1", Depends="alt-z | alt-y"),
    P("use-w", "1.0-1", Depends="alt-w | alt-y"),
    P("use-r", "1.0-1", Depends="alt-r | alt-y"),
    P("shy", "1.0-1"),
    P("use-shy", "1.0-1", Depends="shy | alt-y"),
    P("newer", "1.0-1"),
    P("selfish", "1.0-1", Provides="thing", Conflicts="selfish, thing", Replaces="thing"),
    P("pa", "1.0-1", Conflicts="pb"),
    P("pb", "1.0-1"),
    P("x1", "1.0-1", Depends="pa"),
    P("x2", "1.0-1", Depends="pb"),
]
TABLE = {
    SNAP1: {"trixie": _BASE},
    SNAP2: {
        "trixie": [*_BASE, *_NEW],
        "trixie-updates": [P("libup", "2.0-1", Priority="required"),
                           P("oldbrk", "2.0-1", Priority="required")],
    },
}
SUITES = ("trixie", "trixie-updates")


@dataclass
class World:
    universe: Universe
    base: list[PackageRecord]
    apt: AptRoot


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveServer]:
    yield from serve(build_archive(tmp_path_factory.mktemp("conflicts-archive"), TABLE))


def _indexes(srv: ArchiveServer, suites: tuple[str, ...], snap: str) -> list[PackagesIndex]:
    a = Archive(make_client(timeout=10))
    loc = Location(srv.debian(), str(srv.archive.keyring))
    return [a.packages(loc, a.release(loc, s, snap), "main", "amd64", snap) for s in suites]


@pytest.fixture(scope="module")
def world(server: ArchiveServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    base = minbase(Universe.build("amd64", _indexes(server, ("trixie",), SNAP1)))
    universe = Universe.build("amd64", _indexes(server, SUITES, SNAP2), base)
    root = make_root(
        tmp_path_factory.mktemp("apt-conflicts"), arch="amd64",
        sources=sources_entry(server.debian(SNAP2), list(SUITES), str(server.archive.keyring)),
        status="\n".join(r.control() for r in base),
    )
    root.run("update")
    return World(universe, base, root)


def test_debian_conflicts_base_is_the_old_minbase(world: World) -> None:
    assert {r.package: r.version for r in world.base} == {p.name: p.version for p in _BASE}
    assert {r.package for r in world.base if r.important} == {"guarded"}  # Protected: yes


@pytest.mark.parametrize(("pkgs", "installs", "removes"), [
    # Conflicts with an installed package that may go: apt removes it
    (["newtool"], {"newtool": "1.0-1"}, {"oldtool": "1.0-1"}),
    # Breaks (<< 2) fixed by upgrading the installed package, also when pulled in
    (["wants-up"], {"wants-up": "1.0-1", "libup": "2.0-1"}, {}),
    (["needs-up"], {"needs-up": "1.0-1", "wants-up": "1.0-1", "libup": "2.0-1"}, {}),
    # Breaks that no candidate fixes: removed
    (["breaks-up"], {"breaks-up": "1.0-1"}, {"libup": "1.0-1"}),
    (["wants-up", "breaks-up"], {"wants-up": "1.0-1", "breaks-up": "1.0-1"}, {"libup": "1.0-1"}),
    # what depended on a removed package goes with it
    (["kills-oldlib"], {"kills-oldlib": "1.0-1"}, {"oldlib": "1.0-1", "holder": "1.0-1"}),
    # the MTA case: Provides-based Conflicts, never against itself
    (["mta-b"], {"mta-b": "1.0-1"}, {"mta-a": "1.0-1"}),
    (["mta-b", "mailx"], {"mta-b": "1.0-1", "mailx": "1.0-1"}, {"mta-a": "1.0-1"}),
    (["mailx"], {"mailx": "1.0-1"}, {}),
    (["selfish"], {"selfish": "1.0-1"}, {}),
    # an alternative that clashes with what must stay is skipped
    (["use-x"], {"use-x": "1.0-1", "alt-y": "1.0-1"}, {}),  # Essential base-req
    (["mine", "use-z"], {"mine": "1.0-1", "use-z": "1.0-1", "alt-y": "1.0-1"}, {}),  # request
    (["use-z"], {"use-z": "1.0-1", "alt-z": "1.0-1"}, {}),  # ... and taken without it
    (["picky", "use-w"], {"picky": "1.0-1", "use-w": "1.0-1", "alt-y": "1.0-1"}, {}),
    (["use-w", "picky"], {"picky": "1.0-1", "use-w": "1.0-1", "alt-y": "1.0-1"}, {}),
    # installed packages' own Conflicts/Breaks: a dependency gives way, a request does not
    (["use-r"], {"use-r": "1.0-1", "alt-y": "1.0-1"}, {}),
    (["use-shy"], {"use-shy": "1.0-1", "alt-y": "1.0-1"}, {}),
    (["alt-r"], {"alt-r": "1.0-1"}, {"grumpy": "1.0-1"}),
    (["use-r", "alt-r"], {"use-r": "1.0-1", "alt-r": "1.0-1"}, {"grumpy": "1.0-1"}),
    (["newer"], {"newer": "1.0-1", "oldbrk": "2.0-1"}, {}),
    (["use-r", "use-z", "mine"],
     {"use-r": "1.0-1", "use-z": "1.0-1", "mine": "1.0-1", "alt-y": "1.0-1"}, {}),
])
def test_debian_conflicts_resolved_as_apt(
    world: World, pkgs: list[str], installs: dict[str, str], removes: dict[str, str]
) -> None:
    res = resolve(world.universe, pkgs)
    mine = {r.package: r.version for r in res.closure}
    removed = {r.package: r.version for r in res.removed}
    assert (mine, removed) == (installs, removes)
    apt = simulate(world.apt, pkgs)
    assert apt.ok, apt.output
    assert (apt.installed, apt.removed) == (mine, removed)


@pytest.mark.parametrize(("pkgs", "match"), [
    (["kills-ess"], r"kills-ess \(1\.0-1\) conflicts base-req; apt does not remove Essential "
                    r"base-req"),
    (["kills-guarded"], r"conflicts guarded; apt does not remove Protected guarded"),
    (["shy"], r"stern \(1\.0-1\) conflicts shy; apt does not remove Essential stern"),
    (["newtool", "oldtool"], r"newtool \(1\.0-1\) conflicts oldtool; both are requested"),
    (["mta-a", "mta-b"], r"conflicts mail-transport-agent; both are requested"),
    (["picky", "alt-w"], r"picky \(1\.0-1\) conflicts alt-w; both are requested"),
    (["breaks-up", "libup"], r"breaks libup \(<< 3\); both are requested"),
    (["kills-oldlib", "holder"], r"removing oldlib breaks holder \(1\.0-1\), which is requested"),
    (["x1", "x2"], r"x2 → pb: pb: pa conflicts pb"),
    (["x2", "pa"], r"x2 → pb: pb: pa conflicts pb"),
])
def test_debian_conflicts_unsatisfiable_explained_and_apt_agrees(
    world: World, pkgs: list[str], match: str
) -> None:
    with pytest.raises(UnsatisfiableError) as info:
        resolve(world.universe, pkgs)
    text = info.value.diagnostics().replace("\n", " ")
    assert re.search(match, text), text
    apt = simulate(world.apt, pkgs)
    assert not apt.ok, apt.output


def test_debian_protected_field_is_read_and_written(tmp_path: Path) -> None:
    index = PackagesIndex.parse(
        b"Package: a\nVersion: 1\nArchitecture: all\nProtected: yes\n\n"
        b"Package: b\nVersion: 1\nArchitecture: all\nImportant: yes\n\n"
        b"Package: c\nVersion: 1\nArchitecture: all\nProtected: no\n"
    )
    assert [r.important for r in index] == [True, True, False]
    assert "\nProtected: yes\n" in index[0].control()
    assert "Protected" not in index[2].control()


def test_debian_conflicts_removals_reach_the_lock(world: World, server: ArchiveServer) -> None:
    status = "\n".join(r.control() for r in world.base)
    cfg = AptSourceConfig(mirror=server.debian(), security_mirror=server.security(),
                          keyring=str(server.archive.keyring))
    src = AptSource(make_client(timeout=10), cfg, base_status=lambda inp, arch: status)
    inp = AptInput("apt", AptIntent(packages=("mta-b",), stage="0", suites=SUITES), AptLocked())
    got = src.resolve(inp, Context(Lock(platforms=("linux/amd64",))), version=SNAP2)
    lk = got.locked
    assert lk.base == "image-dpkg-status"
    assert lk.archs["amd64"].removed == ("mta-a=1.0-1",)
    assert [p.name for p in lk.archs["amd64"].closure] == ["mta-b"]
