"""Lossless Dockerfile parsing: ``str -> Dockerfile`` whose nodes render back byte-identical.

The line grammar follows BuildKit's frontend parser (parser.go): parser
directives at the top, comment lines, continuation lines ending in the escape
character (comments and blank lines inside a continuation are skipped), and
heredocs after RUN/COPY/ADD. Every character of the source belongs to exactly
one node, and every logical character of an instruction remembers the source
offset it came from, so an edit can replace exactly the bytes of one value.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

BOM = "\ufeff"
# Go's unicode.IsSpace: what BuildKit strips before an instruction and treats as a blank line.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# BuildKit's reDirective; Go's \s is [\t\n\f\r ] (no \v).
_DIRECTIVE_RE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
# Only these names are directives; any other `# key=value` line ends the directive block.
DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$", re.DOTALL)
# BuildKit splits the keyword from its arguments on reWhitespace.
_KEYWORD_RE = re.compile(r"[^\t\v\f\r ]+")
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


class ParseError(ValueError):
    """The text is not a Dockerfile BuildKit would accept."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


NodeKind = Literal["bom", "directive", "comment", "blank", "instruction"]


@dataclass(frozen=True)
class Node:
    """A run of source characters: [start, end) including line endings."""

    kind: NodeKind
    start: int
    end: int
    line: int  # 1-based line of the first character


