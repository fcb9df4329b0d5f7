"""Where a download input's locked values live: its version and sha256 ARGs/ENVs, the ARG/ENV
holding its URL, the sha256s written in RUN text, and ADD --checksum."""

from __future__ import annotations

from pinlock.dockerfile.sites import Value, expand
from pinlock.errors import DockerfileError
from pinlock.kinds.base import Scope
from pinlock.kinds.download.model import DownloadInput, LockedFile, fill
from pinlock.kinds.files import add_checksum_pins, require_written
from pinlock.kinds.release import literal as literal_version

# Shared with the release kind, which reads ARGs and ENVs the same way.
from pinlock.kinds.release.pins import held_values, values
from pinlock.pins import PinSite


def pin_sites(inp: DownloadInput, scope: Scope) -> list[PinSite]:
    lock, sites, path = scope.lock, scope.sites, scope.path
    d, dl = inp.intent, inp.locked
    out: list[PinSite] = []
    if d.version_arg is not None:
        kw, found = held_values(sites, d.version_arg, inp.name, path)
        out.extend(PinSite(inp.name, f"{kw} {d.version_arg}", v, dl.version) for v in found)
    locked = {f.name: f for f in dl.files}
    planned_files = d.plan(dl.version, lock.platforms)
    literal: list[str] = []
    for planned in planned_files:
        lf = locked.get(planned.name)
        if planned.sha256_arg is None:
            literal.append(planned.name)
            continue
        kw, found = held_values(sites, planned.sha256_arg, inp.name, path)
        label = f"{kw} {planned.sha256_arg} ({planned.name})"
        for v in found:
            if lf is None or lf.sha256 is None:
                out.append(PinSite(inp.name, label, v, v.text, pinned=False))
            else:
                out.append(PinSite(inp.name, label, v, lf.sha256))
    if d.url_arg is not None and planned_files:
        # The URL is written whole in an ARG/ENV default, its version literally in it.
        kw, found = held_values(sites, d.url_arg, inp.name, path)
        out.extend(PinSite(inp.name, f"{kw} {d.url_arg}", v, planned_files[0].url)
                   for v in found)
    for arg, more in sorted(d.more_urls.items()):
        # Another URL held whole in an ARG/ENV, its version written in it (a signature's).
        kw, found = held_values(sites, arg, inp.name, path)
        want = fill(more, version=dl.version)
        out.extend(PinSite(inp.name, f"{kw} {arg}", v, want) for v in found)
    known = values(sites)
    # The version the Dockerfile holds now (a bump moves it): a URL written with it literally
    # is the planned file of the same platform at the locked version.
    written = known.get(d.version_arg) if d.version_arg is not None else None
    by_written: dict[str, LockedFile] = {}
    if written is not None and d.url_arg is None:
        for old, new in zip(d.plan(written, lock.platforms), planned_files, strict=True):
            if new.name in locked:
                by_written[old.url] = locked[new.name]
    if d.version_arg is not None:
        known[d.version_arg] = dl.version
    if d.url_arg is not None and planned_files:
        known[d.url_arg] = planned_files[0].url
    known.update({arg: fill(more, version=dl.version) for arg, more in d.more_urls.items()})
    by_url = {f.url: f for f in dl.files}
    tied: set[str] = set()
    spans: set[tuple[int, int]] = set()
    if literal:
        # sha256s written in RUN text (a per-arch `case` arm, `echo "<hex>  f"`), found by the
        # URL of the file they check.
        for c in sites.checksums.sites:
            if c.holder is not None or c.held_in != "RUN" or c.url is None:
                continue
            at: list[Value] = []
            if "$" not in c.url and c.url in by_written and written is not None:
                lf = by_written[c.url]
                at_or_none = literal_version.places(c.url, c.url_values, written)
                if at_or_none is None:
                    raise DockerfileError(
                        path, f"input {inp.name!r}: version {written} is written in {c.url} "
                        f"(line {c.line}) where pinlock cannot place each occurrence exactly",
                        hint="write the URL in one word, or fix the input in the lock file")
                at = at_or_none
            else:
                expanded = expand(c.url, known)
                if expanded is not None and "$" in expanded[0]:
                    # `$X_URL` whose default holds `${X_VERSION}`: one level more.
                    expanded = expand(expanded[0], known)
                lf = by_url.get(expanded[0]) if expanded else None
            if lf is None or lf.sha256_arg is not None or (c.value.start, c.value.end) in spans:
                continue
            for v in at:
                if (v.start, v.end) not in spans:
                    spans.add((v.start, v.end))
                    out.append(PinSite(inp.name, f"version in URL ({lf.name})", v, dl.version))
            spans.add((c.value.start, c.value.end))
            tied.add(lf.name)
            out.append(PinSite(inp.name, f"sha256 in RUN ({lf.name})", c.value,
                               lf.sha256 or c.value.text, pinned=lf.sha256 is not None))
    out += add_checksum_pins(inp.name, sites, known, by_url, tied)
    missing = [f for f in literal if f not in tied]
    if missing and d.fixed:
        # Its URLs are the identity of a fixed download: one edited by hand is another file.
        urls = ", ".join(f.url for f in dl.files if f.name in missing)
        raise DockerfileError(path, f"input {inp.name!r}: no sha256 check of {urls} is written "
                              "in the Dockerfile (a fixed download keeps its URLs as locked)",
                              hint="put the download and its sha256 check back, or run "
                              "`pinlock init` again for the new URL")
    require_written(path, inp.name, literal, tied)
    return out
