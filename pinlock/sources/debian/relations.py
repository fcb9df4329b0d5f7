"""A record's relations in apt's order, and whether a record satisfies or hits one of them."""

from __future__ import annotations

from collections.abc import Sequence

from pinlock.sources.debian.deb822 import Group, PackageRecord, Relation
from pinlock.sources.debian.version import satisfies

CRITICAL = ("pre_depends", "depends")  # apt's critical dependencies, in the order it walks them
NEGATIVE = ("conflicts", "breaks")  # apt's negative dependencies


def groups(rec: PackageRecord, kinds: Sequence[str]) -> list[Group]:
    """``rec``'s groups of each of ``kinds`` (``"depends"``, ...), kind by kind, as written."""
    return [group for kind in kinds for group in rec.relations(kind)]


def relations(rec: PackageRecord, kinds: Sequence[str]) -> list[tuple[str, Relation]]:
    """(kind, relation) for every alternative of ``rec``'s groups of ``kinds``, as written."""
    return [(kind, rel) for kind in kinds for group in rec.relations(kind) for rel in group]


def provides(rec: PackageRecord) -> list[tuple[str, str | None]]:
    """(name, version) per ``Provides`` entry of ``rec``; the version only for ``(= v)``."""
    return [
        (rel.name, rel.version if rel.op == "=" else None)
        for group in rec.relations("provides") for rel in group
    ]


def group_text(group: Group) -> str:
    return " | ".join(str(r) for r in group)


def direct_ok(rec: PackageRecord, rel: Relation) -> bool:
    """Does ``rec`` itself (not through its Provides) satisfy ``rel``?"""
    if rec.package != rel.name:
        return False
    if rel.archqual == "any" and rec.multi_arch != "allowed":
        return False
    if rel.archqual not in (None, "any", "native") and rel.archqual != rec.architecture:
        return False
    return rel.op is None or satisfies(rec.version, rel.op, rel.version or "")


def provide_ok(rec: PackageRecord, provided: str | None, rel: Relation) -> bool:
    """Does ``rec``, providing ``rel.name`` at version ``provided`` (or unversioned), satisfy it?"""
    if rel.archqual == "any" and rec.multi_arch != "allowed":
        return False
    if rel.op is None:
        return True
    # only a versioned Provides satisfies a versioned dependency (Debian policy 7.5)
    return provided is not None and satisfies(provided, rel.op, rel.version or "")


def hits(owner: PackageRecord, rel: Relation, rec: PackageRecord) -> bool:
    """Does ``owner``'s Conflicts/Breaks ``rel`` hit ``rec``, by name or through its Provides?

    Never its own package: ``Conflicts: mta`` with ``Provides: mta`` is how one
    of several providers says "only one of us" (apt's ``IsIgnorable``).
    """
    if rec.package == owner.package:
        return False
    if rec.package == rel.name and direct_ok(rec, rel):
        return True
    return any(
        name == rel.name and provide_ok(rec, provided, rel) for name, provided in provides(rec)
    )


def clash_between(a: PackageRecord, b: PackageRecord) -> bool:
    """Do ``a``'s Conflicts/Breaks hit ``b``, or ``b``'s hit ``a``?"""
    return any(
        hits(x, rel, y) for x, y in ((a, b), (b, a)) for _, rel in relations(x, NEGATIVE)
    )
