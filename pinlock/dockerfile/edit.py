"""Apply edits to Dockerfile text: each replaces exactly the characters of one value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


class OverlappingEditsError(ValueError):
    """Two edits touch the same characters: a bug in whoever planned them."""


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    # Insertions at one offset keep the order they were planned in (stable sort).
    ordered = sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for e in ordered:
        if e.start < pos:
            raise OverlappingEditsError(f"edit at {e.start} overlaps the previous one (ends {pos})")
        out.append(source[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(source[pos:])
    return "".join(out)
