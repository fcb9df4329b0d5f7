"""``pinlock init`` for apt: one input per stage that installs packages named in the text."""

from __future__ import annotations

from pinlock.dockerfile.sites import AptSite, Sites
from pinlock.imageref import parse_image_ref
from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptIntent, AptLocked
from pinlock.kinds.apt.pins import UNSAFE_APT_HINT
from pinlock.kinds.apt.releases import codename_of_image
from pinlock.kinds.base import Detection
from pinlock.model import Skipped, platform_arch


def detect(found: Detection) -> None:
    sites, path, inputs, notes = found.sites, found.path, found.inputs, found.notes
    skipped, platforms = found.skipped, found.platforms
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
    for n, (stage, installs) in enumerate(by_stage.items()):
        st = sites.stages[stage] if stage >= 0 else None
        stage_ref = (st.name or str(st.index)) if st else "0"
        name = found.unique_name("apt" if n == 0 else f"apt-{stage_ref}")
        suites = _suites_for(sites, stage)
        if not suites:
            notes.append(f"{name}: cannot tell the Debian release of stage {stage_ref}; set "
                         "`suites` by hand, e.g. [\"trixie\", \"trixie-updates\", "
                         "\"trixie-security\"]")
        words = [p for site in installs for p in site.packages]
        names = tuple(dict.fromkeys(p.name for p in words))
        pinned = {p.name: p.version for p in words if p.version}
        archs = {}
        if pinned and len(pinned) == len(names):
            for p in platforms:
                archs[platform_arch(p)] = AptArchLocked(dict(sorted(pinned.items())))
        recommends = {not site.no_install_recommends for site in installs}
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
