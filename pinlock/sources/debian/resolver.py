"""Pure apt-like resolution for one architecture: candidates, dependencies, providers, a base set.

The algorithm follows apt's internal solver (``pkgDepCache::MarkInstall``, apt
2.x) closely enough to give the same closure for ``apt-get install
--no-install-recommends``:

* the candidate of a package is its highest version across the enabled suites
  (and the installed version, which is never downgraded);
* requested packages are first all marked without their dependencies, then
  their dependencies are installed in package order, depth first;
* a dependency already satisfied by an installed or marked package is skipped;
  otherwise the possible solutions are, per alternative in order, the target's
  candidate and the candidates that provide it (sorted as apt's
  ``CompareProviders``), installed packages before new ones, and the first one
  that can be installed wins;
* a candidate whose own critical dependencies cannot be met by any candidate is
  discarded (apt's ``IsInstallOkDependenciesSatisfiableByCandidates``);
* ``Recommends`` count only with ``install_recommends``.

Each architecture is resolved natively, as a single-architecture image is built:
``Architecture: all`` packages belong to every architecture, ``:any`` is
satisfied only by ``Multi-Arch: allowed`` packages, ``:native`` by native ones;
``Multi-Arch: foreign``/``same`` change nothing without a foreign architecture.

No I/O: records in, records out. Conflicts and Breaks are not solved around
(apt would remove or keep back packages); a closure that contains one is
reported as unsatisfiable rather than silently locked.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pinlock.sources.debian.deb822 import (
    Group,
    PackageRecord,
    PackagesIndex,
    Relation,
    parse_relation,
)
from pinlock.sources.debian.errors import UnsatisfiableError
from pinlock.sources.debian.version import compare, satisfies

_PRIORITY = {"required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5}
_CRITICAL = ("pre_depends", "depends")


@dataclass
class Universe:
    """Every version of every package of one architecture, plus what is installed.

    The indexes are read lazily: versions and providers of a name are gathered
    when the solver first asks for them, so a resolution touches the few
    thousand records it needs, not the ~65,000 of each index.
    """

    arch: str
    indexes: list[PackagesIndex] = field(default_factory=list)  # in suite order
    installed: dict[str, PackageRecord] = field(default_factory=dict)
    _versions: dict[str, list[PackageRecord]] = field(default_factory=dict)
    _providers: dict[str, list[tuple[PackageRecord, str | None]]] = field(default_factory=dict)
    _rank: dict[str, tuple[int, int]] = field(default_factory=dict)
    _installed_provides: dict[str, list[tuple[PackageRecord, str | None]]] | None = None
    _candidates: dict[str, PackageRecord | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls, arch: str, indexes: Iterable[Sequence[PackageRecord]],
        installed: Iterable[PackageRecord] = (),
    ) -> Universe:
        """``indexes`` in suite order (it breaks ties between equal versions)."""
        u = cls(arch, [
            i if isinstance(i, PackagesIndex) else PackagesIndex.from_records(i) for i in indexes
        ])
        for rec in installed:
            if rec.architecture in (arch, "all"):
                u.installed[rec.package] = rec
        return u

    def _native(self, rec: PackageRecord) -> bool:
        return rec.architecture in (self.arch, "all")

    def versions(self, name: str) -> list[PackageRecord]:
        """The archive's versions of ``name``, highest first; the first suite wins a tie."""
        got = self._versions.get(name)
        if got is None:
            got = [r for index in self.indexes for r in index.named(name) if self._native(r)]
            if len(got) > 1:
                # stable sort: the first suite wins between identical versions
                got.sort(key=functools.cmp_to_key(lambda a, b: compare(b.version, a.version)))
            self._versions[name] = got
        return got

    def _first_seen(self, name: str) -> tuple[int, int]:
        """(index, position) of the first record of ``name``: the order names enter apt's cache."""
        got = self._rank.get(name)
        if got is None:
            got = next(
                ((n, i) for n, index in enumerate(self.indexes) for i in index.positions(name)
                 if self._native(index[i])),
                (len(self.indexes), 0),
            )
            self._rank[name] = got
        return got

    def providers(self, name: str) -> list[tuple[PackageRecord, str | None]]:
        """Who provides ``name`` (and the version, for ``Provides: name (= v)``).

        Installed packages come first, then the archive's in the order their
        names entered the cache and, per name, highest version first.
        """
        got = self._providers.get(name)
        if got is not None:
            return got
        if self._installed_provides is None:
            self._installed_provides = {}
            for rec in self.installed.values():
                for group in rec.relations("provides"):
                    for rel in group:
                        self._installed_provides.setdefault(rel.name, []).append(
                            (rec, rel.version if rel.op == "=" else None)
                        )
        got = list(self._installed_provides.get(name, ()))
        found: list[tuple[tuple[int, int, int], PackageRecord, str | None]] = []
        for index in self.indexes:
            for pos, provided in index.providing(name):
                rec = index[pos]
                if not self._native(rec) or self.installed.get(rec.package) is rec:
                    continue
                place = next(k for k, r in enumerate(self.versions(rec.package)) if r is rec)
                found.append(((*self._first_seen(rec.package), place), rec, provided))
        found.sort(key=lambda f: f[0])  # stable: one record's provides keep their order
        got.extend((rec, provided) for _, rec, provided in found)
        self._providers[name] = got
        return got

    def candidate(self, name: str) -> PackageRecord | None:
        """Highest archive version; the installed record itself when it is that version."""
        if name in self._candidates:
            return self._candidates[name]
        recs = self.versions(name)
        best = recs[0] if recs else None
        cur = self.installed.get(name)
        if cur is not None and (best is None or compare(cur.version, best.version) >= 0):
            best = cur
        self._candidates[name] = best
        return best

    def is_virtual(self, name: str) -> bool:
        return not self.versions(name) and name not in self.installed \
            and bool(self.providers(name))

    def names(self) -> list[str]:
        out: set[str] = set()
        for index in self.indexes:
            out |= index.names()
        for rec in self.installed.values():
            out.update(rel.name for group in rec.relations("provides") for rel in group)
        return sorted(out)

    def required(self) -> list[str]:
        """Names whose candidate has ``Priority: required``."""
        names = {n for index in self.indexes for n in index.required}
        return sorted(n for n in names if (c := self.candidate(n)) and c.priority == "required")


