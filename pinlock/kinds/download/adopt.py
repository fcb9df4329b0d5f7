"""``pinlock init`` for checked downloads that are not GitHub release assets, found from the
checksums the Dockerfile checks them with (``sites.checksums``): the docker-library style.

One input per version ARG/ENV: its per-platform files are the URLs of a ``case`` block's arms
(a template with ``{arch}``), or the one URL the version is written in; its sha256s are the
literals of the arms (rewritten by exact span) or the ARG/ENV that holds them. A checked
download whose URL is written whole, with no version ARG/ENV in it, is a fixed download (one
input per file, or per ``case`` block): its sha256s are kept and checked, never moved. What
cannot be tied completely is reported in ``Detection.skipped`` with its line and why, never
locked half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pinlock.dockerfile.recognize.args import NAME_VAR_RE, ONE_VAR_RE
from pinlock.dockerfile.sites import ArgDecl, ChecksumSite, Sites, expand
from pinlock.kinds.base import Detection
from pinlock.kinds.download import expansion, schema
from pinlock.kinds.download.model import (
    ChecksumsFrom,
    DownloadInput,
    DownloadIntent,
    DownloadLocked,
    LockedFile,
    VersionsFrom,
    file_name,
    fill,
)
from pinlock.kinds.release import literal as literal_version
from pinlock.kinds.release.detect import ARCH_ALIASES, RELEASE_DOWNLOAD

# Shared with the release kind: ARG and ENV defaults read the same way.
from pinlock.kinds.release.pins import values as held_defaults
from pinlock.model import Skipped
from pinlock.values import first_bad

_SEPARATORS = "-_./"
# Debian and Alpine spellings of a `case` arm the release kind's table does not list.
_MORE_ALIASES: dict[str, tuple[str, ...]] = {
    "linux/ppc64le": ("ppc64el",),
    "linux/mips64le": ("mips64el", "mips64le"),
    "linux/arm/v5": ("armel",),
    "linux/loong64": ("loong64", "loongarch64"),
}
# Upstreams whose version index is documented: where `update` finds versions and sha256s.
# Upstreams that publish a `.sha256` sidecar beside each file (docker-library's rust images
# take their rustup-init sha256s from https://static.rust-lang.org/rustup/archive/…/*.sha256).
_SIDECARS = re.compile(r"^https://static\.rust-lang\.org/rustup/archive/")
# The group key of a fixed download: no ARG/ENV name starts with it.
_FIXED = "\0fixed:"
_GO = re.compile(r"^https://(dl\.google\.com/go|go\.dev/dl)/go\{version\}\.")
_NODE = re.compile(r"^https://nodejs\.org/dist/v\{version\}/")


@dataclass(frozen=True)
class _Check:
    """One checksum site, read: the URL template of its file and its platform."""

    site: ChecksumSite
    template: str  # "{version}" where the version is; the arch still written
    platform: str | None


def adopt(found: Detection) -> set[str]:
    """Adopt what the checksum sites tie completely; returns the version names handled
    (adopted or reported), for the by-name pass to leave alone."""
    sites = found.sites
    taken = found.taken_spans()
    decls = _declarations(sites)
    known = held_defaults(sites)
    groups: dict[tuple[str, str | None], list[_Check]] = {}
    handled: set[str] = set()
    poisoned: set[str] = set()
    reported: set[str] = set()
    for c in sites.checksums.sites:
        if c.url is None or c.how == "name" or (c.value.start, c.value.end) in taken:
            continue
        url, url_arg = c.url, None
        ref = ONE_VAR_RE.match(url)
        if ref is not None:
            name = ref.group(1) or ref.group(2)
            held = _value(decls, name)
            if held is None or "://" not in held:
                continue
            url, url_arg = held, name
        expanded = expand(url, known)
        if RELEASE_DOWNLOAD.match(url) or (expanded and RELEASE_DOWNLOAD.match(expanded[0])):
            continue  # the release kind's, which reports what it cannot tie
        version, check, url_arg = _read(found, c, url, url_arg, decls, taken, reported)
        if version is None:
            continue
        handled.add(version)
        if check is None:
            poisoned.add(version)  # one part reported: the whole input is left out
        else:
            groups.setdefault((version, url_arg), []).append(check)
    for (version, url_arg), checks in groups.items():
        if version not in poisoned:
            _adopt_one(found, version, url_arg, checks, decls, known)
    return handled


def _declarations(sites: Sites) -> dict[str, list[ArgDecl]]:
    out: dict[str, list[ArgDecl]] = {}
    for d in (*sites.args, *sites.checksums.env):
        if d.value is not None:
            out.setdefault(d.name, []).append(d)
    return out


def _value(decls: dict[str, list[ArgDecl]], name: str) -> str | None:
    found = decls.get(name)
    return found[-1].value.text if found and found[-1].value else None


def _is_version(name: str) -> bool:
    return name.upper().endswith("_VERSION") and len(name) > len("_VERSION")


def _read(found: Detection, c: ChecksumSite, url: str, url_arg: str | None,
          decls: dict[str, list[ArgDecl]], taken: set[tuple[int, int]],
          reported: set[str]) -> tuple[str | None, _Check | None, str | None]:
    """The version name and URL template of one checked download, and the ARG/ENV holding
    its URL with the version written literally in it. What cannot be read is reported: the
    check is None then, and the version too when none was found."""

    def skip(reason: str, key: str = url) -> None:
        if key not in reported:  # once per URL, or per version for a whole `case` block
            reported.add(key)
            found.skipped.append(Skipped(url, reason, found.path, c.line))

    names = [m.group(1) or m.group(2) for m in NAME_VAR_RE.finditer(url)] + sorted(
        expansion.names_in(url))
    versions = sorted({n for n in names if _is_version(n) and n in decls})
    if len(versions) > 1:
        skip(f"the URL holds {' and '.join(versions)}: pinlock cannot tell which one is the "
             "version of the file")
        return None, None, None
    if any(d.value is not None and (d.value.start, d.value.end) in taken
           for n in versions for d in decls[n]):
        return None, None, None  # another input keeps this version already
    if versions:
        version = versions[0]
        try:
            # ${V%%[a-z]*} and its kin kept as {version%%[a-z]*}: filled the same way later.
            template = expansion.to_template(url, version)
        except expansion.PatternError as exc:
            skip(f"the URL reads {version} through a pattern pinlock cannot evaluate exactly "
                 f"({exc}); write the part it removes by hand, or use ${{{version}}}")
            return version, None, None
        url_arg = None  # its ${VERSION} moves with the version itself
    else:
        # The version written literally in the URL: movable where its whole text has a span.
        written = {n: v for n in decls if _is_version(n)
                   and (v := _value(decls, n)) and v in url and any(ch.isdigit() for ch in v)}
        literal = sorted(written, key=lambda n: -len(written[n]))
        if not literal:
            return _fixed(c, url, url_arg, skip)
        version = literal[0]
        text = _value(decls, version) or ""
        if url_arg is None:
            # Written in the RUN's URL words: each place a pin site, when each has an exact
            # span and the URL holds the version only as a whole version.
            if any(d.value is not None and (d.value.start, d.value.end) in taken
                   for d in decls[version]):
                return None, None, None  # another input keeps this version already
            if literal_version.places(url, c.url_values, text) is None \
                    or literal_version.count(url, text) != url.count(text):
                skip(f"the version {text} ({version}) is written inside RUN text, where "
                     "pinlock has no exact place to rewrite it; write the URL with "
                     f"${{{version}}} to have pinlock keep it", key=version)
                return version, None, None
            template = literal_version.template(url, text)
        else:
            template = url.replace(text, "{version}")
    if "$" in template or "`" in template:
        skip("the URL is built with shell expansions pinlock cannot rewrite "
             f"({url}); write it with plain ${{NAME}} references to have pinlock keep it")
        return version, None, None
    platform, known = _platform_of(c, skip)
    if not known:
        return version, None, None
    return version, _Check(c, template, platform), url_arg


def _fixed(c: ChecksumSite, url: str, url_arg: str | None, skip: Callable[[str], None]
           ) -> tuple[str | None, _Check | None, str | None]:
    """A checked download with no version in its URL: a fixed download (its group key and
    check) when the URL is written whole; one arm that is not poisons its whole `case` block."""
    key = f"{_FIXED}{c.stage}:{c.file or url}" + ("" if c.arch else f":{url}")
    if url_arg is not None or "$" in url or "`" in url:
        held = f"held in {url_arg}" if url_arg else "assembled from values known at build time"
        skip(f"a checked download with no version ARG or ENV in its URL, which is {held}: "
             "pinlock has nothing to move it by and no one URL to keep; its sha256 stays as "
             "written")
        return key, None, None
    platform, known = _platform_of(c, skip)
    if not known:
        return key, None, None
    return key, _Check(c, url, platform), None


def _platform_of(c: ChecksumSite, skip: Callable[[str], None]) -> tuple[str | None, bool]:
    """The platform of the check's `case` arm (None: not per-arch), and whether it is one
    pinlock knows (an arm it does not is reported)."""
    if not c.arch:
        return None, True
    platform = _arm_platform(c.arch)
    if platform is None:
        skip(f"the `case` arm {' | '.join(c.arch)} names no single platform pinlock knows "
             "(linux/amd64, linux/arm64, …)")
        return None, False
    return platform, True


def _arm_platform(patterns: Sequence[str]) -> str | None:
    platforms = {_platform(p) for p in patterns}
    return platforms.pop() if len(platforms) == 1 else None


def _platform(pattern: str) -> str | None:
    word = pattern.strip("'\"").lower()
    for table in (ARCH_ALIASES, _MORE_ALIASES):
        for platform, names in table.items():
            if word in names:
                return platform
    return None


def _adopt_one(found: Detection, version_name: str, url_arg: str | None,
               checks: Sequence[_Check], decls: dict[str, list[ArgDecl]],
               known: dict[str, str]) -> None:
    first = checks[0].site

    def skip(reason: str) -> None:
        found.skipped.append(Skipped(checks[0].template, reason, found.path, first.line))

    fixed = version_name.startswith(_FIXED)
    downloads = "the download" if fixed else f"the downloads versioned by {version_name}"
    version = ""
    if not fixed:
        version_decls = decls[version_name]
        version = version_decls[0].value.text if version_decls[0].value else ""
        if any(d.value is None or d.value.text != version for d in version_decls):
            skip(f"{version_name} is declared with different values; make them equal")
            return
    per_arch = [ch for ch in checks if ch.platform is not None]
    if per_arch and len(per_arch) != len(checks):
        skip(f"{downloads} are checked both in a per-arch `case` block and outside it; "
             "pinlock keeps one or the other")
        return
    # The file of each platform (None: one file for every platform).
    by_platform: dict[str | None, str] = {}
    for ch in checks:
        if by_platform.setdefault(ch.platform, ch.template) != ch.template:
            skip(f"{ch.platform or 'the download'} is fetched from two URLs "
                 f"({by_platform[ch.platform]} and {ch.template}); pinlock manages one URL "
                 "per platform")
            return
    absent = [p for p in found.platforms if p not in by_platform]
    if fixed and per_arch and absent:
        # Nothing would check the file those platforms build with: not locked half.
        skip(f"the `case` block checks no sha256 for {', '.join(absent)}; add its arm (or "
             "leave the platform out of the lock) to have pinlock keep it")
        return
    arch_map: dict[str, str] = {}
    platforms: tuple[str, ...] = ()
    if per_arch and len(set(by_platform.values())) > 1:
        derived = _arch_template({p: t for p, t in by_platform.items() if p is not None})
        if derived is None:
            skip("the arms' URLs differ in more than one place; pinlock needs one "
                 "{arch} part in a URL template to keep them")
            return
        template, arch_map = derived
        platforms = tuple(sorted(arch_map))
    else:
        template = next(iter(by_platform.values()))
    # Where each file's sha256 is held: literally (RUN/ADD) or in one ARG/ENV.
    holders = {ch.site.holder for ch in checks if ch.site.holder is not None}
    in_run = any(ch.site.holder is None and ch.site.held_in == "RUN" for ch in checks)
    if len(holders) > 1 or (holders and (in_run or platforms)):
        skip(f"the sha256s of {downloads} are held in "
             f"{', '.join(sorted(holders))}{' and written in RUN text' if in_run else ''}; "
             "pinlock keeps them when they are all literals, or one ARG/ENV for one file")
        return
    sha256_arg = holders.pop() if holders else None
    base = _fixed_name(template) if fixed else version_name[: -len("_VERSION")]
    if sha256_arg is None and not platforms and not fixed:
        # An ARG/ENV named for this file's sha256 but holding another value: one is stale.
        written = {ch.site.value.text.lower() for ch in checks}
        for suffix in ("_SHA256", "_CHECKSUM", "_SHA256SUM"):
            named = _value(decls, base + suffix)
            if named is not None and named.lower() not in written:
                what = "ADD --checksum" if checks[0].site.held_in == "ADD" else "the sha256"
                kw = "ARG" if found.sites.args_named(base + suffix) else "ENV"
                skip(f"{what} written where the file is checked disagrees with {kw} "
                     f"{base + suffix} ({named}); make them equal")
                return
    shas: dict[str | None, set[str]] = {}
    for ch in checks:
        shas.setdefault(ch.platform if platforms else None, set()).add(
            ch.site.value.text.lower())
    versions, sums_from = _sources(template)
    if fixed and _SIDECARS.match(template):
        sums_from = ChecksumsFrom("sidecar")
    if sums_from is None and not platforms and _sidecar(
            found.sites, fill(template, version=version), version_name, version, known):
        sums_from = ChecksumsFrom("sidecar")
    more_urls: dict[str, str] = {}
    if not fixed:
        # The other URLs the version is written in (a signature's): they move with it.
        more_urls, stuck = _more_urls(decls, _other_url_values(decls, url_arg, version),
                                      version_name, version, found.taken_spans())
        if url_arg is not None and stuck:
            skip(f"{', '.join(stuck)} also hold(s) version {version} in a URL; pinlock would "
                 f"move {url_arg} without it: write ${{{version_name}}} there instead")
            return
    intent = DownloadIntent(url=template, version_arg=None if fixed else version_name,
                            sha256_arg=sha256_arg,
                            arch_map=arch_map, url_arg=url_arg, platforms=platforms,
                            versions=versions, checksums=sums_from, more_urls=more_urls)
    files = []
    for planned in intent.plan(version, found.platforms):
        values = shas.get(planned.platform, set())
        if len(values) != 1:
            skip(f"{planned.name} is checked against {len(values) or 'no'} different sha256 "
                 "values; make them one")
            return
        if planned.url != _filled(checks, planned.platform, version, known):
            skip(f"the URL template {template} does not give back the URL written for "
                 f"{planned.platform or 'the download'}")
            return
        files.append(LockedFile(planned.name, planned.sha256_arg, planned.platform,
                                planned.url, values.pop()))
    name = found.unique_name(base.lower().replace("_", "-"))
    inp = DownloadInput(name, intent, DownloadLocked(version, tuple(files)))
    bad = first_bad(schema.values(inp, f"inputs.{name}"))
    if bad is not None:
        skip(f"{bad[0].split('.', 2)[-1]}: {bad[1]}")
        return
    found.inputs[name] = inp
    # The files, and their sidecars and signatures the Dockerfile fetches along.
    mine = {f.url + suffix for f in files for suffix in ("", ".sha256", ".sha256sum", ".asc",
                                                          ".sig")}
    found.used_urls.update(i for i, u in enumerate(found.sites.urls)
                           if _resolved(u.url, version_name, version, known) in mine)
    if fixed:
        found.notes.append(
            f"{name}: a fixed download (its URL holds no version ARG or ENV): pinlock keeps "
            "and checks its sha256s, and `pinlock update` leaves it as it is")
    elif intent.versions is None:
        found.notes.append(
            f"{name}: set `versions` in its lock table (where new versions of {template} come "
            'from, e.g. versions = { from = "json-index", url = "…" }) so that `pinlock update` '
            "can move it")
    if intent.checksums is None:
        found.notes.append(
            f"{name}: set `checksums` in its lock table (e.g. checksums = {{ from = "
            '"sums-file", url = "…/SHA256SUMS" }) so that `pinlock lock` can check the sha256 '
            "upstream; until then only --deep can")


def _fixed_name(template: str) -> str:
    """An input name for a fixed download: its file name, extensions aside."""
    return file_name(template).replace("{arch}", "").split(".", 1)[0].strip("-_") or "download"


def _filled(checks: Sequence[_Check], platform: str | None, version: str,
            known: dict[str, str]) -> str | None:
    for ch in checks:
        if ch.platform == platform or platform is None:
            return fill(ch.template, version=version)
    return None


def _sidecar(sites: Sites, url: str, version_name: str, version: str,
             known: dict[str, str]) -> bool:
    """The Dockerfile downloads the file's ``.sha256`` too: upstream publishes one."""
    return any(_resolved(u.url, version_name, version, known) == url + ".sha256"
               for u in sites.urls)


