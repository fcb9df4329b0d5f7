"""The package universe of one architecture: every version, candidates, providers."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pinlock.sources.debian.deb822 import PackageRecord, PackagesIndex
from pinlock.sources.debian.relations import provides
from pinlock.sources.debian.version import compare


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
                for provided_name, version in provides(rec):
                    self._installed_provides.setdefault(provided_name, []).append((rec, version))
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
            out.update(name for name, _ in provides(rec))
        return sorted(out)

    def required(self) -> list[str]:
        """Names whose candidate has ``Priority: required``."""
        names = {n for index in self.indexes for n in index.required}
        return sorted(n for n in names if (c := self.candidate(n)) and c.priority == "required")
