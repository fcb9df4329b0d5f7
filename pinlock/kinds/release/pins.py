"""Where a release input's locked values live: its version and sha256 ARGs/ENVs, the sha256s
written in RUN text, and ADD --checksum."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from pinlock.dockerfile.recognize.args import ONE_VAR_RE
from pinlock.dockerfile.sites import ArgDecl, ChecksumSite, Sites, Value, expand
from pinlock.errors import DockerfileError
from pinlock.kinds.base import Scope
from pinlock.kinds.files import add_checksum_pins, require_written
from pinlock.kinds.release import literal
from pinlock.kinds.release.model import LockedAsset, ReleaseInput, tag_version
from pinlock.pins import PinSite


def declared(sites: Sites, name: str) -> tuple[str, list[ArgDecl]]:
    """The declarations with a value of ``name``: ARGs, else ENVs ("ARG"/"ENV", decls)."""
    decls = [a for a in sites.args_named(name) if a.value is not None]
    if decls:
        return "ARG", decls
    return "ENV", [e for e in sites.checksums.env if e.name == name and e.value is not None]


def held_values(sites: Sites, name: str, inp: str, path: str) -> tuple[str, list[Value]]:
    keyword, decls = declared(sites, name)
    if not decls:
        raise DockerfileError(path, f"input {inp!r}: ARG {name} is not declared with a value in "
                              "the Dockerfile",
                              hint=f"add `ARG {name}=…` back, or fix the input in the lock file")
    return keyword, [a.value for a in decls if a.value is not None]


def values(sites: Sites) -> dict[str, str]:
    """Every ARG and ENV default by name (ENV last: it wins where both are declared)."""
    out = {a.name: a.value.text for a in sites.args if a.value is not None}
    out.update({e.name: e.value.text for e in sites.checksums.env if e.value is not None})
    return out


def pin_sites(inp: ReleaseInput, scope: Scope) -> list[PinSite]:
    lock, sites, path = scope.lock, scope.sites, scope.path
    out = []
    if inp.intent.version_arg is not None:
        kw, found = held_values(sites, inp.intent.version_arg, inp.name, path)
        for v in found:
            out.append(PinSite(inp.name, f"{kw} {inp.intent.version_arg}", v,
                               inp.locked.version))
    locked = {a.name: a for a in inp.locked.assets}
    known = values(sites)
    if inp.intent.version_arg is not None:
        known[inp.intent.version_arg] = inp.locked.version
    literal: list[str] = []
    for planned in inp.intent.plan(lock.platforms, version=inp.locked.version):
        fname, arg = planned.name, planned.sha256_arg
        la = locked.get(fname)
        if arg is None:
            literal.append(fname)
            continue
        kw, found = held_values(sites, arg, inp.name, path)
        for v in found:
            if la is None or la.sha256 is None:
                out.append(PinSite(inp.name, f"{kw} {arg} ({fname})", v, v.text, pinned=False))
            else:
                out.append(PinSite(inp.name, f"{kw} {arg} ({fname})", v, la.sha256))
    # sha256s written in RUN text, found by the URL of the file they check.
    by_url = {a.url: a for a in inp.locked.assets}
    tied: set[str] = set()
    spans: set[tuple[int, int]] = set()
    for c in map(partial(read_url, sites=sites), sites.checksums.sites):
        if c.url is None:
            continue
        if c.holder is not None:
            # A sha256 an ARG/ENV holds is pinned there (above); a literal URL it checks
            # still writes the version (``ENV TOOL_URL https://…/v1.2/…``): those places move.
            held = _literal(inp, c, locked, path) if "$" not in c.url else None
            if held is not None:
                for v in held[1]:
                    if (v.start, v.end) not in spans:
                        spans.add((v.start, v.end))
                        out.append(PinSite(inp.name, f"version in URL ({held[0].name})", v,
                                           inp.locked.version))
            elif ("$" not in c.url and len(c.url_values) == 1 and c.url_values[0].text == c.url
                  and split_release_url(inp.intent.download_url, inp.intent.repository,
                                        c.url) is not None):
                # This input's release URL, written whole, that is no version of a locked
                # asset checked by that ARG/ENV (edited by hand): the URL the lock wants.
                la = next((a for a in locked.values() if a.sha256_arg == c.holder), None)
                if la is not None:
                    out.append(PinSite(inp.name, f"URL ({la.name})", c.url_values[0], la.url))
            continue
        if c.held_in != "RUN":
            continue
        if "$" not in c.url and (found_literal := _literal(inp, c, locked, path)) is not None:
            # The version written in the URL: the file the lock wants at its version.
            la, at = found_literal
            if (c.value.start, c.value.end) in spans:
                continue
            spans.add((c.value.start, c.value.end))
            tied.add(la.name)
            out.append(PinSite(inp.name, f"sha256 in RUN ({la.name})", c.value,
                               la.sha256 or c.value.text, pinned=la.sha256 is not None))
            for v in at:
                if (v.start, v.end) not in spans:
                    spans.add((v.start, v.end))
                    out.append(PinSite(inp.name, f"version in URL ({la.name})", v,
                                       inp.locked.version))
            continue
        expanded = expand(c.url, known)
        la = by_url.get(expanded[0]) if expanded else None
        if la is None or la.sha256_arg is not None or (c.value.start, c.value.end) in spans:
            continue
        spans.add((c.value.start, c.value.end))
        tied.add(la.name)
        out.append(PinSite(inp.name, f"sha256 in RUN ({la.name})", c.value,
                           la.sha256 or c.value.text, pinned=la.sha256 is not None))
    out += add_checksum_pins(inp.name, sites, known, by_url, tied)
    require_written(path, inp.name, literal, tied)
    return out


def _literal(inp: ReleaseInput, c: ChecksumSite, locked: dict[str, LockedAsset], path: str
             ) -> tuple[LockedAsset, list[Value]] | None:
    """The locked asset a literal URL is a version of (the Dockerfile's version, which a bump
    moves), and where that version is written in the URL's words; None: not this input's."""
    if c.url is None:
        return None
    split = split_release_url(inp.intent.download_url, inp.intent.repository, c.url)
    if split is None:
        return None
    tag, fname = split
    written = tag_version(inp.intent.tag_template, tag)
    if written is None:
        return None
    for asset in inp.intent.assets:
        if asset.per_arch or asset.sha256_arg != c.holder \
                or asset.name.replace("{version}", written) != fname:
            continue
        la = locked.get(asset.name.replace("{version}", inp.locked.version))
        if la is None:
            return None
        at = literal.places(c.url, c.url_values, written)
        if at is None:
            raise DockerfileError(path, f"input {inp.name!r}: version {written} is written in "
                                  f"{c.url} (line {c.line}) where pinlock cannot place each "
                                  "occurrence exactly",
                                  hint="write the URL in one word, or fix the input in the "
                                  "lock file")
        return la, at
    return None


def split_release_url(download_url: str, repository: str, url: str) -> tuple[str, str] | None:
    """(tag, file name) of ``url`` read through ``download_url``; None when it does not fit."""
    pre, tag_mark, rest = download_url.replace("{repository}", repository).partition("{tag}")
    mid, name_mark, post = rest.partition("{name}")
    if not tag_mark or not name_mark or "{" in pre + mid + post:
        return None
    if not url.startswith(pre) or not url.endswith(post):
        return None
    body = url[len(pre):len(url) - len(post)]
    tag, sep, fname = body.partition(mid)
    if not sep or not tag or not fname or "/" in tag or "/" in fname:
        return None
    return tag, fname


def read_url(c: ChecksumSite, sites: Sites) -> ChecksumSite:
    """``c`` with the URL its download reads whole from an ARG or ENV (``curl "$TOOL_URL"``,
    ``-Uri $env:TOOL_URL``) written out, and where: the declaration, as if the URL stood in
    the RUN. Only for a name declared once, with a literal URL (no variable in it); else
    ``c`` as it is."""
    ref = ONE_VAR_RE.match(c.url or "")
    if ref is None:
        return c
    name = ref.group(1) or ref.group(2)
    found = [d for d in (*sites.args, *sites.envs) if d.name == name]
    value = found[0].value if len(found) == 1 else None
    if value is None or not value.text.startswith(("https://", "http://")) \
            or "$" in value.text:
        return c
    return replace(c, url=value.text, url_values=(value,))