def _resolved(url: str, version_name: str, version: str, known: dict[str, str]) -> str:
    """A URL as the build fetches it at ``version`` (its removal expansions evaluated); ""
    when it reads what is not known."""
    if not version_name.startswith(_FIXED):
        try:
            url = fill(expansion.to_template(url, version_name), version=version)
        except expansion.PatternError:
            return ""
    return (expand(url, {**known, version_name: version}) or ("",))[0]


def _sources(template: str) -> tuple[VersionsFrom | None, ChecksumsFrom | None]:
    """Versions and checksums of the upstreams whose index is documented; None elsewhere."""
    if _GO.match(template):
        # https://go.dev/dl/?mode=json&include=all lists every release, its files' sha256.
        return (VersionsFrom("json-index", url="https://go.dev/dl/?mode=json&include=all",
                             template="go{version}"), ChecksumsFrom("json-index"))
    if _NODE.match(template):
        # https://nodejs.org/dist/index.json lists versions; SHASUMS256.txt each file's sha256.
        return (VersionsFrom("json-index", url="https://nodejs.org/dist/index.json",
                             template="v{version}"),
                ChecksumsFrom("sums-file", "https://nodejs.org/dist/v{version}/SHASUMS256.txt"))
    return None, None


def _arch_template(urls: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """One template with ``{arch}`` for every platform's URL, and each platform's arch: the
    one part where the URLs differ, widened to whole words (``linux-{arch}.tar.gz``)."""
    texts = list(urls.values())
    pre = _common_start(texts)
    suf = _common_start([t[::-1] for t in texts])[::-1]
    shortest = min(len(t) for t in texts)
    if len(pre) + len(suf) > shortest:
        suf = suf[len(pre) + len(suf) - shortest:]
    while pre and pre[-1] not in _SEPARATORS:
        pre = pre[:-1]
    while suf and suf[0] not in _SEPARATORS:
        suf = suf[1:]
    arch_map = {p: t[len(pre):len(t) - len(suf)] for p, t in urls.items()}
    if any(not a or "{" in a or "}" in a or "/" in a for a in arch_map.values()):
        return None
    template = pre + "{arch}" + suf
    if any(fill(template, version="{version}", arch=a) != urls[p] for p, a in arch_map.items()):
        return None
    return template, arch_map


def _common_start(texts: list[str]) -> str:
    """The characters every text starts with (a URL's parts are not path components)."""
    n = 0
    while all(len(t) > n and t[n] == texts[0][n] for t in texts):
        n += 1
    return texts[0][:n]


def _more_urls(decls: dict[str, list[ArgDecl]], names: list[str], version_name: str,
               version: str, taken: set[tuple[int, int]]) -> tuple[dict[str, str], list[str]]:
    """The URL-valued ARGs/ENVs named for the download (``PHP_ASC_URL`` for ``PHP_VERSION``)
    that write its version only as a whole version, each with its template; and the others."""
    prefix = version_name[: -len("_VERSION")] + "_"
    more: dict[str, str] = {}
    stuck: list[str] = []
    for n in names:
        held = [d.value for d in decls[n] if d.value is not None]
        texts = {v.text for v in held}
        text = next(iter(texts))
        if not n.startswith(prefix) or len(texts) != 1 \
                or any((v.start, v.end) in taken for v in held) \
                or literal_version.count(text, version) != text.count(version):
            stuck.append(n)
        else:
            more[n] = literal_version.template(text, version)
    return more, stuck


def _other_url_values(decls: dict[str, list[ArgDecl]], url_arg: str | None, version: str
                      ) -> list[str]:
    return sorted(n for n, ds in decls.items() if n != url_arg and any(
        d.value is not None and "://" in d.value.text and version in d.value.text for d in ds))
