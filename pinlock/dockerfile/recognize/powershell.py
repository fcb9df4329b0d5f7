"""PowerShell checksums in RUN text: ``(Get-FileHash f -Algorithm sha256).Hash -ne …``.

Windows images (docker-library's, ``SHELL ["powershell", "-Command", …]`` or ``RUN powershell
-Command "…"``) check a download with ``Get-FileHash``. What this reads, and reports as the
``ChecksumSite`` the shell recognizer reports (``how = "get-filehash"``):

- the expected value: ``'<hex>'`` written in the comparison, a script variable assigned
  ``'<hex>'`` (``$sha256 = '…'``), or ``$env:NAME`` (an ENV or ARG whose default is the hex);
  a literal hex that the same RUN also prints (``Write-Host ('Verifying sha256 (<hex>) ...')``)
  is a site too, so that a new value rewrites every place it is written;
- the file's download in the same RUN: ``Invoke-WebRequest [-Uri] X -OutFile F`` (also its
  aliases ``iwr``/``curl``/``wget``), ``curl.exe -o F X``,
  ``(New-Object System.Net.WebClient).DownloadFile(X, F)``, where ``X`` is a literal, a
  variable assigned one, ``$env:NAME`` (written ``${NAME}`` in the site's URL, which the kinds
  expand as a Dockerfile reference: a RUN's environment holds the ENVs and ARGs), a
  ``'…{0}…' -f $env:A, …`` format or a ``+`` concatenation of those. ``url_values`` is the
  span of the literal when the URL is one.

A check whose value or URL pinlock cannot reproduce exactly (a ``-replace`` on the version, a
method call, a value fetched while the image builds) is ``Unmanaged``, with its line and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pinlock.dockerfile.parser import Text
from pinlock.dockerfile.recognize.context import Step
from pinlock.dockerfile.sitemodel import ArgDecl, ChecksumSite, Unmanaged, Value

_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_GET_FILEHASH = re.compile(r"\(\s*Get-FileHash\b", re.IGNORECASE)
_COMPARE = re.compile(r"\s*\.Hash\s+-[ci]?(ne|eq)\s+", re.IGNORECASE)
_ENV_REF = re.compile(r"\$(?:\{env:([A-Za-z_][A-Za-z0-9_]*)\}|env:([A-Za-z_][A-Za-z0-9_]*))",
                      re.IGNORECASE)
_VAR_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_ASSIGN = re.compile(r"(?:^|(?<=[;{(\s]))\$([A-Za-z_][A-Za-z0-9_]*)\s*=(?![=])\s*")
# Where a command starts: the script's start, or after a statement or block opener.
_DOWNLOADER = re.compile(
    r"(?:^|(?<=[;{(|&\s]))(Invoke-WebRequest|iwr|curl\.exe|curl|wget\.exe|wget)(?=\s)",
    re.IGNORECASE)
_DOWNLOAD_FILE = re.compile(r"\.DownloadFile\(", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_URL = re.compile(r"^https?://", re.IGNORECASE)
# Invoke-WebRequest switches: parameters that take no value.
_IWR_SWITCHES = frozenset({
    "-usebasicparsing", "-passthru", "-disablekeepalive", "-usedefaultcredentials",
    "-skipcertificatecheck", "-allowunencryptedauthentication", "-resume", "-noproxy",
    "-skipheadervalidation", "-skiphttperrorcheck", "-allowinsecureredirect", "-verbose",
})


@dataclass(frozen=True)
class _Expr:
    """A PowerShell expression, evaluated: its value with ``$env:NAME`` written ``${NAME}``
    (None with ``why`` when pinlock cannot reproduce it), and where it sits when it is one
    literal written exactly in the source."""

    value: str | None
    span: Value | None = None
    why: str | None = None


@dataclass
class _Script:
    step: Step
    text: Text
    start: int
    assigned: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # name ->
    # (statement start, value start, value end), in order


class Recognizer:
    """Fed every RUN by ``find_sites``; ``sites`` and ``unmanaged`` are what it found."""

    def __init__(self) -> None:
        self.sites: list[ChecksumSite] = []
        self.unmanaged: list[Unmanaged] = []

    def run(self, step: Step) -> None:
        text = step.ins.text
        start = step.flags[1]
        if not _GET_FILEHASH.search(text.text, start):
            return
        sc = _Script(step, text, start)
        for m in _ASSIGN.finditer(text.text, start):
            if _in_quotes(text.text, start, m.start()):
                continue
            end = _statement_end(text.text, m.end())
            sc.assigned.setdefault(m.group(1).lower(), []).append((m.start(), m.end(), end))
        downloads = self._downloads(sc)
        for m in _GET_FILEHASH.finditer(text.text, start):
            if not _in_quotes(text.text, start, m.start()):
                self._check(sc, m.start(), m.end(), downloads)

    # ------------------------------------------------------------ checks

    def _check(self, sc: _Script, at: int, args_at: int,
               downloads: list[tuple[_Expr, _Expr, str]]) -> None:
        t = sc.text.text
        close = _closing(t, at)
        if close is None:
            return
        args = _words(t, args_at, close)
        path, algorithm = _filehash_args(t, args)
        if path is None or (algorithm is not None and algorithm.lower() != "sha256"):
            return  # another algorithm (sha512): not a sha256 pinlock keeps
        cmp = _COMPARE.match(t, close + 1)
        if cmp is None:
            return
        operand_end = _operand_end(t, cmp.end())
        line = self._line(sc, at)
        shown = " ".join(t[at:operand_end].split())
        file_expr = _evaluate(sc, path[0], path[1], at, words=True)
        url, url_values, file = self._download_of(sc, file_expr, t[path[0]:path[1]], downloads)
        if url is None:
            return  # no download of the file in this RUN (an ADD before it): left to the names
        if url.why is not None or url.value is None:
            self.unmanaged.append(Unmanaged(
                shown, f"the URL of the checked file is built in a way pinlock cannot "
                f"reproduce exactly ({url.why}): its sha256 is left as written", line))
            return
        step = sc.step
        operand = t[cmp.end():operand_end]
        env = _ENV_REF.fullmatch(operand)
        if env is not None:
            name = env.group(1) or env.group(2)
            decl = _lookup(step, name)
            if decl is None or decl.value is None or not _HEX.fullmatch(decl.value.text):
                self.unmanaged.append(Unmanaged(
                    shown, f"the sha256 comes from $env:{name}, which holds no sha256 written "
                    "in the Dockerfile: pinlock has no value to pin", line))
                return
            self.sites.append(ChecksumSite(decl.value, decl.name, "ENV" if decl.env else "ARG",
                                           "get-filehash", url.value, file, step.stage, line,
                                           url_values=url_values))
            return
        expected = _evaluate(sc, cmp.end(), operand_end, at, words=False)
        digits = expected.value or ""
        if expected.span is None or not _HEX.fullmatch(digits):
            why = expected.why or f"{operand} holds no sha256 written in the RUN"
            self.unmanaged.append(Unmanaged(
                shown, f"the sha256 is not a value written in the Dockerfile ({why}): pinlock "
                "has no value to pin", line))
            return
        spans = [expected.span]
        # The same digits printed elsewhere in the RUN (`Write-Host ('Verifying sha256 (<hex>)
        # ...')`): rewritten with the check, so the message never names a stale value.
        for m in re.finditer(re.escape(digits), t[sc.start:]):
            got = _exact(sc, sc.start + m.start(), sc.start + m.end())
            if got is not None and (got.start, got.end) != (expected.span.start,
                                                            expected.span.end):
                spans.append(got)
        for v in spans:
            self.sites.append(ChecksumSite(v, None, "RUN", "get-filehash", url.value, file,
                                           step.stage, line, url_values=url_values))

    # ------------------------------------------------------------ downloads

    def _downloads(self, sc: _Script) -> list[tuple[_Expr, _Expr, str]]:
        """(URL, file, the file as written) of each download the RUN makes to a file."""
        t, out = sc.text.text, []
        for m in _DOWNLOADER.finditer(t, sc.start):
            if _in_quotes(t, sc.start, m.start()):
                continue
            end = _statement_end(t, m.end())
            words = _words(t, m.end(), end)
            prog = m.group(1).lower()
            got = (_curl(t, words) if prog.endswith(".exe") and prog.startswith("curl")
                   else _iwr(t, words))
            if got is not None:
                (us, ue), (fs, fe) = got
                out.append((_evaluate(sc, us, ue, m.start(), words=True),
                            _evaluate(sc, fs, fe, m.start(), words=True), t[fs:fe]))
        for m in _DOWNLOAD_FILE.finditer(t, sc.start):
            close = _closing(t, m.end() - 1)
            if close is None or _in_quotes(t, sc.start, m.start()):
                continue
            parts = _split_top(t, m.end(), close, ",")
            if len(parts) == 2:
                (us, ue), (fs, fe) = (_trim(t, *p) for p in parts)
                out.append((_evaluate(sc, us, ue, m.start(), words=False),
                            _evaluate(sc, fs, fe, m.start(), words=False), t[fs:fe]))
        return out

    def _download_of(self, sc: _Script, file: _Expr, written: str,
                     downloads: list[tuple[_Expr, _Expr, str]]
                     ) -> tuple[_Expr | None, tuple[Value, ...], str]:
        want = _path(file.value) if file.value is not None else None
        for url, got, got_written in reversed(downloads):
            same = (got_written.strip() == written.strip() or (
                want is not None and got.value is not None
                and _path(got.value).rsplit("/", 1)[-1] == want.rsplit("/", 1)[-1]))
            if same:
                spans = (url.span,) if url.span is not None and url.value == url.span.text \
                    else ()
                return url, spans, file.value if file.value is not None else written.strip()
        return None, (), written

    def _line(self, sc: _Script, at: int) -> int:
        return sc.step.df.line_of(sc.text.source_span(at, at + 1)[0])


# ---------------------------------------------------------------- evaluation


def _evaluate(sc: _Script, s: int, e: int, before: int, *, words: bool, depth: int = 0
              ) -> _Expr:
    """The expression ``text[s:e]``: a command argument when ``words`` (a bare word is a
    string), else an expression (a bare word runs a command)."""
    t = sc.text.text
    s, e = _trim(t, s, e)
    raw = t[s:e]
    if depth > 12 or s >= e:
        return _Expr(None, why="an empty or too deeply nested value")
    if raw.startswith("(") and _closing(t, s) == e - 1:
        return _evaluate(sc, s + 1, e - 1, before, words=False, depth=depth + 1)
    fmt = _split_top_op(t, s, e, "-f")
    if fmt is not None:
        return _format(sc, s, e, fmt, before, depth)
    plus = _split_top(t, s, e, "+")
    if len(plus) > 1:
        parts = [_evaluate(sc, ps, pe, before, words=False, depth=depth + 1)
                 for ps, pe in plus]
        bad = next((p for p in parts if p.value is None), None)
        if bad is not None:
            return bad
        return _Expr("".join(p.value or "" for p in parts))
    op = re.search(r"\s-[A-Za-z]+\b", _blank_quotes(raw))
    if op is not None:
        return _Expr(None, why=f"{raw} applies {op.group(0).strip()}")
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
        inner = raw[1:-1]
        value = inner.replace("''", "'")
        if "$" in value:
            return _Expr(None, why=f"{raw} holds a literal $")
        span = _exact(sc, s + 1, e - 1) if "''" not in inner else None
        return _Expr(value, span)
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return _interpolated(sc, s + 1, e - 1, before, depth)
    env = _ENV_REF.fullmatch(raw)
    if env is not None:
        name = env.group(1) or env.group(2)
        decl = _lookup(sc.step, name)
        return _Expr("${" + (decl.name if decl is not None else name) + "}")
    var = _VAR_REF.fullmatch(raw)
    if var is not None:
        return _variable(sc, var.group(1) or var.group(2), before, depth)
    if words and not any(c in raw for c in "'\"`()[]{}@,;|"):
        return _interpolated(sc, s, e, before, depth)
    return _Expr(None, why=f"{raw} is an expression pinlock does not evaluate")


def _interpolated(sc: _Script, s: int, e: int, before: int, depth: int) -> _Expr:
    """A double-quoted string or a bare word: ``$env:NAME`` and assigned variables read."""
    t = sc.text.text
    raw = t[s:e]
    if "`" in raw or "$(" in raw:
        return _Expr(None, why=f"{raw} uses escapes or subexpressions")
    out, pos = [], 0
    for m in re.finditer(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)",
                         raw):
        out.append(raw[pos:m.start()])
        env = _ENV_REF.fullmatch(m.group(0))
        var = _VAR_REF.fullmatch(m.group(0))
        if env is not None:
            name = env.group(1) or env.group(2)
            decl = _lookup(sc.step, name)
            out.append("${" + (decl.name if decl is not None else name) + "}")
        elif var is not None:
            got = _variable(sc, var.group(1) or var.group(2), before, depth)
            if got.value is None:
                return got
            out.append(got.value)
        else:
            return _Expr(None, why=f"{raw} reads {m.group(0)}")
        pos = m.end()
    out.append(raw[pos:])
    value = "".join(out)
    return _Expr(value, _exact(sc, s, e) if value == raw else None)


def _variable(sc: _Script, name: str, before: int, depth: int) -> _Expr:
    found = [a for a in sc.assigned.get(name.lower(), []) if a[0] < before]
    if not found:
        return _Expr(None, why=f"${name} is not assigned in this RUN")
    if len(sc.assigned[name.lower()]) > 1:
        return _Expr(None, why=f"${name} is assigned more than once")
    _at, vs, ve = found[-1]
    got = _evaluate(sc, vs, ve, vs, words=False, depth=depth + 1)
    return got if got.value is not None else _Expr(None, why=f"${name}: {got.why}")


def _format(sc: _Script, s: int, e: int, at: int, before: int, depth: int) -> _Expr:
    """``'…{0}…' -f a, b``: each placeholder filled with its argument's value."""
    t = sc.text.text
    left = _evaluate(sc, s, at, before, words=False, depth=depth + 1)
    if left.value is None:
        return left
    args = [_evaluate(sc, ps, pe, before, words=False, depth=depth + 1)
            for ps, pe in _split_top(t, at + 2, e, ",")]
    bad = next((a for a in args if a.value is None), None)
    if bad is not None:
        return _Expr(None, why=bad.why)
    fmt = left.value
    if re.sub(r"\{\d+\}", "", fmt).count("{") or re.sub(r"\{\d+\}", "", fmt).count("}"):
        return _Expr(None, why=f"the format {fmt} holds braces other than {{n}}")
    if any(int(m.group(1)) >= len(args) for m in _PLACEHOLDER.finditer(fmt)):
        return _Expr(None, why=f"the format {fmt} reads an argument it is not given")
    return _Expr(_PLACEHOLDER.sub(lambda m: args[int(m.group(1))].value or "", fmt))


