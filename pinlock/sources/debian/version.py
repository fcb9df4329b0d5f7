"""Debian version comparison exactly as dpkg does it: epochs, ``~`` before anything, ``+``."""

from __future__ import annotations

import functools
from dataclasses import dataclass


class VersionError(ValueError):
    """A string is not a Debian version."""


@dataclass(frozen=True)
class Version:
    """A parsed Debian version: ``[epoch:]upstream[-revision]``."""

    epoch: int
    upstream: str
    revision: str

    @classmethod
    def parse(cls, text: str) -> Version:
        text = text.strip()
        epoch = 0
        rest = text
        if ":" in text:
            head, _, rest = text.partition(":")
            if not head.isdigit():
                raise VersionError(f"{text!r}: epoch {head!r} is not a number")
            epoch = int(head)
        upstream, sep, revision = rest.rpartition("-")
        if not sep:
            upstream, revision = rest, ""
        if not upstream:
            raise VersionError(f"{text!r}: empty upstream version")
        return cls(epoch, upstream, revision)


def _order(c: str) -> int:
    # dpkg's order(): letters sort before non-letters, '~' before everything, even the end.
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's verrevcmp(): alternate non-digit and digit runs."""
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not a[i].isdigit()) or (j < lb and not b[j].isdigit()):
            ac = _order(a[i]) if i < la else 0
            bc = _order(b[j]) if j < lb else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        while i < la and j < lb and a[i].isdigit() and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and a[i].isdigit():
            return 1
        if j < lb and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


@functools.lru_cache(maxsize=65536)
def compare(a: str, b: str) -> int:
    """Negative, zero or positive as ``a`` sorts before, equal to or after ``b`` (dpkg order)."""
    if a == b:
        return 0
    va, vb = Version.parse(a), Version.parse(b)
    if va.epoch != vb.epoch:
        return -1 if va.epoch < vb.epoch else 1
    r = _verrevcmp(va.upstream, vb.upstream)
    if r:
        return -1 if r < 0 else 1
    r = _verrevcmp(va.revision, vb.revision)
    return 0 if r == 0 else (-1 if r < 0 else 1)


sort_key = functools.cmp_to_key(compare)


def satisfies(version: str, op: str, wanted: str) -> bool:
    """Does ``version`` satisfy the relation ``op wanted`` (``<<``, ``<=``, ``=``, ``>=``, ``>>``)?

    The obsolete ``<`` and ``>`` mean ``<=`` and ``>=``, as dpkg still reads them.
    """
    c = compare(version, wanted)
    if op == "=":
        return c == 0
    if op in (">=", ">"):
        return c >= 0
    if op in ("<=", "<"):
        return c <= 0
    if op == ">>":
        return c > 0
    if op == "<<":
        return c < 0
    raise VersionError(f"unknown version relation {op!r}")


def is_valid(text: str) -> bool:
    """Debian Policy 5.6.12's version syntax, exactly (``pinlock.grammar.debian_version``)."""
    from pinlock.grammar import GrammarError, debian_version

    try:
        debian_version(text)
    except GrammarError:
        return False
    return True
