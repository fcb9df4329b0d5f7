"""What a recognizer receives (an instruction, script or command) and the collector it fills."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

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
from pinlock.dockerfile.sitemodel import (
    AptCommand,
    AptSite,
    ArgDecl,
    ImageSite,
    Stage,
    Unmanaged,
    UrlSite,
    Value,
)

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
# Words that run the command after them: wrappers, and the shell's reserved words that
# open a compound command (`if …; then apt-get install …`, `{ apt-get …; }`).
_PREFIX_WORDS = frozenset({"sudo", "env", "exec", "command", "{", "!", "if", "then", "else",
                           "elif", "do", "while", "until", "time"})


@dataclass
class Found:
    """The collector: every recognizer appends here, in the order the Dockerfile reads."""

    images: list[ImageSite] = field(default_factory=list)
    urls: list[UrlSite] = field(default_factory=list)
    apt: list[AptSite] = field(default_factory=list)
    apt_commands: list[AptCommand] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)  # UnsafeApt included


@dataclass(frozen=True)
class Step:
    """One instruction, with the stages before it and the ARGs its references resolve to."""

    df: Dockerfile
    ins: Instruction
    stage: int
    stages: tuple[Stage, ...] = ()
    scope: Mapping[str, ArgDecl] = field(default_factory=dict)

    @functools.cached_property
    def flags(self) -> tuple[list[Flag], int]:
        """Leading ``--flag`` words (as BuildKit reads them) and the index where the arguments
        start."""
        return extract_flags(self.ins.text.text, self.ins.args_offset)

    def json_args(self, pos: int) -> list[str] | None:
        """The arguments from ``pos`` as a JSON array, or None (shell form, or not JSON)."""
        try:
            return json_args(self.ins.text.text[pos:], self.ins.line)
        except ParseError:
            return None

    def value(self, text: Text, start: int, end: int) -> Value:
        s, e = text.source_span(start, end)
        return Value(text.text[start:end], s, e, self.df.line_of(s))

    def names_stage(self, ref: str) -> bool:
        return any(st.matches(ref.lower()) for st in self.stages)


# A shell variable a script sets differently by case arm (url=… per architecture).
PER_ARM = "\x00per-arm"


@dataclass(frozen=True)
class Script:
    """One script of a RUN: the instruction's own text, or a heredoc body."""

    step: Step
    text: Text
    json_form: bool = False  # RUN ["apt-get", …]: the words are a JSON array's strings
    in_json_string: bool = False  # the script of RUN ["sh", "-c", "…"]: inserts stay JSON-safe
    # Shell variables the script has assigned so far (``url='https://…'``), as written:
    # None once a value is not a plain literal (a substitution, another variable, a loop).
    assigned: dict[str, str | None] = field(default_factory=dict)

    def line_of(self, w: shell.Word) -> int:
        return self.step.df.line_of(self.text.source_span(w.start, w.end)[0])

    def word_value(self, w: shell.Word) -> Value:
        """Where a word lives: inside its quotes when it is simply quoted ('curl')."""
        s, e = w.start, w.end
        raw = self.text.text[s:e]
        if (len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]
                and raw[1:-1] == w.value and not any(c in raw[1:-1] for c in "'\"\\$`")):
            s, e = s + 1, e - 1
        ss, se = self.text.source_span(s, e)
        return Value(self.text.text[s:e], ss, se, self.step.df.line_of(ss))


@dataclass(frozen=True)
class Command:
    """One simple command of a script, its assignments and wrappers (sudo, env) dropped."""

    script: Script
    words: tuple[shell.Word, ...]  # never empty

    @functools.cached_property
    def values(self) -> list[str]:
        return [w.value for w in self.words]

    @property
    def prog(self) -> str:
        return os.path.basename(self.words[0].value)

    @property
    def text(self) -> str:
        return " ".join(self.values)


def split_ws(text: str, start: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.compile(r"\S+").finditer(text, start)]


def flag_value(flag: Flag, name: str) -> tuple[str, int] | None:
    """The value of ``--name=value`` and its index in ``flag.value``."""
    prefix = f"--{name}="
    if flag.value.lower().startswith(prefix):
        return flag.value[len(prefix):], len(prefix)
    return None


def strip_prefix_words(words: list[shell.Word]) -> list[shell.Word]:
    """Drop ``VAR=value`` assignments and wrappers (sudo, env) before the program name."""
    i = 0
    while i < len(words):
        v = words[i].value
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", v) or v in _PREFIX_WORDS:
            i += 1
            continue
        break
    return words[i:]
