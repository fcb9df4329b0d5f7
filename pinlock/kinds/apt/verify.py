"""Offline verify of apt inputs: stages that cannot be pinned, membership, archive state."""

from __future__ import annotations

from collections.abc import Sequence

from pinlock.dockerfile.sites import APT_LIST_READERS, AptSite, Sites
from pinlock.kinds.apt import releases as debian
from pinlock.kinds.apt.model import AptInput
from pinlock.kinds.apt.pins import (
    UNSAFE_APT_HINT,
    apt_sites_for,
    base_codename,
    snapshot_supported,
    unlocked_packages,
)
from pinlock.kinds.base import Scope
from pinlock.model import Finding, Lock, Severity


def lock_findings(scope: Scope, names: Sequence[str] | None,
                  unpinned: Severity) -> list[Finding]:
    """apt commands whose packages are not in the text: what they install is in no lock."""
    lock, sites, path = scope.lock, scope.sites, scope.path
    owners: dict[int, str] = {}
    for inp in lock.select(list(names) if names else None):
        st = sites.stage(inp.intent.stage.lower()) if isinstance(inp, AptInput) else None
        if st is not None:
            owners.setdefault(st.index, inp.name)
    # In a stage an apt input owns, the lock would not be what the build installs: an error.
    # In a stage the lock leaves out, it is a package list pinlock does not manage: a
    # warning (an error with --strict), as for any input not pinned yet.
    return [Finding(owners.get(u.stage, "apt"), "error" if u.stage in owners else unpinned,
                    "unsafe-apt", f"{u.what}: {u.reason} ({UNSAFE_APT_HINT})", path, u.line)
            for u in sites.unsafe_apt if not names or u.stage in owners]


def findings(inp: AptInput, scope: Scope, unpinned: Severity) -> list[Finding]:
    lock, sites, path = scope.lock, scope.sites, scope.path
    found = apt_sites_for(inp, sites, path, lock)
    out = []
    if inp.locked.snapshot and not snapshot_supported(inp):
        out.append(Finding(
            inp.name, "warning", "snapshot-not-wired",
            f"apt of {inp.intent.suites[0]} has no --snapshot: the versions are pinned, but a "
            "build fails once the mirror drops them (apt 2.7+, Debian 13, reads snapshots)",
            path, found[0].line))
    elif inp.locked.snapshot:
        for c in sites.apt_commands:
            if c.stage == found[0].stage and c.json_form and c.sub in APT_LIST_READERS:
                # Exec form has no shell to expand the ARG: pinlock does not rewrite it.
                out.append(Finding(
                    inp.name, "warning", "snapshot-not-wired",
                    f"{c.tool} {c.sub} in exec (JSON) form cannot be pointed at the locked "
                    f"snapshot {inp.locked.snapshot}; use the shell form so pinlock can add "
                    f"--snapshot \"${{{inp.intent.snapshot_arg}}}\"", path, c.line))
    return out + _archive_state(inp, lock, sites, path, found[0].line) + _membership(
        inp, lock, found, path, unpinned)


def _archive_state(inp: AptInput, lock: Lock, sites: Sites, path: str,
                   line: int) -> list[Finding]:
    """The lock's archive state is one a build can read: the snapshot is not older than the
    InRelease files it records, and the suites are of the base image's Debian release."""
    out = []
    late = debian.snapshot_predates(inp.locked.snapshot, inp.locked.suites)
    if late is not None:
        out.append(Finding(
            inp.name, "error", "snapshot-predates-index",
            f"snapshot {inp.locked.snapshot} is older than the locked InRelease of {late[0]}: "
            f"a build at that snapshot reads an older archive state than the lock records "
            f"(run `pinlock lock {inp.name}`)", path, line,
            expected=f"a snapshot at or after {late[1]}", found=inp.locked.snapshot))
    want = base_codename(inp, lock, sites, path)
    have = debian.suites_codename(inp.intent.suites)
    if want is not None and have in debian.BY_CODENAME and want != have:
        out.append(Finding(
            inp.name, "error", "suites-not-base",
            f"the base image of stage {inp.intent.stage} is Debian "
            f"{want or '(a release pinlock does not know)'}, but the apt input reads {have} "
            f"suites: packages built for {have} would be installed on it"
            + (f" (run `pinlock lock {inp.name}` to move the suites)" if want else
               " (set `suites` in the lock file)"), path, line,
            expected=want or None, found=have))
    return out


def _membership(inp: AptInput, lock: Lock, found: list[AptSite], path: str,
                unpinned: Severity) -> list[Finding]:
    """The install lines and the lock name the same packages. A package added or removed by
    hand is an edit `pinlock lock` picks up: not pinned yet, like any new value."""
    in_file = {p.name: site.line for site in reversed(found) for p in site.packages}
    in_lock = set(inp.intent.packages)
    others = {p for o in lock.inputs.values() if isinstance(o, AptInput) and o.name != inp.name
              for p in o.intent.packages}
    out = []
    for extra in sorted(set(in_file) - in_lock - others):
        out.append(Finding(inp.name, unpinned, "unlocked-package",
                           f"apt package {extra} is installed but not locked yet "
                           f"(run `pinlock lock {inp.name}`)", path, in_file[extra],
                           found=extra))
    for gone in sorted(in_lock - set(in_file)):
        out.append(Finding(inp.name, unpinned, "missing-package",
                           f"apt package {gone} is in the lock but no longer installed here "
                           f"(run `pinlock lock {inp.name}`)", path, found[0].line,
                           expected=gone))
    stale = unlocked_packages(inp, lock)
    if stale:
        out.append(Finding(inp.name, unpinned, "not-locked",
                           f"the lock's package list and its resolved packages differ "
                           f"({', '.join(stale)}) (run `pinlock lock {inp.name}`)", path,
                           found[0].line, found=" ".join(stale)))
    return out
