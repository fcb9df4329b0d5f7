"""apt-get/apt commands: the packages an install names, each command's options and snapshot,
and the apt uses pinlock cannot rewrite (packages from a variable, xargs, eval, a function)."""

from __future__ import annotations

import os
import re

from pinlock.dockerfile import shell
from pinlock.dockerfile.recognize.context import SHELLS, Command, Found, Script
from pinlock.dockerfile.sitemodel import (
    AptCommand,
    AptOption,
    AptPackageWord,
    AptSite,
    UnsafeApt,
    Value,
)

APT_TOOLS = frozenset({"apt-get", "apt"})
# apt options that take a separate argument (apt-get(8)).
_APT_OPTS_WITH_ARG = frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release",
                                "--default-release", "-a", "--host-architecture", "-S",
                                "--snapshot", "-e", "--error-on"})
# Subcommands that read the package lists, so they must see the locked archive state.
APT_LIST_READERS = frozenset({"update", "install", "upgrade", "dist-upgrade", "full-upgrade",
                              "build-dep", "source", "download", "reinstall"})
_APT_IN_TEXT = re.compile(r"(?:^|[\s;&|(/`])apt(?:-get)?\s+\S")
_SNAPSHOT_PREFIXES = ("--snapshot=", "-S", "-oAPT::Snapshot=", "--option=APT::Snapshot=")


def command(cmd: Command, out: Found) -> bool:
    """An apt-get/apt command, or one that runs apt with words this RUN does not hold."""
    prog, vals = cmd.prog, cmd.values
    script = cmd.script
    if prog in APT_TOOLS:
        site = _apt_site(cmd, out)
        if site:
            out.apt.append(site)
        found = _apt_command(cmd)
        if found:
            out.apt_commands.append(found)
    elif prog == "xargs" and any(os.path.basename(w.value) in APT_TOOLS for w in cmd.words):
        out.unmanaged.append(UnsafeApt(
            cmd.text, "xargs runs apt with packages read from its input, "
            "not written in the Dockerfile", script.line_of(cmd.words[0]), script.step.stage))
    elif (prog == "eval" or (prog in SHELLS and "-c" in vals)) and any(
            _APT_IN_TEXT.search(v) for v in vals[1:]):
        # apt inside a string another shell parses: its words are not this RUN's words.
        out.unmanaged.append(UnsafeApt(
            cmd.text, f"apt run through `{prog}` from a string: pinlock "
            "cannot rewrite inside it", script.line_of(cmd.words[0]), script.step.stage))
    else:
        return False
    return True


def in_function(cmd: Command, out: Found) -> None:
    """A command inside a shell function body: apt there is unsafe, anything else ignored."""
    if cmd.prog in APT_TOOLS:
        # The packages are the caller's arguments, and the function may run any
        # number of times: there is no one install line to pin.
        out.unmanaged.append(UnsafeApt(
            cmd.text, "apt inside a shell function installs what its "
            "callers pass, not a list written in the Dockerfile",
            cmd.script.line_of(cmd.words[0]), cmd.script.step.stage))


def _apt_site(cmd: Command, out: Found) -> AptSite | None:
    words, script = cmd.words, cmd.script
    i = 1
    sub = None
    no_rec = False
    pkgs: list[AptPackageWord] = []
    dynamic: list[shell.Word] = []
    patterns: list[shell.Word] = []  # package words apt reads as patterns
    while i < len(words):
        v = words[i].value
        if v.startswith("-"):
            if v == "--no-install-recommends" or v.startswith("-oAPT::Install-Recommends="):
                no_rec = True
            if v in _APT_OPTS_WITH_ARG:
                if i + 1 < len(words) and "Install-Recommends" in words[i + 1].value:
                    no_rec = no_rec or words[i + 1].value.rsplit("=", 1)[-1].lower() in (
                        "false", "0", "no")
                i += 2
                continue
            i += 1
            continue
        if sub is None:
            sub = v
            i += 1
            continue
        if sub == "install":
            w = words[i]
            name, eq, version = w.value.partition("=")
            if w.has_expansion or "`" in w.value or "$" in w.value:
                # `apt-get install $PACKAGES`, `$(cat list)`, `curl=$V`: what is installed
                # is decided when the image builds, not written in the Dockerfile. A `$`
                # no shell expands (`RUN ["apt-get", …, "curl=${V}"]`, `curl=\${V}`) is no
                # Debian version either: never taken as a literal pin.
                dynamic.append(w)
            elif not _literal_package(name, version if eq else None):
                # `curl=8.*`, `lib*-dev`, `?name(…)`: a pattern apt matches against the
                # archive at build time, not a package and version to pin.
                patterns.append(w)
            else:
                pkgs.append(AptPackageWord(name, version if eq else None,
                                           script.word_value(w)))
        i += 1
    if sub != "install":
        return None
    if dynamic:
        subst = any("$(" in w.value or "`" in w.value for w in dynamic)
        raw = script.text.text[dynamic[0].start:dynamic[-1].end]
        out.unmanaged.append(UnsafeApt(
            cmd.text,
            (f"the package list comes from a command substitution ({raw})"
             if subst else f"the package list comes from a variable ({raw})")
            + ", so it is not written in the Dockerfile", script.line_of(dynamic[0]),
            script.step.stage))
        return None
    if patterns:
        out.unmanaged.append(UnsafeApt(
            cmd.text, f"{patterns[0].value} is a pattern apt matches when the image builds, "
            "not a package and version pinlock can pin", script.line_of(patterns[0]),
            script.step.stage))
        return None
    if not pkgs:
        return None  # `apt-get install -f`, or only variables: nothing to pin here
    return AptSite(script.step.stage, script.step.ins.line, cmd.prog, tuple(pkgs), no_rec,
                   script.json_form)