def _lookup(step: Step, name: str) -> ArgDecl | None:
    """The ENV or ARG ``$env:name`` reads: Windows' environment names ignore case."""
    if name in step.scope:
        return step.scope[name]
    hits = [d for n, d in step.scope.items() if n.lower() == name.lower()]
    return hits[0] if len(hits) == 1 else None


def _exact(sc: _Script, s: int, e: int) -> Value | None:
    """``text[s:e]`` as a Value when it sits contiguously in the source, else None."""
    if e <= s:
        return None
    ss, se = sc.text.source_span(s, e)
    if se - ss != e - s:
        return None  # a line continuation inside: no exact span to rewrite
    return Value(sc.text.text[s:e], ss, se, sc.step.df.line_of(ss))


# ---------------------------------------------------------------- command arguments


def _filehash_args(t: str, words: list[tuple[int, int]]
                   ) -> tuple[tuple[int, int] | None, str | None]:
    """The path and the algorithm (None: the default, SHA256) given to Get-FileHash."""
    path: tuple[int, int] | None = None
    algorithm: str | None = None
    i = 0
    while i < len(words):
        w = t[words[i][0]:words[i][1]]
        low = w.lower()
        if low.startswith("-") and i + 1 < len(words):
            if "-algorithm".startswith(low) and len(low) > 1:
                algorithm = t[words[i + 1][0]:words[i + 1][1]].strip("'\"")
            elif low in ("-path", "-literalpath", "-lp"):
                path = words[i + 1]
            i += 2
            continue
        if path is None and not low.startswith("-"):
            path = words[i]
        i += 1
    return path, algorithm


