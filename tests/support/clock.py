"""pinlock's clock held at one moment, for the tests of min-age and of dates written."""

from __future__ import annotations

import datetime as dt

import pytest

from pinlock import clock


def freeze_clock(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    """Every ``clock.now()`` answers ``when`` until the test ends."""
    monkeypatch.setattr(clock, "now", lambda: when)
