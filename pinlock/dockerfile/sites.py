"""Find the places in a parsed Dockerfile that hold pins: images, ARGs, URLs, apt installs."""

from __future__ import annotations

from pinlock.dockerfile.parser import Dockerfile
from pinlock.dockerfile.recognize import args as _args
from pinlock.dockerfile.recognize import checksums, downloads, images, script
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
    named: set[str] = set()  # what a later FROM may write to name an earlier named stage
    stage = -1
    sums = checksums.Recognizer()
    for ins in df.instructions:
        kw = ins.keyword
        if kw == "FROM":
            stage += 1
            st = images.from_stage(Step(df, ins, stage, scope=_args.global_scope(args)), named,
                                   found)
            stages.append(st)
            if st.name is not None:
                named.update((st.name, str(st.index)))
        elif kw == "ARG":
            decls = _args.declarations(Step(df, ins, stage))
            args.extend(decls)
            sums.declared(decls)
        elif kw == "ENV":
            sums.instruction(Step(df, ins, stage, tuple(stages), _args.stage_scope(args, stage)))
        elif kw in ("COPY", "ADD", "RUN"):
            step = Step(df, ins, stage, tuple(stages), _args.stage_scope(args, stage))
            if kw == "RUN":
                images.mount_from(step, found)
                script.run(step, found)
            else:
                images.copy_from(step, found)
                if kw == "ADD":
                    downloads.add(step, found)
            sums.instruction(step)
    sums_found, sums_unmanaged = sums.result()
    return Sites(tuple(stages), tuple(args), tuple(found.images), tuple(found.urls),
                 tuple(found.apt),
                 tuple(u for u in found.unmanaged if not isinstance(u, UnsafeApt))
                 + tuple(sums_unmanaged),
                 tuple(found.apt_commands),
                 tuple(u for u in found.unmanaged if isinstance(u, UnsafeApt)),
                 sums_found)
