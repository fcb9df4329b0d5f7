"""Why a resolution failed, as text: the failing chain, the clash, the broken installed package."""

from __future__ import annotations

from collections.abc import Sequence

from pinlock.sources.debian.deb822 import Group, PackageRecord
from pinlock.sources.debian.errors import UnsatisfiableError
from pinlock.sources.debian.relations import direct_ok, group_text, provide_ok
from pinlock.sources.debian.solver import Solver


def check(s: Solver, requested: Sequence[str]) -> None:
    """Raise UnsatisfiableError when marking and settling left something broken.

    A critical dependency left unmet is reported first, as the chain that led
    to it, e.g. ``python3-dev → libpython3-dev (= 3.13.5-1) → …: no candidate``;
    then the clashes and broken installed packages, the first three of them.
    """
    broken = [(name, group) for name, rec in sorted(s.marked.items()) for group in s.unmet(rec)]
    if broken:
        name, group = broken[0]
        msg = (
            " → ".join(chain(s, name))
            + f" → {group_text(group)}: {explain(s, group)}"
        )
        raise UnsatisfiableError(
            f"cannot install {', '.join(requested)} for {s.u.arch}: {msg}",
            hint="check the package names and suites, or pin a different version",
        )
    clashes = _clashes(s) + _broken_installed(s)
    if clashes:
        raise UnsatisfiableError(
            f"cannot install {', '.join(requested)} for {s.u.arch}: {' | '.join(clashes[:3])}",
            hint="apt refuses this combination too: drop a clashing package from the install "
            "line, or use suites where they do not clash",
        )


def explain(s: Solver, group: Group, depth: int = 0, seen: frozenset[str] = frozenset()) -> str:
    """Why no alternative of ``group`` can be installed, following the chain down."""
    whys: list[str] = []
    for rel in group:
        c = s.cand(rel.name)
        orig = s.u.candidate(rel.name)
        provs = [
            rec for rec, p in s.u.providers(rel.name)
            if s.u.candidate(rec.package) is rec and provide_ok(rec, p, rel)
        ]
        if orig is None and not provs:
            if s.u.providers(rel.name):
                whys.append(f"{rel}: only provided without a matching version")
            else:
                whys.append(f"{rel}: no candidate (no such package in the enabled suites)")
            continue
        target = c or orig
        if target is not None and rel.archqual == "any" and target.multi_arch != "allowed" \
                and not provs:
            whys.append(f"{rel}: {target.package} is not Multi-Arch: allowed")
            continue
        if target is not None and not direct_ok(target, rel) and not provs:
            whys.append(f"{rel}: candidate is {target.version}, which does not satisfy it")
            continue
        chosen = target if target is not None and direct_ok(target, rel) else provs[0]
        if chosen.package in s.blocked:
            whys.append(f"{rel}: {s.blocked[chosen.package]}")
            continue
        if depth >= 8 or chosen.package in seen:
            whys.append(f"{rel}: cannot be installed")
            continue
        sub = _first_unsatisfiable(s, chosen)
        if sub is None:
            whys.append(f"{rel}: conflicts with the rest of the selection")
            continue
        whys.append(
            f"{chosen.package} ({chosen.version}) → "
            + explain(s, sub, depth + 1, seen | {chosen.package})
        )
    return " | ".join(whys)


def _first_unsatisfiable(s: Solver, rec: PackageRecord) -> Group | None:
    """The group that keeps ``rec`` out: one nothing can satisfy, else one left unmet."""
    group = next(s.unsatisfiable(rec), None)
    return group if group is not None else next(s.unmet(rec), None)


def chain(s: Solver, name: str) -> list[str]:
    """The requests-first path of dependencies that brought ``name`` in."""
    path = [name]
    while name in s.reason and len(path) < 50:
        name = s.reason[name][0]
        if name in path:
            break
        path.append(name)
    return list(reversed(path))


def _clashes(s: Solver) -> list[str]:
    """Conflicts/Breaks left in the final state that involve a changed package, explained."""
    out: list[str] = []
    for rec in sorted(s.state.values(), key=lambda r: r.package):
        for key, rel, other in s.clashes(rec):
            if rec.package not in s.marked and other.package not in s.marked:
                continue
            text = f"{rec.package} ({rec.version}) {key} {rel}"
            out.append(text + _why_stays(s, rec.package, other.package))
    return out


def _why_stays(s: Solver, a: str, b: str) -> str:
    """Why neither side of a clash between ``a`` and ``b`` can give way, as a clause."""
    for name in (b, a):
        why = s.undeletable(name)
        if why and name not in s.requested and name not in s.marked and name in s.u.installed:
            return f"; apt does not remove {why} {name}"
    if a in s.requested and b in s.requested:
        return "; both are requested"
    if a in s.marked and b in s.marked:
        return "; both would be installed"
    return ""


def _broken_installed(s: Solver) -> list[str]:
    """Installed packages that stay but lose a dependency to a removal."""
    out: list[str] = []
    for name, x in sorted(s.state.items()):
        if name in s.marked:
            continue
        for g in s.unmet(x):
            gone = ", ".join(sorted(r.name for r in g if r.name in s.deleted)) or "?"
            why = "requested" if name in s.requested else s.undeletable(name) or "kept"
            out.append(f"removing {gone} breaks {name} ({x.version}), which is {why}")
    return out
