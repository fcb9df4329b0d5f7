"""An apt input in a pull request: its snapshot and InRelease rows, and the closure's diff."""

from __future__ import annotations

from pinlock.kinds.apt.model import AptInput, AptPackage
from pinlock.kinds.base import Row
from pinlock.markdown import cell, code, table


def pin_rows(old: AptInput, new: AptInput) -> list[Row]:
    rows: list[Row] = []
    if old.locked.snapshot != new.locked.snapshot:
        rows.append((new.name, f"snapshot ({new.intent.snapshot_arg})", old.locked.snapshot,
                     new.locked.snapshot,
                     f"{new.locked.archive} archive" if new.locked.archive else "—"))
    for suite in sorted(set(old.locked.suites) | set(new.locked.suites)):
        a, b = old.locked.suites.get(suite), new.locked.suites.get(suite)
        if (a and a.sha256) != (b and b.sha256):
            rows.append((new.name, f"InRelease {suite}", a.sha256 if a else None,
                         b.sha256 if b else None, "signature checked against the keyring"))
    return rows




def closure_diff(old: AptInput, new: AptInput
                 ) -> dict[str, tuple[list[AptPackage], list[AptPackage],
                                      list[tuple[AptPackage, AptPackage]]]]:
    """Per architecture: (added, removed, changed (old, new)) packages of the closure."""
    out: dict[str, tuple[list[AptPackage], list[AptPackage],
                         list[tuple[AptPackage, AptPackage]]]] = {}
    for arch in sorted(set(old.locked.archs) | set(new.locked.archs)):
        a = {p.name: p for p in (old.locked.archs[arch].closure
                                 if arch in old.locked.archs else ())}
        b = {p.name: p for p in (new.locked.archs[arch].closure
                                 if arch in new.locked.archs else ())}
        added = [b[n] for n in sorted(set(b) - set(a))]
        removed = [a[n] for n in sorted(set(a) - set(b))]
        changed = [(a[n], b[n]) for n in sorted(set(a) & set(b))
                   if (a[n].version, a[n].sha256) != (b[n].version, b[n].sha256)]
        if added or removed or changed:
            out[arch] = (added, removed, changed)
    return out


def section(name: str, old: AptInput, new: AptInput, *, detailed: bool) -> list[str]:
    """The pull request's Debian package table: per architecture, what the closure changes."""
    diff = closure_diff(old, new)
    if not diff:
        return []
    lines = ["", f"### Debian packages ({name})", ""]
    for arch, (added, removed, changed) in diff.items():
        summary = (f"{arch}: {len(added)} added, {len(removed)} removed, "
                   f"{len(changed)} changed")
        if not detailed:
            lines.append(f"- {summary} (too many to list here: see the lock file's diff)")
            continue
        rows = [[cell(p.name), "—", code(p.version), code(p.sha256)] for p in added]
        rows += [[cell(p.name), code(p.version), "—", "—"] for p in removed]
        rows += [[cell(b.name), code(a.version), code(b.version), code(b.sha256)]
                 for a, b in changed]
        rows.sort(key=lambda r: r[0])
        lines += [f"<details><summary>{summary}</summary>", "",
                  *table(("package", "from", "to", "sha256"), rows), "", "</details>", ""]
    return lines
