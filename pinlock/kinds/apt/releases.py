"""Debian releases (one table of versions and codenames) and what a locked archive state says."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pinlock.kinds.apt.model import SuiteState

SNAPSHOT_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class DebianRelease:
    version: str  # the major version, as in debian:13
    codename: str
    apt_snapshot: bool  # its apt (2.7+) understands --snapshot


RELEASES: tuple[DebianRelease, ...] = (
    DebianRelease("8", "jessie", False),
    DebianRelease("9", "stretch", False),
    DebianRelease("10", "buster", False),
    DebianRelease("11", "bullseye", False),
    DebianRelease("12", "bookworm", False),
    DebianRelease("13", "trixie", True),
    DebianRelease("14", "forky", True),
    DebianRelease("15", "duke", True),
)
BY_CODENAME = {r.codename: r for r in RELEASES}
BY_VERSION = {r.version: r for r in RELEASES}
_MAJOR = re.compile(r"^(\d+)(?:[.\-]|$)")


def codename_of_suite(suite: str) -> str:
    """``trixie-updates`` -> ``trixie``; ``bookworm/updates`` -> ``bookworm``."""
    return suite.split("-")[0].split("/")[0]


def suites_codename(suites: Sequence[str]) -> str | None:
    """The one Debian codename the suites are of, or None (none, or several)."""
    names = {codename_of_suite(s) for s in suites}
    return names.pop() if len(names) == 1 else None


def codename_of_image(path: str, tag: str) -> str | None:
    """The Debian release an image tag names: a codename in the tag (``3.13-slim-trixie``,
    ``trixie-20250811``), else the major version of the official ``debian`` image
    (``13.4`` -> trixie). None when the tag does not say; ``""`` for a ``debian`` major
    version this table does not know (a release newer than pinlock)."""
    for word in re.split(r"[^a-z0-9]+", tag.lower()):
        if word in BY_CODENAME:
            return word
    if path == "library/debian":  # ImageRef.path of Docker Hub's official image
        m = _MAJOR.match(tag)
        if m:
            rel = BY_VERSION.get(m.group(1))
            return rel.codename if rel else ""
    return None


_BASE_FILES = re.compile(r"^(\d+)(?:\.\d+)*(?:\+deb\d+u\d+)?$")


def codename_of_base_files(version: str) -> str | None:
    """The release of an image whose dpkg status lists ``base-files`` ``version``: Debian's
    base-files carries the release number (13.4 in trixie, 14 in forky) and ships the
    image's /etc/os-release. None for other versions (Ubuntu's ``13ubuntu10``)."""
    m = _BASE_FILES.match(version)
    rel = BY_VERSION.get(m.group(1)) if m else None
    return rel.codename if rel else None


def moved_suites(suites: Sequence[str], codename: str) -> tuple[str, ...]:
    """The same suites for another release: trixie, trixie-updates -> forky, forky-updates."""
    out = []
    for s in suites:
        old = codename_of_suite(s)
        out.append(codename + s[len(old):])
    return tuple(out)


def snapshot_supported(suites: Iterable[str]) -> bool:
    """apt of the suites' release reads ``--snapshot`` (2.7+: trixie on; unknown: assumed)."""
    for s in suites:
        rel = BY_CODENAME.get(codename_of_suite(s))
        if rel is not None and not rel.apt_snapshot:
            return False
    return True


def snapshot_time(snapshot: str) -> dt.datetime:
    return dt.datetime.strptime(snapshot, SNAPSHOT_FORMAT).replace(tzinfo=dt.UTC)


def newest_index(suites: Mapping[str, SuiteState]) -> tuple[str, dt.datetime] | None:
    """The suite whose locked InRelease is the newest, and its Date; None when none parse."""
    best: tuple[str, dt.datetime] | None = None
    for suite, state in sorted(suites.items()):
        when = release_date(state.date)
        if when is not None and (best is None or when > best[1]):
            best = (suite, when)
    return best


def release_date(text: str) -> dt.datetime | None:
    """An InRelease ``Date`` (RFC 2822, as Debian writes it: ``Sat, 15 Nov 2025 09:04:36 UTC``)
    in UTC; None when it does not parse."""
    try:
        # Debian's own form first: no email/socket import on offline verify's path.
        return dt.datetime.strptime(text, "%a, %d %b %Y %H:%M:%S UTC").replace(tzinfo=dt.UTC)
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def snapshot_predates(snapshot: str | None,
                      suites: Mapping[str, SuiteState]) -> tuple[str, str] | None:
    """(suite, Date) when the locked snapshot is older than a locked InRelease's Date.

    A build at that snapshot reads the archive as it was then: an older state than the
    one the lock's versions and checksums come from, so the lock would promise packages
    the build cannot see.
    """
    newest = newest_index(suites)
    if snapshot is None or newest is None:
        return None
    try:
        at = snapshot_time(snapshot)
    except ValueError:
        return None
    suite, when = newest
    return (suite, suites[suite].date) if when > at else None
