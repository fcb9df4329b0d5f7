"""The ``layout`` of an apt input's pins: one package per continuation line, sorted.

Pure text to text: only the characters from the first package word to the last one
change (the words themselves, and the blanks and line continuations between them);
every other character of the RUN (other commands, options, comments, heredocs) is
left as it is. An install whose package words are not adjacent (an option or a
comment between them), or that sits in JSON (exec form, ``sh -c`` in JSON), is left
in place and reported, because rewriting it would change more than its layout.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pinlock.dockerfile.edit import Edit
from pinlock.dockerfile.sites import AptSite, Sites

ONE_PER_LINE = "one-per-line"
LAYOUTS = frozenset({ONE_PER_LINE})
# Between two adjacent package words: blanks, or blanks around one line continuation.
_GAP = re.compile(r"[ \t]+|[ \t]*\\\r?\n[ \t]*")


@dataclass(frozen=True)
class Skipped:
    line: int
    why: str


def one_per_line(source: str, site: AptSite, command_at: int | None = None) -> Edit | str:
    """The edit that puts ``site``'s packages one a line, sorted; or why it cannot.

    ``command_at``: an offset in the install command's first line (its subcommand), whose
    indent plus four spaces the packages get; default the first package's line."""
    words = [w.value for w in site.packages]
    if not words:
        return "it names no packages"
    if site.json_form:
        return "it is in exec (JSON) form"
    for a, b in itertools.pairwise(words):
        if not _GAP.fullmatch(source[a.end:b.start]):
            return "something other than blanks sits between its package words"
    first = words[0]
    line_start = source.rfind("\n", 0, first.start) + 1
    lead = source[line_start:first.start]
    newline = "\r\n" if source[first.end:].split("\n", 1)[0].endswith("\r") else "\n"
    ordered = sorted((w.text for w in words), key=lambda t: (t.split("=", 1)[0], t))
    if lead.strip(" \t") == "" and line_start > 0:
        # Already on a line of its own: keep that indent, so a second run changes nothing.
        indent, head = lead, ""
    else:
        at = first.start if command_at is None else command_at
        cmd_start = source.rfind("\n", 0, at) + 1
        indent = source[cmd_start:at][:len(source[cmd_start:at])
                                      - len(source[cmd_start:at].lstrip(" \t"))] + "    "
        # The blank before the first word stays, as written; the words move below it.
        head = "\\" + newline + indent
    body = (" \\" + newline + indent).join(ordered)
    return Edit(first.start, words[-1].end, head + body)


def layout_edits(source: str, sites: Sequence[AptSite], all_sites: Sites
                 ) -> tuple[list[Edit], list[Skipped]]:
    """The edits for ``sites`` (one input's installs), and the installs left in place."""
    edits: list[Edit] = []
    skipped: list[Skipped] = []
    for site in sites:
        start = site.packages[0].value.start if site.packages else -1
        # The install command that owns the words: the last `install` before the first one.
        owner = max((c for c in all_sites.apt_commands if c.stage == site.stage
                     and c.sub == "install" and c.after_sub <= start),
                    key=lambda c: c.after_sub, default=None)
        if owner is None or owner.in_json_string or (owner.json_form and not site.json_form):
            # A line break written into a JSON string would break the RUN (or, unescaped,
            # the JSON): such an install stays as it is.
            skipped.append(Skipped(site.line, "it is a shell script inside JSON (sh -c)"
                                   if owner is not None else "its install command is unclear"))
            continue
        got = one_per_line(source, site, owner.after_sub)
        if isinstance(got, str):
            skipped.append(Skipped(site.line, got))
        elif source[got.start:got.end] != got.text:
            edits.append(got)
    return edits, skipped
