"""``pinlock init`` for GitHub releases: a version ARG in a release URL, tied to its sha256 ARGs."""

from __future__ import annotations

import re

from pinlock.digest import is_sha256
from pinlock.dockerfile.sites import ArgDecl, UrlSite
from pinlock.kinds.base import Detection
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.model import Skipped

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
_GH_URL = re.compile(
    r"^https://github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/"
    r"(?P<tag>[^/]+)/(?P<file>[^/]+)$")


def detect(found: Detection) -> None:
    sites, path, inputs, notes = found.sites, found.path, found.inputs, found.notes
    skipped, platforms, used_urls = found.skipped, found.platforms, found.used_urls
    version_args = [a for a in sites.args if a.name.endswith("_VERSION") and a.value]
    handled: set[str] = set()
    for va in version_args:
        if va.name in handled:
            continue
        refs = (f"${{{va.name}}}", f"${va.name}")
        urls: list[tuple[int, UrlSite, re.Match[str]]] = []
        for i, u in enumerate(sites.urls):
            m = _GH_URL.match(u.url)
            if m and any(r in m.group("tag") for r in refs):
                urls.append((i, u, m))
        if not urls:
            continue
        handled.add(va.name)
        owner, repo = urls[0][2].group("owner"), urls[0][2].group("repo")
        if any((m.group("owner"), m.group("repo")) != (owner, repo) for _, _, m in urls):
            notes.append(f"ARG {va.name} is used in downloads from several repositories; "
                         f"only the first, {owner}/{repo}, is managed")
        tag_t = urls[0][2].group("tag")
        for r in refs:
            tag_t = tag_t.replace(r, "{version}")
        files: set[str] = set()
        mine: list[int] = []
        for i, _u, m in urls:
            if (m.group("owner"), m.group("repo")) != (owner, repo):
                continue
            mine.append(i)
            fname = m.group("file")
            for r in refs:
                fname = fname.replace(r, "{version}")
            # Any other variable in a file name stands for the architecture.
            files.add(re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "{arch}", fname))
        name = found.unique_name(repo)
        prefix = va.name[: -len("_VERSION")]
        sha_args = [a for a in sites.args
                    if a.name.startswith(prefix + "_") and a.name.endswith("_SHA256")
                    and a.name != va.name]
        first = urls[0][1]
        if any("{version}" in f for f in files):
            # The asset's file name holds the version: a release input names its files
            # without it, and writing `{arch}` there would lock URLs that do not exist.
            skipped.append(Skipped(
                first.url, f"the file name holds ${{{va.name}}}; pinlock does not manage "
                "release assets named by version yet: keep its checksum by hand",
                path, first.line))
            used_urls.add(mine[0])  # reported here, not again as an untied download
            continue
        assets, arch_map = _match_assets(name, repo, prefix, sorted(files), sha_args,
                                         platforms, notes)
        if not assets:
            # A version ARG in a release URL with no checksum pinlock can tie to it: a lock
            # with no assets would be rejected by verify. Report it instead of locking half.
            skipped.append(Skipped(
                first.url, f"a release download versioned by ARG {va.name} with no "
                f"checksum ARG named {prefix}_<FILE>_SHA256 or {prefix}_<ARCH>_SHA256; add "
                "one (or an input by hand, see docs/lockfile.md) to have pinlock keep it",
                path, first.line))
            used_urls.add(mine[0])  # reported here, not again as an untied download
            continue
        used_urls.update(mine)
        version = va.value.text if va.value else ""
        intent = ReleaseIntent(repository=f"{owner}/{repo}", version_arg=va.name,
                               assets=tuple(assets), tag_template=tag_t, arch_map=arch_map)
        tag = tag_t.replace("{version}", version)
        values = {a.name: a.value.text for a in sha_args if a.value}
        locked_assets = []
        # Only platforms whose arch name is known: the rest were reported in the notes.
        for planned in intent.plan([p for p in platforms if p in arch_map]):
            current = values.get(planned.sha256_arg)
            if current is not None and not is_sha256(current):
                notes.append(f"{name}: ARG {planned.sha256_arg} holds {current!r}, not a "
                             f"sha256; `pinlock lock {name}` will fill it")
                current = None
            locked_assets.append(LockedAsset(
                name=planned.name, sha256_arg=planned.sha256_arg, platform=planned.platform,
                url=intent.url_for(tag=tag, version=version, name=planned.name),
                sha256=current))
        inputs[name] = ReleaseInput(name, intent,
                                    ReleaseLocked(version, tag,
                                                  tuple(sorted(locked_assets,
                                                               key=lambda a: a.name))))


def _stem(fname: str, repo: str) -> str:
    stem = re.sub(r"(\.tar)?\.[A-Za-z0-9]+$", "", fname)
    for p in (repo + "-", repo + "_"):
        if stem.startswith(p):
            stem = stem[len(p):]
    return stem.lower()


def _match_assets(name: str, repo: str, prefix: str, files: list[str], sha_args: list[ArgDecl],
                  platforms: tuple[str, ...],
                  notes: list[str]) -> tuple[list[AssetIntent], dict[str, str]]:
    """Tie each ``<PREFIX>_<MID>_SHA256`` ARG to a file; per-arch ARGs to the {arch} template."""
    assets: list[AssetIntent] = []
    arch_map: dict[str, str] = {}
    arch_template = next((f for f in files if "{arch}" in f), None)
    fixed = [f for f in files if "{arch}" not in f]
    per_arch_args: list[tuple[str, str, str]] = []  # (platform, arch, arg name)
    unmatched = []
    taken: set[str] = set()
    for arg in sha_args:
        mid = arg.name[len(prefix) + 1 : -len("_SHA256")]
        platform = next((p for p, names in ARCH_ALIASES.items() if mid.lower() in names), None)
        if platform is not None:
            per_arch_args.append((platform, mid.lower(), arg.name))
            continue
        best = [f for f in fixed if f not in taken and _stem(f, repo) == mid.lower()]
        if not best:
            best = [f for f in fixed if f not in taken
                    and _stem(f, repo).startswith(mid.lower() + "-")]
        if len(best) == 1:
            taken.add(best[0])
            assets.append(AssetIntent(best[0], arg.name))
        else:
            unmatched.append(arg.name)
    if per_arch_args:
        if arch_template is None:
            notes.append(f"{name}: per-arch checksum ARGs "
                         f"{', '.join(a for _, _, a in per_arch_args)} found but no per-arch "
                         "download URL; add the asset by hand, e.g. "
                         '{ name = "<file>-{arch}.tar.gz", sha256-arg = "<PREFIX>_{ARCH}_SHA256" }')
        else:
            _platform0, arch0, arg0 = per_arch_args[0]
            template = arg0.replace(arch0.upper(), "{ARCH}")
            for platform, arch, _ in per_arch_args:
                arch_map[platform] = arch
            assets.append(AssetIntent(arch_template, template))
            for p in platforms:
                if p not in arch_map:
                    notes.append(f"{name}: no checksum ARG for platform {p}; add "
                                 f"arch-map.\"{p}\" and its ARG by hand")
    for f in fixed:
        if f not in taken:
            notes.append(f"{name}: {f} is downloaded but no {name.upper()}_*_SHA256 ARG holds "
                         "its checksum; add an asset entry and an ARG by hand")
    for a in unmatched:
        notes.append(f"{name}: ARG {a} matches no downloaded file; add it to `assets` by hand")
    assets.sort(key=lambda a: a.name)
    return assets, arch_map
