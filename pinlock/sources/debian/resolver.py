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

Conflicts and Breaks (both "negative" relations to apt) are handled as apt's
``MarkInstall`` and, for the common cases, its ``pkgProblemResolver`` do:

* a relation never hits its own package, directly or through its Provides
  (``Conflicts/Provides/Replaces: mail-transport-agent``);
* when a package is marked, what its Conflicts/Breaks hit is moved out of the
  way: a package marked earlier in the run is unmarked unless it is protected
  (requested, or on the chain being installed), which makes this package fail;
  an installed package is upgraded when its candidate is not hit (``Breaks: foo
  (<< 2)``), else removed after the package's dependencies are installed,
  unless it is Essential or Protected/Important, which makes this package fail;
* a package that fails is an alternative skipped: ``a | b`` takes ``b`` when
  ``a`` clashes with something that must stay;
* a requested package proactively keeps out the candidates its Conflicts/Breaks
  hit, so a later ``x | y`` takes ``y``;
* what marking leaves broken is settled as apt's problem resolver settles it in
  the usual cases: in a clash between a requested package and an installed one,
  the installed one is upgraded or else removed; an installed package whose
  Conflicts/Breaks hit a package pulled in as a dependency wins (that
  alternative is not taken); installed packages that depended on a removed one
  are removed with it.

Anything else that stays broken (two new packages clashing, an Essential
package in the way) is reported as unsatisfiable, naming the clash. Removals
of installed packages are returned in ``Resolution.removed``.

