"""Image references: FROM, COPY/ADD --from, RUN --mount=…,from=; the pin may sit in an ARG."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import replace

from pinlock.dockerfile.parser import Dockerfile, Text
from pinlock.dockerfile.recognize.args import HOLE, VAR_RE, Expansion, expand_word, values_of
from pinlock.dockerfile.recognize.context import Found, Step, flag_value, split_ws
from pinlock.dockerfile.sitemodel import ImageSite, Stage, Unmanaged
from pinlock.imageref import ImageRefError, parse_image_ref

# One variable ending the operand after literal text: the pin can live in its ARG's default.
_ONE_ARG = re.compile(r"([^$'\"\\`]*)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def from_stage(step: Step, named: set[str], out: Found) -> Stage:
    """The stage a FROM opens; its base is an image site unless it names an earlier stage."""
    ins = step.ins
    text = ins.text
    _flags, pos = step.flags
    words = split_ws(text.text, pos)
    if not words:
        return Stage(step.stage, None, "", ins.line)
    ws, we = words[0]
    base = text.text[ws:we]
    name = None
    if len(words) >= 3 and text.text[words[1][0]:words[1][1]].lower() == "as":
        name = text.text[words[2][0]:words[2][1]].lower()
    st = Stage(step.stage, name, base, ins.line, _expand(step, base).resolved)
    if base.lower() in named:
        return st  # FROM <earlier stage>: not an image
    site = image_site(step, text, ws, we, "FROM", named, out)
    if site:
        out.images.append(site)
    return st


def copy_from(step: Step, out: Found) -> None:
    """COPY/ADD --from=<image>, when it names no stage."""
    flags, _pos = step.flags
    for flag in flags:
        fv = flag_value(flag, "from")
        span = flag.span(fv[1], len(flag.value)) if fv else None
        if fv and span and not step.names_stage(fv[0]):
            _add(out, image_site(step, step.ins.text, span[0], span[1],
                                 f"{step.ins.keyword} --from", _stage_names(step), out))


def mount_from(step: Step, out: Found) -> None:
    """RUN --mount=type=bind,from=<image>,target=…: one CSV field names the image."""
    flags, _pos = step.flags
    for flag in flags:
        mv = flag_value(flag, "mount")
        if not mv:
            continue
        s = mv[1]
        for field in mv[0].split(","):
            key, eq, val = field.partition("=")
            span = flag.span(s + len(key) + 1, s + len(field)) if eq else None
            if (span and key.strip().lower() == "from" and val
                    and not step.names_stage(val)):
                _add(out, image_site(step, step.ins.text, span[0], span[1], "RUN --mount",
                                     _stage_names(step), out))
            s += len(field) + 1


def _add(out: Found, site: ImageSite | None) -> None:
    if site:
        out.images.append(site)


def _stage_names(step: Step) -> set[str]:
    return {n for st in step.stages for n in (st.name, str(st.index)) if n is not None}


def _expand(step: Step, raw: str) -> Expansion:
    if not any(c in raw for c in "$'\"" + step.df.escape):
        return Expansion(raw)
    return expand_word(raw, values_of(step.scope), step.df.escape)


def image_site(step: Step, text: Text, ws: int, we: int, context: str,
               stages: Collection[str], out: Found) -> ImageSite | None:
    """The image ``text[ws:we]`` names, as BuildKit expands it from the ARG (and, in a stage,
    ENV) defaults in ``step.scope``; None for ``scratch`` and for an earlier stage (also one
    reached through a variable). A reference that reads a variable without a default is
    reported in ``out.unmanaged``, never guessed."""
    raw = text.text[ws:we]
    exp = _expand(step, raw)
    line = step.ins.line
    if exp.missing:
        if _may_name_stage(exp.text, stages):
            return None  # `FROM binaries-$TARGETOS`: a stage for each platform
        names = ", ".join(exp.missing)
        out.unmanaged.append(Unmanaged(
            f"{context} {raw}", f"the image reference reads {names}, which has no default "
            "value in the Dockerfile (a platform ARG or one meant for --build-arg): pinlock "
            "does not guess it; give it a default, or write the reference", line))
        return None
    ref = exp.text
    if ref == "scratch" or ref.lower() in stages:
        return None
    try:
        parse_image_ref(ref)
    except ImageRefError:
        if exp.names:
            out.unmanaged.append(Unmanaged(
                f"{context} {raw}", f"the image reference expands to {ref!r}, which is not "
                "an image reference pinlock can pin", line))
        return None
    operand = step.value(text, ws, we)
    if not exp.names and raw == ref:
        return ImageSite(ref, operand, "", "", context, step.stage, line, operand=operand)
    template, base = _without_digest(step, raw)
    digest = step.value(text, ws + len(template), we) if template is not None else None
    site = ImageSite(ref, operand, "", "", context, step.stage, line, template=template,
                     base=base, names=exp.names, operand=operand, digest=digest)
    m = _ONE_ARG.fullmatch(raw)
    decl = step.scope.get(m.group(2) or m.group(3)) if m else None
    if (m is not None and decl is not None and decl.value is not None
            and decl.resolved == decl.value.text and not decl.env):
        # A reference ending in one ARG whose default is written as it is read: the pin
        # lives in that default (`ARG BASE=debian:13.4`, `FROM ${BASE}`).
        return replace(site, value=decl.value, prefix=m.group(1), via_arg=decl.name)
    return site


def _may_name_stage(text: str, stages: Collection[str]) -> bool:
    """Whether ``text`` (with ``HOLE`` for each value a build gives) can be a stage's name:
    only a name with some literal text (``binaries-$TARGETOS``), not a bare ``$BASE``."""
    if not text.replace(HOLE, ""):
        return False
    pattern = re.compile(".*".join(re.escape(p) for p in text.lower().split(HOLE)))
    return any(pattern.fullmatch(s) for s in stages)


def _without_digest(step: Step, raw: str) -> tuple[str | None, str]:
    """The operand before its digest part (its last ``@`` outside quotes and ``${…}``) and
    what that expands to; None when the ``@`` sits inside quotes."""
    depth, quote, cut = 0, "", len(raw)
    i = 0
    while i < len(raw):
        ch = raw[i]
        if quote:
            if ch == "@":
                return None, ""  # a digest inside quotes: only the whole operand is written
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == step.df.escape:
            i += 1
        elif raw.startswith("${", i):
            depth += 1
            i += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == "@" and not depth:
            cut = i
        i += 1
    template = raw[:cut]
    base = _expand(step, template)
    return (template, base.text) if base.resolved is not None else (None, "")


def shared_args(df: Dockerfile, sites: Iterable[ImageSite]) -> list[ImageSite]:
    """``sites``, with the pin moved out of any ARG that something else reads too (another
    image, a RUN, an ENV): a digest written into its default would reach those uses."""
    sites = list(sites)
    uses: Counter[str] = Counter()
    for ins in df.instructions:
        for text in (ins.text.text, *(h.body.text for h in ins.heredocs)):
            uses.update(m.group(1) or m.group(4) for m in VAR_RE.finditer(text))
    via: dict[str, list[ImageSite]] = {}
    for s in sites:
        if s.via_arg is not None:
            via.setdefault(s.via_arg, []).append(s)
    alone = {name for name, found in via.items()
             if uses[name] == len(found) and len({s.ref for s in found}) == 1}
    return [s if s.via_arg is None or s.via_arg in alone or s.operand is None
            else replace(s, value=s.operand, prefix="", via_arg=None) for s in sites]
