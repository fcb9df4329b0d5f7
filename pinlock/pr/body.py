"""The pull-request body: a provenance table for every pin that changes, in GitHub Markdown.

Pure: changes in, Markdown out. Every table cell goes through ``_cell``, so a
value holding a pipe or a newline cannot break GitHub's table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from pinlock.changes import Change, short_digest
from pinlock.kinds import kind_of
from pinlock.kinds.base import Row
from pinlock.markdown import cell, code, table
from pinlock.model import Input

MARKER = "<!-- pinlock -->"  # marks a PR body as pinlock's own
# What the pull request moves its inputs to, hidden in the body: a person who closes it
# unmerged declines exactly this target, and `pinlock pr` does not open it again.
TARGET_MARKER = "<!-- pinlock:target {} -->"
_TARGET = re.compile(r"^<!-- pinlock:target (.*) -->$", re.MULTILINE)
# GitHub refuses a body over 65536 characters and a title over 256; stay well below.
MAX_BODY = 60_000
MAX_TITLE = 200



def bump_version(inp: Input) -> str:
    """The version `pinlock bump` takes to reach ``inp``'s locked state."""
    return kind_of(inp).bump_version(inp)


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


def _target_value(inp: Input) -> str:
    return kind_of(inp).target_value(inp)


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


def pin_rows(old: Input, new: Input) -> list[Row]:
    """(input, pin, old value, new value, where the new value came from) per changed pin."""
    return kind_of(new).pin_rows(old, new) if old.kind == new.kind else []


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
        inputs.append([cell(c.input), code(before), code(after), notes])
    lines += table(("input", "from", "to", "release notes"), inputs)
    rows = [[cell(inp), cell(pin), code(a), code(b), cell(how)]
            for c in changes for inp, pin, a, b, how in pin_rows(c.old, c.new)]
    if rows:
        left_out = len(rows) - max_pins if max_pins is not None else 0
        lines += ["", "### Pins", "", *table(("input", "pin", "from", "to", "verified by"),
                                              rows[:len(rows) - left_out])]
        if left_out:
            lines += ["", f"{left_out} more pins are not shown here, to fit GitHub's limit: "
                      "see the lock file's diff."]
        legend: dict[str, str] = {}
        for c in changes:
            legend.update(kind_of(c.new).legend(c.new))
        if legend:
            lines += ["", "Checksums agreed between: " + "; ".join(
                f"`{w}`, {legend[w]}" for w in sorted(legend)) + "."]
    for c in changes:
        if c.old.kind == c.new.kind:
            lines += kind_of(c.new).sections(c, detailed=detailed)
    while lines and not lines[-1]:
        lines.pop()
    lines += ["", "---", "", f"Reproduce locally: `{command}`"]
    return "\n".join(lines) + "\n"
