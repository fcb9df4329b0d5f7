"""Tag shapes and order: pure unit tests, with hypothesis for the ordering properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from pinlock.sources.oci.tags import (
    TagPatternError,
    newest_tag,
    parse_tag,
    shape_of,
    sort_tags,
    tag_for_version,
    version_of,
)

UV = [
    "0.11.5-python3.13-trixie", "0.11.6-python3.13-trixie", "0.11.10-python3.13-trixie",
    "0.11.11-python3.12-trixie", "0.11.12-python3.13-bookworm", "0.11.13-python3.13-trixie-slim",
    "0.12.0rc1-python3.13-trixie", "1.0.0-python3.13-trixie", "python3.13-trixie", "latest",
]
DEBIAN = ["12.9", "13", "13.2", "13.4", "13.10", "13.4.1", "13.11-slim", "14.0", "trixie",
          "13.12-rc1"]


@pytest.mark.parametrize(("current", "kwargs", "expected"), [
    ("0.11.6-python3.13-trixie", {}, "0.11.10-python3.13-trixie"),
    ("0.11.6-python3.13-trixie", {"allow_major": True}, "1.0.0-python3.13-trixie"),
    ("0.11.6-python3.13-trixie", {"prerelease": True}, "0.12.0rc1-python3.13-trixie"),
    ("0.11.6-python3.13-trixie", {"pattern": "{version}-python3.13-trixie"},
     "0.11.10-python3.13-trixie"),
])
def test_oci_newest_uv_same_suffix(current: str, kwargs: dict[str, object],
                                   expected: str) -> None:
    assert newest_tag(UV, current, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "kwargs", "expected"), [
    ("13.4", {}, "13.10"),  # by version, not by text: 13.10 > 13.4
    ("13.4", {"allow_major": True}, "14.0"),
    ("13.4", {"prerelease": True}, "13.12-rc1"),
    ("13", {}, "13"),  # one component stays one component
    ("13.4.1", {}, "13.4.1"),
    ("trixie", {}, None),  # not a version: never updated
])
def test_oci_newest_debian(current: str, kwargs: dict[str, bool], expected: str | None) -> None:
    assert newest_tag(DEBIAN, current, allow_major=kwargs.get("allow_major", False),
                      prerelease=kwargs.get("prerelease", False)) == expected


def test_oci_newest_none_when_shape_absent() -> None:
    assert newest_tag(["1.0-alpine"], "1.0-slim") is None


@pytest.mark.parametrize(("tag", "parts"), [
    ("0.11.6-python3.13-trixie", ("", "0.11.6", "", "-python3.13-trixie")),
    ("1.2.3-rc1-alpine", ("", "1.2.3", "-rc1", "-alpine")),
    ("1.2-bookworm", ("", "1.2", "", "-bookworm")),
    ("1.2-devel", ("", "1.2", "", "-devel")),
    ("v2.1", ("v", "2.1", "", "")),
    ("python3.13-trixie", ("python", "3.13", "", "-trixie")),
])
def test_oci_parse_tag(tag: str, parts: tuple[str, str, str, str]) -> None:
    p = parse_tag(tag)
    assert p is not None and (p.prefix, p.version, p.pre, p.suffix) == parts


def test_oci_tag_for_version_and_back() -> None:
    assert tag_for_version("0.11.6-python3.13-trixie", "0.11.7") == "0.11.7-python3.13-trixie"
    assert tag_for_version("13.4", "13.8") == "13.8"
    assert tag_for_version(None, "0.11.7", "{version}-python3.13-trixie") == \
        "0.11.7-python3.13-trixie"
    assert version_of("0.11.6-python3.13-trixie") == "0.11.6"
    assert version_of("0.12.0rc1-python3.13-trixie", "{version}-python3.13-trixie") == "0.12.0rc1"
    with pytest.raises(TagPatternError):
        tag_for_version("trixie", "13.8")
    with pytest.raises(TagPatternError):
        tag_for_version("13.4", "13.8; rm -rf")
    with pytest.raises(TagPatternError):
        shape_of("1.0", "no-version-here")


def test_oci_sort_tags_rule() -> None:
    assert sort_tags(["latest", "13.10", "13.2", "trixie", "13.04", "13.4"]) == [
        "13.2", "13.04", "13.4", "13.10", "latest", "trixie"]


versions = st.lists(st.integers(0, 30), min_size=2, max_size=2).map(
    lambda v: ".".join(map(str, v)))


@given(st.lists(versions, min_size=1, max_size=20), st.sampled_from(["", "-python3.13-trixie"]))
def test_oci_newest_is_the_maximum_of_same_major(vs: list[str], suffix: str) -> None:
    current = vs[0] + suffix
    noise = [v + "-other" for v in vs] + [v + ".1" + suffix for v in vs]
    got = newest_tag([v + suffix for v in vs] + noise, current)
    major = Version(vs[0]).major
    same = [v for v in vs if Version(v).major == major]
    assert got is not None and got.endswith(suffix)
    assert Version(version_of(got) or "") == max(Version(v) for v in same)


@given(st.lists(versions, max_size=15), st.lists(st.sampled_from(["latest", "trixie", "edge"])))
def test_oci_sort_tags_is_deterministic_and_ordered(vs: list[str], words: list[str]) -> None:
    tags = vs + words
    out = sort_tags(tags)
    assert sorted(out) == sorted(tags)
    assert out == sort_tags(list(reversed(tags)))
    parsed = [Version(t) for t in out if parse_tag(t)]
    assert parsed == sorted(parsed)
