"""dpkg version ordering, checked against dpkg --compare-versions."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinlock.sources.debian.version import Version, compare, satisfies

_UP = st.text(alphabet="0123456789abzAZ.+~", min_size=0, max_size=6)
_REV = st.text(alphabet="0123456789abz.+~", min_size=1, max_size=5)


@st.composite
def versions(draw: st.DrawFn) -> str:
    epoch = draw(st.one_of(st.none(), st.integers(0, 3)))
    upstream = draw(st.integers(0, 12)).__str__() + draw(_UP)
    rev = draw(st.one_of(st.none(), _REV))
    text = upstream
    if rev is not None:
        text += "-" + rev
    if epoch is not None:
        text = f"{epoch}:{text}"
    return text


def dpkg_cmp(a: str, b: str) -> int:
    def rel(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0

    return -1 if rel("lt") else (1 if rel("gt") else 0)


@settings(max_examples=300, deadline=None)
@given(versions(), versions())
def test_debian_compare_matches_dpkg(a: str, b: str) -> None:
    assert compare(a, b) == dpkg_cmp(a, b), (a, b)


@settings(max_examples=100, deadline=None)
@given(versions())
def test_debian_compare_with_tweaks_matches_dpkg(a: str) -> None:
    for b in (a + "~", a + "+b1", a + "~rc1", a + "0", a.replace("1", "01")):
        assert compare(a, b) == dpkg_cmp(a, b), (a, b)


@pytest.mark.parametrize(("a", "b", "want"), [
    ("1:0.9-1", "2.0-1", 1),
    ("1.0~rc2-1", "1.0-1", -1),
    ("1.0-1+b1", "1.0-1", 1),
    ("1.0", "1.0-0", 0),
    ("1.0~~", "1.0~", -1),
    ("3.13.5-1", "3.13.5-1", 0),
])
def test_debian_compare_known_cases(a: str, b: str, want: int) -> None:
    assert compare(a, b) == want == dpkg_cmp(a, b)


def test_debian_version_parse_and_satisfies() -> None:
    v = Version.parse("2:1.2-3-4")
    assert (v.epoch, v.upstream, v.revision) == (2, "1.2-3", "4")
    assert satisfies("2.0-1", ">=", "2.0")
    assert satisfies("2.0-1", ">>", "2.0")
    assert not satisfies("2.0-1", "<<", "2.0-1")
    assert satisfies("1:1", ">", "9")  # obsolete ">" means ">="
