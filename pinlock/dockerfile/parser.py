"""Lossless Dockerfile parsing: ``str -> Dockerfile`` whose nodes render back byte-identical.

The line grammar follows BuildKit's frontend parser (parser.go): parser
directives at the top, comment lines, continuation lines ending in the escape
character (comments and blank lines inside a continuation are skipped), and
heredocs after RUN/COPY/ADD. Every character of the source belongs to exactly
one node, and every logical character of an instruction remembers the source
offset it came from, so an edit can replace exactly the bytes of one value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BOM = "\ufeff"
_DIRECTIVE_RE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")
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
            pos = self.offsets[start] if start < len(self.offsets) else self._end()
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1

    def contiguous(self, start: int, end: int) -> bool:
        """True when logical [start, end) is one unbroken run of source characters."""
        if end - start <= 1:
            return True
        return self.offsets[end - 1] - self.offsets[start] == end - start - 1

    def _end(self) -> int:
        return self.offsets[-1] + 1 if self.offsets else 0


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
        m = re.match(r"\S+\s*", self.text.text)
        return m.end() if m else len(self.text.text)


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

    def line_of(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1


def _lines(source: str, start: int) -> list[tuple[int, int, int]]:
    """Physical lines as (start, content_end, end): content excludes '\\n' / '\\r\\n'."""
    out: list[tuple[int, int, int]] = []
    pos = start
    n = len(source)
    while pos < n:
        nl = source.find("\n", pos)
        if nl == -1:
            out.append((pos, n, n))
            break
        content_end = nl - 1 if nl > pos and source[nl - 1] == "\r" else nl
        out.append((pos, content_end, nl + 1))
        pos = nl + 1
    return out


def _is_comment(content: str) -> bool:
    return content.lstrip(" \t").startswith("#")


def _is_blank(content: str) -> bool:
    return content.strip(" \t\r\f\v") == ""


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
    # Parser directives: only at the very top, before any comment, blank line or instruction.
    while i < len(lines):
        ls, ce, le = lines[i]
        m = _DIRECTIVE_RE.match(source[ls:ce])
        if not m:
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
    cont_re = re.compile(re.escape(escape) + r"[ \t]*$")

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

        lead = len(content) - len(content.lstrip(" \t"))
        continues = _take(source, cont_re, ls + lead, ce, chars, offs)
        i += 1
        while continues and i < len(lines):
            cls_, cce, _ = lines[i]
            c = source[cls_:cce]
            i += 1
            if _is_comment(c) or _is_blank(c):
                continue
            continues = _take(source, cont_re, cls_, cce, chars, offs)
        text = Text("".join(chars), tuple(offs))
        keyword = text.text.split(None, 1)[0].upper() if text.text.strip() else ""
        heredocs: list[Heredoc] = []
        if keyword in HEREDOC_KEYWORDS and "<<" in text.text and not _is_json_form(text.text):
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
    m = cont_re.search(source, a, b)
    stop = m.start() if m else b
    chars.append(source[a:stop])
    offs.extend(range(a, stop))
    return m is not None


def _is_json_form(line: str) -> bool:
    parts = line.split(None, 1)
    if len(parts) < 2:
        return False
    rest = parts[1]
    # Flags come before a JSON array: RUN --network=none ["a"]
    while rest.startswith("--"):
        bits = rest.split(None, 1)
        if len(bits) < 2:
            return False
        rest = bits[1]
    return rest.lstrip().startswith("[") and rest.rstrip().endswith("]")


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
        quoted = any(q in raw for q in "'\"")
        name = raw.replace("'", "").replace('"', "")
        out.append((name, m.group(2) == "-", quoted))
    return out


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
        elif ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words
