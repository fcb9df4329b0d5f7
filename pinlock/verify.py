"""Offline verify: does the Dockerfile hold what the lock says? Pure; findings, not exceptions."""

from __future__ import annotations

from pinlock.dockerfile.edit import Edit
from pinlock.dockerfile.sites import Sites
from pinlock.grammar import shell_word, shown
from pinlock.kinds import kind_of, kinds
from pinlock.kinds.base import Scope
from pinlock.model import Finding, Lock, Severity
from pinlock.pins import PinSite, pin_sites


def verify_offline(lock: Lock, sites: Sites, path: str, *, names: list[str] | None = None,
                   strict: bool = False) -> list[Finding]:
    findings: list[Finding] = []
    unpinned: Severity = "error" if strict else "warning"
    counted: dict[tuple[str, int, str], list[str]] = {}
    for site in pin_sites(lock, sites, path, names):
        if site.agrees and not site.pinned and site.counted is not None:
            counted.setdefault((site.input, site.value.line, site.counted), []).append(
                site.value.text)
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
    for (name, line, noun), words in sorted(counted.items()):
        findings.append(Finding(
            name, unpinned, "not-pinned",
            f"{len(words)} {noun} not pinned yet (run `pinlock lock {name}`)",
            path, line, found=" ".join(words)))
    scope = Scope(lock, sites, path)
    for kind in kinds():
        findings.extend(kind.lock_findings(scope, names, unpinned))
    for inp in lock.select(names):
        findings.extend(kind_of(inp).findings(inp, scope, unpinned))
    return findings


def edits_for(sites: list[PinSite]) -> list[Edit]:
    """The edits that make the Dockerfile hold the lock's values."""
    return [Edit(s.value.start, s.value.end, s.expected) for s in sites if not s.agrees]
