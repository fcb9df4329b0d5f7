"""A version written literally inside the URL words of a checked download: each place found
exactly, so that a version move rewrites every one of them in place and nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pinlock.dockerfile.sites import Value


def _pattern(version: str) -> re.Pattern[str]:
    # A whole version: "1.17" is not the one inside "11.17", "1.17.5" or "2.1.17".
    return re.compile(r"(?<![0-9])(?<![0-9]\.)" + re.escape(version) + r"(?![0-9])(?!\.[0-9])")


def count(text: str, version: str) -> int:
    """How many times ``version`` is written in ``text`` as a whole version."""
    return len(_pattern(version).findall(text)) if version else 0


def template(text: str, version: str) -> str:
    """``text`` with each whole ``version`` written as ``{version}``."""
    return _pattern(version).sub("{version}", text)


def places(url: str, values: Sequence[Value], version: str) -> list[Value] | None:
    """Where ``version`` sits in the words ``url`` was read from: one exact span for each time
    ``url`` holds it. None when they do not add up (a word without an exact span, a version
    also written in a part of a word the URL does not read): no place is guessed."""
    if not values or not version:
        return None
    pat = _pattern(version)
    out = [Value(version, v.start + m.start(), v.start + m.end(), v.line)
           for v in _distinct(values) for m in pat.finditer(v.text)]
    return out if len(out) == count(url, version) else None


def _distinct(values: Iterable[Value]) -> list[Value]:
    seen: set[tuple[int, int]] = set()
    out = []
    for v in values:
        if (v.start, v.end) not in seen:
            seen.add((v.start, v.end))
            out.append(v)
    return out