@dataclass(frozen=True)
class Text:
    """Logical text (continuations joined) with the source offset of every character."""

    text: str
    offsets: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source [start, end) covering logical [start, end)."""
        if end <= start:
            # An empty value sits right after the character before it (`ARG X=\\` then a
            # continuation: the insertion point stays on the `ARG X=` line).
            if start > 0:
                pos = self.offsets[start - 1] + 1
            else:
                pos = self.offsets[0] if self.offsets else 0
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass(frozen=True)
class Heredoc:
    name: str  # the delimiter word, unquoted
    chomp: bool  # <<- : leading tabs stripped
    quoted: bool  # <<"EOF" / <<'EOF' : no expansion
    body: Text  # content lines, line endings included, offsets into the source


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, …
    text: Text  # the logical line, keyword included
    line: int  # first line (1-based)
    end_line: int  # last line, heredoc terminators included
    start: int
    end: int
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def args_offset(self) -> int:
        """Logical index just past the keyword and the whitespace after it."""
        return _args_offset(self.text.text)


@dataclass(frozen=True)
class Dockerfile:
    source: str
    nodes: tuple[Node, ...]
    instructions: tuple[Instruction, ...]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        """Concatenate the nodes: the identity on any parsed input."""
        return "".join(self.source[n.start : n.end] for n in self.nodes)

    @cached_property
    def _newlines(self) -> list[int]:
        return [m.start() for m in re.finditer("\n", self.source)]

    def line_of(self, offset: int) -> int:
        # a bisection, not a count from the top: a RUN of thousands of words names each
        # word's line without reading the file again per word
        return bisect.bisect_left(self._newlines, offset) + 1


def _args_offset(text: str, start: int = 0) -> int:
    m = _KEYWORD_RE.search(text, start)
    if not m:
        return len(text)
    pos = m.end()
    while pos < len(text) and text[pos] in GO_SPACE:
        pos += 1
    return pos


def _lines(source: str, start: int) -> list[tuple[int, int, int]]:
    """Physical lines as (start, content_end, end): content excludes the trailing '\\r'* '\\n'.

    Only '\\n' ends a line (bufio-style scanning, as BuildKit does); like BuildKit's
    trimNewline, every '\\r' before it is part of the line ending, not of the content.
    """
    out: list[tuple[int, int, int]] = []
    pos = start
    n = len(source)
    while pos < n:
        nl = source.find("\n", pos)
        stop = n if nl == -1 else nl
        content_end = stop
        while content_end > pos and source[content_end - 1] == "\r":
            content_end -= 1
        if nl == -1:
            out.append((pos, content_end, n))
            break
        out.append((pos, content_end, nl + 1))
        pos = nl + 1
    return out


def _is_comment(content: str) -> bool:
    return content.lstrip(GO_SPACE).startswith("#")


def _is_blank(content: str) -> bool:
    return content.strip(GO_SPACE) == ""


def parse(source: str) -> Dockerfile:
    """Parse ``source``. Raises ParseError for what BuildKit rejects (bad escape, open heredoc)."""
    nodes: list[Node] = []
    instructions: list[Instruction] = []
    pos = 0
    if source.startswith(BOM):
        nodes.append(Node("bom", 0, 1, 1))
        pos = 1
    lines = _lines(source, pos)
    escape = "\\"
    directives: dict[str, str] = {}
    i = 0
    # Parser directives: only at the very top, before any comment, blank line or
    # instruction. BuildKit strips leading whitespace first, and a `# key=value`
    # line with an unknown key ends the block (it is then an ordinary comment).
    while i < len(lines):
        ls, ce, le = lines[i]
        m = _DIRECTIVE_RE.fullmatch(source[ls:ce].lstrip(GO_SPACE))
        if not m or m.group(1).lower() not in DIRECTIVE_NAMES:
            break
        key = m.group(1).lower()
        if key in directives:
            raise ParseError(f"only one {key} parser directive can be used", i + 1)
        directives[key] = m.group(2)
        if key == "escape":
            if m.group(2) not in ("\\", "`"):
                raise ParseError(
                    f"invalid escape directive {m.group(2)!r}: expected '\\' or '`'", i + 1
                )
            escape = m.group(2)
        nodes.append(Node("directive", ls, le, i + 1))
        i += 1
    # BuildKit's lineContinuationRegex, `([^E])E[ \t]*$|^E[ \t]*$`: the escape
    # character ends a line as a continuation unless it is itself escaped, so
    # `C:\\Windows\\` (an escaped backslash) ends the instruction.
    e = re.escape(escape)
    cont_re = re.compile(f"(?<!{e}){e}[ \t]*$")

    while i < len(lines):
        ls, ce, le = lines[i]
        content = source[ls:ce]
        if _is_comment(content):
            nodes.append(Node("comment", ls, le, i + 1))
            i += 1
            continue
        if _is_blank(content):
            nodes.append(Node("blank", ls, le, i + 1))
            i += 1
            continue
        first = i
        chars: list[str] = []
        offs: list[int] = []

        lead = len(content) - len(content.lstrip(GO_SPACE))
        continues = _take(source, cont_re, ls + lead, ce, chars, offs)
        i += 1
        # Inside a continuation, comment lines and blank lines are skipped (BuildKit
        # warns about the blank ones but accepts them).
        while continues and i < len(lines):
            cls_, cce, _ = lines[i]
            c = source[cls_:cce]
            i += 1
            if _is_comment(c) or _is_blank(c):
                continue
            continues = _take(source, cont_re, cls_, cce, chars, offs)
        text = Text("".join(chars), tuple(offs))
        kw = _KEYWORD_RE.search(text.text.strip(GO_SPACE))
        keyword = kw.group(0).upper() if kw else ""
        heredocs: list[Heredoc] = []
        if _can_contain_heredoc(text.text, keyword, first + 1) and "<<" in text.text:
            for name, chomp, quoted in heredoc_names(text.text):
                body_chars: list[str] = []
                body_offs: list[int] = []
                terminated = False
                while i < len(lines):
                    hs, hce, he = lines[i]
                    i += 1
                    candidate = source[hs:hce]
                    if chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == name:
                        terminated = True
                        break
                    body_chars.append(source[hs:he])
                    body_offs.extend(range(hs, he))
                if not terminated:
                    raise ParseError(f"unterminated heredoc {name!r}", first + 1)
                heredocs.append(
                    Heredoc(name, chomp, quoted, Text("".join(body_chars), tuple(body_offs)))
                )
        end = lines[i - 1][2]
        nodes.append(Node("instruction", ls, end, first + 1))
        instructions.append(
            Instruction(keyword, text, first + 1, i, ls, end, tuple(heredocs))
        )
    return Dockerfile(source, tuple(nodes), tuple(instructions), escape, directives)


def _take(source: str, cont_re: re.Pattern[str], a: int, b: int, chars: list[str],
          offs: list[int]) -> bool:
    """Append source[a:b] to a logical line; return True if the line continues."""
    # Search the slice, not source with bounds: the lookbehind must not see the
    # character before ``a`` (BuildKit matches each physical line on its own).
    m = cont_re.search(source[a:b])
    stop = a + m.start() if m else b
    chars.append(source[a:stop])
    offs.extend(range(a, stop))
    return m is not None


def _can_contain_heredoc(line: str, keyword: str, lineno: int) -> bool:
    """BuildKit's canContainHeredoc: RUN/COPY/ADD (also under ONBUILD) not in JSON form."""
    start = _args_offset(line)
    if keyword == "ONBUILD":
        kw = _KEYWORD_RE.search(line, start)
        if not kw:
            return False
        keyword = kw.group(0).upper()
        start = _args_offset(line, start)
    if keyword not in HEREDOC_KEYWORDS:
        return False
    _flags, rest = extract_flags(line, start)
    return json_args(line[rest:], lineno) is None