@dataclass(frozen=True)
class Resolution:
    """The outcome for one architecture."""

    top: dict[str, str]  # requested name -> version (installed or to be installed)
    closure: tuple[PackageRecord, ...]  # what apt would download and install, sorted by name
    selected: dict[str, str] = field(default_factory=dict)  # virtual requested -> provider


def _direct_ok(rec: PackageRecord, rel: Relation) -> bool:
    if rec.package != rel.name:
        return False
    if rel.archqual == "any" and rec.multi_arch != "allowed":
        return False
    if rel.archqual not in (None, "any", "native") and rel.archqual != rec.architecture:
        return False
    return rel.op is None or satisfies(rec.version, rel.op, rel.version or "")


def _provide_ok(rec: PackageRecord, provided: str | None, rel: Relation) -> bool:
    if rel.archqual == "any" and rec.multi_arch != "allowed":
        return False
    if rel.op is None:
        return True
    # only a versioned Provides satisfies a versioned dependency (Debian policy 7.5)
    return provided is not None and satisfies(provided, rel.op, rel.version or "")


class _Solver:
    def __init__(self, u: Universe, install_recommends: bool) -> None:
        self.u = u
        self.recommends = install_recommends
        self.state: dict[str, PackageRecord] = dict(u.installed)  # install state per name
        self.marked: dict[str, PackageRecord] = {}
        self.protected: set[str] = set()
        self.cand_override: dict[str, PackageRecord | None] = {}
        self.reason: dict[str, tuple[str, str]] = {}  # pkg -> (parent, dependency text)
        self.failures: list[tuple[str, Group]] = []

    # ------------------------------------------------------------ queries

    def cand(self, name: str) -> PackageRecord | None:
        if name in self.cand_override:
            return self.cand_override[name]
        return self.u.candidate(name)

    def _important(self) -> tuple[str, ...]:
        return (*_CRITICAL, "recommends") if self.recommends else _CRITICAL

    def dep_install(self, rel: Relation) -> bool:
        """apt's DepInstall: satisfied by what is installed or marked."""
        cur = self.state.get(rel.name)
        if cur is not None and _direct_ok(cur, rel):
            return True
        for rec, provided in self.u.providers(rel.name):
            if self.state.get(rec.package) is rec and _provide_ok(rec, provided, rel):
                return True
        return False

    def dep_cver(self, rel: Relation) -> bool:
        """apt's DepCVer: satisfiable by candidate versions."""
        c = self.cand(rel.name)
        if c is not None and _direct_ok(c, rel):
            return True
        return any(
            self.cand(rec.package) is rec and _provide_ok(rec, provided, rel)
            for rec, provided in self.u.providers(rel.name)
        )

    def solutions(self, group: Group, *, installed_too: bool = False) -> list[PackageRecord]:
        """getAllPossibleSolutions: per alternative, sorted; installed before new ones."""
        upgrade: list[PackageRecord] = []
        new: list[PackageRecord] = []
        for rel in group:
            found: list[PackageRecord] = []
            choices = [self.cand(rel.name)]
            if installed_too:
                choices.append(self.u.installed.get(rel.name))
            for c in choices:
                if c is not None and _direct_ok(c, rel) and c not in found:
                    found.append(c)
            for rec, provided in self.u.providers(rel.name):
                ok_ver = self.cand(rec.package) is rec or (
                    installed_too and self.u.installed.get(rec.package) is rec
                )
                if ok_ver and _provide_ok(rec, provided, rel) and rec not in found:
                    found.append(rec)
            found.sort(key=functools.cmp_to_key(functools.partial(self._cmp_providers, rel.name)))
            for rec in found:
                (upgrade if rec.package in self.u.installed else new).append(rec)
        out: list[PackageRecord] = []
        for rec in [*upgrade, *new]:
            if rec not in out:
                out.append(rec)
        return out

    def _cmp_providers(self, target: str, a: PackageRecord, b: PackageRecord) -> int:
        """apt's CompareProviders: negative when ``a`` is preferred."""
        pa, pb = a.package in self.protected, b.package in self.protected
        if pa != pb:
            return -1 if pa else 1
        ia, ib = a.package in self.u.installed, b.package in self.u.installed
        if ia != ib:
            return -1 if ia else 1
        ga, gb = a.package == target, b.package == target
        if ga != gb:
            return -1 if ga else 1
        if a.essential != b.essential:
            return -1 if a.essential else 1
        if a.important != b.important:
            return -1 if a.important else 1
        ra, rb = _PRIORITY.get(a.priority, 0), _PRIORITY.get(b.priority, 0)
        if ra != rb:
            return -1 if ra < rb else 1
        # apt prefers the package created later in its cache (higher ID)
        return -1 if a.order > b.order else (1 if a.order < b.order else 0)

    # ------------------------------------------------------------ marking

    def _mark(self, rec: PackageRecord) -> None:
        if self.u.installed.get(rec.package) is rec:
            self.marked.pop(rec.package, None)
        else:
            self.marked[rec.package] = rec
        self.state[rec.package] = rec

    def _unmark(self, name: str) -> None:
        self.marked.pop(name, None)
        cur = self.u.installed.get(name)
        if cur is None:
            self.state.pop(name, None)
        else:
            self.state[name] = cur

    def _deps_satisfiable(self, rec: PackageRecord) -> bool:
        for key in _CRITICAL:
            for group in rec.relations(key):
                if not any(self.dep_install(r) or self.dep_cver(r) for r in group):
                    return False
        return True

    def mark_install(self, name: str, *, auto: bool, from_user: bool) -> bool:
        c = self.cand(name)
        if c is None:
            return False
        cur = self.u.installed.get(name)
        is_protected = name in self.protected
        if not is_protected:
            if c is cur:
                return True
            if self.marked.get(name) is c:
                return True
        if auto and c is not cur and not from_user and not self._deps_satisfiable(c):
            if not is_protected:
                self.cand_override[name] = cur
            return False
        if from_user:
            self._mark(c)
        if not auto:
            if not from_user:
                self._mark(c)
            return True
        to_install = [
            g for key in self._important() for g in c.relations(key)
            if not any(self.dep_install(r) for r in g)
        ]
        upgrades = self._reverse_upgrades(c) if cur is not None and c is not cur else []
        if not from_user:
            self._mark(c)
        already = is_protected
        self.protected.add(name)
        try:
            ok = True
            for other in upgrades:
                if self.marked.get(other) is None and not self.mark_install(
                    other, auto=True, from_user=False
                ):
                    ok = False
            ok = self._install_deps(c, to_install, propagate=already, from_user=from_user) and ok
        finally:
            if not already:
                self.protected.discard(name)
        if not ok and not already and not from_user:
            self._unmark(name)
            return False
        return ok

    def _reverse_upgrades(self, new: PackageRecord) -> list[str]:
        """Installed packages whose dependency on ``new.package`` the upgrade would break."""
        old = self.u.installed[new.package]
        out: list[str] = []
        for pkg, rec in self.u.installed.items():
            if pkg in self.marked:
                continue
            for key in self._important():
                for group in rec.relations(key):
                    for rel in group:
                        if rel.name == new.package and _direct_ok(old, rel) and not _direct_ok(
                            new, rel
                        ) and pkg not in out:
                            out.append(pkg)
        return out

    def _install_deps(
        self, owner: PackageRecord, to_install: list[Group], *, propagate: bool, from_user: bool
    ) -> bool:
        failed = False
        crit = {id(g) for key in _CRITICAL for g in owner.relations(key)}
        for group in to_install:
            critical = id(group) in crit
            if any(self.dep_install(r) for r in group):
                if not propagate or not critical:
                    continue
                sols = self.solutions(group, installed_too=True)
                if len(sols) != 1 or sols[0].package in self.protected:
                    continue
                self.protected.add(sols[0].package)
                if not self.mark_install(sols[0].package, auto=True, from_user=False):
                    failed = True
                continue
            sols = self.solutions(group)
            found = False
            for rec in sols:
                if self.cand(rec.package) is not rec:
                    continue
                if propagate and critical and len(sols) == 1:
                    if not self.mark_install(rec.package, auto=False, from_user=False):
                        continue
                    self.protected.add(rec.package)
                self.reason.setdefault(rec.package, (owner.package, _group_text(group)))
                if not self.mark_install(rec.package, auto=True, from_user=False):
                    continue
                found = True
                break
            if not found and critical:
                failed = True
                self.failures.append((owner.package, group))
                if not propagate and not from_user:
                    break
        return not failed

    # ------------------------------------------------------------ explanations

    def explain(self, group: Group, depth: int = 0, seen: frozenset[str] = frozenset()) -> str:
        """Why no alternative of ``group`` can be installed, following the chain down."""
        whys: list[str] = []
        for rel in group:
            c = self.cand(rel.name)
            orig = self.u.candidate(rel.name)
            provs = [
                rec for rec, p in self.u.providers(rel.name)
                if self.u.candidate(rec.package) is rec and _provide_ok(rec, p, rel)
            ]
            if orig is None and not provs:
                if self.u.providers(rel.name):
                    whys.append(f"{rel}: only provided without a matching version")
                else:
                    whys.append(f"{rel}: no candidate (no such package in the enabled suites)")
                continue
            target = c or orig
            if target is not None and rel.archqual == "any" and target.multi_arch != "allowed" \
                    and not provs:
                whys.append(f"{rel}: {target.package} is not Multi-Arch: allowed")
                continue
            if target is not None and not _direct_ok(target, rel) and not provs:
                whys.append(f"{rel}: candidate is {target.version}, which does not satisfy it")
                continue
            chosen = target if target is not None and _direct_ok(target, rel) else provs[0]
            if depth >= 8 or chosen.package in seen:
                whys.append(f"{rel}: cannot be installed")
                continue
            sub = self._first_unsatisfiable(chosen)
            if sub is None:
                whys.append(f"{rel}: conflicts with the rest of the selection")
                continue
            whys.append(
                f"{chosen.package} ({chosen.version}) → "
                + self.explain(sub, depth + 1, seen | {chosen.package})
            )
        return " | ".join(whys)

    def _first_unsatisfiable(self, rec: PackageRecord) -> Group | None:
        for key in _CRITICAL:
            for group in rec.relations(key):
                if not any(self.dep_install(r) or self.dep_cver(r) for r in group):
                    return group
        for key in _CRITICAL:
            for group in rec.relations(key):
                if not any(self.dep_install(r) for r in group):
                    return group
        return None

    def chain(self, name: str) -> list[str]:
        path = [name]
        while name in self.reason and len(path) < 50:
            name = self.reason[name][0]
            if name in path:
                break
            path.append(name)
        return list(reversed(path))


