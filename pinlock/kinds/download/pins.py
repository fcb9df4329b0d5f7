"""Where a download input's locked values live: its version ARG, sha256 ARG(s), ADD --checksum."""

from __future__ import annotations

from pinlock.dockerfile.sites import expand
from pinlock.kinds.base import Scope
from pinlock.kinds.download.model import DownloadInput
from pinlock.pins import PinSite, arg_values


def pin_sites(inp: DownloadInput, scope: Scope) -> list[PinSite]:
    lock, sites, path = scope.lock, scope.sites, scope.path
    d, dl = inp.intent, inp.locked
    out = [PinSite(inp.name, f"ARG {d.version_arg}", v, dl.version)
           for v in arg_values(sites, d.version_arg, inp.name, path)]
    locked = {f.name: f for f in dl.files}
    for planned in d.plan(dl.version, lock.platforms):
        lf = locked.get(planned.name)
        label = f"ARG {planned.sha256_arg} ({planned.name})"
        for v in arg_values(sites, planned.sha256_arg, inp.name, path):
            if lf is None or lf.sha256 is None:
                out.append(PinSite(inp.name, label, v, v.text, pinned=False))
            else:
                out.append(PinSite(inp.name, label, v, lf.sha256))
    # ADD --checksum= on a locked file's URL stays in sync with it. A checksum written as
    # `sha256:${X_SHA256}` is the ARG's pin site already, not a second one.
    by_url = {f.url: f for f in dl.files}
    values = {a.name: a.value.text for a in sites.args if a.value is not None}
    values[d.version_arg] = dl.version
    for u in sites.urls:
        if u.checksum is None or "$" in u.checksum.text:
            continue
        expanded = expand(u.url, values)
        if expanded is None or expanded[0] not in by_url:
            continue
        lf = by_url[expanded[0]]
        if lf.sha256:
            out.append(PinSite(inp.name, f"ADD --checksum ({lf.name})", u.checksum,
                               f"sha256:{lf.sha256}"))
    return out
