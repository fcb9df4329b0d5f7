"""``pinlock init`` for GitHub releases: a version ARG or ENV in a release URL, tied to the
sha256s that check its files (ARGs/ENVs by name or by use, literals in RUN text and ADD)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pinlock.digest import is_sha256
from pinlock.dockerfile.recognize.args import ONE_VAR_RE
from pinlock.dockerfile.sites import ArgDecl, ChecksumSite, Sites, expand
from pinlock.kinds.base import Detection
from pinlock.kinds.release import literal, schema
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.kinds.release.pins import read_url
from pinlock.model import Skipped
from pinlock.values import first_bad

# Names a release's assets use for each platform (GNU/kernel, Go, Debian spellings).
ARCH_ALIASES: dict[str, tuple[str, ...]] = {
    "linux/amd64": ("x86_64", "amd64", "x86-64", "x64"),
    "linux/arm64": ("aarch64", "arm64"),
    "linux/arm/v7": ("armhf", "armv7", "arm"),
    "linux/386": ("i686", "i386", "x86"),
    "linux/ppc64le": ("ppc64le",),
    "linux/s390x": ("s390x",),
    "linux/riscv64": ("riscv64",),
}
# Where GitHub serves release assets; the download kind leaves these to this one.
RELEASE_DOWNLOAD = re.compile(r"^https://github\.com/[^/]+/[^/]+/releases/download/")
_GH_URL = re.compile(
    r"^https://github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/"
    r"(?P<tag>[^/]+)/(?P<file>[^/]+)$")


_CHECKSUM_WORDS = ("SHA256", "CHECKSUM", "SHA256SUM", "SHA")
_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")


def detect(found: Detection) -> None:
    sites, path, inputs, notes = found.sites, found.path, found.inputs, found.notes
    skipped, platforms, used_urls = found.skipped, found.platforms, found.used_urls
    # Versions and checksums held in ARGs or ENVs (an ARG wins over an ENV of the same name).
    held: dict[str, ArgDecl] = {}
    for decl in (*sites.checksums.env, *sites.args):
        if decl.value is not None:
            held[decl.name] = decl
    version_args = list({a.name: a for a in (*sites.args, *sites.checksums.env)
                         if a.name.endswith("_VERSION") and a.value}.values())
    # Every release URL: downloads (by index) and the URLs checksums were tied to.
    candidates: list[tuple[int | None, str, int]] = [
        (i, u.url, u.line) for i, u in enumerate(sites.urls)]
    candidates += [(None, c.url, c.line) for c in sites.checksums.sites if c.url]
    with_urls = [va for va in version_args
                 if any(_uses(va.name, url) for _, url, _ in candidates)]
    handled: set[str] = set()
    for va in version_args:
        if va.name in handled:
            continue
        refs = (f"${{{va.name}}}", f"${va.name}")
        urls: list[tuple[int | None, str, int, re.Match[str]]] = []
        for i, url, line in candidates:
            m = _GH_URL.match(url)
            if m and any(r in m.group("tag") for r in refs):
                urls.append((i, url, line, m))
        if not urls:
            continue
        handled.add(va.name)
        owner, repo = urls[0][3].group("owner"), urls[0][3].group("repo")
        if any((m.group("owner"), m.group("repo")) != (owner, repo) for *_, m in urls):
            notes.append(f"ARG {va.name} is used in downloads from several repositories; "
                         f"only the first, {owner}/{repo}, is managed")
        tag_t = urls[0][3].group("tag")
        for r in refs:
            tag_t = tag_t.replace(r, "{version}")
        files: set[str] = set()
        mine: list[int] = []
        for i, _u, _line, m in urls:
            if (m.group("owner"), m.group("repo")) != (owner, repo):
                continue
            if i is not None:
                mine.append(i)
            files.add(_file_template(m.group("file"), refs))
        name = found.unique_name(repo)
        prefix = va.name[: -len("_VERSION")]
        sha_args = _checksum_names(prefix, va.name, held, sites.args, alone=len(with_urls) == 1)
        first_line = urls[0][2]
        first_url = urls[0][1]
        assets, arch_map = _match_assets(name, repo, prefix, sorted(files), sha_args,
                                         platforms, notes)
        taken = {a.name for a in assets}
        # What the names already tie, per arch: the files and checksums of the plan.
        covered = ReleaseIntent("x/y", va.name, tuple(assets), arch_map=arch_map).plan(
            list(arch_map), version="{version}")
        taken.update(p.name for p in covered)
        covered_args = {p.sha256_arg for p in covered}
        # Files the names did not tie: the checksums the Dockerfile checks them with.
        tied = _tied_checksums(sites, owner, repo, refs)
        for fname in sorted(files - taken):
            holders = tied.get(fname)
            if holders is None or "{arch}" in fname:
                continue
            if len(holders) != 1:
                notes.append(f"{name}: {fname} is checked against several different sha256 "
                             "values; add its asset by hand")
                continue
            (holder,) = holders
            if holder is not None and holder in covered_args:
                continue
            assets.append(AssetIntent(fname, holder))
            taken.add(fname)
        assets.sort(key=lambda a: a.name)
        if not assets:
            # A version in a release URL with no checksum pinlock can tie to it: a lock
            # with no assets would be rejected by verify. Report it instead of locking half.
            skipped.append(Skipped(
                first_url, f"a release download versioned by {va.name} with no checksum "
                f"pinlock can tie to it: no ARG or ENV named {prefix}_SHA256, "
                f"{prefix}_<FILE>_SHA256 or {prefix}_<ARCH>_SHA256, and no sha256 checked "
                "with sha256sum or ADD --checksum; add one (or an input by hand, see "
                "docs/lockfile.md) to have pinlock keep it", path, first_line))
            if mine:
                used_urls.add(mine[0])  # reported here, not again as an untied download
            continue
        for fname in sorted(files - taken):
            if "{arch}" not in fname or not arch_map:
                notes.append(f"{name}: {fname} is downloaded but no checksum pinlock can tie "
                             f"to it was found (an ARG or ENV such as {prefix}_SHA256, or a "
                             "sha256 checked with sha256sum or ADD --checksum); add an asset "
                             "entry by hand")
        used_urls.update(mine)
        version = va.value.text if va.value else ""
        intent = ReleaseIntent(repository=f"{owner}/{repo}", version_arg=va.name,
                               assets=tuple(assets), tag_template=tag_t, arch_map=arch_map)
        tag = tag_t.replace("{version}", version)
        values = {n: d.value.text for n, d in held.items() if d.value is not None}
        literal = _literal_values(sites, values, va.name, version)
        locked_assets = []
        # Only platforms whose arch name is known: the rest were reported in the notes.
        for planned in intent.plan([p for p in platforms if p in arch_map], version=version):
            url = intent.url_for(tag=tag, version=version, name=planned.name)
            if planned.sha256_arg is None:
                current = literal.get(url)
            else:
                current = values.get(planned.sha256_arg)
            if current is not None and not is_sha256(current):
                notes.append(f"{name}: {planned.sha256_arg} holds {current!r}, not a "
                             f"sha256; `pinlock lock {name}` will fill it")
                current = None
            locked_assets.append(LockedAsset(
                name=planned.name, sha256_arg=planned.sha256_arg, platform=planned.platform,
                url=url, sha256=current))
        inputs[name] = ReleaseInput(name, intent,
                                    ReleaseLocked(version, tag,
                                                  tuple(sorted(locked_assets,
                                                               key=lambda a: a.name))))
    _literal_versions(found)


def _literal_versions(found: Detection) -> None:
    """Checked release downloads whose tag is written in the URL (``…/download/1.17/gosu-amd64``
    in each arm of a ``case``): one input per repository and tag, its version the tag (a ``v``
    aside), every place the version is written in the URL words a pin site, and an ARG/ENV
    ``*_VERSION`` holding the same version too. What cannot be placed exactly is reported."""
    sites = found.sites
    seen = {u.url for u in sites.urls}
    taken = found.taken_spans()
    groups: dict[tuple[str, str, str], list[ChecksumSite]] = {}
    held = {d.name: d.value.text for d in (*sites.args, *sites.checksums.env)
            if d.value is not None}
    for c in (read_url(c, sites) for c in sites.checksums.sites):
        ref = ONE_VAR_RE.match(c.url or "")
        if ref is not None:
            # `Invoke-WebRequest -Uri $env:X_URL`, `curl "$X_URL"`: the release URL is written
            # whole in an ARG/ENV, which no version moves; seen, so said.
            name = ref.group(1) or ref.group(2)
            url = held.get(name, "")
            if _GH_URL.match(url) and (c.value.start, c.value.end) not in taken \
                    and url not in seen:
                seen.add(url)
                found.skipped.append(Skipped(
                    url, f"a checked release download whose URL is held whole in {name}: "
                    "pinlock cannot move it with a version; write the URL with "
                    "${<NAME>_VERSION} in its tag to have pinlock keep it", found.path, c.line))
            continue
        m = _GH_URL.match(c.url or "")
        if m is None or "$" in m.group("tag"):
            continue
        if (c.holder is None and c.held_in != "RUN") or "$" in m.group(0) \
                or (c.value.start, c.value.end) in taken or (c.holder is not None
                                                           and not c.url_values):
            if c.url not in seen:
                seen.add(m.group(0))
                found.skipped.append(Skipped(
                    m.group(0), "a checked release download whose version is written in the "
                    "URL, not in an ARG or ENV: pinlock cannot move it; put the version in an "
                    "ARG named <NAME>_VERSION to have pinlock keep it", found.path, c.line))
            continue
        groups.setdefault((m.group("owner"), m.group("repo"), m.group("tag")), []).append(c)
    for (owner, repo, tag), checks in groups.items():
        _adopt_literal(found, owner, repo, tag, checks, taken)


def _adopt_literal(found: Detection, owner: str, repo: str, tag: str,
                   checks: list[ChecksumSite], taken: set[tuple[int, int]]) -> None:
    first = checks[0]

    def skip(reason: str) -> None:
        found.skipped.append(Skipped(first.url or "", reason, found.path, first.line))

    vless = tag[1:] if re.match(r"^v[0-9]", tag) else tag
    tag_t = "v{version}" if vless != tag else "{version}"
    if not any(ch.isdigit() for ch in vless):
        skip(f"the release tag {tag} names no version pinlock can move")
        return
    shas: dict[str, set[str]] = {}
    holders: dict[str, set[str | None]] = {}  # what holds each file's sha256 (None: RUN text)
    for c in checks:
        url = c.url or ""
        fname = url.rsplit("/", 1)[-1]
        if literal.count(url, vless) != literal.count(tag, vless) + literal.count(fname, vless):
            skip(f"version {vless} is also written in {url} outside the tag and file name: "
                 "pinlock cannot tell which occurrence moves")
            return
        if literal.places(url, c.url_values, vless) is None:
            skip(f"version {vless} is written in {url} (line {c.line}) where pinlock has no "
                 "exact place to rewrite it (a URL assembled from several words, or split "
                 "by a line continuation); write the URL in one word to have pinlock keep it")
            return
        shas.setdefault(fname, set()).add(c.value.text.lower())
        holders.setdefault(fname, set()).add(c.holder)
    for fname, values in shas.items():
        if len(values) != 1 or len(holders[fname]) != 1:
            skip(f"{fname} is checked against {len(values)} different sha256 values; make "
                 "them one")
            return
    # An ARG/ENV that holds the same version moves with the URLs.
    named = sorted({d.name for d in (*found.sites.args, *found.sites.checksums.env)
                    if d.name.endswith("_VERSION") and d.value is not None
                    and d.value.text in (vless, tag)})
    version_arg = None
    if len(named) > 1:
        skip(f"{', '.join(named)} all hold version {vless}: pinlock cannot tell which one "
             "belongs with these downloads")
        return
    if named:
        decls = [d for d in (*found.sites.args, *found.sites.checksums.env)
                 if d.name == named[0] and d.value is not None]
        if any((d.value.start, d.value.end) in taken for d in decls if d.value is not None) \
                or any(d.value is not None and d.value.text != decls[0].value.text
                       for d in decls if decls[0].value is not None):
            skip(f"{named[0]} holds version {vless} but is kept elsewhere or declared with "
                 "different values; pinlock would move the URLs without it")
            return
        if decls[0].value is not None and decls[0].value.text != vless:
            skip(f"{named[0]} holds the tag {tag}, not the version {vless}; pinlock keeps a "
                 "version ARG/ENV that holds the version")
            return
        version_arg = named[0]
    assets = tuple(AssetIntent(literal.template(fname, vless), next(iter(holders[fname])))
                   for fname in sorted(shas))
    intent = ReleaseIntent(repository=f"{owner}/{repo}", version_arg=version_arg,
                           assets=assets, tag_template=tag_t)
    locked = []
    for planned in intent.plan([], version=vless):
        url = intent.url_for(tag=tag, version=vless, name=planned.name)
        locked.append(LockedAsset(name=planned.name, sha256_arg=planned.sha256_arg,
                                  platform=None, url=url,
                                  sha256=next(iter(shas[planned.name]))))
    if {a.url for a in locked} != {c.url for c in checks}:
        skip(f"the release URL template does not give back the URLs written for {tag}")
        return
    name = found.unique_name(repo)
    inp = ReleaseInput(name, intent, ReleaseLocked(vless, tag, tuple(locked)))
    bad = first_bad(schema.values(inp, f"inputs.{name}"))
    if bad is not None:
        skip(f"{bad[0].split('.', 2)[-1]}: {bad[1]}")
        return
    found.inputs[name] = inp
    mine = {a.url for a in locked}
    found.used_urls.update(i for i, u in enumerate(found.sites.urls) if u.url in mine)


def _uses(var: str, url: str) -> bool:
    m = _GH_URL.match(url)
    return m is not None and any(r in m.group("tag") for r in (f"${{{var}}}", f"${var}"))


def _file_template(fname: str, refs: tuple[str, ...]) -> str:
    for r in refs:
        fname = fname.replace(r, "{version}")
    # Any other variable in a file name stands for the architecture.
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "{arch}", fname)


def _checksum_names(prefix: str, version_arg: str, held: dict[str, ArgDecl],
                    args: Sequence[ArgDecl], *, alone: bool) -> list[ArgDecl]:
    """The ARGs and ENVs whose names say they hold a checksum of this release's files.

    ``<PREFIX>_*_SHA256`` ARGs always (a placeholder value is filled by ``lock``); other
    spellings (``<PREFIX>_SHA256``, ``<PREFIX>_CHECKSUM``, ``<PREFIX>_SHA256_ARM64``, an
    ENV) when they hold a sha256; names without the prefix (``SHA256_ARM64``) only when this
    is the one release version of the Dockerfile."""
    out = [a for a in args if a.name.startswith(prefix + "_") and a.name.endswith("_SHA256")
           and a.name != version_arg]
    seen = {a.name for a in out}
    for name, decl in held.items():
        if name in seen or name == version_arg or decl.value is None \
                or not _HEX64.fullmatch(decl.value.text):
            continue
        words = name.split("_")
        if not any(w in _CHECKSUM_WORDS for w in words):
            continue
        if name.startswith(prefix + "_") or (alone and words[0] in _CHECKSUM_WORDS):
            out.append(decl)
            seen.add(name)
    return out


def _tied_checksums(sites: Sites, owner: str, repo: str,
                    refs: tuple[str, ...]) -> dict[str, set[str | None]]:
    """File template -> what holds its sha256 (an ARG/ENV name, or None: a literal), from
    the checks the recognizer tied to a release URL of this repository."""
    out: dict[str, set[str | None]] = {}
    for c in sites.checksums.sites:
        m = _GH_URL.match(c.url or "")
        if m is None or (m.group("owner"), m.group("repo")) != (owner, repo) \
                or not any(r in m.group("tag") for r in refs):
            continue
        out.setdefault(_file_template(m.group("file"), refs), set()).add(c.holder)
    return out


def _literal_values(sites: Sites, values: dict[str, str], version_arg: str,
                    version: str) -> dict[str, str]:
    """Expanded URL -> the sha256 written literally where that file is checked."""
    known = {**values, version_arg: version}
    out: dict[str, str] = {}
    for c in sites.checksums.sites:
        if c.holder is None and c.url is not None:
            expanded = expand(c.url, known)
            if expanded is not None:
                out.setdefault(expanded[0], c.value.text.lower())
    return out


def _stem(fname: str, repo: str) -> str:
    stem = re.sub(r"(\.tar)?\.[A-Za-z0-9]+$", "", fname)
    for p in (repo + "-", repo + "_"):
        if stem.startswith(p):
            stem = stem[len(p):]
    return stem.lower()


def _mid(name: str, prefix: str) -> str:
    """What a checksum name says besides the tool and "SHA256": a file stem or an arch."""
    rest = name[len(prefix) + 1:] if name.startswith(prefix + "_") else name
    return "_".join(w for w in rest.split("_") if w not in _CHECKSUM_WORDS).lower()


def _match_assets(name: str, repo: str, prefix: str, files: list[str], sha_args: list[ArgDecl],
                  platforms: tuple[str, ...], notes: list[str],
                  ) -> tuple[list[AssetIntent], dict[str, str]]:
    """Tie each checksum ARG/ENV to a file by its name (``<PREFIX>_<MID>_SHA256``,
    ``<PREFIX>_SHA256`` for the one file); per-arch names to the {arch} template."""
    assets: list[AssetIntent] = []
    arch_map: dict[str, str] = {}
    arch_template = next((f for f in files if "{arch}" in f), None)
    fixed = [f for f in files if "{arch}" not in f]
    per_arch_args: list[tuple[str, str, str]] = []  # (platform, arch, arg name)
    unmatched = []
    taken: set[str] = set()
    for arg in sha_args:
        mid = _mid(arg.name, prefix)
        platform = next((p for p, names in ARCH_ALIASES.items() if mid in names), None)
        if platform is not None:
            per_arch_args.append((platform, mid, arg.name))
            continue
        if not mid:
            best = fixed if len(fixed) == 1 and arch_template is None else []
        else:
            best = [f for f in fixed if f not in taken and _stem(f, repo) == mid]
            if not best:
                best = [f for f in fixed if f not in taken
                        and _stem(f, repo).startswith(mid + "-")]
        if len(best) == 1 and best[0] not in taken:
            taken.add(best[0])
            assets.append(AssetIntent(best[0], arg.name))
        else:
            unmatched.append(arg.name)
    if per_arch_args and arch_template is None:
        # One download per arch, each its own URL: tie by the arch word in the file name.
        rest = []
        for _platform, arch, arg_name in per_arch_args:
            best = [f for f in fixed if f not in taken
                    and arch in re.split(r"[-_.]", _stem(f, repo))]
            if len(best) == 1:
                taken.add(best[0])
                assets.append(AssetIntent(best[0], arg_name))
            else:
                rest.append(arg_name)
        if rest:
            notes.append(f"{name}: per-arch checksums {', '.join(rest)} found but no per-arch "
                         "download URL; add the asset by hand, e.g. "
                         '{ name = "<file>-{arch}.tar.gz", sha256-arg = "<PREFIX>_{ARCH}_SHA256" }')
    elif per_arch_args and arch_template is not None:
        _platform0, arch0, arg0 = per_arch_args[0]
        template = arg0.replace(arch0.upper(), "{ARCH}")
        for platform, arch, _ in per_arch_args:
            arch_map[platform] = arch
        assets.append(AssetIntent(arch_template, template))
        for p in platforms:
            if p not in arch_map:
                notes.append(f"{name}: no checksum ARG for platform {p}; add "
                             f"arch-map.\"{p}\" and its ARG by hand")
    for a in unmatched:
        notes.append(f"{name}: {a} matches no downloaded file; add it to `assets` by hand")
    assets.sort(key=lambda a: a.name)
    return assets, arch_map
