"""BuildKit's own parser (the `dockerfile` wheel) as the oracle for pinlock's Dockerfile parser.

Both views list, per instruction: the keyword (upper-cased), the first and last line, the
logical text (continuations joined) and the heredocs (name, body). The differences between the
two parsers that are intended, and how each is bridged, are described in
tests/core/test_dockerfile_oracle.py.
"""

from __future__ import annotations

from pathlib import Path

import dockerfile

from pinlock.dockerfile.parser import Dockerfile, Instruction

View = list[tuple[str, int, int, str, tuple[tuple[str, str], ...]]]


def read_corpus(path: Path) -> str:
    # Bytes, then UTF-8: no universal-newline translation may hide a CR.
    return path.read_bytes().decode("utf-8")


def oracle_view(text: str) -> View:
    return [
        ((c.cmd or "").upper(), c.start_line, c.end_line, c.original or "",
         tuple((h.name, h.content) for h in c.heredocs))
        for c in dockerfile.parse_string(text)
    ]


def pinlock_view(df: Dockerfile) -> View:
    return [_one(ins) for ins in df.instructions]


def _one(ins: Instruction) -> tuple[str, int, int, str, tuple[tuple[str, str], ...]]:
    if ins.keyword == "ONBUILD":
        # The wheel does not expose an ONBUILD's heredocs (see test_dockerfile_oracle.py).
        return ins.keyword, ins.line, ins.end_line, ins.text.text, ()
    original = ins.text.text
    if ins.heredocs:
        original += "\n" + "".join(h.body.text + h.name + "\n" for h in ins.heredocs)
    heredocs = tuple((h.name, h.body.text) for h in ins.heredocs)
    return ins.keyword, ins.line, ins.end_line, original, heredocs
