"""Find the places in a parsed Dockerfile that hold pins: images, ARGs, URLs, apt installs."""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
import sys
from dataclasses import dataclass, replace

from pinlock.dockerfile import shell
from pinlock.dockerfile.parser import (
    Dockerfile,
    Flag,
    Instruction,
    ParseError,
    Text,
    extract_flags,
    json_args,
)
from pinlock.imageref import ImageRefError, parse_image_ref

_VAR_RE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
APT_TOOLS = frozenset({"apt-get", "apt"})
# apt options that take a separate argument (apt-get(8)).
_APT_OPTS_WITH_ARG = frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release",
                                "--default-release", "-a", "--host-architecture", "-S",
                                "--snapshot", "-e", "--error-on"})
# Subcommands that read the package lists, so they must see the locked archive state.
APT_LIST_READERS = frozenset({"update", "install", "upgrade", "dist-upgrade", "full-upgrade",
                              "build-dep", "source", "download", "reinstall"})


@dataclass(frozen=True)
class Value:
    """A value in the source text: what it says and exactly which characters hold it."""

    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None
    base: str  # the image (or stage) as written after FROM
    line: int

    def matches(self, ref: str) -> bool:
        return ref == str(self.index) or (self.name is not None and ref.lower() == self.name)


@dataclass(frozen=True)
class ArgDecl:
    name: str
    value: Value | None  # the default, without surrounding quotes; None when declared bare
    stage: int  # -1: global (before the first FROM)
    line: int
    name_end: int = -1  # source offset just past the name (where "=value" goes when bare)


@dataclass(frozen=True)
class ImageSite:
    """An image reference: ``ref`` is the expanded reference, ``value`` where its text lives.

    ``ref == prefix + value.text + suffix``: for ``FROM node:${TAG}`` with ``ARG TAG=22``
    the value is the ARG default ``22`` and the prefix is ``node:``.
    """

    ref: str
    value: Value
    prefix: str
    suffix: str
    context: str  # "FROM", "COPY --from", "RUN --mount"
    stage: int
    line: int
    via_arg: str | None = None


@dataclass(frozen=True)
class UrlSite:
    url: str  # as written, ARG references unexpanded
    keyword: str  # ADD or RUN
    stage: int
    line: int
    checksum: Value | None = None  # ADD --checksum= value


@dataclass(frozen=True)
class AptPackageWord:
    name: str  # may carry ":arch"
    version: str | None
    value: Value  # the whole word


@dataclass(frozen=True)
class AptSite:
    stage: int
    line: int
    tool: str
    packages: tuple[AptPackageWord, ...]
    no_install_recommends: bool
    json_form: bool = False


@dataclass(frozen=True)
class AptOption:
    """A configuration option given to one apt command: ``-o KEY=VALUE`` (any spelling),
    or ``--error-on=VALUE`` as ``APT::Update::Error-Mode``. ``word`` is where ``KEY=VALUE``
    (with any ``-o`` glued to it) sits in the source, inside simple quotes."""

    key: str  # as written; apt compares keys without regard to case
    value: str
    word: Value


@dataclass(frozen=True)
class AptCommand:
    """One apt-get/apt command: where options can be added and which snapshot it asks for.

    ``snapshot`` is the argument of ``--snapshot``/``-S``/``-o APT::Snapshot=`` as it sits
    in the source (quotes included when it holds a ``$`` reference); ``snapshot_word`` is
    that argument after quote removal. ``after_sub`` is the source offset just past the
    subcommand word; ``arg_at``/``indent`` say where an ``ARG`` line goes before this RUN.
    """

    stage: int
    line: int
    tool: str
    sub: str
    after_sub: int
    arg_at: int
    indent: str
    snapshot: Value | None = None
    snapshot_word: str | None = None
    json_form: bool = False
    in_json_string: bool = False  # the script of RUN ["sh", "-c", "…"]: inserts stay JSON-safe
    options: tuple[AptOption, ...] = ()
    after_snapshot: int | None = None  # source offset just past the whole snapshot option
    line_break: str = ""  # continues the command on a new, indented line (options one a line)

    def option(self, key: str) -> AptOption | None:
        """The last ``key`` given (apt keeps the last one), compared without case."""
        found = [o for o in self.options if o.key.lower() == key.lower()]
        return found[-1] if found else None


