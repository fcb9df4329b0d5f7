"""Offline verify: does the Dockerfile hold what the lock says? Pure; findings, not exceptions."""

from __future__ import annotations

from pinlock.dockerfile.edit import Edit
from pinlock.dockerfile.sites import APT_LIST_READERS, AptSite, Sites
from pinlock.grammar import shell_word, shown
from pinlock.model import AptInput, Finding, ImageInput, Lock, Severity
from pinlock.pins import PinSite, apt_sites_for, pin_sites, snapshot_supported


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
                f"{site.label} is missing: apt would not read the locked archive state "
                f"(run `pinlock lock {site.input}` to write it)", path, site.value.line,
                expected=site.expected.strip()))
        elif not site.agrees:
            findings.append(Finding(
                site.input, "error", "mismatch",
                f"{site.label} differs from the lock", path, site.value.line,
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
    for inp in lock.select(names):
        name = inp.name
        if isinstance(inp, AptInput):
            findings.extend(_apt_membership(inp, lock, sites, path))
        elif isinstance(inp, ImageInput) and inp.locked.index_digest and not inp.locked.platforms:
            findings.append(Finding(
                name, "warning", "not-resolved",
                "platform digests are not recorded yet (run `pinlock lock "
                f"{name}`)", path, None))
    return findings


def _apt_membership(inp: AptInput, lock: Lock, sites: Sites, path: str) -> list[Finding]:
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
    return out + _membership(inp, found, path)


def _membership(inp: AptInput, found: list[AptSite], path: str) -> list[Finding]:
    in_file = {p.name: site.line for site in reversed(found) for p in site.packages}
    in_lock = set(inp.intent.packages)
    out = []
    for extra in sorted(set(in_file) - in_lock):
        out.append(Finding(inp.name, "error", "unlocked-package",
                           f"apt package {extra} is installed but not in the lock "
                           f"(run `pinlock lock {inp.name}`)", path, in_file[extra],
                           found=extra))
    for gone in sorted(in_lock - set(in_file)):
        out.append(Finding(inp.name, "error", "missing-package",
                           f"apt package {gone} is in the lock but not installed here",
                           path, found[0].line, expected=gone))
    return out


def edits_for(sites: list[PinSite]) -> list[Edit]:
    """The edits that make the Dockerfile hold the lock's values."""
    return [Edit(s.value.start, s.value.end, s.expected) for s in sites if not s.agrees]
