"""Pure apt-like resolution for one architecture: candidates, dependencies, providers, a base set.

The pieces: universe.py holds every version and answers candidate and
provider lookups, relations.py matches records against relations, solver.py
marks as apt's solver does (its docstring tells how closely), and problems.py
words what stays broken. This module runs them for a list of requests.

No I/O: records in, records out.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pinlock import output
from pinlock.sources.debian import problems
from pinlock.sources.debian.deb822 import PackageRecord, Relation, parse_relation
from pinlock.sources.debian.errors import UnsatisfiableError
from pinlock.sources.debian.solver import Solver, settle
from pinlock.sources.debian.universe import Universe

__all__ = ["Resolution", "Universe", "minbase", "parse_request", "resolve"]


@dataclass(frozen=True)
class Resolution:
    """The outcome for one architecture."""

    top: dict[str, str]  # requested name -> version (installed or to be installed)
    closure: tuple[PackageRecord, ...]  # what apt would download and install, sorted by name
    selected: dict[str, str] = field(default_factory=dict)  # virtual requested -> provider
    # installed packages apt would remove (``Remv``), as installed, sorted by name; the
    # closure holds what replaces them, the lock does not list them
    removed: tuple[PackageRecord, ...] = ()


def resolve(
    u: Universe, requested: Sequence[str], *, install_recommends: bool = False
) -> Resolution:
    """Resolve ``requested`` as ``apt-get install [--no-install-recommends]`` would
    (see _resolve), shown as progress and, with -v, timed."""
    started = time.monotonic()
    with output.task(f"resolve {len(requested)} apt package(s) for {u.arch}"):
        res = _resolve(u, requested, install_recommends=install_recommends)
    if output.verbose():
        output.log.debug("apt: %d requested, %d in the closure for %s, %d ms", len(requested),
                         len(res.closure), u.arch, (time.monotonic() - started) * 1000)
    return res


def _resolve(
    u: Universe, requested: Sequence[str], *, install_recommends: bool = False
) -> Resolution:
    """Resolve ``requested`` as ``apt-get install [--no-install-recommends]`` would.

    Raises UnsatisfiableError naming the failing chain, e.g.
    ``python3-dev → libpython3-dev (= 3.13.5-1) → …: no candidate``.
    """
    s = Solver(u, install_recommends)
    names: list[str] = []
    selected: dict[str, str] = {}
    for raw in requested:
        name = raw.split(":", 1)[0]
        if u.candidate(name) is None:
            provs = sorted({
                rec.package for rec, _ in u.providers(name)
                if u.candidate(rec.package) is rec
            })
            if len(provs) == 1:
                selected[name] = provs[0]  # apt: "Note, selecting X instead of Y"
                name = provs[0]
            elif provs:
                raise UnsatisfiableError(
                    f"{name} ({u.arch}) is a virtual package provided by {', '.join(provs)}",
                    hint="name one of the providers explicitly",
                )
            else:
                near = difflib.get_close_matches(name, u.names(), n=3)
                raise UnsatisfiableError(
                    f"{name}: no such package for {u.arch} in the enabled suites",
                    hint=f"did you mean {', '.join(near)}?" if near else None,
                )
        if name not in names:
            names.append(name)
    s.requested.update(names)
    # first pass: mark every request without dependencies (apt's TryToInstall)
    for name in names:
        s.protected.add(name)
        s.mark_install(name, auto=False, from_user=True)
    # second pass: dependencies, in apt's package order
    for name in sorted(names, key=lambda n: s.state[n].order):
        s.mark_install(name, auto=True, from_user=True)
    settle(s)
    problems.check(s, requested)
    top = {raw.split(":", 1)[0]: s.state[selected.get(raw, raw.split(":", 1)[0])].version
           for raw in requested}
    closure = tuple(sorted(s.marked.values(), key=lambda r: r.package))
    removed = tuple(sorted(s.deleted.values(), key=lambda r: r.package))
    return Resolution(top, closure, selected, removed)


def minbase(u: Universe) -> list[PackageRecord]:
    """The set ``debootstrap --variant=minbase`` installs: Priority required, apt, their deps.

    Resolved from an empty system with the same solver, so the base and the
    closure agree on every alternative; returned sorted by name.
    """
    empty = Universe(u.arch, u.indexes)
    req = sorted(set(empty.required()) | ({"apt"} if empty.versions("apt") else set()))
    return list(resolve(empty, req).closure)


def parse_request(text: str) -> Relation:
    """``name``, ``name:arch`` or ``name=version`` as written on an install line."""
    name, _, version = text.partition("=")
    rel = parse_relation(name)
    return Relation(rel.name, rel.archqual, "=" if version else None, version or None)
