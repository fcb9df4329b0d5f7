"""URLs a build downloads: ADD <url> (with its --checksum) and curl/wget in a RUN."""

from __future__ import annotations

import re

from pinlock.dockerfile.recognize.context import Command, Found, Step, flag_value, split_ws
from pinlock.dockerfile.sitemodel import UrlSite, Value

_URL_RE = re.compile(r"^https?://", re.IGNORECASE)


def add(step: Step, out: Found) -> None:
    """The http(s) sources of an ADD, each with the instruction's ``--checksum=``."""
    ins = step.ins
    text = ins.text
    flags, pos = step.flags
    checksum: Value | None = None
    for flag in flags:
        cv = flag_value(flag, "checksum")
        span = flag.span(cv[1], len(flag.value)) if cv else None
        if span:
            checksum = step.value(text, span[0], span[1])
    items = step.json_args(pos)
    if items is not None:
        srcs = items[:-1]
    else:
        srcs = [text.text[s:e] for s, e in split_ws(text.text, pos)][:-1]
    for src in srcs:
        if _URL_RE.match(src):
            out.urls.append(UrlSite(src, "ADD", step.stage, ins.line, checksum))


def command(cmd: Command, out: Found) -> bool:
    """curl/wget: every URL argument is a download site."""
    if cmd.prog not in ("curl", "wget"):
        return False
    step = cmd.script.step
    for w in cmd.words[1:]:
        if _URL_RE.match(w.value):
            out.urls.append(UrlSite(w.value, "RUN", step.stage, step.ins.line))
    return True
