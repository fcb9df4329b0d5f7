"""The toy kind is registered while these tests run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakekind.kind import KIND
from pinlock.kinds import Kind, registered


@pytest.fixture(autouse=True)
def toy_kind() -> Iterator[Kind]:
    with registered(KIND) as kind:  # the one registration line
        yield kind