@dataclass(frozen=True)
class Flag:
    """A ``--name=value`` flag: its unquoted text and where each character came from."""

    value: str  # unquoted, e.g. "--mount=type=cache,target=/x"
    start: int  # logical [start, end) of the flag as written
    end: int
    positions: tuple[int, ...]  # logical index of every character of ``value``

    def span(self, a: int, b: int) -> tuple[int, int] | None:
        """Logical span of value[a:b], or None when quoting interrupts it."""
        if b <= a or b > len(self.positions):
            return None
        s, e = self.positions[a], self.positions[b - 1] + 1
        return (s, e) if e - s == b - a else None


def extract_flags(line: str, start: int) -> tuple[list[Flag], int]:
    """BuildKit's extractBuilderFlags from logical index ``start``: flags and where args begin.

    Words starting with ``--`` are flags; quotes group and are removed, a
    backslash escapes the next character, and a bare ``--`` ends the flags.
    """
    flags: list[Flag] = []
    pos, n = start, len(line)
    while True:
        while pos < n and line[pos] in GO_SPACE:
            pos += 1
        if pos >= n or not line.startswith("--", pos):
            return flags, pos
        ws = pos
        chars: list[str] = []
        where: list[int] = []
        quote = ""
        blank_ok = False
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
            elif ch in GO_SPACE:
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            chars.append(ch)
            where.append(pos)
            pos += 1
        value = "".join(chars)
        if value == "--" and not quote and pos < n:
            return flags, pos
        if value != "--" and (blank_ok or value):
            flags.append(Flag(value, ws, pos, tuple(where)))


def _reject_constant(name: str) -> object:
    raise ValueError(f"not JSON: {name}")  # Go's encoding/json has no NaN/Infinity


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def json_args(rest: str, lineno: int = 0) -> list[str] | None:
    """The JSON-form arguments, or None for shell form (BuildKit's parseJSON).

    Like Go's json.Decoder, only the first JSON value counts: ``RUN ["a"] x`` is
    JSON form. A JSON array of non-strings is an error in BuildKit too.
    """
    rest = rest.lstrip(GO_SPACE)
    if not rest.startswith("["):
        return None
    try:
        items, _end = _JSON.raw_decode(rest)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    if not all(isinstance(x, str) for x in items):
        raise ParseError("when using JSON array syntax, arrays must be comprised of strings only",
                         lineno)
    return items


def heredoc_names(line: str) -> list[tuple[str, bool, bool]]:
    """The heredocs a logical line opens, in order: (name, chomp, quoted)."""
    out: list[tuple[str, bool, bool]] = []
    for word in _shell_words_for_heredoc(line):
        m = _HEREDOC_RE.match(word)
        if not m:
            continue
        raw = m.group(3)
        if not raw:
            continue
        name, quotes = _unquote(raw)
        out.append((name, m.group(2) == "-", quotes > 0))
    return out


def _unquote(word: str) -> tuple[str, int]:
    """Shell quote removal as BuildKit's lexer does it: (text, quote characters removed)."""
    out: list[str] = []
    removed = 0
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if ch == "'":
            close = word.find("'", i + 1)
            close = n if close == -1 else close
            out.append(word[i + 1 : close])
            removed += 2
            i = close + 1
        elif ch == '"':
            removed += 2
            i += 1
            while i < n and word[i] != '"':
                if word[i] == "\\" and i + 1 < n and word[i + 1] in '"$\\`':
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        elif ch == "\\" and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out), removed


def _shell_words_for_heredoc(line: str) -> list[str]:
    """Split on unquoted whitespace, keeping quotes (enough to find <<WORD tokens)."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    it = iter(range(len(line)))
    for idx in it:
        ch = line[idx]
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch == "\\" and idx + 1 < len(line):
            cur.append(ch)
            cur.append(line[idx + 1])
            next(it, None)
        elif ch in GO_SPACE:
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words