def _apt_command(cmd: Command) -> AptCommand | None:
    """The subcommand of an apt-get/apt call and the snapshot it passes, if any."""
    words, script = cmd.words, cmd.script
    df, ins = script.step.df, script.step.ins
    sub: shell.Word | None = None
    snap: tuple[Value, str] | None = None
    snap_end: int | None = None
    options: list[AptOption] = []
    i = 1
    while i < len(words):
        w = words[i]
        v = w.value
        if not v.startswith("-"):
            if sub is None:
                sub = w
            i += 1
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        last: shell.Word | None = w
        if v in ("--snapshot", "-S") and nxt is not None:
            snap = (script.word_value(nxt), nxt.value)
            last = nxt
        elif v in ("-o", "--option") and nxt is not None and nxt.value.startswith(
                "APT::Snapshot="):
            snap = _after_prefix(script, nxt, "APT::Snapshot=") or snap
            last = nxt
        else:
            for prefix in _SNAPSHOT_PREFIXES:
                if v.startswith(prefix) and len(v) > len(prefix) and v != "-S":
                    snap = _after_prefix(script, w, prefix) or snap
                    break
            else:
                last = None
        if last is not None:
            snap_end = script.text.source_span(last.start, last.end)[1]
        opt = _config_option(script, w, nxt)
        if opt is not None:
            options.append(opt)
        i += 2 if v in _APT_OPTS_WITH_ARG else 1
    if sub is None:
        return None
    after = script.text.source_span(sub.start, sub.end)[1]
    line_start = df.source.rfind("\n", 0, ins.start) + 1
    lead = df.source[line_start:ins.start]
    if lead.strip():
        line_start, lead = ins.start, ""
    rest = df.source[ins.start:]
    indent = lead + rest[:len(rest) - len(rest.lstrip(" \t"))]
    # The line the options go on, and its indentation plus one level for the options.
    at = max(after, snap_end or 0)
    here = df.source[df.source.rfind("\n", 0, at) + 1:at]
    pad = here[:len(here) - len(here.lstrip(" \t"))]
    if here.lstrip(" \t")[:4].upper() == "RUN ":
        pad += " " * 4
    escape = "\\" if script.text is not ins.text else df.escape
    line_break = f" {escape}\n{pad}    "
    return AptCommand(script.step.stage, df.line_of(after), cmd.prog, sub.value,
                      after, line_start, indent,
                      snap[0] if snap else None, snap[1] if snap else None, script.json_form,
                      script.in_json_string, options=tuple(options), after_snapshot=snap_end,
                      line_break=line_break)


def _config_option(script: Script, w: shell.Word, nxt: shell.Word | None) -> AptOption | None:
    """``-o K=V``, ``-oK=V``, ``--option K=V``, ``--option=K=V``, ``--error-on[=]V``."""
    v = w.value
    if v in ("-o", "--option", "--error-on", "-e"):
        if nxt is None:
            return None
        text, word = nxt.value, nxt
        if v in ("--error-on", "-e"):
            text = f"APT::Update::Error-Mode={text}"
    elif v.startswith(("-o", "--option=", "--error-on=")):
        prefix = next(p for p in ("--option=", "--error-on=", "-o") if v.startswith(p))
        text, word = v[len(prefix):], w
        if prefix == "--error-on=":
            text = f"APT::Update::Error-Mode={text}"
    else:
        return None
    key, eq, value = text.partition("=")
    if not eq or not key:
        return None
    return AptOption(key, value, script.word_value(word))


def _after_prefix(script: Script, w: shell.Word, prefix: str) -> tuple[Value, str] | None:
    """``--snapshot=VALUE``: the VALUE part, when the word is written without quotes."""
    raw = script.text.text[w.start:w.end]
    if not raw.startswith(prefix):
        return None
    ss, se = script.text.source_span(w.start + len(prefix), w.end)
    return Value(raw[len(prefix):], ss, se, script.step.df.line_of(ss)), w.value[len(prefix):]


def _literal_package(name: str, version: str | None) -> bool:
    """``name[:arch][=version]`` as Debian writes a package and a version: no glob, regex
    or apt pattern (which apt resolves against the archive when the image builds)."""
    from pinlock import grammar

    base, _, arch = name.partition(":")
    try:
        grammar.debian_package(base)
        if arch:
            grammar.debian_arch(arch)
        if version is not None:
            grammar.debian_version(version)
    except grammar.GrammarError:
        return False
    return True