def _iwr(t: str, words: list[tuple[int, int]]
         ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Invoke-WebRequest's ``-Uri`` (or first positional) and ``-OutFile``."""
    uri: tuple[int, int] | None = None
    out: tuple[int, int] | None = None
    i = 0
    while i < len(words):
        w = t[words[i][0]:words[i][1]].lower()
        if w.startswith("-") and not _URL.match(w):
            if w in _IWR_SWITCHES or i + 1 >= len(words):
                i += 1
                continue
            if w == "-uri":
                uri = words[i + 1]
            elif w == "-outfile":
                out = words[i + 1]
            i += 2
            continue
        if uri is None:
            uri = words[i]
        i += 1
    return (uri, out) if uri is not None and out is not None else None


def _curl(t: str, words: list[tuple[int, int]]
          ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """curl.exe's URL and ``-o``/``--output`` file (``-LfsSo f`` included)."""
    urls: list[tuple[int, int]] = []
    out: tuple[int, int] | None = None
    i = 0
    while i < len(words):
        w = t[words[i][0]:words[i][1]]
        if w == "--output" or (re.fullmatch(r"-[A-Za-z]*o", w) is not None):
            if i + 1 < len(words):
                out = words[i + 1]
            i += 2
            continue
        if not w.startswith("-"):
            urls.append(words[i])
        i += 1
    return (urls[0], out) if len(urls) == 1 and out is not None else None


# ---------------------------------------------------------------- scanning


def _skip_quoted(t: str, i: int) -> int:
    """Past the string that opens at ``t[i]`` ('…' with '' escapes, "…" with ` escapes)."""
    q, i, n = t[i], i + 1, len(t)
    while i < n:
        if q == '"' and t[i] == "`":
            i += 2
            continue
        if t[i] == q:
            if q == "'" and i + 1 < n and t[i + 1] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _in_quotes(t: str, start: int, at: int) -> bool:
    """``t[at]`` sits inside a single-quoted string opened after ``start`` (a message such as
    ``Write-Host 'run (Get-FileHash …)'`` is text, not a command)."""
    i = start
    while i < at:
        if t[i] == "'":
            end = _skip_quoted(t, i)
            if end > at:
                return True
            i = end
            continue
        i += 1
    return False


def _closing(t: str, i: int) -> int | None:
    """The index of the bracket closing the one at ``t[i]``."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack: list[str] = []
    n = len(t)
    while i < n:
        c = t[i]
        if c in "'\"" and stack:
            i = _skip_quoted(t, i)
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return i
        elif c in ")}]":
            return None
        i += 1
    return None


def _statement_end(t: str, i: int) -> int:
    """Where the statement going on at ``i`` ends: ``;``, ``|``, a newline, or a bracket
    it did not open."""
    return next((j for j in _top_level(t, i, len(t)) if t[j] in ";|\n)}]"), len(t))


_BARE_WORD = re.compile(r"[^\s;|)}]+")


def _operand_end(t: str, i: int) -> int:
    """The end of one operand at ``i``: a string, a bracketed group, or a word."""
    if i < len(t) and t[i] in "'\"":
        return _skip_quoted(t, i)
    if i < len(t) and t[i] in "({[":
        close = _closing(t, i)
        return len(t) if close is None else close + 1
    m = _BARE_WORD.match(t, i)
    return m.end() if m else i


def _words(t: str, s: int, e: int) -> list[tuple[int, int]]:
    """Whitespace-separated words of ``t[s:e]``, quotes and brackets grouping."""
    out, i = [], s
    while i < e:
        while i < e and t[i].isspace():
            i += 1
        if i >= e:
            break
        ws = i
        while i < e and not t[i].isspace():
            if t[i] in "'\"":
                i = min(_skip_quoted(t, i), e)
            elif t[i] in "({[":
                close = _closing(t, i)
                i = e if close is None else min(close + 1, e)
            else:
                i += 1
        out.append((ws, i))
    return out


def _top_level(t: str, s: int, e: int) -> Iterator[int]:
    """The indexes of ``t[s:e]`` outside strings and brackets, in order."""
    i = s
    while i < e:
        c = t[i]
        if c in "'\"":
            i = _skip_quoted(t, i)
            continue
        if c in "({[":
            close = _closing(t, i)
            i = e if close is None else close + 1
            continue
        yield i
        i += 1


def _split_top(t: str, s: int, e: int, sep: str) -> list[tuple[int, int]]:
    """``t[s:e]`` split at ``sep`` outside strings and brackets."""
    out, last = [], s
    for i in _top_level(t, s, e):
        if t[i] == sep:
            out.append((last, i))
            last = i + 1
    out.append((last, e))
    return out


def _split_top_op(t: str, s: int, e: int, op: str) -> int | None:
    """Where the operator ``op`` (``-f``) stands in ``t[s:e]``, outside strings and brackets."""
    for i in _top_level(t, s, e):
        if (t.startswith(op, i) and i > s and t[i - 1].isspace()
                and (i + len(op) >= e or t[i + len(op)].isspace())):
            return i
    return None


def _trim(t: str, s: int, e: int) -> tuple[int, int]:
    while s < e and t[s].isspace():
        s += 1
    while e > s and t[e - 1].isspace():
        e -= 1
    return s, e


def _blank_quotes(raw: str) -> str:
    """``raw`` with the contents of its strings blanked: operators outside them remain."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] in "'\"":
            end = _skip_quoted(raw, i)
            out.append(" " * (end - i))
            i = end
            continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def _path(value: str) -> str:
    return value.strip().replace("\\", "/")
