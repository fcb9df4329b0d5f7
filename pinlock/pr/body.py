"""The pull-request body: a provenance table for every pin that changes, in GitHub Markdown.

Pure: changes in, Markdown out. Every table cell goes through ``_cell``, so a
value holding a pipe or a newline cannot break GitHub's table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from pinlock.changes import Change, current_version, short_digest
from pinlock.model import AptInput, AptPackage, ImageInput, Input, ReleaseInput

MARKER = "<!-- pinlock -->"  # marks a PR body as pinlock's own
# What the pull request moves its inputs to, hidden in the body: a person who closes it
# unmerged declines exactly this target, and `pinlock pr` does not open it again.
TARGET_MARKER = "<!-- pinlock:target {} -->"
_TARGET = re.compile(r"^<!-- pinlock:target (.*) -->$", re.MULTILINE)
# GitHub refuses a body over 65536 characters and a title over 256; stay well below.
MAX_BODY = 60_000
MAX_TITLE = 200

# What each `verified-by` word of the lock means, for the legend under the pins table.
_VERIFIED = {
    "sidecar": "the release's `.sha256` file",
    "api-digest": "the GitHub API's asset `digest`",
    "bytes": "the downloaded file, hashed",
}

Row = tuple[str, str, str | None, str | None, str]  # input, pin, from, to, verified by


def _cell(text: str | None) -> str:
    """A table cell: pipes escaped, newlines flattened, empty shown as a dash."""
    if not text:
        return "—"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _code(text: str | None) -> str:
    return f"`{_cell(text)}`" if text else "—"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table; cells must already be escaped (``_cell``/``_code``)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def bump_version(inp: Input) -> str:
    """The version `pinlock bump` takes to reach ``inp``'s locked state."""
    if isinstance(inp, ImageInput):
        from pinlock.sources.oci.tags import version_of

        return version_of(inp.locked.tag, inp.intent.tag_pattern) or inp.locked.tag
    if isinstance(inp, ReleaseInput):
        return inp.locked.version
    return inp.locked.snapshot or ""


def _moved(change: Change) -> str:
    if change.digest_moved:
        return (f"{change.input} {change.to_version} digest {short_digest(change.from_digest)}"
                f" → {short_digest(change.to_digest)}")
    if change.from_version == change.to_version:
        return f"{change.input} {change.to_version}"
    return f"{change.input} {change.from_version} → {change.to_version}"


def title(changes: Sequence[Change], *, group: str | None = None) -> str:
    """``pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0``; a group lists every input it moves.

    "update" when no version moves but a tag points at a new digest
    (``pinlock: update debian 13.4 digest sha256:abcd123 → sha256:ef56789``);
    "pin" when only values are filled or re-read. A group that moves many inputs
    names the first ones and "… and N more": GitHub refuses a title over 256 characters.
    """
    if any(c.from_version != c.to_version for c in changes):
        verb = "bump"
    elif any(c.digest_moved for c in changes):
        verb = "update"
    else:
        verb = "pin"
    head = f"pinlock: {verb} {group}: " if group else f"pinlock: {verb} "
    moved = [_moved(c) for c in changes]
    text = head + ", ".join(moved)
    for shown in range(len(moved) - 1, 0, -1):
        if len(text) <= MAX_TITLE:
            break
        text = head + ", ".join(moved[:shown]) + f", … and {len(moved) - shown} more"
    if len(text) > MAX_TITLE:  # one input whose own words are too long
        text = text[:MAX_TITLE - 1] + "…"
    return text


# ------------------------------------------------------------------ the target


def _apt_versions(inp: AptInput) -> str:
    """Which package versions an apt lock installs: a later snapshot with the same
    versions is the same update, not a newer one."""
    lines = sorted(f"{arch} {kind} {name}={version}"
                   for arch, al in inp.locked.archs.items()
                   for kind, pairs in (("top", al.top.items()),
                                       ("closure", ((p.name, p.version) for p in al.closure)))
                   for name, version in pairs)
    return "versions:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _target_value(inp: Input) -> str:
    if isinstance(inp, ImageInput):
        return f"{inp.locked.tag}@{inp.locked.index_digest or ''}"
    if isinstance(inp, AptInput):
        return _apt_versions(inp)
    return current_version(inp)


def target(changes: Sequence[Change]) -> str:
    """What the changes move to, one ``input=value`` per input, sorted: an image's
    ``tag@index-digest``, a release's version, the package versions of an apt lock."""
    return " ".join(sorted(f"{c.input}={quote(_target_value(c.new), safe='@:+')}"
                           for c in changes))


def target_of(body: str) -> str | None:
    """The target a pull request's body names, if pinlock wrote one."""
    found = _TARGET.search(body)
    return found.group(1) if found else None


def withdraw_target(body: str) -> str:
    """The body without its target: pinlock closing its own pull request declines nothing."""
    return _TARGET.sub("<!-- pinlock:withdrawn -->", body, count=1)


# ------------------------------------------------------------------ pins


def _image_rows(old: ImageInput, new: ImageInput) -> list[Row]:
    rows: list[Row] = []
    o, n = old.locked, new.locked
    if o.index_digest != n.index_digest:
        rows.append((new.name, f"{new.intent.image}:{n.tag} index", o.index_digest,
                     n.index_digest, "registry manifest, its bytes hashed"))
    for plat in sorted(set(o.platforms) | set(n.platforms)):
        a, b = o.platforms.get(plat), n.platforms.get(plat)
        if a != b:
            rows.append((new.name, f"{new.intent.image} {plat}", a, b,
                         "entry of that index"))
    return rows


