"""``pinlock init`` for downloads that are not GitHub release assets: those the Dockerfile checks
(``adopt``), then a URL versioned by an ARG tied to the sha256 ARG(s) that share its prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pinlock.digest import is_sha256
from pinlock.dockerfile.recognize.args import NAME_VAR_RE
from pinlock.dockerfile.sites import ArgDecl, Sites, UrlSite
from pinlock.kinds.base import Detection
from pinlock.kinds.download import expansion, schema
from pinlock.kinds.download.adopt import adopt
from pinlock.kinds.download.model import (
    ChecksumsFrom,
    DownloadInput,
    DownloadIntent,
    DownloadLocked,
    LockedFile,
)
from pinlock.kinds.release.detect import ARCH_ALIASES, RELEASE_DOWNLOAD
from pinlock.model import Skipped
from pinlock.values import first_bad

# The names real projects give one checksum of a download: TOOL_SHA256, TOOL_CHECKSUM.
_SINGLE = ("_SHA256", "_CHECKSUM", "_SHA256SUM")
_CHECK_FILES = (".sha256", ".sha256sum", ".asc", ".sig", "SHA256SUMS", "SHASUMS256.txt")


@dataclass(frozen=True)
class _Url:
    index: int
    site: UrlSite


def detect(found: Detection) -> None:
    # Downloads tied to the checksums the Dockerfile checks them with come first; the rest
    # by their names (TOOL_VERSION, TOOL_SHA256).
    handled = adopt(found)
    sites = found.sites
    decls: dict[str, list[ArgDecl]] = {}
    # ENV after ARG: a version or checksum kept in ENV (`ENV PACKER_SHA256SUM=…`) is read alike.
    for a in (*sites.args, *sites.checksums.env):
        if a.value is not None:
            decls.setdefault(a.name, []).append(a)
    taken = found.taken_spans()
    for vname in decls:
        if not vname.endswith("_VERSION") or len(vname) <= len("_VERSION") \
                or vname in handled:
            continue
        if any((d.value.start, d.value.end) in taken for d in decls[vname] if d.value):
            continue  # an input of another kind keeps this ARG already
        refs = (f"${{{vname}}}", f"${vname}")
        mine = [_Url(i, u) for i, u in enumerate(sites.urls)
                if i not in found.used_urls and _uses(u.url, vname)]
        if not mine:
            continue
        if any(RELEASE_DOWNLOAD.match(u.url) and _uses(u.url, vname) for u in sites.urls):
            # The release kind pins this ARG: a second input on it would fight over it.
            _skip(found, mine, f"{_kw(sites, vname)} {vname} also versions a GitHub release "
                  "download; add this download's checksum to that release input by hand")
            continue
        _detect_one(found, vname, refs, decls, [m for m in mine
                                                 if not RELEASE_DOWNLOAD.match(m.site.url)])


def _uses(url: str, name: str) -> bool:
    return any(m.group(1) == name or m.group(2) == name for m in NAME_VAR_RE.finditer(url))


def _kw(sites: Sites, name: str) -> str:
    return "ARG" if sites.args_named(name) else "ENV"


def _skip(found: Detection, urls: list[_Url], reason: str) -> None:
    first = urls[0].site
    found.skipped.append(Skipped(first.url, reason, found.path, first.line))
    found.used_urls.update(u.index for u in urls)  # reported here, not again as untied


def _detect_one(found: Detection, vname: str, refs: tuple[str, str],
                decls: dict[str, list[ArgDecl]], urls: list[_Url]) -> None:
    if not urls:
        return
    kw = _kw(found.sites, vname)
    checks = [u for u in urls if u.site.url.endswith(_CHECK_FILES)]
    main = [u for u in urls if u not in checks]
    if not main:
        return
    if len({u.site.url for u in main}) != 1:
        _skip(found, urls, f"several downloads are versioned by {kw} {vname}; pinlock manages "
              "one URL per download input: add one input per URL by hand (docs/lockfile.md)")
        return
    written = main[0].site.url
    others = sorted({m.group(1) or m.group(2) for m in NAME_VAR_RE.finditer(written)} - {vname})
    if len(others) > 1:
        _skip(found, urls, f"the URL holds ${{{others[0]}}} and ${{{others[1]}}} besides "
              f"${{{vname}}}: pinlock cannot tell which one is the architecture")
        return
    arch_var = others[0] if others else None
    try:
        template = expansion.to_template(written, vname)
    except expansion.PatternError as exc:
        _skip(found, urls, f"the URL reads {vname} through a pattern pinlock cannot evaluate "
              f"exactly ({exc})")
        return
    if arch_var is not None:
        template = template.replace(f"${{{arch_var}}}", "{arch}").replace(f"${arch_var}",
                                                                          "{arch}")
    if "$" in template or "`" in template:
        _skip(found, urls, "the URL is built with shell expansions pinlock cannot rewrite")
        return
    prefix = vname[: -len("_VERSION")]
    version_decls = decls[vname]
    version = version_decls[0].value.text if version_decls[0].value else ""
    if any(d.value is None or d.value.text != version for d in version_decls):
        _skip(found, urls, f"{kw} {vname} is declared with different values; make them equal")
        return
    single = [prefix + s for s in _SINGLE if prefix + s in decls]
    per_arch = _per_arch_args(prefix, decls)
    arch_map: dict[str, str] = {}
    if arch_var is None:
        if len(single) != 1:
            why = ("no checksum ARG named " + " or ".join(prefix + s for s in _SINGLE[:2])
                   if not single else "several checksum ARGs: " + ", ".join(single))
            _skip(found, urls, f"a download versioned by {kw} {vname} with {why}; pinlock "
                  "keeps a download whose sha256 one ARG holds")
            return
        sha_template = single[0]
    else:
        templates = {t for _, _, t in per_arch.values()}
        missing = [p for p in found.platforms if p not in per_arch]
        if missing or len(templates) != 1:
            want = f"{prefix}_SHA256_<ARCH>"
            _skip(found, urls, f"the URL holds ${{{arch_var}}} (read as the architecture) but "
                  f"no checksum ARG {want} for {', '.join(missing) or 'one naming scheme'}; "
                  "add one per platform to have pinlock keep it")
            return
        sha_template = templates.pop()
        arch_map = {p: per_arch[p][0] for p in found.platforms}
    sidecar = any(u.site.url == written + ".sha256" for u in checks)
    intent = DownloadIntent(url=template, version_arg=vname, sha256_arg=sha_template,
                            arch_map=arch_map,
                            checksums=ChecksumsFrom("sidecar") if sidecar else None)
    files = []
    for planned in intent.plan(version, found.platforms):
        arg = planned.sha256_arg or ""
        values = decls.get(arg, [])
        texts = {d.value.text for d in values if d.value is not None}
        if len(texts) != 1 or not is_sha256(next(iter(texts))):
            _skip(found, urls, f"{_kw(found.sites, arg)} {arg} does not hold one sha256 (it "
                  f"holds {', '.join(sorted(texts)) or 'nothing'}); pinlock adopts only a sha256")
            return
        sha = texts.pop()
        for u in main:
            c = u.site.checksum
            if c is not None and "$" not in c.text and c.text != f"sha256:{sha}":
                _skip(found, urls, f"ADD --checksum={c.text} disagrees with "
                      f"{_kw(found.sites, arg)} {arg}; make them equal")
                return
        files.append(LockedFile(planned.name, planned.sha256_arg, planned.platform, planned.url,
                                sha))
    name = found.unique_name(prefix.lower().replace("_", "-"))
    inp = DownloadInput(name, intent, DownloadLocked(version, tuple(files)))
    bad = first_bad(schema.values(inp, f"inputs.{name}"))
    if bad is not None:
        _skip(found, urls, f"{bad[0].split('.', 2)[-1]}: {bad[1]}")
        return
    found.inputs[name] = inp
    found.used_urls.update(u.index for u in urls)
    found.notes.append(
        f"{name}: set `versions` in its lock table (where new versions of {template} come "
        'from, e.g. versions = { from = "github-tags", repository = "owner/name" }) so that '
        "`pinlock update` can move it")
    if not sidecar:
        found.notes.append(
            f"{name}: set `checksums` in its lock table (e.g. checksums = {{ from = "
            '"sums-file", url = "…/SHA256SUMS" }) so that `pinlock lock` can check the sha256 '
            "upstream; until then only --deep can")


def _per_arch_args(prefix: str, decls: dict[str, list[ArgDecl]]
                   ) -> dict[str, tuple[str, str, str]]:
    """platform -> (arch as the ARG spells it, ARG name, the name's template with {ARCH})."""
    out: dict[str, tuple[str, str, str]] = {}
    for name in decls:
        for pattern in (rf"{re.escape(prefix)}_SHA256_(?P<arch>[A-Z0-9_]+)",
                        rf"{re.escape(prefix)}_(?P<arch>[A-Z0-9_]+)_SHA256"):
            m = re.fullmatch(pattern, name)
            if m is None:
                continue
            arch = m.group("arch").lower()
            platform = next((p for p, names in ARCH_ALIASES.items()
                             if arch in names or arch.replace("_", "-") in names), None)
            if platform is not None and platform not in out:
                template = name[: m.start("arch")] + "{ARCH}" + name[m.end("arch"):]
                out[platform] = (arch, name, template)
    return out