@dataclass(frozen=True)
class Unmanaged:
    what: str
    reason: str
    line: int


@dataclass(frozen=True)
class UnsafeApt(Unmanaged):
    """An apt command pinlock cannot rewrite safely: what it installs is not in the text.

    Unlike other unmanaged commands this is bad input: pinning the stage's other packages
    while this one installs whatever a variable, a file or a caller names would lock a
    closure the build does not install.
    """

    stage: int = -1


@dataclass(frozen=True)
class Sites:
    stages: tuple[Stage, ...]
    args: tuple[ArgDecl, ...]
    images: tuple[ImageSite, ...]
    urls: tuple[UrlSite, ...]
    apt: tuple[AptSite, ...]
    unmanaged: tuple[Unmanaged, ...]
    apt_commands: tuple[AptCommand, ...] = ()
    unsafe_apt: tuple[UnsafeApt, ...] = ()

    def stage(self, ref: str) -> Stage | None:
        """The first stage ``ref`` names (by index or name); a lookup, not a scan per call."""
        by_index, by_name = self._stage_tables
        hits = [st for st in (by_index.get(ref), by_name.get(ref.lower())) if st is not None]
        return min(hits, key=lambda st: st.index, default=None)

    @functools.cached_property
    def _stage_tables(self) -> tuple[dict[str, Stage], dict[str, Stage]]:
        by_index = {str(st.index): st for st in self.stages}
        by_name: dict[str, Stage] = {}
        for st in self.stages:
            if st.name is not None:
                by_name.setdefault(st.name, st)
        return by_index, by_name

    def args_named(self, name: str) -> list[ArgDecl]:
        return [a for a in self.args if a.name == name]

    def arg_default(self, name: str) -> str | None:
        """The last declared default of ``name`` (the one a build would see last)."""
        for arg in reversed(self.args):
            if arg.name == name and arg.value is not None:
                return arg.value.text
        return None


def _value(df: Dockerfile, text: Text, start: int, end: int) -> Value:
    s, e = text.source_span(start, end)
    return Value(text.text[start:end], s, e, df.line_of(s))


def _split_ws(text: str, start: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.compile(r"\S+").finditer(text, start)]


def _flags_and_rest(ins: Instruction) -> tuple[list[Flag], int]:
    """Leading ``--flag`` words (as BuildKit reads them) and the index where the arguments start."""
    return extract_flags(ins.text.text, ins.args_offset)


def _json(ins: Instruction, rest: str) -> list[str] | None:
    try:
        return json_args(rest, ins.line)
    except ParseError:
        return None


def expand(text: str, values: dict[str, str]) -> tuple[str, list[str]] | None:
    """Expand ``$VAR``/``${VAR}``/``${VAR:-x}`` with ``values``; None if a variable is unknown."""
    used: list[str] = []
    failed = False

    def sub(m: re.Match[str]) -> str:
        nonlocal failed
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        used.append(name)
        val = values.get(name)
        if op and op.endswith("-"):
            if val is None or (op == ":-" and val == ""):
                return word or ""
            return val
        if op and op.endswith("+"):
            return (word or "") if val else ""
        if val is None:
            failed = True
            return ""
        return val

    out = _VAR_RE.sub(sub, text)
    return None if failed else (out, used)


