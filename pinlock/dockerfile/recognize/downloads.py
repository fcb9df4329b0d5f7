"""URLs a build downloads: ADD <url> (with its --checksum) and curl/wget in a RUN, the URL
written out or held in a shell variable, an ENV or an ARG."""

from __future__ import annotations

import re

from pinlock.dockerfile.recognize.args import ONE_VAR_RE, expand_word, values_of
from pinlock.dockerfile.recognize.context import (
    PER_ARM,
    Command,
    Found,
    Script,
    Step,
    flag_value,
    split_ws,
)
from pinlock.dockerfile.sitemodel import Unmanaged, UrlSite, Value

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
        if items is None and len(src) >= 2 and src[0] in "'\"" and src[-1] == src[0]:
            src = src[1:-1]  # ADD "https://…" /dst: BuildKit reads the quoted word
        if _URL_RE.match(src):
            out.urls.append(UrlSite(src, "ADD", step.stage, ins.line, checksum))
        elif "$" in src:
            held = expand_word(src, values_of(step.scope)).resolved
            if held is not None and _URL_RE.match(held):
                # ADD ${TOOL_URL}: the URL an ARG or ENV holds
                out.urls.append(UrlSite(held, "ADD", step.stage, ins.line, checksum))


def command(cmd: Command, out: Found) -> bool:
    """curl/wget: every URL argument is a download site."""
    if cmd.prog not in ("curl", "wget"):
        return False
    script = cmd.script
    step = script.step
    words = cmd.words
    for at, w in enumerate(words[1:], start=1):
        operand = not _takes_value(cmd.prog, words[at - 1].value)  # not `-o FILE`
        if _URL_RE.match(w.value):
            out.urls.append(UrlSite(w.value, "RUN", step.stage, step.ins.line))
        elif operand and w.has_expansion and w.value.startswith(("$(", "`")):
            out.unmanaged.append(Unmanaged(
                cmd.text, f"{cmd.prog} downloads from a URL a command prints while the image "
                "builds: pinlock cannot read or check it", script.line_of(w)))
        elif operand and w.has_expansion and ONE_VAR_RE.match(w.value):
            # curl "$url": a URL held in a shell variable, an ENV or an ARG. Listed when it
            # can be read from the Dockerfile; else said, never guessed.
            held = _held(w.value, script)
            line = script.line_of(w)
            if held == PER_ARM:
                continue  # a per-architecture URL: the checksum recognizer reads the arms
            if held is not None and _URL_RE.match(held):
                out.urls.append(UrlSite(held, "RUN", step.stage, line))
            elif held is None:
                out.unmanaged.append(Unmanaged(
                    cmd.text, f"{cmd.prog} downloads from {w.value}, a URL assembled while "
                    "the image builds: pinlock cannot read or check it", line))
    return True




# The options of curl and wget that take the next word as their value (a file, a header, …).
_VALUE_SHORT = {"curl": frozenset("oHduAexTFmwXcbrKCEzY"), "wget": frozenset("OPUtToaiewQ")}
_VALUE_LONG = frozenset({
    "--output", "--header", "--data", "--data-binary", "--data-raw", "--data-urlencode",
    "--user", "--user-agent", "--referer", "--proxy", "--upload-file", "--form", "--max-time",
    "--write-out", "--request", "--cookie-jar", "--cookie", "--range", "--config",
    "--continue-at", "--cert", "--key", "--cacert", "--capath", "--retry", "--retry-delay",
    "--retry-max-time", "--connect-timeout", "--time-cond", "--output-document",
    "--directory-prefix", "--tries", "--timeout", "--password", "--http-user",
    "--http-password", "--input-file", "--append-output", "--output-file", "--wait",
    "--quota", "--ca-certificate", "--certificate", "--private-key", "--post-data",
    "--post-file", "--method", "--body-data", "--load-cookies", "--save-cookies"})


def _takes_value(prog: str, option: str) -> bool:
    """``option`` (the word before) is one that takes the next word as its value."""
    if option.startswith("--"):
        return "=" not in option and option in _VALUE_LONG
    if option.startswith("-") and len(option) > 1:
        return option[-1] in _VALUE_SHORT.get(prog, frozenset())
    return False


def _held(word: str, script: Script) -> str | None:
    """The value of a one-variable word: a shell variable the script assigned a literal,
    else an ARG or ENV in scope; None when neither says."""
    name = word.strip("${}")
    if name in script.assigned:
        return script.assigned[name]
    decl = script.step.scope.get(name)
    if decl is not None and decl.value is not None and _URL_RE.match(decl.value.text):
        # The URL as the ARG/ENV writes it (…/download/${TOOL_VERSION}/…), as if written
        # here: the kinds read the version variable in it like in any URL.
        return decl.value.text
    return expand_word(word, values_of(script.step.scope)).resolved
