"""Checksums that check downloads: sha256s in ARG/ENV defaults, ``ADD --checksum`` and RUN text.

What it reports (the site types live in ``pinlock.dockerfile.sitemodel``; nothing here is
specific to an upstream, so every kind that pins a download reads the same sites):

- ``ChecksumSite``: one sha256 (64 hex digits) that checks a downloaded file, with the exact
  span of the digits, so a kind can rewrite them in place. The digits sit in an ARG or ENV
  default (``holder`` names it) used by ``sha256sum -c`` in its forms (``echo "${X}  f" |
  sha256sum -c -``, ``echo "$X *f" | sha256sum --check``, ``printf '%s  %s\\n' "$X" f``,
  ``sha256sum -c <<<"…"``, ``--strict``), by ``ADD --checksum=sha256:${X}``, or by nothing
  seen (``how = "name"``: a kind may still tie it by name). Or they are literal: in
  ``ADD --checksum=sha256:<hex>``, in ``echo "<hex>  file"``, or assigned in the arms of a
  per-architecture ``case`` (``case "$(dpkg --print-architecture)" in amd64) sha256='…';
  url=… ;; esac``, also ``apkArch``/``uname -m``), then ``arch`` holds the arm's patterns.
  ``url`` is the URL of the checked file as written, ARG/ENV references unexpanded and the
  RUN's own shell variables (``url=…``, ``binArch=…``) substituted. ``url_values`` are the
  source spans of the words that URL was read from (the download's URL word, and the
  ``url='…'`` assignments it reads), each exact, so a version written in them can be
  rewritten in place; empty when a part has no exact span or comes from no word of the RUN.
- ``ChecksumFileSite``: a sidecar ``.sha256`` or a ``SHA256SUMS``/``SHASUMS256.txt`` file
  downloaded in the RUN and checked there (``sha256sum -c --ignore-missing SUMS``, ``grep f
  SUMS | sha256sum -c``): upstream's value, read at build time, so nothing to rewrite.
- ``Unmanaged``: a checksum computed or fetched while the image builds, or a URL assembled in
  a shell loop: seen, with its line and why, never guessed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from pinlock.dockerfile import shell
from pinlock.dockerfile.parser import Text
from pinlock.dockerfile.recognize.args import NAME_VAR_RE, ONE_VAR_RE, _quoted_words
from pinlock.dockerfile.recognize.context import Step, flag_value, split_ws, strip_prefix_words
from pinlock.dockerfile.sitemodel import (
    ArgDecl,
    ChecksumFileSite,
    Checksums,
    ChecksumSite,
    Unmanaged,
    Value,
)

_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_SUMS_FILE = re.compile(r"(\.sha256(sum)?|sha256sums?(\.txt)?|shasums256\.txt|checksums?\.txt)$",
                        re.IGNORECASE)
# "$(curl … .sha256)  file": a value the build computes or fetches, then the file.
_COMPUTED = re.compile(r"^(\$\(.*\)|`.*`)\s+(\S+)$", re.DOTALL)
_CHECKERS = frozenset({"sha256sum", "shasum"})


def env_declarations(step: Step) -> list[ArgDecl]:
    """``ENV K=V …`` and ``ENV K V``: each name with its value's span (quotes excluded).

    Read here until Sites carries ENV declarations of its own; then this goes."""
    ins, text = step.ins, step.ins.text
    words = _quoted_words(text.text, ins.args_offset)
    if not words:
        return []
    out: list[ArgDecl] = []
    first = text.text[words[0][0]:words[0][1]]
    if "=" not in first:
        # The legacy form: one name, the rest of the line is its value.
        if len(words) < 2:
            return []
        vs, ve = words[1][0], words[-1][1]
        vs, ve = _unquoted(text.text, vs, ve)
        return [ArgDecl(first, step.value(text, vs, ve), step.stage, ins.line)]
    for ws, we in words:
        name, eq, _ = text.text[ws:we].partition("=")
        if not eq:
            continue
        vs, ve = _unquoted(text.text, ws + len(name) + 1, we)
        out.append(ArgDecl(name, step.value(text, vs, ve), step.stage, ins.line))
    return out


def _unquoted(text: str, vs: int, ve: int) -> tuple[int, int]:
    if ve - vs >= 2 and text[vs] in "'\"" and text[ve - 1] == text[vs]:
        return vs + 1, ve - 1
    return vs, ve


@dataclass
class _Assign:
    text: str  # after quote removal
    hex: Value | None  # the value is a literal sha256: where its digits sit
    line: int
    span: Value | None = None  # the assigned value as written, quotes aside (exact)


@dataclass
class _Arm:
    patterns: tuple[str, ...]
    vars: dict[str, _Assign] = field(default_factory=dict)


@dataclass
class _Check:
    expr: str  # "$NAME", "${NAME}" or 64 hex digits
    hex: Value | None
    file: str
    line: int
    text: str  # the command, for reports


@dataclass
class _Script:
    """What one RUN script says, collected in order, tied once it has been read whole."""

    vars: dict[str, _Assign] = field(default_factory=dict)
    arms: dict[str, list[_Arm]] = field(default_factory=dict)  # variable -> arms assigning it
    # (file, url, line, the URL word's exact span)
    downloads: list[tuple[str, str, int, Value | None]] = field(default_factory=list)
    checks: list[_Check] = field(default_factory=list)
    sums: list[tuple[str, str | None, int]] = field(default_factory=list)  # (file, checks, line)
    checker: bool = False  # a sha256sum/shasum -c runs in this script
    loop_vars: set[str] = field(default_factory=set)


class Recognizer:
    """Fed every instruction in order by ``find_sites``; ``result()`` is what it found."""

    def __init__(self) -> None:
        self.sites: list[ChecksumSite] = []
        self.files: list[ChecksumFileSite] = []
        self.env: list[ArgDecl] = []
        self.unmanaged: list[Unmanaged] = []
        self._stage = -1
        self._stage_env: dict[str, ArgDecl] = {}
        # file -> (URL, its words' spans) downloaded in the stage so far
        self._stage_files: dict[str, tuple[str, tuple[Value, ...]]] = {}
        self._holders: dict[tuple[int, int], ArgDecl] = {}  # hex defaults seen, by span
        self._used: set[tuple[int, int]] = set()

    def instruction(self, step: Step) -> None:
        kw = step.ins.keyword
        if step.stage != self._stage:
            self._stage, self._stage_env, self._stage_files = step.stage, {}, {}
        if kw == "ENV":
            for decl in env_declarations(step):
                self.env.append(decl)
                self._stage_env[decl.name] = decl
                self._note_holder(decl)
        elif kw == "ADD":
            self._add(step)
        elif kw == "RUN":
            self._run(step)

    def declared(self, decls: list[ArgDecl]) -> None:
        """ARG declarations, as find_sites reads them: a sha256 default is a checksum."""
        for decl in decls:
            self._note_holder(decl)

    def result(self) -> tuple[Checksums, list[Unmanaged]]:
        for span, decl in self._holders.items():
            if span not in self._used and decl.value is not None:
                self.sites.append(ChecksumSite(
                    decl.value, decl.name, self._held_in(decl), "name", None, None,
                    decl.stage, decl.line))
        return Checksums(tuple(self.sites), tuple(self.files), tuple(self.env)), self.unmanaged

    # ------------------------------------------------------------ values and holders

    def _held_in(self, decl: ArgDecl) -> str:
        return "ENV" if any(d is decl for d in self.env) else "ARG"

    def _note_holder(self, decl: ArgDecl) -> None:
        if decl.value is not None and _HEX.fullmatch(decl.value.text):
            self._holders.setdefault((decl.value.start, decl.value.end), decl)

    def _lookup(self, step: Step, name: str) -> ArgDecl | None:
        """The declaration a Dockerfile variable reads: ENV first, as BuildKit resolves it."""
        return self._stage_env.get(name) or step.scope.get(name)

    def _held(self, step: Step, name: str, how: str, url: str | None, file: str | None,
              arch: tuple[str, ...] = (), url_values: tuple[Value, ...] = ()) -> bool:
        decl = self._lookup(step, name)
        if decl is None or decl.value is None or not _HEX.fullmatch(decl.value.text):
            return False
        self._note_holder(decl)
        self._used.add((decl.value.start, decl.value.end))
        self.sites.append(ChecksumSite(decl.value, decl.name, self._held_in(decl), how, url,
                                       file, step.stage, step.ins.line, arch, url_values))
        return True

    # ------------------------------------------------------------ ADD

    def _add(self, step: Step) -> None:
        text = step.ins.text
        flags, pos = step.flags
        items = step.json_args(pos)
        words = items if items is not None else [
            text.text[s:e] for s, e in split_ws(text.text, pos)]
        if len(words) < 2:
            return
        srcs, dest = words[:-1], words[-1]
        spans: list[Value | None] = [None] * len(words)
        if items is None:
            spans = [self._unquoted_value(step, text, s, e) for s, e in split_ws(text.text, pos)]
        urls = [(s, spans[i]) for i, s in enumerate(srcs) if _URL.match(s)]
        for u, sp in urls:
            f = dest + _basename(u) if dest.endswith("/") else dest
            self._stage_files[f] = (u, (sp,) if sp is not None else ())
        if len(urls) != 1:
            return
        url, url_span = urls[0]
        url_values = (url_span,) if url_span is not None and url_span.text == url else ()
        for flag in flags:
            cv = flag_value(flag, "checksum")
            if not cv or not cv[0].lower().startswith("sha256:"):
                continue
            digest = cv[0][len("sha256:"):]
            ref = ONE_VAR_RE.match(digest)
            span = flag.span(cv[1] + len("sha256:"), len(flag.value))
            if _HEX.fullmatch(digest) and span:
                self.sites.append(ChecksumSite(step.value(text, span[0], span[1]), None, "ADD",
                                               "add-checksum", url, dest, step.stage,
                                               step.ins.line, url_values=url_values))
            elif ref:
                self._held(step, ref.group(1) or ref.group(2), "add-checksum", url, dest,
                           url_values=url_values)

    # ------------------------------------------------------------ RUN

    def _run(self, step: Step) -> None:
        text = step.ins.text
        _flags, pos = step.flags
        if step.json_args(pos) is not None:
            return  # exec form: no shell, so no sha256sum pipeline to read
        self._script(step, text, pos)
        for hd in step.ins.heredocs:
            self._script(step, hd.body, 0)

    def _script(self, step: Step, text: Text, start: int) -> None:
        sc = _Script()
        tokens = [_shift(t, start) for t in shell.tokenize(text.text[start:])]
        self._walk(step, text, tokens, sc)
        self._tie(step, sc)

    def _walk(self, step: Step, text: Text, tokens: list[shell.Token], sc: _Script) -> None:
        """Commands in order, with the arms of ``case`` blocks and the words of ``for``."""
        cases: list[list[_Arm]] = []  # open case blocks, innermost last
        arm: _Arm | None = None
        in_patterns = False
        patterns: list[str] = []
        cmd: list[shell.Word] = []
        here: list[shell.Word] = []  # here-strings of the current command
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            if isinstance(tok, shell.Word):
                if in_patterns:
                    if tok.value == "esac" and not patterns:
                        cases.pop()
                        arm, in_patterns = None, False
                    else:
                        patterns.append(tok.value)
                elif not cmd and tok.value == "esac" and cases:
                    cases.pop()
                    arm = None
                elif (not cmd and tok.value == "case" and i + 2 < n
                      and tokens[i + 2].value == "in"):
                    self._command(step, text, cmd, here, sc, arm)
                    cases.append([])
                    in_patterns, patterns = True, []
                    i += 3
                    continue
                else:
                    cmd.append(tok)
                i += 1
                continue
            op = tok.value
            if in_patterns:
                if op == ")":
                    arm = _Arm(tuple(patterns))
                    cases[-1].append(arm)
                    patterns, in_patterns = [], False
                i += 1
                continue
            bare = op.lstrip("0123456789")
            target = tokens[i + 2] if i + 2 < n else None
            if bare == "<<" and tokens[i + 1].value == "<" and isinstance(target, shell.Word):
                here.append(target)  # <<< "word": a here-string
                i += 3
                continue
            if bare.startswith(("<", ">", "&>")):
                i += 2  # a redirection and its target
                continue
            # A control operator ends the command.
            self._command(step, text, cmd, here, sc, arm)
            cmd, here = [], []
            if op in (";;", ";&", ";;&") and cases:
                in_patterns, arm, patterns = True, None, []
            i += 1
        self._command(step, text, cmd, here, sc, arm)

    def _command(self, step: Step, text: Text, cmd: list[shell.Word], here: list[shell.Word],
                 sc: _Script, arm: _Arm | None) -> None:
        """One simple command: its assignments, then what it runs."""
        for w in cmd:
            m = _ASSIGN.match(w.value)
            if not m:
                break
            value = w.value[m.end():]
            target = arm.vars if arm is not None else sc.vars
            target[m.group(1)] = _Assign(value, self._hex_in(step, text, w, value),
                                         self._line(step, text, w),
                                         self._assigned(step, text, w, m.group(1), value))
            if arm is not None:
                sc.arms.setdefault(m.group(1), []).append(arm)
        words = strip_prefix_words(cmd)
        if not words:
            return
        prog = os.path.basename(words[0].value)
        vals = [w.value for w in words]
        line = self._line(step, text, words[0])
        if prog == "for" and len(vals) > 1:
            sc.loop_vars.add(vals[1])
        elif prog in ("curl", "wget"):
            self._download(step, text, prog, words, sc, line)
        elif prog in ("echo", "printf"):
            self._candidate(step, text, words, prog, sc, line)
        elif prog in _CHECKERS or prog == "grep":
            self._checker(prog, vals, here, step, text, sc, line)

    def _download(self, step: Step, text: Text, prog: str, words: list[shell.Word],
                  sc: _Script, line: int) -> None:
        vals = [w.value for w in words]
        urls: list[tuple[str, Value | None]] = []
        out: str | None = None
        out_flag = "o" if prog == "curl" else "O"
        i = 1
        while i < len(vals):
            v = vals[i]
            nxt = vals[i + 1] if i + 1 < len(vals) else None
            if v in ("--output", "--output-document") and nxt is not None:
                out = nxt
                i += 2
                continue
            if v.startswith(("--output-document=", "--output=")):
                out = v.split("=", 1)[1]
            elif v.startswith("-") and not v.startswith("--") and out_flag in v[1:]:
                # -o FILE, -fsSLo FILE, -qO- (wget), -oFILE
                rest = v[v.index(out_flag, 1) + 1:]
                if rest:
                    out = rest
                elif nxt is not None:
                    out = nxt
                    i += 2
                    continue
            elif not v.startswith("-") and self._url_like(step, v, sc):
                span = self._word_value(step, text, words[i])
                urls.append((v, span if span is not None and span.text == v else None))
            i += 1
        for url, span in urls:
            loop = [n for n in _names(url) if n in sc.loop_vars]
            if loop:
                self.unmanaged.append(Unmanaged(
                    " ".join(vals), f"the URL is assembled in a shell loop (${loop[0]}): "
                    "pinlock cannot tie a checksum to each file it fetches", line))
                continue
            own = out if out not in (None, "-") and len(urls) == 1 else _basename(url)
            sc.downloads.append((own, url, line, span))

    def _url_like(self, step: Step, word: str, sc: _Script) -> bool:
        if _URL.match(word):
            return True
        ref = ONE_VAR_RE.match(word)
        if ref is None:
            return _URL.match(self._resolve(step, word, sc, None)) is not None
        name = ref.group(1) or ref.group(2)
        values = [a.vars[name].text for a in sc.arms.get(name, [])]
        if name in sc.vars:
            values.append(sc.vars[name].text)
        decl = self._lookup(step, name)
        if decl is not None and decl.value is not None:
            values.append(decl.value.text)
        return any(_URL.match(_strip_quotes(v)) for v in values)

    def _candidate(self, step: Step, text: Text, words: list[shell.Word], prog: str,
                   sc: _Script, line: int) -> None:
        """``echo "<sha256>  <file>"`` / ``printf '%s  %s\\n' "$SHA" file``: a check line."""
        args = words[1:]
        while args and args[0].value.startswith("-") and prog == "echo":
            args = args[1:]
        if prog == "printf" and args and "%s" in args[0].value:
            body = args[1:]
            if len(body) < 2:
                return
            expr_w, file_v = body[0], body[1].value.lstrip("*")
            self._add_check(step, text, expr_w, expr_w.value.strip(), file_v, sc, line, words)
            return
        if not args:
            return
        joined = " ".join(a.value for a in args)
        computed = _COMPUTED.match(joined)
        fields = list(computed.groups()) if computed else joined.split()
        if len(fields) != 2:
            return
        expr, file_v = fields[0], fields[1].lstrip("*")
        holder = next((a for a in args if expr in a.value), args[0])
        self._add_check(step, text, holder, expr, file_v, sc, line, words)

    def _add_check(self, step: Step, text: Text, w: shell.Word, expr: str, file_v: str,
                   sc: _Script, line: int, words: list[shell.Word]) -> None:
        shown = " ".join(x.value for x in words)
        if _HEX.fullmatch(expr):
            sc.checks.append(_Check(expr, self._hex_in(step, text, w, expr), file_v, line, shown))
        elif ONE_VAR_RE.match(expr) or "$(" in expr or "`" in expr:
            sc.checks.append(_Check(expr, None, file_v, line, shown))

    def _checker(self, prog: str, vals: list[str], here: list[shell.Word], step: Step,
                 text: Text, sc: _Script, line: int) -> None:
        if prog == "grep":
            args = [v for v in vals[1:] if not v.startswith("-")]
            if len(args) == 2 and (_SUMS_FILE.search(args[1]) or "sum" in args[1].lower()):
                # grep " t.tgz$" SUMS: the pattern names the file, anchors aside.
                sc.sums.append((args[1], args[0].strip(" ^$\\"), line))
            return
        if prog == "shasum" and not any(v in ("-a256", "256") for v in vals):
            return
        if not any(v in ("-c", "--check") or (v.startswith("-") and not v.startswith("--")
                                              and "c" in v[1:]) for v in vals[1:]):
            return
        sc.checker = True
        for w in here:
            fields = w.value.split()
            if len(fields) == 2:
                self._add_check(step, text, w, fields[0], fields[1].lstrip("*"), sc, line,
                                [w])
        files = [v for v in vals[1:] if not v.startswith("-") and v not in ("256",)]
        for f in files:
            sc.sums.append((f, None, line))

    # ------------------------------------------------------------ tying a script together

    def _tie(self, step: Step, sc: _Script) -> None:
        for f, u, _line, span in sc.downloads:
            self._stage_files[self._resolve(step, f, sc, None)] = (
                u, self._spans(u, span, sc, None))
        if sc.checker:
            for check in sc.checks:
                self._tie_check(step, sc, check)
        for sums_file, checked, line in sc.sums:
            url = self._file_url(step, sums_file, sc, None)
            if url is None:
                continue
            target = None
            if checked is not None:
                target = self._file_url(step, checked, sc, None)
            elif _SUMS_FILE.search(sums_file) and sums_file.lower().endswith(
                    (".sha256", ".sha256sum")):
                target = self._file_url(step, re.sub(r"\.sha256(sum)?$", "", sums_file,
                                                     flags=re.IGNORECASE), sc, None)
            self.files.append(ChecksumFileSite(url, target, step.stage, line))

    def _tie_check(self, step: Step, sc: _Script, check: _Check) -> None:
        if check.hex is not None:
            self._used.add((check.hex.start, check.hex.end))
            url, spans = self._file_download(step, check.file, sc, None)
            self.sites.append(ChecksumSite(check.hex, None, "RUN", "sha256sum", url,
                                           check.file, step.stage, check.line, (), spans))
            return
        ref = ONE_VAR_RE.match(check.expr)
        if ref is None:
            self._computed(check, check.expr)
            return
        name = ref.group(1) or ref.group(2)
        url, spans = self._file_download(step, check.file, sc, None)
        arms = sc.arms.get(name, [])
        if arms:
            for arm in arms:
                self._tie_assign(step, sc, check, arm.vars[name], arm)
        elif name in sc.vars:
            self._tie_assign(step, sc, check, sc.vars[name], None)
        elif not self._held(step, name, "sha256sum", url, check.file, url_values=spans):
            self.unmanaged.append(Unmanaged(
                check.text, f"the sha256 comes from ${name}, which holds no sha256 written in "
                "the Dockerfile: pinlock has no value to pin", check.line))

    def _tie_assign(self, step: Step, sc: _Script, check: _Check, value: _Assign,
                    arm: _Arm | None) -> None:
        arch = arm.patterns if arm is not None else ()
        url, spans = self._file_download(step, check.file, sc, arm)
        if value.hex is not None:
            self._used.add((value.hex.start, value.hex.end))
            self.sites.append(ChecksumSite(value.hex, None, "RUN", "sha256sum", url, check.file,
                                           step.stage, value.line, arch, spans))
            return
        ref = ONE_VAR_RE.match(value.text)
        if ref and self._held(step, ref.group(1) or ref.group(2), "sha256sum", url,
                              check.file, arch, spans):
            return
        self._computed(check, value.text)

    def _computed(self, check: _Check, expr: str) -> None:
        if "$(" in expr or "`" in expr:
            why = (f"the sha256 is computed or fetched when the image builds ({expr}): "
                   "pinlock has no value to pin")
        else:
            why = f"the sha256 comes from {expr}, which pinlock cannot follow"
        self.unmanaged.append(Unmanaged(check.text, why, check.line))

    def _file_url(self, step: Step, file: str, sc: _Script, arm: _Arm | None) -> str | None:
        """The URL ``file`` was downloaded from (this RUN, else earlier in the stage)."""
        return self._file_download(step, file, sc, arm)[0]

    def _file_download(self, step: Step, file: str, sc: _Script, arm: _Arm | None
                       ) -> tuple[str | None, tuple[Value, ...]]:
        """The URL ``file`` was downloaded from, and the spans of the words it was read from."""
        want = self._resolve(step, file, sc, arm)
        for f, u, _line, span in reversed(sc.downloads):
            got = self._resolve(step, f, sc, arm)
            if got == want or (os.path.basename(got) == os.path.basename(want) and got):
                return self._resolve(step, u, sc, arm), self._spans(u, span, sc, arm)
        for f, (u, spans) in self._stage_files.items():
            if f == want or (os.path.basename(f) == os.path.basename(want) and f):
                return u, spans
        return None, ()

    def _spans(self, word: str, span: Value | None, sc: _Script, arm: _Arm | None
               ) -> tuple[Value, ...]:
        """The exact spans ``word`` (a URL as the command reads it) is written in: its own,
        and those of the RUN's assignments it reads, as ``_resolve`` follows them. Empty
        when one of them has no exact span: a version there could not be placed."""
        if span is None:
            return ()
        out = [span]
        todo, seen = [word], set()
        for _ in range(3):
            nxt = []
            for w in todo:
                for name in _names(w):
                    if name in seen:
                        continue
                    seen.add(name)
                    if arm is not None and name in arm.vars:
                        got = arm.vars[name]
                    elif name in sc.vars and "$" + name not in sc.vars[name].text \
                            and "${" + name not in sc.vars[name].text:
                        got = sc.vars[name]
                    else:
                        continue  # an ARG/ENV reference: the kind expands it
                    if got.span is None:
                        return ()
                    out.append(got.span)
                    nxt.append(got.text)
            todo = nxt
        return tuple(out)

    def _resolve(self, step: Step, word: str, sc: _Script, arm: _Arm | None) -> str:
        """``word`` with the script's own variables substituted (a case arm's first); ARG
        and ENV references are left as written, for the kind to expand with its values."""
        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            if arm is not None and name in arm.vars:
                return _strip_quotes(arm.vars[name].text)
            if name in sc.vars and "$" + name not in sc.vars[name].text \
                    and "${" + name not in sc.vars[name].text:
                return _strip_quotes(sc.vars[name].text)
            return m.group(0)

        out = word
        for _ in range(3):  # url="$base/$file": a few levels, never a loop
            nxt = NAME_VAR_RE.sub(sub, out)
            if nxt == out:
                break
            out = nxt
        return out

    def _hex_in(self, step: Step, text: Text, w: shell.Word, value: str) -> Value | None:
        """Where the digits of ``value``, when it is a literal sha256, sit in the source."""
        digits = value.strip().lstrip("*")
        return self._find_hex(step, text, w, digits) if _HEX.fullmatch(digits) else None

    def _find_hex(self, step: Step, text: Text, w: shell.Word, digits: str) -> Value | None:
        raw = text.text[w.start:w.end]
        at = raw.find(digits)
        if at < 0 or raw.find(digits, at + 1) >= 0:
            return None
        s, e = text.source_span(w.start + at, w.start + at + 64)
        if e - s != 64:
            return None  # a line continuation inside the digits: no exact span to rewrite
        return Value(digits, s, e, step.df.line_of(s))

    def _unquoted_value(self, step: Step, text: Text, start: int, end: int) -> Value | None:
        """The characters ``[start, end)`` hold, one pair of outer quotes aside, when they
        sit contiguously in the source (no line continuation inside): else None."""
        raw = text.text[start:end]
        if len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] and raw[0] not in raw[1:-1]:
            start, end = start + 1, end - 1
        if end <= start:
            return None
        s, e = text.source_span(start, end)
        if e - s != end - start:
            return None
        return Value(text.text[start:end], s, e, step.df.line_of(s))

    def _word_value(self, step: Step, text: Text, w: shell.Word) -> Value | None:
        return self._unquoted_value(step, text, w.start, w.end)

    def _assigned(self, step: Step, text: Text, w: shell.Word, name: str, value: str
                  ) -> Value | None:
        """Where the value of ``NAME=value`` sits, exactly as written, quotes aside."""
        raw = text.text[w.start:w.end]
        if not raw.startswith(name + "="):
            return None
        got = self._unquoted_value(step, text, w.start + len(name) + 1, w.end)
        return got if got is not None and got.text == value else None

    def _line(self, step: Step, text: Text, w: shell.Word) -> int:
        return step.df.line_of(text.source_span(w.start, w.end)[0])


def _shift(t: shell.Token, offset: int) -> shell.Token:
    if isinstance(t, shell.Word):
        return shell.Word(t.value, t.start + offset, t.end + offset, t.has_expansion)
    return shell.Op(t.value, t.start + offset, t.end + offset)


def _names(text: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in NAME_VAR_RE.finditer(text)]


def _basename(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _strip_quotes(value: str) -> str:
    return value.strip("'\"")
