"""ARG and ENV declarations, the variables each instruction sees, and BuildKit's word expansion."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pinlock.dockerfile.recognize.context import Step
from pinlock.dockerfile.sitemodel import ArgDecl

VAR_RE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
# A plain ``${NAME}`` or ``$NAME`` (name in group 1 or 2); ONE_VAR_RE: a word that is just one.
NAME_VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
ONE_VAR_RE = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")

# The ARGs BuildKit sets itself in the global scope, from the platform of each build: a FROM
# may read them undeclared, and their value differs from one platform to the next.
PLATFORM_ARGS = frozenset({"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                           "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"})
# Stands where a variable without a value was read, so a caller can tell (and match) the gap.
HOLE = "\x00"

Values = Mapping[str, str | None]  # name -> value; None: declared without one


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

    out = VAR_RE.sub(sub, text)
    return None if failed else (out, used)


# ------------------------------------------------------------------ BuildKit's word expansion


@dataclass(frozen=True)
class Expansion:
    """A word as BuildKit reads it: quotes removed, escapes applied, variables expanded.

    ``missing`` names each variable read that has no value from the Dockerfile's defaults
    (declared bare, not declared, or a platform ARG); each stands as ``HOLE`` in ``text``.
    """

    text: str
    names: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def resolved(self) -> str | None:
        return None if self.missing else self.text


@dataclass
class _Lexer:
    """BuildKit's shell/lex.go ``ProcessWord``, for the forms a Dockerfile's defaults use."""

    src: str
    values: Values
    escape: str
    i: int = 0
    names: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def word(self, stop: str = "") -> str:
        out: list[str] = []
        src = self.src
        while self.i < len(src):
            ch = src[self.i]
            if stop and ch == stop:
                self.i += 1
                return "".join(out)
            if ch == self.escape:
                # An escape outside quotes keeps the next character as it is.
                if self.i + 1 < len(src):
                    out.append(src[self.i + 1])
                self.i += 2
            elif ch == "'":
                end = src.find("'", self.i + 1)
                end = len(src) if end == -1 else end
                out.append(src[self.i + 1:end])
                self.i = end + 1
            elif ch == '"':
                out.append(self._double_quoted())
            elif ch == "$":
                out.append(self._dollar())
            else:
                out.append(ch)
                self.i += 1
        return "".join(out)

    def _double_quoted(self) -> str:
        out: list[str] = []
        src = self.src
        self.i += 1
        while self.i < len(src) and src[self.i] != '"':
            ch = src[self.i]
            if ch == "$":
                out.append(self._dollar())
                continue
            if ch == self.escape and self.i + 1 < len(src) and src[self.i + 1] in (
                    '"', "$", self.escape):
                self.i += 1
                ch = src[self.i]
            out.append(ch)
            self.i += 1
        self.i += 1
        return "".join(out)

    def _name(self) -> str:
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]").match(self.src, self.i)
        if not m:
            return ""
        self.i = m.end()
        return m.group(0)

    def _read(self, name: str, *, plain: bool) -> str | None:
        """The value of ``name``; None when unset. ``plain``: the value itself is wanted, so
        a variable without a value is a gap, not the empty string BuildKit would give."""
        self.names.append(name)
        val = self.values.get(name)
        if val is None and plain:
            self.missing.append(name)
            return HOLE
        return val

    def _dollar(self) -> str:
        src = self.src
        self.i += 1
        if self.i >= len(src) or src[self.i] != "{":
            name = self._name()
            if not name:
                return "$"
            return self._read(name, plain=True) or ""
        self.i += 1
        name = self._name()
        op = src[self.i] if self.i < len(src) else ""
        if name and op == "}":
            self.i += 1
            return self._read(name, plain=True) or ""
        if name and op == ":" and src[self.i + 1:self.i + 2] in ("-", "+", "?"):
            op, self.i = src[self.i:self.i + 2], self.i + 2
        elif name and op in ("-", "+", "?"):
            self.i += 1
        else:
            # ${#V}, ${V#p}, ${V%p}, ${V/a/b}: not read from defaults here, never guessed.
            self._skip_braces()
            self.names.append(name or "?")
            self.missing.append(name or "?")
            return HOLE
        val = self._read(name, plain=False)
        word = self.word("}")
        is_set = val is not None and (val != "" or not op.startswith(":"))
        if op.endswith("-"):
            return val if is_set and val is not None else word
        if op.endswith("+"):
            return word if is_set else ""
        if is_set and val is not None:  # ${V:?message}: the value, or the build fails
            return val
        self.missing.append(name)
        return HOLE

    def _skip_braces(self) -> None:
        depth = 1
        while self.i < len(self.src) and depth:
            depth += {"{": 1, "}": -1}.get(self.src[self.i], 0)
            self.i += 1


def expand_word(word: str, values: Values, escape: str = "\\") -> Expansion:
    """``word`` as BuildKit expands it with ``values`` (quotes, escapes, ``$V``, ``${V}``,
    ``${V:-x}``, ``${V-x}``, ``${V:+x}``, ``${V+x}``, nested in each other)."""
    lex = _Lexer(word, values, escape)
    text = lex.word()
    return Expansion(text, tuple(dict.fromkeys(lex.names)), tuple(dict.fromkeys(lex.missing)))


def values_of(scope: Mapping[str, ArgDecl]) -> dict[str, str | None]:
    return {name: d.resolved for name, d in scope.items()}


# ------------------------------------------------------------------ declarations


def declarations(step: Step) -> list[ArgDecl]:
    """The names an ARG or ENV instruction declares, each with its default when it has one
    and the value BuildKit gives it (expanded against the variables before the instruction:
    ``ENV A=1 B=$A`` reads the earlier ``A``, as BuildKit does)."""
    ins = step.ins
    text = ins.text
    env = ins.keyword == "ENV"
    values = values_of(step.scope)
    escape = step.df.escape
    out: list[ArgDecl] = []
    words = _quoted_words(text.text, ins.args_offset)
    if env and words and "=" not in text.text[words[0][0]:words[0][1]]:
        # ENV NAME VALUE: the value is the rest of the line, spaces and all.
        ws, we = words[0]
        pairs = [(ws, we, words[1][0], words[-1][1])] if len(words) > 1 else []
    else:
        pairs = []
        for ws, we in words:
            eq = text.text.find("=", ws, we)
            pairs.append((ws, we, -1, -1) if eq == -1 else (ws, eq, eq + 1, we))
    for ns, ne, vs, ve in pairs:
        name = text.text[ns:ne]
        if vs == -1:
            end = text.source_span(ns, ne)[1]
            out.append(ArgDecl(name, None, step.stage, ins.line, end, env=env))
            continue
        raw = text.text[vs:ve]
        resolved = expand_word(raw, values, escape).resolved
        if step.stage < 0:
            values[name] = resolved  # global ARGs read each other in order (BuildKit metaArgs)
        if ve - vs >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]:
            vs, ve = vs + 1, ve - 1
        out.append(ArgDecl(name, step.value(text, vs, ve), step.stage, ins.line, env=env,
                           resolved=resolved))
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


# ------------------------------------------------------------------ scopes


@dataclass
class Variables:
    """The variables BuildKit gives each instruction, from the Dockerfile's own defaults.

    Global ARGs (before the first FROM) are what a FROM reads, with BuildKit's platform ARGs;
    a stage sees its own ARGs (a bare ``ARG X`` takes the global default) and ENVs, and the
    ENVs of the earlier stage it starts FROM. An ENV wins over an ARG of the same name.
    """

    meta: dict[str, ArgDecl] = field(default_factory=dict)
    stages: list[dict[str, ArgDecl]] = field(default_factory=list)

    def for_from(self) -> dict[str, ArgDecl]:
        scope = {n: ArgDecl(n, None, -1, 0) for n in PLATFORM_ARGS}
        scope.update(self.meta)
        return scope

    def open_stage(self, parent: int | None) -> None:
        inherited = {} if parent is None or parent >= len(self.stages) else {
            n: d for n, d in self.stages[parent].items() if d.env}
        self.stages.append(inherited)

    def scope(self, stage: int) -> dict[str, ArgDecl]:
        return self.meta if stage < 0 else self.stages[stage]

    def declare(self, step: Step) -> list[ArgDecl]:
        """The declarations of an ARG or ENV ``step`` (whose scope is this stage's, so far),
        entered in the scope the instructions after it see."""
        out = []
        scope = self.scope(step.stage)
        for d in declarations(step):
            glob = self.meta.get(d.name)
            bare_arg = d.stage >= 0 and not d.env and d.value is None
            if bare_arg and glob is not None and glob.value is not None:
                # A bare stage ARG reads the global default: the declaration holding it
                # is where its value lives.
                d = replace(d, resolved=glob.resolved)
            out.append(d)
            held = scope.get(d.name)
            if d.env or held is None or not held.env:
                scope[d.name] = glob if bare_arg and glob is not None and (
                    glob.value is not None) else d
        return out
