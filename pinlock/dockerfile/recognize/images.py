"""Image references: FROM, COPY/ADD --from, RUN --mount=…,from=; the pin may sit in an ARG."""

from __future__ import annotations

from pinlock.dockerfile.parser import Text
from pinlock.dockerfile.recognize.args import VAR_RE
from pinlock.dockerfile.recognize.context import Found, Step, flag_value, split_ws
from pinlock.dockerfile.sitemodel import ImageSite, Stage
from pinlock.imageref import ImageRefError, parse_image_ref


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
    st = Stage(step.stage, name, base, ins.line)
    if base.lower() in named:
        return st  # FROM <earlier stage>: not an image
    site = image_site(step, text, ws, we, "FROM")
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
            _add_unless_stage(step, out, image_site(step, step.ins.text, span[0], span[1],
                                                    f"{step.ins.keyword} --from"))


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
                _add_unless_stage(step, out, image_site(step, step.ins.text, span[0], span[1],
                                                        "RUN --mount"))
            s += len(field) + 1


def _add_unless_stage(step: Step, out: Found, site: ImageSite | None) -> None:
    # An ARG may expand to a stage's name: then the instruction copies from that stage.
    if site and not step.names_stage(site.ref):
        out.images.append(site)


def image_site(step: Step, text: Text, ws: int, we: int, context: str) -> ImageSite | None:
    """The image ``text[ws:we]`` names, as written or through one ARG in ``step.scope``."""
    raw = text.text[ws:we]
    if "$" not in raw:
        if raw == "scratch":
            return None
        try:
            parse_image_ref(raw)
        except ImageRefError:
            return None
        return ImageSite(raw, step.value(text, ws, we), "", "", context, step.stage,
                         step.ins.line)
    # A reference built from one global ARG: the pin lives in the ARG's default.
    matches = list(VAR_RE.finditer(raw))
    if len(matches) != 1 or matches[0].group(2):
        return None
    m = matches[0]
    name = m.group(1) or m.group(4)
    decl = step.scope.get(name)
    if decl is None or decl.value is None:
        return None
    prefix, suffix = raw[: m.start()], raw[m.end():]
    ref = prefix + decl.value.text + suffix
    try:
        parse_image_ref(ref)
    except ImageRefError:
        return None
    return ImageSite(ref, decl.value, prefix, suffix, context, step.stage, step.ins.line,
                     via_arg=name)