def _release_rows(old: ReleaseInput, new: ReleaseInput) -> list[Row]:
    rows: list[Row] = []
    before = {(a.sha256_arg, a.platform): a for a in old.locked.assets}
    after = {(a.sha256_arg, a.platform) for a in new.locked.assets}
    for asset in new.locked.assets:
        prior = before.get((asset.sha256_arg, asset.platform))
        if prior is not None and prior.sha256 == asset.sha256:
            continue
        where = f"{asset.name}, {asset.platform}" if asset.platform else asset.name
        rows.append((new.name, f"{asset.sha256_arg} ({where})",
                     prior.sha256 if prior else None, asset.sha256,
                     ", ".join(sorted(asset.verified_by)) or "unverified"))
    for key, prior in before.items():
        if key not in after:
            rows.append((new.name, f"{prior.sha256_arg} ({prior.name})", prior.sha256, None,
                         "no longer needed"))
    return rows


def _apt_rows(old: AptInput, new: AptInput) -> list[Row]:
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


def pin_rows(old: Input, new: Input) -> list[Row]:
    """(input, pin, old value, new value, where the new value came from) per changed pin."""
    if isinstance(old, ImageInput) and isinstance(new, ImageInput):
        return _image_rows(old, new)
    if isinstance(old, ReleaseInput) and isinstance(new, ReleaseInput):
        return _release_rows(old, new)
    if isinstance(old, AptInput) and isinstance(new, AptInput):
        return _apt_rows(old, new)
    return []


# ------------------------------------------------------------------ Debian closure


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


def _apt_section(change: Change, *, detailed: bool) -> list[str]:
    assert isinstance(change.old, AptInput) and isinstance(change.new, AptInput)
    diff = closure_diff(change.old, change.new)
    if not diff:
        return []
    lines = ["", f"### Debian packages ({change.input})", ""]
    for arch, (added, removed, changed) in diff.items():
        summary = (f"{arch}: {len(added)} added, {len(removed)} removed, "
                   f"{len(changed)} changed")
        if not detailed:
            lines.append(f"- {summary} (too many to list here: see the lock file's diff)")
            continue
        rows = [[_cell(p.name), "—", _code(p.version), _code(p.sha256)] for p in added]
        rows += [[_cell(p.name), _code(p.version), "—", "—"] for p in removed]
        rows += [[_cell(b.name), _code(a.version), _code(b.version), _code(b.sha256)]
                 for a, b in changed]
        rows.sort(key=lambda r: r[0])
        lines += [f"<details><summary>{summary}</summary>", "",
                  *table(("package", "from", "to", "sha256"), rows), "", "</details>", ""]
    return lines


# ------------------------------------------------------------------ the body


def render(changes: Sequence[Change], *, command: str,
           notes_urls: Mapping[str, str] | None = None) -> str:
    """The whole body; the last line is the command that reproduces the change locally.

    Too long for GitHub: the Debian package tables become counts; still too long
    (a group of many inputs), the pins table keeps as many rows as fit, and says
    how many it left out.
    """
    notes = notes_urls or {}
    text = _render(changes, command, notes, detailed=True)
    if len(text) <= MAX_BODY:
        return text
    text = _render(changes, command, notes, detailed=False)
    if len(text) <= MAX_BODY:
        return text
    low, high = 0, sum(len(pin_rows(c.old, c.new)) for c in changes)
    while low < high:  # the most pin rows that still fit
        mid = (low + high + 1) // 2
        if len(_render(changes, command, notes, detailed=False, max_pins=mid)) <= MAX_BODY:
            low = mid
        else:
            high = mid - 1
    return _render(changes, command, notes, detailed=False, max_pins=low)


def _render(changes: Sequence[Change], command: str, notes_urls: Mapping[str, str],
            *, detailed: bool, max_pins: int | None = None) -> str:
    lines = [MARKER, TARGET_MARKER.format(target(changes)),
             "This update was made by pinlock. Every value below was resolved "
             "from upstream and cross-checked before it was written.", ""]
    inputs = []
    for c in changes:
        url = notes_urls.get(c.input)
        notes = f"[release notes]({url})" if url else "—"
        before, after = c.from_version, c.to_version
        if c.digest_moved:  # the same tag, pushed again upstream
            before += f"@{short_digest(c.from_digest)}"
            after += f"@{short_digest(c.to_digest)}"
        inputs.append([_cell(c.input), _code(before), _code(after), notes])
    lines += table(("input", "from", "to", "release notes"), inputs)
    rows = [[_cell(inp), _cell(pin), _code(a), _code(b), _cell(how)]
            for c in changes for inp, pin, a, b, how in pin_rows(c.old, c.new)]
    if rows:
        left_out = len(rows) - max_pins if max_pins is not None else 0
        lines += ["", "### Pins", "", *table(("input", "pin", "from", "to", "verified by"),
                                              rows[:len(rows) - left_out])]
        if left_out:
            lines += ["", f"{left_out} more pins are not shown here, to fit GitHub's limit: "
                      "see the lock file's diff."]
        used = sorted({w for c in changes if isinstance(c.new, ReleaseInput)
                       for a in c.new.locked.assets for w in a.verified_by if w in _VERIFIED})
        if used:
            lines += ["", "Checksums agreed between: " + "; ".join(
                f"`{w}`, {_VERIFIED[w]}" for w in used) + "."]
    for c in changes:
        if isinstance(c.old, AptInput) and isinstance(c.new, AptInput):
            lines += _apt_section(c, detailed=detailed)
    while lines and not lines[-1]:
        lines.pop()
    lines += ["", "---", "", f"Reproduce locally: `{command}`"]
    return "\n".join(lines) + "\n"
