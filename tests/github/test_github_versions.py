"""Version order and tag templates of release tags."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from pinlock.errors import InputError
from pinlock.sources.github.versions import (
    is_prerelease_version,
    major,
    nearest_versions,
    sort_versions,
    tag_for,
    version_from_tag,
    version_key,
)

numbers = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=5)


def test_four_part_versions_order_numerically() -> None:
    assert version_key("3.2.10.0") > version_key("3.2.9.0")
    assert sort_versions(["3.2.10.0", "3.2.3.0", "3.2.4.0", "3.2.9.0"]) == [
        "3.2.3.0",
        "3.2.4.0",
        "3.2.9.0",
        "3.2.10.0",
    ]


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0rc1", "1.0"),
        ("1.0-beta.2", "1.0"),
        ("1.0.0-alpha", "1.0.0-beta"),
        ("1.0.dev1", "1.0a1"),
        ("1.0", "1.0.post1"),
        ("1.0", "1.0.1"),
        ("r9", "r10"),
        ("2024-06-01", "2024-11-30"),
        ("1.9-alpine", "1.10"),
    ],
)
def test_order_of_tags_that_are_not_all_pep440(lower: str, higher: str) -> None:
    assert version_key(lower) < version_key(higher)


@given(numbers, numbers)
def test_dotted_numbers_order_like_their_tuples(a: list[int], b: list[int]) -> None:
    va, vb = ".".join(map(str, a)), ".".join(map(str, b))
    assert (version_key(va) < version_key(vb)) == (a < b)


pep440 = st.builds(
    lambda release, pre: ".".join(map(str, release)) + pre,
    st.lists(st.integers(0, 50), min_size=3, max_size=3),
    st.sampled_from(["", "a1", "a2", "b1", "rc1", "rc2", ".dev1"]),
)


@given(pep440, pep440)
def test_agrees_with_pep440_where_it_applies(a: str, b: str) -> None:
    if Version(a) != Version(b):
        assert (version_key(a) < version_key(b)) == (Version(a) < Version(b))


@given(st.lists(st.text(alphabet="0123456789.-abcrv", min_size=1, max_size=8), max_size=12))
def test_order_is_total_and_deterministic(tags: list[str]) -> None:
    once = sorted(tags, key=version_key)
    assert sorted(reversed(tags), key=version_key) == once
    assert all(version_key(x) <= version_key(y) for x, y in itertools.pairwise(once))


def test_prerelease_words() -> None:
    assert is_prerelease_version("3.0.0-rc.1")
    assert is_prerelease_version("1.0b2")
    assert not is_prerelease_version("3.2.10.0")
    assert not is_prerelease_version("1.9-alpine")


def test_major() -> None:
    assert major("3.2.4.0") == 3
    assert major("v12.1") == 12
    assert major("latest") is None


def test_nearest_versions_surround_the_missing_one() -> None:
    existing = ["3.1.6.2", "3.2.3.0", "3.2.4.0", "3.2.10.0", "3.1.0.0"]
    assert nearest_versions(existing, "3.2.5.0") == ["3.2.3.0", "3.2.4.0", "3.2.10.0"]
    assert nearest_versions(existing, "9.0") == ["3.2.4.0", "3.2.10.0"]


@pytest.mark.parametrize(
    ("template", "version", "tag"),
    [
        ("v{version}", "3.2.4.0", "v3.2.4.0"),
        ("release-{version}-final", "2.1", "release-2.1-final"),
    ],
)
def test_tag_template_round_trip(template: str, version: str, tag: str) -> None:
    assert tag_for(template, version) == tag
    assert version_from_tag(template, tag) == version


@pytest.mark.parametrize("tag", ["3.2.4.0", "vnext", "v", "x3.2"])
def test_tags_that_do_not_fit_the_template(tag: str) -> None:
    assert version_from_tag("v{version}", tag) is None


@pytest.mark.parametrize("template", ["v", "{version}-{version}"])
def test_bad_template_is_input_error(template: str) -> None:
    with pytest.raises(InputError, match="exactly once"):
        tag_for(template, "1.0")
