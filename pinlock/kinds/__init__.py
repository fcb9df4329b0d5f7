"""Kinds of input, one package each (``image``, ``release``, ``apt``), and their one registry.

The core finds an input's kind here (``kind_of``) and asks it; it never compares a kind's
name. Adding a kind: a package with a ``TypedKind`` subclass and one ``register`` line
(docs/architecture.md, "Adding a kind"). The built-in kinds load on first use, so that
importing the registry costs nothing a command does not need.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pinlock.kinds.base import BaseImage, Kind, TypedKind
from pinlock.model import Input, Lock

__all__ = ["BaseImage", "Kind", "TypedKind", "base_images", "kind_named", "kind_of", "kinds",
           "register", "registered"]

_REGISTRY: dict[str, Kind] = {}
_BUILTIN_LOADED = False


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    # In this order `init` names inputs and `lock` plans them (images before what follows them).
    from pinlock.kinds import apt, download, image, release

    for kind in (image.KIND, release.KIND, apt.KIND, download.KIND):
        register(kind)


def register(kind: Kind) -> None:
    """Make ``kind`` known to the lock file, init, verify and every command."""
    _load_builtin()
    present = _REGISTRY.get(kind.name)
    if present is not None and present is not kind:
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    _REGISTRY[kind.name] = kind


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """``kind`` registered for the duration of a ``with`` block (tests add kinds this way)."""
    register(kind)
    try:
        yield kind
    finally:
        _REGISTRY.pop(kind.name, None)


def kinds() -> tuple[Kind, ...]:
    """Every registered kind, in registration order."""
    _load_builtin()
    return tuple(_REGISTRY.values())


def kind_named(name: str) -> Kind | None:
    _load_builtin()
    return _REGISTRY.get(name)


def base_images(lock: Lock) -> list[BaseImage]:
    """Every stage base the lock pins, asked of each input's kind, in input order."""
    out = []
    for inp in lock.inputs.values():
        base = kind_of(inp).base_image(inp)
        if base is not None:
            out.append(base)
    return out


def kind_of(inp: Input) -> Kind:
    """The kind of ``inp``; an input of a kind nobody registered is a programming error."""
    kind = kind_named(inp.kind)
    if kind is None:
        raise LookupError(f"input {inp.name!r} is of kind {inp.kind!r}, which is not registered")
    return kind
