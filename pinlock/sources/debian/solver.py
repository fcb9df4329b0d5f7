"""apt's marking solver for one architecture: what to install, upgrade and remove.

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
package in the way) is reported as unsatisfiable, naming the clash
(problems.py). Removals of installed packages are returned in
``Resolution.removed``.

No I/O: records in, records out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence

from pinlock.sources.debian.deb822 import Group, PackageRecord, Relation
from pinlock.sources.debian.relations import (
    CRITICAL,
    NEGATIVE,
    clash_between,
    direct_ok,
    group_text,
    groups,
    hits,
    provide_ok,
    provides,
    relations,
)
from pinlock.sources.debian.universe import Universe

_PRIORITY = {"required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5}

_Pick = Callable[[str], PackageRecord | None]  # name -> the version of it a lookup considers


def _unique(recs: Iterable[PackageRecord]) -> list[PackageRecord]:
    out: list[PackageRecord] = []
    for rec in recs:
        if rec not in out:
            out.append(rec)
    return out


class Solver:
    """The install state apt's MarkInstall/MarkDelete build up, and the moves that change it."""

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
        return (*CRITICAL, "recommends") if self.recommends else CRITICAL

    def _found(self, rel: Relation, *picks: _Pick) -> Iterator[PackageRecord]:
        """The records ``picks`` choose (per name) that satisfy ``rel``: the ones named
        ``rel.name`` first, then its providers in ``Universe.providers`` order."""
        for pick in picks:
            t = pick(rel.name)
            if t is not None and direct_ok(t, rel):
                yield t
        for rec, provided in self.u.providers(rel.name):
            if any(pick(rec.package) is rec for pick in picks) and provide_ok(rec, provided, rel):
                yield rec

    def _satisfied(self, rel: Relation, pick: _Pick) -> bool:
        """Does a record ``pick`` chooses satisfy ``rel``? ``_found``, unrolled: the hot path."""
        t = pick(rel.name)
        if t is not None and direct_ok(t, rel):
            return True
        for rec, provided in self.u.providers(rel.name):
            if pick(rec.package) is rec and provide_ok(rec, provided, rel):
                return True
        return False

    def dep_install(self, rel: Relation) -> bool:
        """apt's DepInstall: satisfied by what is installed or marked."""
        return self._satisfied(rel, self.state.get)

    def dep_cver(self, rel: Relation) -> bool:
        """apt's DepCVer: satisfiable by candidate versions."""
        return self._satisfied(rel, self.cand)

    def unmet(self, rec: PackageRecord, kinds: Sequence[str] = CRITICAL) -> Iterator[Group]:
        """``rec``'s groups of ``kinds`` that nothing installed or marked satisfies."""
        for group in groups(rec, kinds):
            if not any(self.dep_install(r) for r in group):
                yield group

    def unsatisfiable(self, rec: PackageRecord) -> Iterator[Group]:
        """``rec``'s critical groups that not even a candidate version can satisfy."""
        for group in groups(rec, CRITICAL):
            if not any(self.dep_install(r) or self.dep_cver(r) for r in group):
                yield group

    def solutions(self, group: Group, *, installed_too: bool = False) -> list[PackageRecord]:
        """getAllPossibleSolutions: per alternative, sorted; installed before new ones."""
        picks: tuple[_Pick, ...] = (self.cand, self.u.installed.get) if installed_too \
            else (self.cand,)
        upgrade: list[PackageRecord] = []
        new: list[PackageRecord] = []
        for rel in group:
            found = _unique(self._found(rel, *picks))
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
        pick: _Pick = self.u.installed.get if installed else self.cand
        found = _unique(r for r in self._found(rel, pick) if r.package != owner.package)
        found.sort(key=functools.cmp_to_key(functools.partial(self._cmp_providers, rel.name)))
        return [r for r in found if r.package in self.u.installed] + [
            r for r in found if r.package not in self.u.installed
        ]

    def clashes_now(self, owner: PackageRecord, rel: Relation) -> list[PackageRecord]:
        """What ``owner``'s Conflicts/Breaks ``rel`` hits in the install state."""
        out: list[PackageRecord] = []
        t = self.state.get(rel.name)
        if t is not None and hits(owner, rel, t):
            out.append(t)
        for rec, _ in self.u.providers(rel.name):
            if self.state.get(rec.package) is rec and rec not in out and hits(owner, rel, rec):
                out.append(rec)
        return out

    def clashes(self, rec: PackageRecord) -> Iterator[tuple[str, Relation, PackageRecord]]:
        """(kind, relation, hit) for what ``rec``'s Conflicts/Breaks hit in the install state,
        relation by relation: each is looked up when reached, after the caller's moves."""
        for kind, rel in relations(rec, NEGATIVE):
            for other in self.clashes_now(rec, rel):
                yield kind, rel, other

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
                for kind, rel in relations(rec, NEGATIVE):
                    self._negatives.setdefault(rel.name, []).append((rec, kind, rel))
        return self._negatives

    def reverse_clash(self, c: PackageRecord) -> str | None:
        """An installed package that stays and whose Conflicts/Breaks hit ``c``, as text.

        ``c``'s own Conflicts/Breaks remove or upgrade what they hit, so those
        do not count. apt's problem resolver settles such a clash in favour of
        the installed package when ``c`` was only pulled in as a dependency.
        """
        names = [c.package, *(name for name, _ in provides(c))]
        mine = [rel for _, rel in relations(c, NEGATIVE)]
        for name in dict.fromkeys(names):
            for x, key, rel in self._installed_negatives().get(name, ()):
                if self.state.get(x.package) is not x or x.package in self.marked:
                    continue
                if hits(x, rel, c) and not any(hits(c, r, x) for r in mine):
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
        if auto and c is not cur and not from_user \
                and next(self.unsatisfiable(c), None) is not None:
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
        to_install = list(self.unmet(c, self._important()))
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
        for key, rel in relations(c, NEGATIVE):
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
            for _, rel in relations(rec, self._important()):
                if rel.name == new.package and direct_ok(old, rel) and not direct_ok(new, rel) \
                        and pkg not in out:
                    out.append(pkg)
        return out

    def _install_deps(
        self, owner: PackageRecord, to_install: list[Group], *, propagate: bool, from_user: bool
    ) -> bool:
        failed = False
        crit = {id(g) for g in groups(owner, CRITICAL)}
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
                self.reason.setdefault(rec.package, (owner.package, group_text(group)))
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


def settle(s: Solver) -> None:
    """The part of apt's pkgProblemResolver pinlock follows, once marking is done.

    A clash between a requested package and an installed one that stays is
    settled against the installed one (a request scores highest): it is
    upgraded when its candidate no longer clashes, else removed. Installed
    packages left with a broken dependency by a removal are removed as well.
    Essential and Protected packages stay, and problems.check() reports the clash.
    """
    for _ in range(len(s.u.installed) + 1):
        changed = False
        for rec in sorted(s.state.values(), key=lambda r: r.package):
            for _, _, other in s.clashes(rec):
                changed = _settle_clash(s, rec, other) or changed
        for name, x in sorted(s.state.items()):
            if name in s.marked or s.u.installed.get(name) is not x:
                continue
            if next(s.unmet(x), None) is not None and s.mark_delete(name) and name in s.deleted:
                changed = True
        if not changed:
            return


def _settle_clash(s: Solver, owner: PackageRecord, target: PackageRecord) -> bool:
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
    if c is not None and c is not loser and not clash_between(c, winner) \
            and s.mark_install(loser.package, auto=True, from_user=False) \
            and s.state.get(loser.package) is c:
        return True
    return s.mark_delete(loser.package) and loser.package in s.deleted
