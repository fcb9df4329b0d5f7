"""Offline verify: does the Dockerfile hold what the lock says? Pure; findings, not exceptions."""

from __future__ import annotations

from pinlock import debian
from pinlock.dockerfile.edit import Edit
from pinlock.dockerfile.sites import APT_LIST_READERS, AptSite, Sites
from pinlock.grammar import shell_word, shown
from pinlock.model import AptInput, Finding, ImageInput, Lock, Severity
from pinlock.pins import (
    UNSAFE_APT_HINT,
    PinSite,
    apt_sites_for,
    base_codename,
    pin_sites,
    snapshot_supported,
    unlocked_packages,
)


def verify_offline(lock: Lock, sites: Sites, path: str, *, names: list[str] | None = None,
                   strict: bool = False) -> list[Finding]:
    findings: list[Finding] = []
    unpinned: Severity = "error" if strict else "warning"
    apt_unpinned: dict[tuple[str, int], list[str]] = {}
    for site in pin_sites(lock, sites, path, names):
        if site.agrees and not site.pinned and site.label.startswith("apt package "):
            apt_unpinned.setdefault((site.input, site.value.line), []).append(site.value.text)
            continue
        if not site.agrees and site.wiring and site.value.start == site.value.end:
            findings.append(Finding(
                site.input, "error", "snapshot-not-wired",
                f"{site.label} is missing: "
                f"{site.why or 'apt would not read the locked archive state'} "
                f"(run `pinlock lock {site.input}` to write it)", path, site.value.line,
                # the text to add, without the line break that goes before it
                expected=site.expected.strip().splitlines()[-1].strip()))
        elif not site.agrees:
            findings.append(Finding(
                site.input, "error", "mismatch",
                f"{site.label} differs from the lock" + (f": {site.why}" if site.why else ""),
                path, site.value.line,
                expected=site.expected, found=site.value.text))
        elif not site.pinned and not site.wiring and shell_word(site.value.text) != (
                site.value.text):
            # Not pinned yet, so the lock's grammar never saw it: a value that a shell
            # would read as syntax is an error even when nothing disagrees.
            findings.append(Finding(
                site.input, "error", "unsafe-value",
                f"{site.label} holds {shown(site.value.text)}, which a shell would read as "
                "syntax, not a value", path, site.value.line, found=site.value.text))
        elif not site.pinned:
            findings.append(Finding(
                site.input, unpinned, "not-pinned",
                f"{site.label} is not pinned yet (run `pinlock lock {site.input}`)",
                path, site.value.line, found=site.value.text))
    for (name, line), pkgs in sorted(apt_unpinned.items()):
        findings.append(Finding(
            name, unpinned, "not-pinned",
            f"{len(pkgs)} apt package(s) not pinned yet (run `pinlock lock {name}`)",
            path, line, found=" ".join(pkgs)))
    findings.extend(_unsafe_apt(lock, sites, path, names, unpinned))
    for inp in lock.select(names):
        name = inp.name
        if isinstance(inp, AptInput):
            findings.extend(_apt_membership(inp, lock, sites, path, unpinned))
        elif isinstance(inp, ImageInput) and inp.locked.index_digest and not inp.locked.platforms:
            findings.append(Finding(
                name, "warning", "not-resolved",
                "platform digests are not recorded yet (run `pinlock lock "
                f"{name}`)", path, None))
    return findings


def _unsafe_apt(lock: Lock, sites: Sites, path: str, names: list[str] | None,
                unpinned: Severity) -> list[Finding]:
    """apt commands whose packages are not in the text: what they install is in no lock."""
    owners: dict[int, str] = {}
    for inp in lock.select(names):
        st = sites.stage(inp.intent.stage.lower()) if isinstance(inp, AptInput) else None
        if st is not None:
            owners.setdefault(st.index, inp.name)
    # In a stage an apt input owns, the lock would not be what the build installs: an error.
    # In a stage the lock leaves out, it is a package list pinlock does not manage: a
    # warning (an error with --strict), as for any input not pinned yet.
    return [Finding(owners.get(u.stage, "apt"), "error" if u.stage in owners else unpinned,
                    "unsafe-apt", f"{u.what}: {u.reason} ({UNSAFE_APT_HINT})", path, u.line)
            for u in sites.unsafe_apt if not names or u.stage in owners]


def _apt_membership(inp: AptInput, lock: Lock, sites: Sites, path: str,
                    unpinned: Severity) -> list[Finding]:
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


def edits_for(sites: list[PinSite]) -> list[Edit]:
    """The edits that make the Dockerfile hold the lock's values."""
    return [Edit(s.value.start, s.value.end, s.expected) for s in sites if not s.agrees]
