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
from pinlock.kinds.base import Detection, Row, Scope, TypedKind, Upstream, Upstreams, Value
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


class ToyKind(TypedKind[ToyInput]):
    name = "toy"
    input_type = ToyInput
    intent_keys = frozenset({"kind", "version-arg", "sha256-arg", "group", "min-age",
                             "locked"})

    def load(self, r: TableReader, name: str, platforms: tuple[str, ...]) -> Input:
        locked = r.table("locked")
        return ToyInput(name, ToyIntent(r.text("version-arg", "TOY_VERSION"),
                                        r.text("sha256-arg", "TOY_SHA256"),
                                        group(r), min_age(r)),
                        ToyLocked(locked.text("version", required=True),
                                  locked.sha256("sha256")))

    def encode(self, inp: Input) -> tuple[dict[str, object], dict[str, object]]:
        i = self.own(inp)
        return ({"kind": i.kind, "version-arg": i.intent.version_arg,
                 "sha256-arg": i.intent.sha256_arg, "group": i.intent.group,
                 "min-age": i.intent.min_age},
                {"version": i.locked.version, "sha256": i.locked.sha256})

    def values(self, inp: Input, at: str) -> Iterator[Value]:
        i = self.own(inp)
        yield f"{at}.version-arg", i.intent.version_arg, grammar.arg_name
        yield f"{at}.sha256-arg", i.intent.sha256_arg, grammar.arg_name
        yield f"{at}.locked.version", i.locked.version, grammar.release_version
        if i.locked.sha256 is not None:
            yield f"{at}.locked.sha256", i.locked.sha256, grammar.sha256_hex

    def detect(self, found: Detection) -> None:
        args = {a.name: a for a in found.sites.args if a.value is not None}
        version, sha = args.get("TOY_VERSION"), args.get("TOY_SHA256")
        if version is None or sha is None or version.value is None or sha.value is None:
            return
        current = sha.value.text if is_sha256(sha.value.text) else None
        name = found.unique_name("toy")
        found.inputs[name] = ToyInput(name, ToyIntent(), ToyLocked(version.value.text, current))

    def pin_sites(self, inp: Input, scope: Scope) -> list[PinSite]:
        i = self.own(inp)
        out = [PinSite(i.name, f"ARG {i.intent.version_arg}", v, i.locked.version)
               for v in arg_values(scope.sites, i.intent.version_arg, i.name, scope.path)]
        for v in arg_values(scope.sites, i.intent.sha256_arg, i.name, scope.path):
            out.append(PinSite(i.name, f"ARG {i.intent.sha256_arg}", v,
                               i.locked.sha256 or v.text, pinned=i.locked.sha256 is not None))
        return out

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
