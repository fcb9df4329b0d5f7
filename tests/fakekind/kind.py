"""The ``toy`` kind: a tool pinned by a version ARG and a sha256 ARG, from an in-memory catalogue.

Written by following docs/architecture.md, "Adding a kind", and nothing else: this folder
plus the one ``registered(KIND)`` line in its conftest.py. Its upstream is a dict, so the
tests exercise the core's seams (lock file, init, pin sites, verify, update, outdated,
pull-request rows), not a network protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from pinlock import grammar
from pinlock.digest import is_sha256
from pinlock.kinds.base import (
    Detection,
    Parts,
    Row,
    Scope,
    TypedKind,
    Upstream,
    Upstreams,
    Value,
)
from pinlock.model import Finding, Input, Lock
from pinlock.pins import PinSite, arg_values
from pinlock.sources.interface import Candidate, Context
from pinlock.tables import TableReader, group, min_age

# The upstream: version -> sha256 of the tool's tarball. Tests set it.
CATALOGUE: dict[str, str] = {}


@dataclass(frozen=True)
class ToyIntent:
    version_arg: str = "TOY_VERSION"
    sha256_arg: str = "TOY_SHA256"
    group: str | None = None
    min_age: str | None = None


@dataclass(frozen=True)
class ToyLocked:
    version: str
    sha256: str | None = None


@dataclass(frozen=True)
class ToyInput:
    name: str
    intent: ToyIntent
    locked: ToyLocked
    kind: Literal["toy"] = "toy"


class ToySource:
    """``Source[ToyInput]`` over ``CATALOGUE``."""

    def resolve(self, inp: ToyInput, ctx: Context, *, version: str | None = None) -> ToyInput:
        want = version or inp.locked.version
        if want not in CATALOGUE:
            raise KeyError(want)
        return replace(inp, locked=ToyLocked(want, CATALOGUE[want]))

    def newest(self, inp: ToyInput, ctx: Context, *, allow_major: bool = False,
               prerelease: bool = False) -> Candidate | None:
        if not CATALOGUE:
            return None
        best = max(CATALOGUE, key=lambda v: tuple(int(x) for x in v.split(".")))
        return Candidate(best, best)

    def check(self, inp: ToyInput, ctx: Context) -> list[Finding]:
        have = CATALOGUE.get(inp.locked.version)
        if inp.locked.sha256 is not None and have != inp.locked.sha256:
            return [Finding(inp.name, "error", "asset-replaced",
                            f"{inp.locked.version} now hashes to {have}")]
        return []

    def take_notes(self) -> list[Finding]:
        return []

    def close(self) -> None:
        pass


def load(r: TableReader, name: str, platforms: tuple[str, ...]) -> ToyInput:
    locked = r.table("locked")
    return ToyInput(name, ToyIntent(r.text("version-arg", "TOY_VERSION"),
                                    r.text("sha256-arg", "TOY_SHA256"), group(r), min_age(r)),
                    ToyLocked(locked.text("version", required=True), locked.sha256("sha256")))


def encode(inp: ToyInput) -> tuple[dict[str, object], dict[str, object]]:
    return ({"kind": inp.kind, "version-arg": inp.intent.version_arg,
             "sha256-arg": inp.intent.sha256_arg, "group": inp.intent.group,
             "min-age": inp.intent.min_age},
            {"version": inp.locked.version, "sha256": inp.locked.sha256})


def values(inp: ToyInput, at: str) -> Iterator[Value]:
    yield f"{at}.version-arg", inp.intent.version_arg, grammar.arg_name
    yield f"{at}.sha256-arg", inp.intent.sha256_arg, grammar.arg_name
    yield f"{at}.locked.version", inp.locked.version, grammar.release_version
    if inp.locked.sha256 is not None:
        yield f"{at}.locked.sha256", inp.locked.sha256, grammar.sha256_hex


def detect(found: Detection) -> None:
    args = {a.name: a for a in found.sites.args if a.value is not None}
    version, sha = args.get("TOY_VERSION"), args.get("TOY_SHA256")
    if version is None or sha is None or version.value is None or sha.value is None:
        return
    current = sha.value.text if is_sha256(sha.value.text) else None
    name = found.unique_name("toy")
    found.inputs[name] = ToyInput(name, ToyIntent(), ToyLocked(version.value.text, current))


def pin_sites(inp: ToyInput, scope: Scope) -> list[PinSite]:
    out = [PinSite(inp.name, f"ARG {inp.intent.version_arg}", v, inp.locked.version)
           for v in arg_values(scope.sites, inp.intent.version_arg, inp.name, scope.path)]
    for v in arg_values(scope.sites, inp.intent.sha256_arg, inp.name, scope.path):
        out.append(PinSite(inp.name, f"ARG {inp.intent.sha256_arg}", v,
                           inp.locked.sha256 or v.text, pinned=inp.locked.sha256 is not None))
    return out


class ToyKind(TypedKind[ToyInput]):
    name = "toy"
    input_type = ToyInput
    intent_keys = frozenset({"kind", "version-arg", "sha256-arg", "group", "min-age",
                             "locked"})
    parts = Parts(load, encode, values, pin_sites, detect)

    def version(self, inp: Input) -> str:
        return self.own(inp).locked.version

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        return self.own(inp).locked.sha256 is None

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        o, n = self.own(old), self.own(new)
        if o.locked.sha256 == n.locked.sha256:
            return []
        return [(n.name, n.intent.sha256_arg, o.locked.sha256, n.locked.sha256, "catalogue")]

    def upstream(self, env: Upstreams) -> Upstream:
        return self.bind(ToySource())


KIND = ToyKind()
