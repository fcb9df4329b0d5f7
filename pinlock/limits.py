"""Size and nesting limits on the documents pinlock reads from disk, and the nesting check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MiB = 1024 * 1024
MAX_LOCK_BYTES = 16 * MiB  # a lock with thousands of Debian packages is well under 1 MiB
MAX_LOCK_DEPTH = 32  # the schema nests under ten levels
MAX_DOCKERFILE_BYTES = 4 * MiB


def nesting_exceeds(data: Any, max_depth: int) -> bool:
    """Whether dicts and lists in ``data`` nest deeper than ``max_depth`` (no recursion:
    the check must not fail where the parser did not)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False
