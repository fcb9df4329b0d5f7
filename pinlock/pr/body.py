"""The pull-request body: a provenance table for every pin that changes, in GitHub Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from pinlock.app import Change
from pinlock.model import AptInput, ImageInput, Input, ReleaseInput

MARKER = "<!-- pinlock -->"  # marks a PR body as pinlock's own


def _cell(text: str | None) -> str:
    """A table cell: pipes escaped, so a value cannot break GitHub's table."""
    if not text:
        return "—"
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    return f"`{_cell(text)}`" if text else "—"


def _pin_rows(old: Input, new: Input) -> list[tuple[str, str | None, str | None, str]]:
    """(pin, old value, new value, where the new value came from) for every pin that differs."""
    rows: list[tuple[str, str | None, str | None, str]] = []
    if isinstance(old, ImageInput) and isinstance(new, ImageInput):
        o, n = old.locked, new.locked
        if (o.tag, o.index_digest) != (n.tag, n.index_digest):
            rows.append((f"{new.intent.image} index", o.index_digest, n.index_digest,
                         "registry manifest, hashed"))
        for plat in sorted(set(o.platforms) | set(n.platforms)):
            a, b = o.platforms.get(plat), n.platforms.get(plat)
            if a != b:
                rows.append((f"{new.intent.image} {plat}", a, b, "index entry, hashed"))
    elif isinstance(old, ReleaseInput) and isinstance(new, ReleaseInput):
        before = {(a.sha256_arg, a.platform): a for a in old.locked.assets}
        for asset in new.locked.assets:
            prior = before.get((asset.sha256_arg, asset.platform))
            if prior is not None and prior.sha256 == asset.sha256:
                continue
            label = f"{asset.sha256_arg} ({asset.name}"
            label += f", {asset.platform})" if asset.platform else ")"
            rows.append((label, prior.sha256 if prior else None, asset.sha256,
                         ", ".join(asset.verified_by) or "unverified"))
    elif (isinstance(old, AptInput) and isinstance(new, AptInput)
          and old.locked.snapshot != new.locked.snapshot):
        rows.append((new.intent.snapshot_arg, old.locked.snapshot, new.locked.snapshot,
                     "signed InRelease"))
    return rows


def _apt_diff(old: AptInput, new: AptInput) -> list[str]:
    """Per architecture: packages added, removed and changed in the dependency closure."""
    lines: list[str] = []
    for arch in sorted(set(old.locked.archs) | set(new.locked.archs)):
        a = {p.name: p.version for p in (old.locked.archs[arch].closure
                                        if arch in old.locked.archs else ())}
        b = {p.name: p.version for p in (new.locked.archs[arch].closure
                                        if arch in new.locked.archs else ())}
        added = sorted(set(b) - set(a))
        removed = sorted(set(a) - set(b))
        changed = sorted(n for n in set(a) & set(b) if a[n] != b[n])
        if not (added or removed or changed):
            continue
        lines.append(f"**{arch}**")
        lines.append("")
        lines += [f"- added `{n}` {b[n]}" for n in added]
        lines += [f"- removed `{n}` {a[n]}" for n in removed]
        lines += [f"- `{n}` {a[n]} → {b[n]}" for n in changed]
        lines.append("")
    return lines


def title(change: Change) -> str:
    return f"pinlock: bump {change.input} {change.from_version} → {change.to_version}"


def render(changes: Sequence[Change], *, command: str,
           notes_urls: dict[str, str] | None = None) -> str:
    """The whole body; the last line is the command that reproduces the change locally."""
    lines = [MARKER, "This update was made by pinlock. Every value below was resolved "
             "from upstream and cross-checked before it was written.", "",
             "| input | from | to | notes |", "|---|---|---|---|"]
    for c in changes:
        url = (notes_urls or {}).get(c.input)
        notes = f"[release notes]({url})" if url else "—"
        lines.append(f"| {_cell(c.input)} | {_code(c.from_version)} | {_code(c.to_version)} "
                     f"| {notes} |")
    lines += ["", "### Pins", "", "| pin | from | to | verified by |", "|---|---|---|---|"]
    for c in changes:
        for pin, a, b, how in _pin_rows(c.old, c.new):
            lines.append(f"| {_cell(pin)} | {_code(a)} | {_code(b)} | {_cell(how)} |")
    for c in changes:
        if isinstance(c.old, AptInput) and isinstance(c.new, AptInput):
            diff = _apt_diff(c.old, c.new)
            if diff:
                lines += ["", f"### Debian packages ({c.input})", "", *diff]
    lines += ["", "To reproduce locally:", "", f"`{command}`"]
    return "\n".join(lines).rstrip() + "\n"
