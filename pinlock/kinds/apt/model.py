"""An apt input: the packages a stage installs, locked as a closure at an archive state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class AptIntent:
    packages: tuple[str, ...]  # the top-level package names, as in the install line
    stage: str  # name or index of the stage whose RUN holds the install
    suites: tuple[str, ...] = ()  # e.g. ("trixie", "trixie-updates", "trixie-security")
    components: tuple[str, ...] = ("main",)
    install_recommends: bool = False
    snapshot_arg: str = "DEBIAN_SNAPSHOT"
    group: str | None = None  # `pinlock pr` updates a group's inputs together, in one PR
    min_age: str | None = None  # e.g. "3d": update/outdated/pr propose only older candidates
    layout: str | None = None  # "one-per-line": pins one a line, sorted; None: in place


@dataclass(frozen=True)
class AptPackage:
    name: str
    version: str
    architecture: str
    sha256: str
    size: int
    filename: str  # pool path
    source: str


@dataclass(frozen=True)
class SuiteState:
    date: str  # InRelease Date
    sha256: str  # of the InRelease bytes


@dataclass(frozen=True)
class AptArchLocked:
    top: Mapping[str, str]  # name -> version
    closure: tuple[AptPackage, ...] = ()
    removed: tuple[str, ...] = ()  # "name=version" of base packages apt removes, sorted


@dataclass(frozen=True)
class AptLocked:
    snapshot: str | None = None  # "20261127T000000Z"
    archive: str | None = None  # where it was resolved: "snapshot" or "mirror"
    base: str | None = None  # "image-dpkg-status" or "minbase"
    suites: Mapping[str, SuiteState] = field(default_factory=dict)
    archs: Mapping[str, AptArchLocked] = field(default_factory=dict)  # "amd64" -> …


@dataclass(frozen=True)
class AptInput:
    name: str
    intent: AptIntent
    locked: AptLocked
    kind: Literal["apt"] = "apt"
