"""Typed access to the lock's TOML tables, with messages that name the file, key and expectation.

Shared by the core lockfile and each kind's table schema (``pinlock.kinds.*.schema``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pinlock.digest import Digest as _Digest
from pinlock.digest import DigestFormatError, parse_sha256
from pinlock.errors import LockfileError

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class Replace(dict[str, Any]):
    """A mapping whose keys are data (platforms, asset names): replaced whole, not merged."""


# ------------------------------------------------------------------ reading


class TableReader:
    """Typed access to one table with messages that name the file, the key and what was expected."""

    def __init__(self, path: str, data: Mapping[str, Any], where: str) -> None:
        self.path = path
        self.data = data
        self.where = where

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def qualified(self, key: str) -> str:
        """``key`` as a message names it: ``inputs.debian.tag-pattern``."""
        return self._key(key)

    def fail(self, key: str, expected: str, got: object) -> LockfileError:
        return LockfileError(self.path, f"expected {expected}, got {got!r}", key=self._key(key))

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        if key not in self.data:
            if required or default is None:
                raise LockfileError(self.path, "missing required key", key=self._key(key))
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string", value)
        return value

    def opt_str(self, key: str) -> str | None:
        return self.text(key) if key in self.data else None

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "a non-negative integer", value)
        return value

    def str_list(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if key not in self.data:
            if default is None:
                raise LockfileError(self.path, "missing required key", key=self._key(key))
            return default
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            raise self.fail(key, "a list of non-empty strings", value)
        return tuple(value)

    def table(self, key: str, *, required: bool = False) -> TableReader:
        value = self.data.get(key)
        if value is None:
            if required:
                raise LockfileError(self.path, "missing required table", key=self._key(key))
            return TableReader(self.path, {}, self._key(key))
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return TableReader(self.path, value, self._key(key))

    def str_map(self, key: str) -> dict[str, str]:
        tbl = self.table(key)
        out: dict[str, str] = {}
        for k in tbl.data:
            out[k] = tbl.text(k)
        return out

    def digest(self, key: str) -> str | None:
        value = self.opt_str(key)
        if value is None:
            return None
        try:
            _Digest.parse(value)
        except DigestFormatError as exc:
            raise LockfileError(self.path, str(exc), key=self._key(key)) from None
        return value

    def sha256(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key) if required else self.opt_str(key)
        if value is None:
            return None
        try:
            return parse_sha256(value)
        except DigestFormatError as exc:
            raise LockfileError(self.path, str(exc), key=self._key(key)) from None


def group(r: TableReader) -> str | None:
    """The optional ``group``: it names a git branch, so it follows the input-name rules."""
    group = r.opt_str("group")
    if group is not None and not set(group) <= NAME_CHARS:
        raise r.fail("group", "a name of lowercase letters, digits, '-', '_', '.'", group)
    return group


def min_age(r: TableReader) -> str | None:
    """The optional ``min-age`` (``3d``): kept as written, checked here so a typo is bad input."""
    from pinlock.clock import parse_age

    age = r.opt_str("min-age")
    if age is not None:
        try:
            parse_age(age)
        except ValueError:
            raise r.fail("min-age", "a duration: a whole number and a unit h, d or w "
                         "(e.g. \"3d\")", age) from None
    return age