def find_sites(df: Dockerfile) -> Sites:
    stages: list[Stage] = []
    args: list[ArgDecl] = []
    images: list[ImageSite] = []
    urls: list[UrlSite] = []
    apt: list[AptSite] = []
    commands: list[AptCommand] = []
    unmanaged: list[Unmanaged] = []
    named: set[str] = set()  # what a later FROM may write to name an earlier named stage
    stage = -1
    for ins in df.instructions:
        kw = ins.keyword
        if kw == "FROM":
            stage += 1
            st = _from(df, ins, stage, named, args, images)
            stages.append(st)
            if st.name is not None:
                named.update((st.name, str(st.index)))
        elif kw == "ARG":
            args.extend(_args(df, ins, stage))
        elif kw in ("COPY", "ADD"):
            _copy_add(df, ins, stage, stages, images, urls, _stage_scope(args, stage))
        elif kw == "RUN":
            _run(df, ins, stage, stages, images, urls, apt, commands, unmanaged,
                 _stage_scope(args, stage))
    return Sites(tuple(stages), tuple(args), tuple(images), tuple(urls), tuple(apt),
                 tuple(u for u in unmanaged if not isinstance(u, UnsafeApt)), tuple(commands),
                 tuple(u for u in unmanaged if isinstance(u, UnsafeApt)))


def _from(df: Dockerfile, ins: Instruction, index: int, named: set[str],
          args: list[ArgDecl], images: list[ImageSite]) -> Stage:
    text = ins.text
    _flags, pos = _flags_and_rest(ins)
    words = _split_ws(text.text, pos)
    if not words:
        return Stage(index, None, "", ins.line)
    ws, we = words[0]
    base = text.text[ws:we]
    name = None
    if len(words) >= 3 and text.text[words[1][0]:words[1][1]].lower() == "as":
        name = text.text[words[2][0]:words[2][1]].lower()
    st = Stage(index, name, base, ins.line)
    if base.lower() in named:
        return st  # FROM <earlier stage>: not an image
    global_args = {a.name: a for a in args if a.stage == -1}
    site = _image_site(df, text, ws, we, "FROM", index, ins.line, global_args)
    if site:
        images.append(site)
    return st


def _image_site(df: Dockerfile, text: Text, ws: int, we: int, context: str, stage: int,
                line: int, global_args: dict[str, ArgDecl]) -> ImageSite | None:
    raw = text.text[ws:we]
    if "$" not in raw:
        if raw == "scratch":
            return None
        try:
            parse_image_ref(raw)
        except ImageRefError:
            return None
        return ImageSite(raw, _value(df, text, ws, we), "", "", context, stage, line)
    # A reference built from one global ARG: the pin lives in the ARG's default.
    matches = list(_VAR_RE.finditer(raw))
    if len(matches) != 1 or matches[0].group(2):
        return None
    m = matches[0]
    name = m.group(1) or m.group(4)
    decl = global_args.get(name)
    if decl is None or decl.value is None:
        return None
    prefix, suffix = raw[: m.start()], raw[m.end():]
    ref = prefix + decl.value.text + suffix
    try:
        parse_image_ref(ref)
    except ImageRefError:
        return None
    return ImageSite(ref, decl.value, prefix, suffix, context, stage, line, via_arg=name)


def _args(df: Dockerfile, ins: Instruction, stage: int) -> list[ArgDecl]:
    text = ins.text
    out: list[ArgDecl] = []
    for ws, we in _quoted_words(text.text, ins.args_offset):
        word = text.text[ws:we]
        name, eq, _ = word.partition("=")
        if not eq:
            end = text.source_span(ws, we)[1]
            out.append(ArgDecl(name, None, stage, ins.line, end))
            continue
        vs, ve = ws + len(name) + 1, we
        if ve - vs >= 2 and text.text[vs] in "'\"" and text.text[ve - 1] == text.text[vs]:
            vs, ve = vs + 1, ve - 1
        out.append(ArgDecl(name, _value(df, text, vs, ve), stage, ins.line))
    return out


