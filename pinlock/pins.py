"""Where each locked value lives in the Dockerfile: the one mapping verify and rewrite share.

``pin_sites(lock, sites)`` lists, for every input, each place in the Dockerfile
that must hold a locked value and the exact text the lock wants there. Offline
verify compares; the editor replaces. Structural disagreements (an ARG or a
stage the lock names that the Dockerfile does not have) raise DockerfileError.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinlock.dockerfile.sites import Sites, Value
from pinlock.errors import DockerfileError
from pinlock.kinds import kind_of
from pinlock.kinds.base import Scope
from pinlock.model import Lock


@dataclass(frozen=True)
class PinSite:
    input: str
    label: str  # what the value is: "FROM image", "ARG S6_OVERLAY_VERSION", …
    value: Value  # where it lives now (empty span: to be inserted)
    expected: str  # the text the lock wants at ``value``
    pinned: bool = True  # False: the lock has no pin for it yet (a warning, not a mismatch)
    wiring: bool = False  # a piece that points apt at the locked snapshot (missing: inserted)
    why: str = ""  # for a wiring piece: what goes wrong without it
    # Not pinned yet but agreeing sites of one line are reported together, as "N <noun> not
    # pinned yet" (apt packages), not one finding each.
    counted: str | None = None

    @property
    def agrees(self) -> bool:
        return self.value.text == self.expected


def stage_index(sites: Sites, ref: str | None, path: str, what: str) -> int | None:
    if ref is None:
        return None
    st = sites.stage(ref.lower())
    if st is None:
        names = ", ".join(s.name or str(s.index) for s in sites.stages) or "none"
        raise DockerfileError(path, f"{what} names stage {ref!r}, which the Dockerfile does not "
                              f"have (stages: {names})",
                              hint="fix `stage` in the lock file or re-run `pinlock init --force`")
    return st.index


def pin_sites(lock: Lock, sites: Sites, path: str,
              names: list[str] | None = None) -> list[PinSite]:
    """Every pin site of the inputs named (all when ``names`` is empty), asked of each kind."""
    scope = Scope(lock, sites, path)
    out: list[PinSite] = []
    for inp in lock.select(names):
        out.extend(kind_of(inp).pin_sites(inp, scope))
    return out


def arg_values(sites: Sites, arg: str, inp: str, path: str) -> list[Value]:
    decls = [a for a in sites.args_named(arg) if a.value is not None]
    if not decls:
        raise DockerfileError(path, f"input {inp!r}: ARG {arg} is not declared with a value in "
                              "the Dockerfile",
                              hint=f"add `ARG {arg}=…` back, or fix the input in the lock file")
    return [a.value for a in decls if a.value is not None]


