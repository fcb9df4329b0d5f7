"""Fixtures for the Debian source tests: one built, signed archive per session, served per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.debian_archive import ArchiveServer, BuiltArchive, build_archive, serve


@pytest.fixture(scope="session")
def built_archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("debian-archive"))


@pytest.fixture
def archive_server(built_archive: BuiltArchive) -> Iterator[ArchiveServer]:
    yield from serve(built_archive)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
