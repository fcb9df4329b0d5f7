"""Parsing control data: paragraphs, Release, Packages, relations, dpkg status."""

from __future__ import annotations

import pytest

from pinlock.sources.debian.deb822 import (
    ControlError,
    Relation,
    installed_records,
    paragraphs,
    parse_packages,
    parse_relations,
    parse_release,
)

RELEASE = """Origin: Debian
Suite: stable
Codename: trixie
Date: Sat, 09 Aug 2025 09:07:00 UTC
Acquire-By-Hash: yes
MD5Sum:
 0123 10 main/binary-amd64/Packages.xz
SHA256:
 aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11 1234 main/binary-amd64/Packages.xz
 bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22 99 main/binary-arm64/Packages.gz
"""


def test_debian_release_reads_sha256_only() -> None:
    rel = parse_release(RELEASE)
    assert rel.codename == "trixie" and rel.acquire_by_hash
    assert rel.files["main/binary-amd64/Packages.xz"].sha256 == "aa11" * 16
    assert rel.files["main/binary-amd64/Packages.xz"].size == 1234
    assert set(rel.files) == {"main/binary-amd64/Packages.xz", "main/binary-arm64/Packages.gz"}


def test_debian_release_rejects_malformed_hash_line() -> None:
    with pytest.raises(ControlError):
        parse_release(RELEASE.replace(" 99 ", " xx "))
    # the hash names a cache file: anything but 64 hex digits is refused
    with pytest.raises(ControlError):
        parse_release(RELEASE.replace("bb22" * 16, "../../../etc/passwd"))


def test_debian_paragraphs_continuations() -> None:
    text = "A: 1\nDescription: short\n long\n .\n more\n\nB: 2\n"
    assert list(paragraphs(text)) == [
        {"A": "1", "Description": "short\nlong\n\nmore"}, {"B": "2"},
    ]
    with pytest.raises(ControlError):
        list(paragraphs(" orphan\n"))


def test_debian_relations() -> None:
    groups = parse_relations("libc6 (>= 2.34), python3:any | python3-minimal (<< 3.14~), a [amd64]")
    assert groups[0] == (Relation("libc6", None, ">=", "2.34"),)
    assert groups[1] == (
        Relation("python3", "any"), Relation("python3-minimal", None, "<<", "3.14~"),
    )
    assert groups[2] == (Relation("a"),)
    with pytest.raises(ControlError):
        parse_relations("Bad Name")


def test_debian_packages_and_status() -> None:
    text = (
        "Package: a\nVersion: 1\nArchitecture: amd64\nDepends: b\nSize: 10\nSHA256: ff\n"
        "Description: x\n multi\n\n"
        "Package: b\nStatus: deinstall ok config-files\nVersion: 2\nArchitecture: all\n\n"
        "Package: c\nStatus: install ok installed\nVersion: 3\nArchitecture: all\n"
        "Essential: yes\n"
    )
    recs = parse_packages(text)
    assert [(r.package, r.version, r.size) for r in recs] == [("a", "1", 10), ("b", "2", 0),
                                                             ("c", "3", 0)]
    assert recs[0].relations("depends") == ((Relation("b"),),)
    assert [r.package for r in installed_records(text)] == ["c"]
    assert installed_records(text)[0].essential
    with pytest.raises(ControlError):
        parse_packages("Version: 1\n")
