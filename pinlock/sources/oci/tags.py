"""Tag shapes and order (pure): the newest tag that keeps the current tag's shape.

A tag is read as ``<prefix><version><pre-release><suffix>``:

- ``version`` is the first run of dot-separated numbers that starts the tag or
  follows a non-digit (``0.11.6`` in ``0.11.6-python3.13-trixie``);
- ``pre-release`` is an optional marker right after it (``-rc1``, ``b2``,
  ``-alpha.1``, ``.dev0``);
- ``suffix`` starts with ``-``, ``_`` or ``+`` (``-python3.13-trixie``).

Two tags have the same shape when prefix and suffix are equal and their
versions have the same number of components: ``13.4`` and ``13.5`` do,
``13``, ``13.4.1``, ``13.4-slim`` and ``trixie`` do not. With a tag pattern
(``{version}-python3.13-trixie``) the pattern's text around ``{version}`` is the
shape instead.

Order: by ``packaging.version.Version`` of ``version`` + ``pre-release``.
Tags that are not versions (``latest``, ``trixie``, ``stable-slim``) are never
update candidates; ``sort_tags`` puts them after every version tag, in
lexicographic order, so listings are deterministic. Equal versions written
differently (``13.04`` / ``13.4``) are ordered by the tag text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

_PRE = r"(?:[-._]?(?:alpha|beta|preview|pre|rc|dev|a|b|c)(?:[-._]?\d+)?)"
_TAG_RE = re.compile(
    r"^(?P<prefix>|.*?[^\d.])(?P<version>\d+(?:\.\d+)*)(?P<pre>" + _PRE + r")?"
    r"(?P<suffix>(?:[-_+].*)?)$",
    re.DOTALL,
)
_VERSION_TEXT = r"\d+(?:\.\d+)*" + _PRE + "?"


class TagPatternError(ValueError):
    """A tag pattern without exactly one ``{version}``."""


@dataclass(frozen=True)
class ParsedTag:
    tag: str
    prefix: str
    version: str  # "0.11.6"
    pre: str  # "-rc1" or ""
    suffix: str  # "-python3.13-trixie"
    parsed: Version

    @property
    def components(self) -> int:
        return self.version.count(".") + 1

    @property
    def full_version(self) -> str:
        """The version part as written, pre-release included: ``1.2.3-rc1``."""
        return self.version + self.pre

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre) or self.parsed.is_prerelease


@dataclass(frozen=True)
class TagShape:
    prefix: str
    suffix: str
    components: int | None  # None: any number (a pattern with no current tag to copy)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_tag(tag: str) -> ParsedTag | None:
    """Split a tag into prefix, version, pre-release and suffix; None if it has no version."""
    m = _TAG_RE.match(tag)
    if not m:
        return None
    pre = m.group("pre") or ""
    parsed = _version(m.group("version") + pre)
    if parsed is None:
        return None
    return ParsedTag(tag, m.group("prefix"), m.group("version"), pre, m.group("suffix"), parsed)


def _split_pattern(pattern: str) -> tuple[str, str]:
    if pattern.count("{version}") != 1:
        raise TagPatternError(
            f"tag pattern {pattern!r} must contain {{version}} exactly once"
        )
    before, _, after = pattern.partition("{version}")
    return before, after


def parse_with_pattern(tag: str, pattern: str) -> ParsedTag | None:
    """Read a tag through a pattern like ``{version}-python3.13-trixie``."""
    before, after = _split_pattern(pattern)
    m = re.fullmatch(re.escape(before) + f"(?P<v>{_VERSION_TEXT})" + re.escape(after), tag)
    if not m:
        return None
    inner = parse_tag(m.group("v"))
    if inner is None or inner.prefix or inner.suffix:
        return None
    return ParsedTag(tag, before, inner.version, inner.pre, after, inner.parsed)


def shape_of(tag: str | None, pattern: str | None = None) -> TagShape | None:
    """The shape a tag keeps across updates; None when the tag is not a version."""
    if pattern is not None:
        before, after = _split_pattern(pattern)
        current = parse_with_pattern(tag, pattern) if tag else None
        return TagShape(before, after, current.components if current else None)
    parsed = parse_tag(tag) if tag else None
    if parsed is None:
        return None
    return TagShape(parsed.prefix, parsed.suffix, parsed.components)


def _parse(tag: str, pattern: str | None) -> ParsedTag | None:
    return parse_with_pattern(tag, pattern) if pattern is not None else parse_tag(tag)


def same_shape(
    tags: Iterable[str], shape: TagShape, pattern: str | None = None
) -> list[ParsedTag]:
    """The tags of ``shape``, oldest first."""
    out = []
    for tag in tags:
        p = _parse(tag, pattern)
        if p is None or p.prefix != shape.prefix or p.suffix != shape.suffix:
            continue
        if shape.components is not None and p.components != shape.components:
            continue
        out.append(p)
    out.sort(key=lambda p: (p.parsed, p.tag))
    return out


def newest_tag(
    tags: Iterable[str],
    current: str,
    *,
    pattern: str | None = None,
    allow_major: bool = False,
    prerelease: bool = False,
) -> str | None:
    """The newest tag of ``current``'s shape, or None when none (not even current) exists.

    Same major version unless ``allow_major``; pre-releases only with ``prerelease``
    (or when ``current`` is itself a pre-release of the same release line).
    """
    shape = shape_of(current, pattern)
    if shape is None:
        return None
    cur = _parse(current, pattern)
    candidates = same_shape(tags, shape, pattern)
    best: ParsedTag | None = None
    for p in candidates:
        if cur is not None and not allow_major and p.major != cur.major:
            continue
        if p.is_prerelease and not prerelease:
            continue
        best = p
    return best.tag if best else None


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Version tags in version order, then the rest in lexicographic order."""
    versions: list[ParsedTag] = []
    others: list[str] = []
    for tag in tags:
        p = parse_tag(tag)
        if p is None:
            others.append(tag)
        else:
            versions.append(p)
    versions.sort(key=lambda p: (p.parsed, p.tag))
    return [p.tag for p in versions] + sorted(others)


def version_of(tag: str, pattern: str | None = None) -> str | None:
    """The version a tag stands for: ``0.11.6-python3.13-trixie`` -> ``0.11.6``."""
    p = _parse(tag, pattern)
    return p.full_version if p else None


def tag_for_version(current: str | None, version: str, pattern: str | None = None) -> str:
    """The tag that holds ``version`` in ``current``'s shape (or ``pattern``).

    ``0.11.6-python3.13-trixie`` + ``0.11.7`` -> ``0.11.7-python3.13-trixie``.
    Raises TagPatternError when the version is not a version or no shape is known.
    """
    if not re.fullmatch(_VERSION_TEXT, version):
        raise TagPatternError(f"{version!r} is not a version (expected e.g. 1.2.3 or 1.2.3rc1)")
    if pattern is not None:
        before, after = _split_pattern(pattern)
        return f"{before}{version}{after}"
    p = parse_tag(current) if current else None
    if p is None:
        raise TagPatternError(
            f"the tag {current!r} has no version part to replace with {version}",
        )
    return f"{p.prefix}{version}{p.suffix}"