def _quoted_words(text: str, start: int) -> list[tuple[int, int]]:
    """Whitespace-separated words where quotes group (BuildKit parseWords)."""
    out: list[tuple[int, int]] = []
    i, n = start, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        s = i
        quote = ""
        while i < n and (quote or not text[i].isspace()):
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "\\":
                i += 1
            i += 1
        out.append((s, min(i, n)))
    return out


def _flag_value(flag: Flag, name: str) -> tuple[str, int] | None:
    """The value of ``--name=value`` and its index in ``flag.value``."""
    prefix = f"--{name}="
    if flag.value.lower().startswith(prefix):
        return flag.value[len(prefix):], len(prefix)
    return None


def _stage_scope(args: list[ArgDecl], stage: int) -> dict[str, ArgDecl]:
    """The ARGs a stage's instructions see, each with the declaration that holds its value:
    the stage's own default, else (for a bare ``ARG X``) the global default."""
    glob = {a.name: a for a in args if a.stage == -1 and a.value is not None}
    scope: dict[str, ArgDecl] = {}
    for a in args:
        if a.stage == stage:
            scope[a.name] = a if a.value is not None else glob.get(a.name, a)
    return scope


def _copy_add(df: Dockerfile, ins: Instruction, stage: int, stages: list[Stage],
              images: list[ImageSite], urls: list[UrlSite],
              scope: dict[str, ArgDecl]) -> None:
    text = ins.text
    flags, pos = _flags_and_rest(ins)
    checksum: Value | None = None
    for flag in flags:
        fv = _flag_value(flag, "from")
        span = flag.span(fv[1], len(flag.value)) if fv else None
        if fv and span and not any(st.matches(fv[0].lower()) for st in stages):
            site = _image_site(df, text, span[0], span[1], f"{ins.keyword} --from", stage,
                               ins.line, scope)
            if site and not any(st.matches(site.ref.lower()) for st in stages):
                images.append(site)
        cv = _flag_value(flag, "checksum")
        span = flag.span(cv[1], len(flag.value)) if cv else None
        if span:
            checksum = _value(df, text, span[0], span[1])
    if ins.keyword != "ADD":
        return
    rest = text.text[pos:]
    items = _json(ins, rest)
    if items is not None:
        srcs = items[:-1]
    else:
        srcs = [text.text[s:e] for s, e in _split_ws(text.text, pos)][:-1]
    for src in srcs:
        if _URL_RE.match(src):
            urls.append(UrlSite(src, "ADD", stage, ins.line, checksum))


def _run(df: Dockerfile, ins: Instruction, stage: int, stages: list[Stage],
         images: list[ImageSite], urls: list[UrlSite], apt: list[AptSite],
         commands: list[AptCommand], unmanaged: list[Unmanaged],
         scope: dict[str, ArgDecl]) -> None:
    text = ins.text
    flags, pos = _flags_and_rest(ins)
    for flag in flags:
        mv = _flag_value(flag, "mount")
        if not mv:
            continue
        # --mount=type=bind,from=<image>,target=… : one CSV field names the image.
        s = mv[1]
        for field in mv[0].split(","):
            key, eq, val = field.partition("=")
            span = flag.span(s + len(key) + 1, s + len(field)) if eq else None
            if (span and key.strip().lower() == "from" and val
                    and not any(st.matches(val.lower()) for st in stages)):
                site = _image_site(df, text, span[0], span[1], "RUN --mount", stage,
                                   ins.line, scope)
                if site and not any(st.matches(site.ref.lower()) for st in stages):
                    images.append(site)
            s += len(field) + 1
    rest = text.text[pos:]
    scripts: list[tuple[Text, int, bool]] = [(text, pos, _json(ins, rest) is not None)]
    for hd in ins.heredocs:
        scripts.append((hd.body, 0, False))
    for script, offset, json_form in scripts:
        _scan_script(df, ins, script, offset, json_form, stage, urls, apt, commands, unmanaged)


_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
_APT_IN_TEXT = re.compile(r"(?:^|[\s;&|(/`])apt(?:-get)?\s+\S")


