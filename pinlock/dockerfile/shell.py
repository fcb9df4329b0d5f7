"""A small POSIX-shell tokenizer that keeps every word's position, for finding pins in RUN."""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTROL = frozenset({"&&", "||", ";", ";;", "|", "&", "(", ")", "\n", "|&"})
REDIRECT_PREFIX = ("<", ">")


@dataclass(frozen=True)
class Word:
    value: str  # after quote removal ($-expansions left as written)
    start: int  # index into the tokenized string
    end: int
    has_expansion: bool = False  # contains $… outside single quotes


@dataclass(frozen=True)
class Op:
    value: str
    start: int
    end: int


Token = Word | Op


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into words and operators. Unbalanced quotes end at the end of text."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        if ch == "\\" and text.startswith("\r\n", i + 1):
            i += 3
            continue
        if ch in " \t\r":
            i += 1
            continue
        if ch == "\n":
            tokens.append(Op("\n", i, i + 1))
            i += 1
            continue
        if ch == "#":
            # A comment runs to the end of the line (only at a word start, as here).
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
            continue
        op = _operator_at(text, i)
        if op:
            tokens.append(Op(op, i, i + len(op)))
            i += len(op)
            continue
        word, i = _word_at(text, i)
        tokens.append(word)
    return tokens


_REDIRECT_RE = re.compile(r"\d*(?:<<-|<<|<>|<&|>>|>&|>\||<|>)|&>>|&>")


def _operator_at(text: str, i: int) -> str:
    """The operator starting at token position ``i`` ("" if a word starts there).

    Redirections keep their file-descriptor digits (``2>&1``, ``3<<EOF``) so the
    digits are never taken for a word (a package name, say).
    """
    m = _REDIRECT_RE.match(text, i)
    if m:
        return m.group(0)
    for op in ("&&", "||", ";;", "|&"):
        if text.startswith(op, i):
            return op
    if text[i] in ";|&()":
        return text[i]
    return ""


def _word_at(text: str, i: int) -> tuple[Word, int]:
    start = i
    n = len(text)
    out: list[str] = []
    expansion = False
    while i < n:
        ch = text[i]
        if ch in " \t\r\n;|&()<>":
            break
        if ch == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2
                continue
            if i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            i += 1
            continue
        if ch == "'":
            close = text.find("'", i + 1)
            close = n if close == -1 else close
            out.append(text[i + 1 : close])
            i = close + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    out.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "$":
                    expansion = True
                out.append(text[j])
                j += 1
            i = j + 1
            continue
        if ch == "$":
            expansion = True
            if text.startswith("$(", i) or text.startswith("${", i):
                close_ch = ")" if text[i + 1] == "(" else "}"
                open_ch = text[i + 1]
                depth = 0
                j = i + 1
                while j < n:
                    if text[j] == open_ch:
                        depth += 1
                    elif text[j] == close_ch:
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                out.append(text[i : j + 1])
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return Word("".join(out), start, min(i, n), expansion), min(i, n)


def commands(tokens: list[Token]) -> list[list[Word]]:
    """Simple commands: word lists between control operators; redirection targets dropped."""
    out: list[list[Word]] = []
    current: list[Word] = []
    skip_next = False
    for tok in tokens:
        if isinstance(tok, Op):
            if tok.value in CONTROL:
                if current:
                    out.append(current)
                current = []
                skip_next = False
            elif tok.value.lstrip("0123456789").startswith((*REDIRECT_PREFIX, "&>")):
                skip_next = True
            continue
        if skip_next:
            skip_next = False
            continue
        current.append(tok)
    if current:
        out.append(current)
    return out


def pipelines(tokens: list[Token]) -> list[list[list[Word]]]:
    """Commands grouped into pipelines (joined by ``|``), for spotting ``curl … | sh``."""
    out: list[list[list[Word]]] = []
    pipe: list[list[Word]] = []
    current: list[Word] = []
    for tok in tokens:
        if isinstance(tok, Op):
            if tok.value in ("|", "|&"):
                pipe.append(current)
                current = []
                continue
            if tok.value in CONTROL:
                pipe.append(current)
                out.append([c for c in pipe if c])
                pipe, current = [], []
            continue
        current.append(tok)
    pipe.append(current)
    out.append([c for c in pipe if c])
    return [p for p in out if p]
