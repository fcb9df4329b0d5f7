"""Where a release input's locked values live: its version ARG, sha256 ARGs and ADD --checksum."""

from __future__ import annotations

from pinlock.dockerfile.sites import expand
from pinlock.kinds.base import Scope
from pinlock.kinds.release.model import ReleaseInput
from pinlock.pins import PinSite, arg_values


def pin_sites(inp: ReleaseInput, scope: Scope) -> list[PinSite]:
    lock, sites, path = scope.lock, scope.sites, scope.path
    out = []
    for v in arg_values(sites, inp.intent.version_arg, inp.name, path):
        out.append(PinSite(inp.name, f"ARG {inp.intent.version_arg}", v, inp.locked.version))
    locked = {a.name: a for a in inp.locked.assets}
    for planned in inp.intent.plan(lock.platforms):
        fname, arg = planned.name, planned.sha256_arg
        la = locked.get(fname)
        for v in arg_values(sites, arg, inp.name, path):
            if la is None or la.sha256 is None:
                out.append(PinSite(inp.name, f"ARG {arg} ({fname})", v, v.text, pinned=False))
            else:
                out.append(PinSite(inp.name, f"ARG {arg} ({fname})", v, la.sha256))
    # ADD --checksum= on a URL that is a locked asset stays in sync with it.
    by_url = {a.url: a for a in inp.locked.assets}
    values = {a.name: a.value.text for a in sites.args if a.value is not None}
    values[inp.intent.version_arg] = inp.locked.version
    for u in sites.urls:
        if u.checksum is None:
            continue
        expanded = expand(u.url, values)
        if expanded is None or expanded[0] not in by_url:
            continue
        la = by_url[expanded[0]]
        if la.sha256:
            out.append(PinSite(inp.name, f"ADD --checksum ({la.name})", u.checksum,
                               f"sha256:{la.sha256}"))
    return out