def _scan_script(df: Dockerfile, ins: Instruction, script: Text, offset: int, json_form: bool,
                 stage: int, urls: list[UrlSite], apt: list[AptSite],
                 commands: list[AptCommand], unmanaged: list[Unmanaged]) -> None:
    body = script.text[offset:]
    if json_form:
        words = _json_words(body, offset, script.text)
        if (len(words) >= 3 and os.path.basename(words[0].value) in _SHELLS
                and words[1].value == "-c"):
            # RUN ["sh", "-c", "…"]: the script is the third string; scan it as shell
            # when its characters sit unescaped in the source (so offsets map 1:1).
            w = words[2]
            if script.text[w.start:w.end] == w.value:
                before = len(commands)
                _scan_shell(df, ins, script, w.start, w.end, stage, urls, apt, commands,
                            unmanaged)
                commands[before:] = [replace(c, in_json_string=True)
                                     for c in commands[before:]]
                return
        cmds = [words] if words else []
        _scan_commands(df, ins, script, cmds, [[c] for c in cmds], True, stage, urls, apt,
                       commands, unmanaged)
        return
    _scan_shell(df, ins, script, offset, len(script.text), stage, urls, apt, commands, unmanaged)


def _scan_shell(df: Dockerfile, ins: Instruction, script: Text, start: int, end: int,
                stage: int, urls: list[UrlSite], apt: list[AptSite],
                commands: list[AptCommand], unmanaged: list[Unmanaged]) -> None:
    tokens = shell.tokenize(script.text[start:end])
    bodies = _function_bodies(tokens)
    cmds = []
    for c in shell.commands(tokens):
        # `function name { apt-get …` is one simple command until the first `;`.
        inside = [i for i, w in enumerate(c) if _within(bodies, w.start)]
        if inside:
            words = _strip_prefix_words(c[inside[0]:])
            if words and os.path.basename(words[0].value) in APT_TOOLS:
                # The packages are the caller's arguments, and the function may run any
                # number of times: there is no one install line to pin.
                first = _shift(words[0], start)
                unmanaged.append(UnsafeApt(
                    _command_text(words), "apt inside a shell function installs what its "
                    "callers pass, not a list written in the Dockerfile",
                    _line_of(df, script, first), stage))
            continue
        cmds.append([_shift(w, start) for w in c])
    pipes = [[[_shift(w, start) for w in c] for c in p] for p in shell.pipelines(tokens)]
    _scan_commands(df, ins, script, cmds, pipes, False, stage, urls, apt, commands, unmanaged)


