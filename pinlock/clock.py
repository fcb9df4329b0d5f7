"""The one clock of pinlock, and the ``min-age`` durations measured with it."""

from __future__ import annotations

import datetime as dt
import re

_AGE_RE = re.compile(r"^([0-9]{1,6})([hdw])$")
_UNIT = {"h": 3600, "d": 86400, "w": 7 * 86400}


def now() -> dt.datetime:
    """Now, in UTC. Everything that ages a candidate reads this one function (tests set it)."""
    return dt.datetime.now(dt.UTC)


def parse_time(text: object) -> dt.datetime | None:
    """An ISO 8601 date or time from upstream (GitHub's ``published_at``, ``2024-02-13``,
    ``…T10:00:00.000Z``), in UTC when it names no zone; None when absent or not a time."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def parse_age(text: str) -> dt.timedelta:
    """``"3d"`` -> three days; units ``h``, ``d``, ``w``. ValueError for anything else
    (``3x``, ``-1d``, ``1.5d``, an empty string)."""
    m = _AGE_RE.match(text)
    if m is None:
        raise ValueError(text)
    return dt.timedelta(seconds=int(m.group(1)) * _UNIT[m.group(2)])


def left(published: dt.datetime | None, min_age: dt.timedelta,
         at: dt.datetime | None = None) -> dt.timedelta | None:
    """How long a candidate published at ``published`` must still wait; None: old enough.

    Unknown publication time: it cannot be judged old enough, so it waits the whole age.
    """
    if published is None:
        return min_age
    if published.tzinfo is None:
        published = published.replace(tzinfo=dt.UTC)
    rest = published + min_age - (at or now())
    return rest if rest > dt.timedelta(0) else None


def shown(delta: dt.timedelta) -> str:
    """A wait for people: ``2d``, ``5h``, ``<1h``, rounded up to the unit shown."""
    hours = -(-int(delta.total_seconds()) // 3600)
    if hours <= 0:
        return "<1h"
    return f"{-(-hours // 24)}d" if hours >= 48 else f"{hours}h"
