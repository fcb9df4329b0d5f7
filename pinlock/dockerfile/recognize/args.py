"""ARG declarations, the ARGs a stage sees, and ``$VAR`` expansion with their values."""

from __future__ import annotations

import re

from pinlock.dockerfile.recognize.context import Step
from pinlock.dockerfile.sitemodel import ArgDecl

VAR_RE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


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


def declarations(step: Step) -> list[ArgDecl]:
    """The names an ARG instruction declares, each with its default when it has one."""
    ins = step.ins
    text = ins.text
    out: list[ArgDecl] = []
    for ws, we in _quoted_words(text.text, ins.args_offset):
        word = text.text[ws:we]
        name, eq, _ = word.partition("=")
        if not eq:
            end = text.source_span(ws, we)[1]
            out.append(ArgDecl(name, None, step.stage, ins.line, end))
            continue
        vs, ve = ws + len(name) + 1, we
        if ve - vs >= 2 and text.text[vs] in "'\"" and text.text[ve - 1] == text.text[vs]:
            vs, ve = vs + 1, ve - 1
        out.append(ArgDecl(name, step.value(text, vs, ve), step.stage, ins.line))
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


def global_scope(args: list[ArgDecl]) -> dict[str, ArgDecl]:
    """The ARGs a FROM line sees: those declared before the first FROM, the last one winning."""
    return {a.name: a for a in args if a.stage == -1}


def stage_scope(args: list[ArgDecl], stage: int) -> dict[str, ArgDecl]:
    """The ARGs a stage's instructions see, each with the declaration that holds its value:
    the stage's own default, else (for a bare ``ARG X``) the global default."""
    glob = {a.name: a for a in args if a.stage == -1 and a.value is not None}
    scope: dict[str, ArgDecl] = {}
    for a in args:
        if a.stage == stage:
            scope[a.name] = a if a.value is not None else glob.get(a.name, a)
    return scope
