"""Version order and tag templates for release tags (pure: strings in, strings out).

Release tags are not PEP 440 in general (``3.2.10.0``, ``2024-06-01``,
``1.0.0-beta.2``, ``r27``), so the order is a natural one: digit runs compare
as numbers, pre-release words (dev < alpha < beta < rc) sort before the end of
a version, other words after it. Four-part versions order as expected:
``3.2.10.0 > 3.2.9.0``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from pinlock.errors import InputError

_TOKEN = re.compile(r"\d+|[A-Za-z]+")
_PRE_RANK = {
    "dev": 0,
    "a": 1,
    "alpha": 1,
    "b": 2,
    "beta": 2,
    "c": 3,
    "rc": 3,
    "pre": 3,
    "preview": 3,
}
# Classes of a chunk, in the order they sort at the same position.
_PRE, _END, _WORD, _NUMBER = 0, 1, 2, 3
_END_CHUNK = (_END, 0, "")

Chunk = tuple[int, int, str]
VersionKey = tuple[tuple[Chunk, ...], str]


def _chunks(version: str) -> tuple[Chunk, ...]:
    text = version.strip()
    if len(text) > 1 and text[0] in "vV" and text[1].isdigit():
        text = text[1:]
    out: list[Chunk] = []
    for token in _TOKEN.findall(text):
        if token.isdigit():
            out.append((_NUMBER, int(token), ""))
        elif token.lower() in _PRE_RANK:
            out.append((_PRE, _PRE_RANK[token.lower()], token.lower()))
        else:
            out.append((_WORD, 0, token.lower()))
    out.append(_END_CHUNK)
    return tuple(out)


def version_key(version: str) -> VersionKey:
    """A total order key; ties between spellings of one version (``1.0-1``/``1.0.1``) by text."""
    return (_chunks(version), version)


def sort_versions(versions: Iterable[str]) -> list[str]:
    return sorted(set(versions), key=version_key)


def is_prerelease_version(version: str) -> bool:
    """True when the version carries a pre-release word (``rc1``, ``beta``, ``dev``…)."""
    return any(chunk[0] == _PRE for chunk in _chunks(version))


def major(version: str) -> int | None:
    """The leading number of a version, or None if it does not start with one."""
    first = _chunks(version)[0]
    return first[1] if first[0] == _NUMBER else None


def nearest_versions(existing: Iterable[str], wanted: str, *, each_side: int = 2) -> list[str]:
    """The existing versions right below and right above ``wanted``, in version order."""
    ordered = sort_versions(existing)
    keys = [version_key(v) for v in ordered]
    at = bisect.bisect_left(keys, version_key(wanted))
    return ordered[max(0, at - each_side) : at + each_side]


# ---------------------------------------------------------------- tag templates


def check_tag_template(template: str) -> tuple[str, str]:
    """Split ``v{version}`` into prefix and suffix; exactly one ``{version}`` is required."""
    if template.count("{version}") != 1:
        raise InputError(
            f"tag template {template!r} must contain '{{version}}' exactly once",
            hint='e.g. tag-template = "v{version}"',
        )
    prefix, _, suffix = template.partition("{version}")
    return prefix, suffix


def tag_for(template: str, version: str) -> str:
    """``v{version}`` and ``3.2.4.0`` -> ``v3.2.4.0``."""
    prefix, suffix = check_tag_template(template)
    return f"{prefix}{version}{suffix}"


def version_from_tag(template: str, tag: str) -> str | None:
    """The version a tag stands for under ``template``, or None when the tag does not fit it."""
    prefix, suffix = check_tag_template(template)
    if len(tag) <= len(prefix) + len(suffix):
        return None
    if not (tag.startswith(prefix) and tag.endswith(suffix)):
        return None
    version = tag[len(prefix) : len(tag) - len(suffix)]
    # A version starts with a digit; this keeps "v{version}" from matching "vnext".
    return version if version[:1].isdigit() else None
