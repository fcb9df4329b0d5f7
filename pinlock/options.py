"""Settings for the upstream sources, from the CLI and the environment; where the cache lives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """Settings for the sources, from the CLI and the environment."""

    registry_mirrors: tuple[str, ...] = ()
    deep: bool = False
    debian_mirror: str | None = None
    debian_security_mirror: str | None = None
    prerelease: bool = False
    allow_major: bool = False
    sample: int | None = None  # --deep: this many .deb files per apt input, chosen at random
    sample_seed: int | None = None  # ... with this seed (None: a fresh one, reported)
    accept_alarm: bool = False  # update/pr: move an input although upstream raised an alarm
    index_cache: bool = True  # False: Debian indexes fetched and verified afresh, no disk cache
    # True (verify --online): every locked value is checked against upstream, also where an
    # unchanged signed summary vouches for it (apt packages under the locked InRelease files).
    full_check: bool = False


def cache_dir(env: Mapping[str, str]) -> str:
    """pinlock's cache: ``PINLOCK_CACHE_DIR``, else ``$XDG_CACHE_HOME/pinlock``, else
    ``~/.cache/pinlock`` (the XDG base directory rules: a relative XDG path is ignored)."""
    if env.get("PINLOCK_CACHE_DIR"):
        return env["PINLOCK_CACHE_DIR"]
    xdg = env.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pinlock")