def _scan_commands(df: Dockerfile, ins: Instruction, script: Text, cmds: list[list[shell.Word]],
                   pipes: list[list[list[shell.Word]]], json_form: bool, stage: int,
                   urls: list[UrlSite], apt: list[AptSite], commands: list[AptCommand],
                   unmanaged: list[Unmanaged]) -> None:
    for words in cmds:
        words = _strip_prefix_words(words)
        if not words:
            continue
        prog = os.path.basename(words[0].value)
        vals = [w.value for w in words]
        if prog in APT_TOOLS:
            site = _apt_site(df, ins, script, words, stage, json_form, unmanaged)
            if site:
                apt.append(site)
            command = _apt_command(df, ins, script, words, stage, json_form)
            if command:
                commands.append(command)
        elif prog == "xargs" and any(os.path.basename(w.value) in APT_TOOLS for w in words):
            unmanaged.append(UnsafeApt(
                _command_text(words), "xargs runs apt with packages read from its input, "
                "not written in the Dockerfile", _line_of(df, script, words[0]), stage))
        elif (prog == "eval" or (prog in _SHELLS and "-c" in vals)) and any(
                _APT_IN_TEXT.search(v) for v in vals[1:]):
            # apt inside a string another shell parses: its words are not this RUN's words.
            unmanaged.append(UnsafeApt(
                _command_text(words), f"apt run through `{prog}` from a string: pinlock "
                "cannot rewrite inside it", _line_of(df, script, words[0]), stage))
        elif prog in ("curl", "wget"):
            for w in words[1:]:
                if _URL_RE.match(w.value):
                    urls.append(UrlSite(w.value, "RUN", stage, ins.line))
        elif reason := _apt_installer(vals):
            unmanaged.append(Unmanaged(_command_text(words), reason,
                                       _line_of(df, script, words[0])))
        elif prog in ("pip", "pip3") or (
            prog.startswith("python") and len(words) > 2 and words[1].value == "-m"
            and words[2].value == "pip"
        ):
            if "install" in vals and "--require-hashes" not in vals:
                unmanaged.append(Unmanaged(
                    " ".join(vals), "pip install without --require-hashes is not pinned",
                    ins.line))
        elif prog == "apk" and "add" in [v for v in vals[1:] if not v.startswith("-")][:1]:
            unmanaged.append(Unmanaged(" ".join(vals),
                                       "apk packages are not managed by pinlock", ins.line))
        elif prog in _SHELLS and "-c" in vals and any(
                re.search(r"\$\(\s*(curl|wget)\b", v) for v in vals):
            # sh -c "$(curl -fsSL …)": the same as curl | sh.
            unmanaged.append(Unmanaged(
                " ".join(vals), "a script fetched from the network and run by a shell cannot "
                "be pinned", ins.line))
    for pipe in pipes:
        if len(pipe) < 2:
            continue
        progs = [os.path.basename(_strip_prefix_words(c)[0].value) if _strip_prefix_words(c)
                 else "" for c in pipe]
        if progs[0] in ("curl", "wget") and any(p in _SHELLS for p in progs[1:]):
            unmanaged.append(Unmanaged(
                " | ".join(" ".join(w.value for w in c) for c in pipe),
                "a script piped from the network into a shell cannot be pinned", ins.line))


# Runners that start a package's binary: `npx playwright`, `pnpm exec playwright`.
_RUNNERS = {"npx": (), "bunx": (), "pnpx": (), "pnpm": ("exec", "dlx"), "yarn": ("exec", "dlx"),
            "npm": ("exec",)}


def _apt_installer(vals: list[str]) -> str | None:
    """Why a command installs apt packages of its own choosing, or None.

    These tools call apt-get with a package list written in their own code (playwright's
    browser dependencies) or take packages pinlock would have to follow through a helper
    script (bitnami's install_packages): the lock cannot pin what they install.
    """
    prog = os.path.basename(vals[0])
    rest = vals[1:]
    if prog in _RUNNERS:
        subs = _RUNNERS[prog]
        if subs and rest[:1] and rest[0] in subs:
            rest = rest[1:]
        rest = [v for v in rest if not v.startswith("-") or v == "--with-deps"]
        if not rest:
            return None
        # `playwright@1.49.0` names a version; `@playwright/test` is a scoped package.
        head = rest[0]
        prog = head if head.startswith("@") else head.split("@", 1)[0]
        rest = rest[1:]
    elif prog.startswith("python") and rest[:2] == ["-m", "playwright"]:
        prog, rest = "playwright", rest[2:]
    if prog in ("playwright", "@playwright/test"):
        args = [v for v in rest if not v.startswith("-")]
        if args[:1] == ["install-deps"]:
            return ("playwright install-deps runs apt-get with its own package list: "
                    "pinlock cannot pin what it installs")
        if args[:1] == ["install"] and "--with-deps" in rest:
            return ("playwright install --with-deps runs apt-get with its own package list: "
                    "pinlock cannot pin what it installs")
        return None
    if prog in ("install_packages", "apt-install"):
        return (f"{prog} is a helper script that runs apt-get: pinlock manages only "
                "apt-get and apt written in the Dockerfile")
    if prog in ("install-deps", "install-deps.sh") or (
            vals[0].startswith("/usr/share/") and "install-deps" in rest):
        return (f"{vals[0]} installs system dependencies through apt itself: "
                "pinlock cannot pin what it installs")
    return None


