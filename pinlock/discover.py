"""``pinlock init``: find a Dockerfile's inputs and adopt the pins already there (no network)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pinlock.debian import codename_of_image
from pinlock.digest import is_sha256
from pinlock.dockerfile.sites import AptSite, ArgDecl, ImageSite, Sites, UrlSite
from pinlock.imageref import parse_image_ref
from pinlock.model import (
    DEFAULT_PLATFORMS,
    AptArchLocked,
    AptInput,
    AptIntent,
    AptLocked,
    AssetIntent,
    ImageInput,
    ImageIntent,
    ImageLocked,
    Input,
    Lock,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
    Skipped,
    platform_arch,
)
from pinlock.pins import UNSAFE_APT_HINT

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


@dataclass
class Discovery:
    lock: Lock
    notes: list[str] = field(default_factory=list)  # what could not be inferred; what to add
    skipped: list[Skipped] = field(default_factory=list)


def discover(sites: Sites, path: str, platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> Discovery:
    notes: list[str] = []
    skipped: list[Skipped] = []
    inputs: dict[str, Input] = {}
    used_urls: set[int] = set()
    _images(sites, inputs, notes)
    _releases(sites, path, inputs, notes, skipped, platforms, used_urls)
    _apt(sites, path, inputs, notes, skipped, platforms)
    for i, u in enumerate(sites.urls):
        if i not in used_urls:
            skipped.append(Skipped(u.url, "a download not tied to a release input: "
                                   "pinlock cannot check its checksum", path, u.line))
    skipped.extend(unmanaged(sites, path))
    return Discovery(Lock(path, platforms, inputs), notes, skipped)


def unmanaged(sites: Sites, path: str) -> list[Skipped]:
    """What the Dockerfile installs that no lock can pin (curl | sh, apk, …), as reported."""
    return [Skipped(un.what, un.reason, path, un.line) for un in sites.unmanaged]


def _unique(base: str, taken: dict[str, Input]) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", base.lower()).strip("-") or "input"
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def _images(sites: Sites, inputs: dict[str, Input], notes: list[str]) -> None:
    seen: dict[str, str] = {}
    for s in sites.images:
        ref = parse_image_ref(s.ref)
        if ref.canonical in seen:
            continue
        name = _unique(ref.path.rsplit("/", 1)[-1], inputs)
        seen[ref.canonical] = name
        stage = _stage_ref(sites, s)
        tag = ref.tag
        if tag is None:
            tag = "latest"
            notes.append(f"{name}: {s.ref} has no tag; locked as 'latest' — set a tag in the "
                         "Dockerfile so updates can follow a version")
        inputs[name] = ImageInput(
            name, ImageIntent(image=ref.repository, stage=stage),
            ImageLocked(tag=tag, index_digest=ref.digest))


def _stage_ref(sites: Sites, s: ImageSite) -> str | None:
    if s.context != "FROM":
        return None
    st = sites.stages[s.stage]
    return st.name or str(st.index)


def _releases(sites: Sites, path: str, inputs: dict[str, Input], notes: list[str],
              skipped: list[Skipped], platforms: tuple[str, ...], used_urls: set[int]) -> None:
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
        name = _unique(repo, inputs)
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


def _apt(sites: Sites, path: str, inputs: dict[str, Input], notes: list[str],
         skipped: list[Skipped], platforms: tuple[str, ...]) -> None:
    # One input per stage: every install command of a stage adds to the same system, so
    # their packages are resolved together (in one closure), not each on its own.
    # A stage with an apt command whose packages are not in the text (a variable, a shell
    # function, eval) is left out whole: a lock of part of it would not be what it installs.
    unsafe = {u.stage for u in sites.unsafe_apt}
    for u in sites.unsafe_apt:
        skipped.append(Skipped(u.what, f"{u.reason}; the apt packages of this stage are left "
                               f"out of the lock ({UNSAFE_APT_HINT})", path, u.line))
    by_stage: dict[int, list[AptSite]] = {}
    for site in sites.apt:
        if site.stage not in unsafe:
            by_stage.setdefault(site.stage, []).append(site)
    for n, (stage, found) in enumerate(by_stage.items()):
        st = sites.stages[stage] if stage >= 0 else None
        stage_ref = (st.name or str(st.index)) if st else "0"
        name = _unique("apt" if n == 0 else f"apt-{stage_ref}", inputs)
        suites = _suites_for(sites, stage)
        if not suites:
            notes.append(f"{name}: cannot tell the Debian release of stage {stage_ref}; set "
                         "`suites` by hand, e.g. [\"trixie\", \"trixie-updates\", "
                         "\"trixie-security\"]")
        words = [p for site in found for p in site.packages]
        names = tuple(dict.fromkeys(p.name for p in words))
        pinned = {p.name: p.version for p in words if p.version}
        archs = {}
        if pinned and len(pinned) == len(names):
            for p in platforms:
                archs[platform_arch(p)] = AptArchLocked(dict(sorted(pinned.items())))
        recommends = {not site.no_install_recommends for site in found}
        if len(recommends) > 1:
            notes.append(f"{name}: stage {stage_ref} installs with and without "
                         "--no-install-recommends; resolving with recommends")
        intent = AptIntent(packages=names, stage=stage_ref, suites=suites,
                           install_recommends=True in recommends)
        snapshot = next((a.value.text for a in sites.args
                         if a.name == intent.snapshot_arg and a.value), None)
        inputs[name] = AptInput(name, intent, AptLocked(snapshot=snapshot, archs=archs))


def _suites_for(sites: Sites, stage: int) -> tuple[str, ...]:
    codename = stage_codename(sites, stage)
    if not codename:
        return ()
    return (codename, f"{codename}-updates", f"{codename}-security")


def stage_codename(sites: Sites, stage: int) -> str | None:
    """The Debian release a stage's FROM names (following ``FROM <earlier stage>``); None
    when it does not say, ``""`` for a Debian version pinlock does not know."""
    seen: set[int] = set()
    while stage >= 0 and stage not in seen:
        seen.add(stage)
        base = sites.stages[stage].base.lower()
        parent = sites.stage(base)
        if parent is not None and parent.index != stage:
            stage = parent.index
            continue
        ref = parse_image_ref(base) if "$" not in base else None
        return codename_of_image(ref.path, ref.tag or "") if ref else codename_of_image("", base)
    return None