def _group_text(group: Group) -> str:
    return " | ".join(str(r) for r in group)


def _conflicts(state: dict[str, PackageRecord], changed: dict[str, PackageRecord]) -> list[str]:
    """Conflicts/Breaks between a changed package and anything in the final state."""
    out: list[str] = []
    for rec in state.values():
        for key in ("conflicts", "breaks"):
            for group in rec.relations(key):
                for rel in group:
                    other = state.get(rel.name)
                    if other is None or other is rec:
                        continue
                    if rec.package not in changed and rel.name not in changed:
                        continue
                    if rel.op is None or satisfies(other.version, rel.op, rel.version or ""):
                        out.append(f"{rec.package} ({rec.version}) {key} {rel}")
    return out


def resolve(
    u: Universe, requested: Sequence[str], *, install_recommends: bool = False
) -> Resolution:
    """Resolve ``requested`` as ``apt-get install [--no-install-recommends]`` would.

    Raises UnsatisfiableError naming the failing chain, e.g.
    ``python3-dev → libpython3-dev (= 3.13.5-1) → …: no candidate``.
    """
    s = _Solver(u, install_recommends)
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
    # first pass: mark every request without dependencies (apt's TryToInstall)
    for name in names:
        s.protected.add(name)
        s.mark_install(name, auto=False, from_user=True)
    # second pass: dependencies, in apt's package order
    for name in sorted(names, key=lambda n: s.state[n].order):
        s.mark_install(name, auto=True, from_user=True)
    broken: list[tuple[str, Group]] = []
    for name, rec in sorted(s.marked.items()):
        for key in _CRITICAL:
            for group in rec.relations(key):
                if not any(s.dep_install(r) for r in group):
                    broken.append((name, group))
    if broken:
        name, group = broken[0]
        msg = (
            " → ".join(s.chain(name))
            + f" → {_group_text(group)}: {s.explain(group)}"
        )
        raise UnsatisfiableError(
            f"cannot install {', '.join(requested)} for {u.arch}: {msg}",
            hint="check the package names and suites, or pin a different version",
        )
    clashes = _conflicts(s.state, s.marked)
    if clashes:
        raise UnsatisfiableError(
            f"cannot install {', '.join(requested)} for {u.arch}: {'; '.join(clashes[:3])}",
            hint="apt would have to remove or hold back packages; pinlock does not lock that",
        )
    top = {raw.split(":", 1)[0]: s.state[selected.get(raw, raw.split(":", 1)[0])].version
           for raw in requested}
    closure = tuple(sorted(s.marked.values(), key=lambda r: r.package))
    return Resolution(top, closure, selected)


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