def _function_bodies(tokens: list[shell.Token]) -> list[tuple[int, int]]:
    """Spans of shell function bodies: ``name() { …; }``, ``function name { …; }``."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        j = -1
        if (isinstance(t, shell.Word) and i + 2 < n and isinstance(tokens[i + 1], shell.Op)
                and tokens[i + 1].value == "(" and isinstance(tokens[i + 2], shell.Op)
                and tokens[i + 2].value == ")"):
            j = i + 3
        elif isinstance(t, shell.Word) and t.value == "function" and i + 1 < n:
            j = i + 2
            if (j + 1 < n and tokens[j].value == "(" and isinstance(tokens[j], shell.Op)
                    and tokens[j + 1].value == ")"):
                j += 2
        if j < 0:
            i += 1
            continue
        while j < n and isinstance(tokens[j], shell.Op) and tokens[j].value == "\n":
            j += 1
        if j >= n or tokens[j].value not in ("{", "("):
            i += 1
            continue
        opener = tokens[j].value
        closer = "}" if opener == "{" else ")"
        depth, k = 0, j
        while k < n:
            v = tokens[k].value
            if v == opener:
                depth += 1
            elif v == closer:
                depth -= 1
                if depth == 0:
                    break
            k += 1
        end = tokens[k].end if k < n else tokens[-1].end
        out.append((tokens[j].start, end))
        i = k + 1
    return out


def _within(spans: list[tuple[int, int]], at: int) -> bool:
    """``at`` lies in one of ``spans`` (sorted, disjoint): a bisection, not a scan, so a RUN
    of thousands of functions stays linear."""
    k = bisect.bisect_right(spans, (at, sys.maxsize)) - 1
    return k >= 0 and spans[k][0] <= at < spans[k][1]


def _command_text(words: list[shell.Word]) -> str:
    return " ".join(w.value for w in words)


def _line_of(df: Dockerfile, script: Text, w: shell.Word) -> int:
    return df.line_of(script.source_span(w.start, w.end)[0])


def _shift(w: shell.Word, offset: int) -> shell.Word:
    return shell.Word(w.value, w.start + offset, w.end + offset, w.has_expansion)


# Words that run the command after them: wrappers, and the shell's reserved words that
# open a compound command (`if …; then apt-get install …`, `{ apt-get …; }`).
_PREFIX_WORDS = frozenset({"sudo", "env", "exec", "command", "{", "!", "if", "then", "else",
                           "elif", "do", "while", "until", "time"})


def _strip_prefix_words(words: list[shell.Word]) -> list[shell.Word]:
    """Drop ``VAR=value`` assignments and wrappers (sudo, env) before the program name."""
    i = 0
    while i < len(words):
        v = words[i].value
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", v) or v in _PREFIX_WORDS:
            i += 1
            continue
        break
    return words[i:]


def _json_words(body: str, offset: int, full: str) -> list[shell.Word]:
    """JSON form: the array's strings, each located in the source text (inside its quotes)."""
    try:
        items = json_args(body)
    except ParseError:
        return []
    if items is None:
        return []
    words: list[shell.Word] = []
    pos = offset
    for item in items:
        # A string written with escapes (\u0063url) is not found: no site, never a wrong span.
        encoded = json.dumps(item, ensure_ascii=False)
        at = full.find(encoded, pos)
        if at == -1:
            return []
        words.append(shell.Word(item, at + 1, at + len(encoded) - 1))
        pos = at + len(encoded)
    return words


def _word_value(df: Dockerfile, script: Text, w: shell.Word) -> Value:
    """Where a package word lives: inside its quotes when it is simply quoted ('curl')."""
    s, e = w.start, w.end
    raw = script.text[s:e]
    if (len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]
            and raw[1:-1] == w.value and not any(c in raw[1:-1] for c in "'\"\\$`")):
        s, e = s + 1, e - 1
    ss, se = script.source_span(s, e)
    return Value(script.text[s:e], ss, se, df.line_of(ss))


