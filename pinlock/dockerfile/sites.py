"""Find the places in a parsed Dockerfile that hold pins: images, ARGs, URLs, apt installs."""

from __future__ import annotations

from dataclasses import replace

from pinlock.dockerfile.parser import Dockerfile
from pinlock.dockerfile.recognize import args as _args
from pinlock.dockerfile.recognize import checksums, downloads, images, powershell, script
from pinlock.dockerfile.recognize.apt import APT_LIST_READERS, APT_TOOLS
from pinlock.dockerfile.recognize.args import expand
from pinlock.dockerfile.recognize.context import Found, Step
from pinlock.dockerfile.sitemodel import (
    AptCommand,
    AptOption,
    AptPackageWord,
    AptSite,
    ArgDecl,
    ChecksumFileSite,
    Checksums,
    ChecksumSite,
    ImageSite,
    Sites,
    Stage,
    Unmanaged,
    UnsafeApt,
    UrlSite,
    Value,
)

__all__ = [
    "APT_LIST_READERS",
    "APT_TOOLS",
    "AptCommand",
    "AptOption",
    "AptPackageWord",
    "AptSite",
    "ArgDecl",
    "ChecksumFileSite",
    "ChecksumSite",
    "Checksums",
    "ImageSite",
    "Sites",
    "Stage",
    "Unmanaged",
    "UnsafeApt",
    "UrlSite",
    "Value",
    "expand",
    "find_sites",
]


def find_sites(df: Dockerfile) -> Sites:
    """Every pin site of ``df``, in source order: each instruction goes to its recognizers."""
    found = Found()
    stages: list[Stage] = []
    args: list[ArgDecl] = []
    envs: list[ArgDecl] = []
    variables = _args.Variables()
    named: set[str] = set()  # what a later FROM may write to name an earlier named stage
    stage = -1
    sums = checksums.Recognizer()
    pwsh = powershell.Recognizer()
    for ins in df.instructions:
        kw = ins.keyword
        if kw == "FROM":
            stage += 1
            st = images.from_stage(Step(df, ins, stage, scope=variables.for_from()), named,
                                   found)
            # A stage FROM an earlier one inherits its ENVs.
            parent = next((p.index for p in stages if p.matches((st.resolved or st.base)
                                                                 .lower())), None)
            variables.open_stage(parent)
            stages.append(st)
            if st.name is not None:
                named.update((st.name, str(st.index)))
        elif kw in ("ARG", "ENV"):
            step = Step(df, ins, stage, tuple(stages), dict(variables.scope(stage)))
            decls = variables.declare(step)
            if kw == "ARG":
                args.extend(decls)
                sums.declared(decls)
            else:
                envs.extend(decls)
                sums.instruction(step)
        elif kw in ("COPY", "ADD", "RUN"):
            step = Step(df, ins, stage, tuple(stages), dict(variables.scope(stage)))
            if kw == "RUN":
                images.mount_from(step, found)
                script.run(step, found)
                pwsh.run(step)
            else:
                images.copy_from(step, found)
                if kw == "ADD":
                    downloads.add(step, found)
            sums.instruction(step)
    sums_found, sums_unmanaged = sums.result()
    if pwsh.sites or pwsh.unmanaged:
        # A holder a Get-FileHash check reads is tied: no longer one known by its name alone.
        tied = {(c.value.start, c.value.end) for c in pwsh.sites}
        sums_found = replace(sums_found, sites=tuple(
            c for c in sums_found.sites
            if c.how != "name" or (c.value.start, c.value.end) not in tied) + tuple(pwsh.sites))
        sums_unmanaged = [*sums_unmanaged, *pwsh.unmanaged]
    return Sites(tuple(stages), tuple(args), tuple(images.shared_args(df, found.images)),
                 tuple(found.urls), tuple(found.apt),
                 tuple(u for u in found.unmanaged if not isinstance(u, UnsafeApt))
                 + tuple(sums_unmanaged),
                 tuple(found.apt_commands),
                 tuple(u for u in found.unmanaged if isinstance(u, UnsafeApt)),
                 sums_found, envs=tuple(envs))