No I/O: records in, records out.
"""

from __future__ import annotations

import difflib
import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pinlock import output
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
_NEGATIVE = ("conflicts", "breaks")


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
    # installed packages apt would remove (``Remv``), as installed, sorted by name; the
    # closure holds what replaces them, the lock does not list them
    removed: tuple[PackageRecord, ...] = ()


def _direct_ok(rec: PackageRecord, rel: Relation) -> bool:
    if rec.package != rel.name:
        return False
    if rel.archqual == "any" and rec.multi_arch != "allowed":
        return False
    if rel.archqual not in (None, "any", "native") and rel.archqual != rec.architecture:
        return False
    return rel.op is None or satisfies(rec.version, rel.op, rel.version or "")


def _rel_hits(owner: PackageRecord, rel: Relation, rec: PackageRecord) -> bool:
    """Does ``owner``'s Conflicts/Breaks ``rel`` hit ``rec``, by name or through its Provides?

    Never its own package: ``Conflicts: mta`` with ``Provides: mta`` is how one
    of several providers says "only one of us" (apt's ``IsIgnorable``).
    """
    if rec.package == owner.package:
        return False
    if rec.package == rel.name and _direct_ok(rec, rel):
        return True
    return any(
        p.name == rel.name and _provide_ok(rec, p.version if p.op == "=" else None, rel)
        for group in rec.relations("provides") for p in group
    )


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
        self.marked: dict[str, PackageRecord] = {}  # new installs and upgrades
        self.deleted: dict[str, PackageRecord] = {}  # installed packages to remove
        self.protected: set[str] = set()
        self.requested: set[str] = set()
        self.cand_override: dict[str, PackageRecord | None] = {}
        self.reason: dict[str, tuple[str, str]] = {}  # pkg -> (parent, dependency text)
        self.failures: list[tuple[str, Group]] = []
        self.blocked: dict[str, str] = {}  # pkg -> the clash that made marking it fail
        self._negatives: dict[str, list[tuple[PackageRecord, str, Relation]]] | None = None

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
            if rec not in out and not self._kept_out(rec.package):
                out.append(rec)
        return out

    def _kept_out(self, name: str) -> bool:
        """Protected in a removed or not-installed state: no dependency may bring it back."""
        return name in self.protected and (
            name in self.deleted or (name not in self.marked and name not in self.u.installed)
        )

    def _negative_targets(
        self, owner: PackageRecord, rel: Relation, *, installed: bool
    ) -> list[PackageRecord]:
        """The candidate (or installed) versions ``owner``'s Conflicts/Breaks ``rel`` hits,
        sorted as apt's getAllPossibleSolutions sorts them."""
        def pick(name: str) -> PackageRecord | None:
            return self.u.installed.get(name) if installed else self.cand(name)

        found: list[PackageRecord] = []
        t = pick(rel.name)
        if t is not None and t.package != owner.package and _direct_ok(t, rel):
            found.append(t)
        for rec, provided in self.u.providers(rel.name):
            if rec.package != owner.package and pick(rec.package) is rec \
                    and _provide_ok(rec, provided, rel) and rec not in found:
                found.append(rec)
        found.sort(key=functools.cmp_to_key(functools.partial(self._cmp_providers, rel.name)))
        return [r for r in found if r.package in self.u.installed] + [
            r for r in found if r.package not in self.u.installed
        ]

    def clashes_now(self, owner: PackageRecord, rel: Relation) -> list[PackageRecord]:
        """What ``owner``'s Conflicts/Breaks ``rel`` hits in the install state."""
        out: list[PackageRecord] = []
        t = self.state.get(rel.name)
        if t is not None and _rel_hits(owner, rel, t):
            out.append(t)
        for rec, _ in self.u.providers(rel.name):
            if self.state.get(rec.package) is rec and rec not in out and _rel_hits(owner, rel, rec):
                out.append(rec)
        return out

    def undeletable(self, name: str) -> str | None:
        """Why apt's solver will not remove ``name`` on its own; None when it may."""
        recs = [r for r in (self.u.installed.get(name), self.u.candidate(name)) if r is not None]
        if any(r.essential for r in recs):
            return "Essential"
        if any(r.important for r in recs):
            return "Protected"
        return None

    def _mode(self, name: str) -> str:
        if name in self.marked:
            return "install"
        return "delete" if name in self.deleted else "keep"

    def _mode_change_ok(self, name: str, mode: str) -> bool:
        """apt's IsModeChangeOk for a change the solver (not the user) makes."""
        if self._mode(name) == mode:
            return True
        if name in self.protected:
            return False
        return not (mode == "delete" and self.undeletable(name))

    def _installed_negatives(self) -> dict[str, list[tuple[PackageRecord, str, Relation]]]:
        """name -> the installed packages whose Conflicts/Breaks name it."""
        if self._negatives is None:
            self._negatives = {}
            for rec in self.u.installed.values():
                for key in _NEGATIVE:
                    for group in rec.relations(key):
                        for rel in group:
                            self._negatives.setdefault(rel.name, []).append((rec, key, rel))
        return self._negatives

    def reverse_clash(self, c: PackageRecord) -> str | None:
        """An installed package that stays and whose Conflicts/Breaks hit ``c``, as text.

        ``c``'s own Conflicts/Breaks remove or upgrade what they hit, so those
        do not count. apt's problem resolver settles such a clash in favour of
        the installed package when ``c`` was only pulled in as a dependency.
        """
        names = [c.package, *(p.name for g in c.relations("provides") for p in g)]
        mine = [rel for key in _NEGATIVE for g in c.relations(key) for rel in g]
        for name in dict.fromkeys(names):
            for x, key, rel in self._installed_negatives().get(name, ()):
                if self.state.get(x.package) is not x or x.package in self.marked:
                    continue
                if _rel_hits(x, rel, c) and not any(_rel_hits(c, r, x) for r in mine):
                    return f"installed {x.package} ({x.version}) {key} {rel}"
        return None

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
        self.deleted.pop(rec.package, None)
        if self.u.installed.get(rec.package) is rec:
            self.marked.pop(rec.package, None)
        else:
            self.marked[rec.package] = rec
        self.state[rec.package] = rec

    def _discard_install(self, name: str) -> None:
        """apt's MarkInstall_DiscardInstall: back to what is installed, and that is the
        candidate from now on (a package that failed once is not tried again)."""
        self.marked.pop(name, None)
        cur = self.u.installed.get(name)
        if name not in self.deleted:
            if cur is None:
                self.state.pop(name, None)
            else:
                self.state[name] = cur
        self.cand_override[name] = None if name in self.deleted else cur

    def mark_keep(self, name: str) -> bool:
        if not self._mode_change_ok(name, "keep"):
            return False
        self.marked.pop(name, None)
        self.deleted.pop(name, None)
        cur = self.u.installed.get(name)
        if cur is None:
            self.state.pop(name, None)
        else:
            self.state[name] = cur
        return True

    def mark_delete(self, name: str) -> bool:
        if not self._mode_change_ok(name, "delete"):
            return False
        if name in self.deleted or name not in self.state:
            return True
        self.marked.pop(name, None)
        del self.state[name]
        cur = self.u.installed.get(name)
        if cur is not None:
            self.deleted[name] = cur
        return True

    def _deps_satisfiable(self, rec: PackageRecord) -> bool:
        for key in _CRITICAL:
            for group in rec.relations(key):
                if not any(self.dep_install(r) or self.dep_cver(r) for r in group):
                    return False
        return True

    def mark_install(self, name: str, *, auto: bool, from_user: bool) -> bool:
        c = self.cand(name)
        cur = self.u.installed.get(name)
        is_protected = name in self.protected
        # a protected package kept at its installed version may be walked again, to
        # protect its dependencies; otherwise the mode must be allowed to change
        walk = is_protected and c is not None and c is cur and self._mode(name) == "keep" \
            and name in self.state
        if not from_user and not walk and not self._mode_change_ok(name, "install"):
            return False
        if c is None:
            return False
        if not is_protected:
            if c is cur:
                return self.mark_keep(name) if name in self.deleted else True
            if self.marked.get(name) is c:
                return True
        if auto and c is not cur and not from_user and not self._deps_satisfiable(c):
            if not is_protected:
                self.cand_override[name] = cur
            return False
        if auto and not is_protected and not from_user:
            clash = self.reverse_clash(c)
            if clash is not None:
                self.blocked[name] = clash
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
        fail_early = not is_protected and not from_user
        failed = False
        to_upgrade: list[str] = []
        delayed: list[str] = []
        why = self._remove_conflicts(c, to_upgrade, delayed, propagate=is_protected,
                                     from_user=from_user)
        if why is not None:
            if fail_early:
                self.blocked[name] = why
                return False
            failed = True
        if cur is not None and c is not cur:
            to_upgrade.extend(p for p in self._reverse_upgrades(c) if p not in to_upgrade)
        if not from_user:
            self._mark(c)
        already = is_protected
        self.protected.add(name)
        try:
            if not self._upgrade_or_remove(to_upgrade, propagate=already, from_user=from_user):
                if fail_early:
                    self._discard_install(name)
                    return False
                failed = True
            if not self._install_deps(c, to_install, propagate=already, from_user=from_user):
                if fail_early:
                    self._discard_install(name)
                    return False
                failed = True
            for other in delayed:
                if not self.mark_delete(other):
                    if fail_early:
                        self._discard_install(name)
                        return False
                    failed = True
        finally:
            if not already:
                self.protected.discard(name)
        return not failed

    def _remove_conflicts(
        self, c: PackageRecord, to_upgrade: list[str], delayed: list[str], *,
        propagate: bool, from_user: bool,
    ) -> str | None:
        """apt's MarkInstall_RemoveConflictsIfNotUpgradeable for what ``c`` Conflicts/Breaks.

        A package marked in this run is unmarked (not if protected); an installed
        one goes to ``to_upgrade`` when its candidate is not hit, else to
        ``delayed`` for removal (not if Essential or Protected). With ``propagate``
        (``c`` is protected) the hit candidates are also kept out for the rest of
        the run and removals happen now. Returns what could not be moved, or None.
        """
        why: str | None = None
        stop = not propagate and not from_user
        bad: list[str] = []
        for key in _NEGATIVE:
            for group in c.relations(key):
                for rel in group:
                    if not propagate and not self.clashes_now(c, rel):
                        continue  # apt only collects the ones that clash (or all, protected)
                    for ver in self._negative_targets(c, rel, installed=False):
                        pkg = ver.package
                        if self.u.installed.get(pkg) is not ver:
                            if pkg in self.marked and not self.mark_keep(pkg):
                                why = f"{c.package} ({c.version}) {key} {rel}, which must stay"
                            elif propagate:
                                self.blocked.setdefault(pkg, f"{c.package} {key} {rel}")
                                self.cand_override[pkg] = self.state.get(pkg)
                                if pkg not in self.u.installed:
                                    self.protected.add(pkg)
                            else:
                                self.blocked.setdefault(pkg, f"{c.package} {key} {rel}")
                                bad.append(pkg)
                        elif not self._delete_not_upgradeable(pkg, propagate, delayed):
                            why = self._refusal(c, key, rel, pkg)
                        if why is not None and stop:
                            return why
                    for ver in self._negative_targets(c, rel, installed=True):
                        pkg = ver.package
                        cand = self.cand(pkg)
                        if cand is not ver and cand is not None and pkg not in bad:
                            if pkg not in to_upgrade:
                                to_upgrade.append(pkg)
                        elif cand is ver:
                            pass  # handled above
                        elif not self._delete_not_upgradeable(pkg, propagate, delayed):
                            why = self._refusal(c, key, rel, pkg)
                        if why is not None and stop:
                            return why
        return why

    def _refusal(self, c: PackageRecord, key: str, rel: Relation, pkg: str) -> str:
        kind = self.undeletable(pkg) or ("requested" if pkg in self.requested else "protected")
        return f"{c.package} ({c.version}) {key} {rel}; apt does not remove {kind} {pkg}"

    def _delete_not_upgradeable(self, pkg: str, propagate: bool, delayed: list[str]) -> bool:
        if not propagate:
            if pkg in self.deleted:
                return True
            if not self._mode_change_ok(pkg, "delete"):
                return False
            if pkg not in delayed:
                delayed.append(pkg)
            return True
        if pkg not in self.deleted and not self.mark_delete(pkg):
            return False
        self.cand_override[pkg] = None
        self.protected.add(pkg)
        return True

    def _upgrade_or_remove(self, to_upgrade: list[str], *, propagate: bool,
                           from_user: bool) -> bool:
        """apt's MarkInstall_UpgradeOrRemoveConflicts: upgrade each, or remove it."""
        failed = False
        for pkg in to_upgrade:
            if pkg in self.marked or self.mark_install(pkg, auto=True, from_user=False):
                continue
            if not self.mark_delete(pkg):
                failed = True
                if not propagate and not from_user:
                    break
            elif propagate:
                self.protected.add(pkg)
        return not failed

    def _reverse_upgrades(self, new: PackageRecord) -> list[str]:
        """Installed packages whose dependency on ``new.package`` the upgrade would break."""
        old = self.u.installed[new.package]
        out: list[str] = []
        for pkg, rec in self.u.installed.items():
            if pkg in self.marked or self.state.get(pkg) is not rec:
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
            if chosen.package in self.blocked:
                whys.append(f"{rel}: {self.blocked[chosen.package]}")
                continue
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


def _settle(s: _Solver) -> None:
    """The part of apt's pkgProblemResolver pinlock follows, once marking is done.

    A clash between a requested package and an installed one that stays is
    settled against the installed one (a request scores highest): it is
    upgraded when its candidate no longer clashes, else removed. Installed
    packages left with a broken dependency by a removal are removed as well.
    Essential and Protected packages stay, and resolve() reports the clash.
    """
    for _ in range(len(s.u.installed) + 1):
        changed = False
        for rec in sorted(s.state.values(), key=lambda r: r.package):
            for key in _NEGATIVE:
                for group in rec.relations(key):
                    for rel in group:
                        for other in s.clashes_now(rec, rel):
                            changed = _settle_clash(s, rec, other) or changed
        for name, x in sorted(s.state.items()):
            if name in s.marked or s.u.installed.get(name) is not x:
                continue
            if any(
                not any(s.dep_install(r) for r in g) for key in _CRITICAL for g in x.relations(key)
            ) and s.mark_delete(name) and name in s.deleted:
                changed = True
        if not changed:
            return


def _settle_clash(s: _Solver, owner: PackageRecord, target: PackageRecord) -> bool:
    """``owner``'s Conflicts/Breaks hit ``target``: move the installed side if the other is
    requested. True when something changed."""
    def stays(rec: PackageRecord) -> bool:
        return rec.package not in s.marked and rec.package not in s.requested \
            and s.u.installed.get(rec.package) is rec

    if owner.package in s.requested and stays(target):
        loser, winner = target, owner
    elif target.package in s.requested and stays(owner):
        loser, winner = owner, target
    else:
        return False
    c = s.cand(loser.package)
    if c is not None and c is not loser and not _clash_between(c, winner) \
            and s.mark_install(loser.package, auto=True, from_user=False) \
            and s.state.get(loser.package) is c:
        return True
    return s.mark_delete(loser.package) and loser.package in s.deleted


def _clash_between(a: PackageRecord, b: PackageRecord) -> bool:
    return any(
        _rel_hits(x, rel, y) for x, y in ((a, b), (b, a))
        for key in _NEGATIVE for g in x.relations(key) for rel in g
    )


def _clashes(s: _Solver) -> list[str]:
    """Conflicts/Breaks left in the final state that involve a changed package, explained."""
    out: list[str] = []
    for rec in sorted(s.state.values(), key=lambda r: r.package):
        for key in _NEGATIVE:
            for group in rec.relations(key):
                for rel in group:
                    for other in s.clashes_now(rec, rel):
                        if rec.package not in s.marked and other.package not in s.marked:
                            continue
                        text = f"{rec.package} ({rec.version}) {key} {rel}"
                        out.append(text + _why_stays(s, rec.package, other.package))
    return out


def _why_stays(s: _Solver, a: str, b: str) -> str:
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


def _broken_installed(s: _Solver) -> list[str]:
    """Installed packages that stay but lose a dependency to a removal."""
    out: list[str] = []
    for name, x in sorted(s.state.items()):
        if name in s.marked:
            continue
        for key in _CRITICAL:
            for g in x.relations(key):
                if not any(s.dep_install(r) for r in g):
                    gone = ", ".join(sorted(r.name for r in g if r.name in s.deleted)) or "?"
                    why = "requested" if name in s.requested else s.undeletable(name) or "kept"
                    out.append(f"removing {gone} breaks {name} ({x.version}), which is {why}")
    return out


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
    s.requested.update(names)
    # first pass: mark every request without dependencies (apt's TryToInstall)
    for name in names:
        s.protected.add(name)
        s.mark_install(name, auto=False, from_user=True)
    # second pass: dependencies, in apt's package order
    for name in sorted(names, key=lambda n: s.state[n].order):
        s.mark_install(name, auto=True, from_user=True)
    _settle(s)
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
    clashes = _clashes(s) + _broken_installed(s)
    if clashes:
        raise UnsatisfiableError(
            f"cannot install {', '.join(requested)} for {u.arch}: {' | '.join(clashes[:3])}",
            hint="apt refuses this combination too: drop a clashing package from the install "
            "line, or use suites where they do not clash",
        )
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