def _apt_site(df: Dockerfile, ins: Instruction, script: Text, words: list[shell.Word],
              stage: int, json_form: bool, unmanaged: list[Unmanaged]) -> AptSite | None:
    tool = os.path.basename(words[0].value)
    i = 1
    sub = None
    no_rec = False
    pkgs: list[AptPackageWord] = []
    dynamic: list[shell.Word] = []
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
            if w.has_expansion or "`" in w.value:
                # `apt-get install $PACKAGES`, `$(cat list)`, `curl=$V`: what is installed
                # is decided when the image builds, not written in the Dockerfile.
                dynamic.append(w)
            else:
                pkgs.append(AptPackageWord(name, version if eq else None,
                                           _word_value(df, script, w)))
        i += 1
    if sub != "install":
        return None
    if dynamic:
        subst = any("$(" in w.value or "`" in w.value for w in dynamic)
        raw = script.text[dynamic[0].start:dynamic[-1].end]
        unmanaged.append(UnsafeApt(
            _command_text(words),
            (f"the package list comes from a command substitution ({raw})"
             if subst else f"the package list comes from a variable ({raw})")
            + ", so it is not written in the Dockerfile", _line_of(df, script, dynamic[0]),
            stage))
        return None
    if not pkgs:
        return None  # `apt-get install -f`, or only variables: nothing to pin here
    return AptSite(stage, ins.line, tool, tuple(pkgs), no_rec, json_form)


_SNAPSHOT_PREFIXES = ("--snapshot=", "-S", "-oAPT::Snapshot=", "--option=APT::Snapshot=")


def _apt_command(df: Dockerfile, ins: Instruction, script: Text, words: list[shell.Word],
                 stage: int, json_form: bool) -> AptCommand | None:
    """The subcommand of an apt-get/apt call and the snapshot it passes, if any."""
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
            snap = (_word_value(df, script, nxt), nxt.value)
            last = nxt
        elif v in ("-o", "--option") and nxt is not None and nxt.value.startswith(
                "APT::Snapshot="):
            snap = _after_prefix(df, script, nxt, "APT::Snapshot=") or snap
            last = nxt
        else:
            for prefix in _SNAPSHOT_PREFIXES:
                if v.startswith(prefix) and len(v) > len(prefix) and v != "-S":
                    snap = _after_prefix(df, script, w, prefix) or snap
                    break
            else:
                last = None
        if last is not None:
            snap_end = script.source_span(last.start, last.end)[1]
        opt = _config_option(df, script, w, nxt)
        if opt is not None:
            options.append(opt)
        i += 2 if v in _APT_OPTS_WITH_ARG else 1
    if sub is None:
        return None
    after = script.source_span(sub.start, sub.end)[1]
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
    escape = "\\" if script is not ins.text else df.escape
    line_break = f" {escape}\n{pad}    "
    return AptCommand(stage, df.line_of(after), os.path.basename(words[0].value), sub.value,
                      after, line_start, indent,
                      snap[0] if snap else None, snap[1] if snap else None, json_form,
                      options=tuple(options), after_snapshot=snap_end, line_break=line_break)


def _config_option(df: Dockerfile, script: Text, w: shell.Word,
                   nxt: shell.Word | None) -> AptOption | None:
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
    return AptOption(key, value, _word_value(df, script, word))


def _after_prefix(df: Dockerfile, script: Text, w: shell.Word,
                  prefix: str) -> tuple[Value, str] | None:
    """``--snapshot=VALUE``: the VALUE part, when the word is written without quotes."""
    raw = script.text[w.start:w.end]
    if not raw.startswith(prefix):
        return None
    ss, se = script.source_span(w.start + len(prefix), w.end)
    return Value(raw[len(prefix):], ss, se, df.line_of(ss)), w.value[len(prefix):]
