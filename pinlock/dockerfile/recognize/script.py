"""The scripts of a RUN (shell form, JSON form, heredocs), split into commands to recognize."""

from __future__ import annotations

import bisect
import json
import os
import re
import sys
from collections.abc import Callable

from pinlock.dockerfile import shell
from pinlock.dockerfile.parser import ParseError, json_args
from pinlock.dockerfile.recognize import apt, downloads, unmanaged
from pinlock.dockerfile.recognize.args import expand_word, values_of
from pinlock.dockerfile.recognize.context import (
    PER_ARM,
    SHELLS,
    Command,
    Found,
    Script,
    Step,
    strip_prefix_words,
)

# Each command goes to the first recognizer that claims it, in this order.
_RECOGNIZERS: tuple[Callable[[Command, Found], bool], ...] = (
    apt.command, downloads.command, unmanaged.command)


def run(step: Step, out: Found) -> None:
    """The RUN's own text, then each of its heredoc bodies."""
    text = step.ins.text
    _flags, pos = step.flags
    _scan(Script(step, text, json_form=step.json_args(pos) is not None), pos, out)
    for hd in step.ins.heredocs:
        _scan(Script(step, hd.body), 0, out)


def _scan(script: Script, offset: int, out: Found) -> None:
    if not script.json_form:
        _scan_shell(script, offset, len(script.text.text), out)
        return
    full = script.text.text
    words = _json_words(full[offset:], offset, full)
    if (len(words) >= 3 and os.path.basename(words[0].value) in SHELLS
            and words[1].value == "-c"):
        # RUN ["sh", "-c", "…"]: the script is the third string; scan it as shell
        # when its characters sit unescaped in the source (so offsets map 1:1).
        w = words[2]
        if full[w.start:w.end] == w.value:
            inner = Script(script.step, script.text, in_json_string=True)
            _scan_shell(inner, w.start, w.end, out)
            return
    cmds = [words] if words else []
    _dispatch(script, cmds, [[c] for c in cmds], out)


def _scan_shell(script: Script, start: int, end: int, out: Found) -> None:
    tokens = shell.tokenize(script.text.text[start:end])
    bodies = _function_bodies(tokens)
    cmds = []
    for c in shell.commands(tokens):
        # `function name { apt-get …` is one simple command until the first `;`.
        inside = [i for i, w in enumerate(c) if _within(bodies, w.start)]
        if inside:
            words = strip_prefix_words([_shift(w, start) for w in c[inside[0]:]])
            if words:
                apt.in_function(Command(script, tuple(words)), out)
            continue
        cmds.append([_shift(w, start) for w in c])
    pipes = [[[_shift(w, start) for w in c] for c in p] for p in shell.pipelines(tokens)]
    _dispatch(script, cmds, pipes, out)


def _dispatch(script: Script, cmds: list[list[shell.Word]],
              pipes: list[list[list[shell.Word]]], out: Found) -> None:
    for words in cmds:
        _assignments(script, words)
        words = strip_prefix_words(words)
        if words:
            cmd = Command(script, tuple(words))
            for recognize in _RECOGNIZERS:
                if recognize(cmd, out):
                    break
    for pipe in pipes:
        unmanaged.pipeline(script, pipe, out)


_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def _assignments(script: Script, words: list[shell.Word]) -> None:
    """Record ``NAME=value`` commands (a command of assignments only sets shell variables):
    the value as written, when the Dockerfile alone tells it (literal, or ARG/ENV values);
    unknown (None) when the build decides it (a substitution, a loop variable); PER_ARM when
    it differs by case arm or is set twice (the checksum recognizer reads case arms)."""
    if len(words) >= 2 and words[0].value == "for":
        script.assigned[words[1].value] = None
        return
    arm = bool(words) and words[0].value.endswith(")") and "=" not in words[0].value
    rest = words[1:] if arm else words
    if not rest or not all(_ASSIGN.match(w.value) for w in rest):
        return
    for w in rest:
        m = _ASSIGN.match(w.value)
        assert m is not None
        name, value = m.group(1), m.group(2)
        known: str | None = value
        missing = expand_word(value, values_of(script.step.scope)).missing if (
            w.has_expansion) else ()
        if w.has_expansion and ("$(" in value or "`" in value):
            known = None
        elif missing:
            # Read from the script's own variables (url=…/${rustArch}/…): per arm when any
            # of them is, else decided at build time.
            per_arm = any(script.assigned.get(m) == PER_ARM for m in missing)
            known = PER_ARM if per_arm and all(m in script.assigned for m in missing) else None
        if arm or (name in script.assigned and script.assigned[name] != known):
            known = PER_ARM
        script.assigned[name] = known


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


def _shift(w: shell.Word, offset: int) -> shell.Word:
    return shell.Word(w.value, w.start + offset, w.end + offset, w.has_expansion)


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
