"""POSIX parameter expansions of a version in a URL (``${V%%[a-z]*}``, ``${V%.*}``, ``${V#v}``):
read from the shell text, kept in a URL template as ``{version%%[a-z]*}``, evaluated exactly.

The shell removes the smallest (``%``, ``#``) or largest (``%%``, ``##``) suffix (``%``) or
prefix (``#``) of the value that the pattern matches (POSIX XCU 2.6.2), a pattern in the
notation of XCU 2.13.1. A pattern pinlock cannot evaluate exactly as every ``/bin/sh`` does
(quotes, backslashes, a variable inside it, a bracket expression whose meaning depends on the
locale or the shell) raises ``PatternError``: the download is reported, never guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache

OPS = ("%%", "%", "##", "#")
# ``${NAME%pattern}`` … in shell text; ``{version%pattern}`` … in a template.
SHELL_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(%%|%|##|#)([^{}]*)\}")
PLACE_RE = re.compile(r"\{version(%%|%|##|#)([^{}]*)\}")
# A pattern's ordinary characters: those with no meaning to the shell inside ``${…}``.
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+~:@,/-=")
# Character classes of the POSIX locale (a Dockerfile's RUN sets none).
_CLASSES = {"alpha": "A-Za-z", "digit": "0-9", "alnum": "A-Za-z0-9", "lower": "a-z",
            "upper": "A-Z", "xdigit": "0-9A-Fa-f"}
_RANGES = ("az", "AZ", "09")  # a range within one of these: the same in every locale


class PatternError(ValueError):
    """A pattern pinlock does not evaluate exactly; the message says which part."""


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression that matches what ``pattern`` matches in the shell."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = _bracket_end(pattern, i)
            if end < 0:
                raise PatternError(f"{pattern!r}: a '[' without its ']'")
            out.append(_bracket(pattern, pattern[i + 1:end]))
            i = end
        elif ch in _PLAIN:
            out.append(re.escape(ch))
        else:
            raise PatternError(f"{pattern!r}: {ch!r} is quoted, escaped or expanded by the shell")
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _bracket_end(pattern: str, start: int) -> int:
    """Where the bracket expression opened at ``start`` closes; -1 when it does not."""
    i = start + 1
    if pattern.startswith("!", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1  # "[]…]" holds a "]" first: refused in _bracket
    while i < len(pattern):
        if pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            if close < 0:
                return -1
            i = close + 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    return -1


def _bracket(pattern: str, inside: str) -> str:
    negate = inside.startswith("!")
    body = inside[1:] if negate else inside
    if body.startswith("^"):
        # "^" is unspecified by POSIX (dash and bash differ): not guessed.
        raise PatternError(f"{pattern!r}: the bracket expression [{inside}] is read "
                           "differently by different shells")
    if not body or body.startswith("]"):
        raise PatternError(f"{pattern!r}: a bracket expression that holds ']' or nothing")
    parts: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("[:", i):
            end = body.find(":]", i + 2)
            name = body[i + 2:end] if end > 0 else ""
            if name not in _CLASSES:
                raise PatternError(f"{pattern!r}: character class {body[i:]} is not one of "
                                   + ", ".join(f"[:{c}:]" for c in _CLASSES))
            parts.append(_CLASSES[name])
            i = end + 2
            continue
        ch = body[i]
        if ch == "[" or ch not in _PLAIN:
            raise PatternError(f"{pattern!r}: {ch!r} in a bracket expression")
        if i + 2 < len(body) and body[i + 1] == "-":
            hi = body[i + 2]
            if not any(r[0] <= ch <= hi <= r[1] for r in _RANGES):
                # Other ranges follow the locale's collation order.
                raise PatternError(f"{pattern!r}: the range {ch}-{hi} depends on the locale")
            parts.append(f"{re.escape(ch)}-{re.escape(hi)}")
            i += 3
            continue
        parts.append(re.escape(ch))
        i += 1
    return ("[^" if negate else "[") + "".join(parts) + "]"


def apply(value: str, op: str, pattern: str) -> str:
    """``${value<op><pattern>}`` as the shell expands it."""
    rx = compile_pattern(pattern)
    n = len(value)
    if op in ("%", "%%"):
        # The suffix value[i:]: smallest first for %, largest first for %%.
        order = range(n, -1, -1) if op == "%" else range(0, n + 1)
        for i in order:
            if rx.fullmatch(value, i):
                return value[:i]
        return value
    if op in ("#", "##"):
        order = range(0, n + 1) if op == "#" else range(n, -1, -1)
        for i in order:
            if rx.fullmatch(value, 0, i):
                return value[i:]
        return value
    raise PatternError(f"{op!r} is not a removal operator")


def fill_version(template: str, version: str) -> str:
    """``{version}`` and each ``{version<op><pattern>}`` of ``template`` filled."""
    out = PLACE_RE.sub(lambda m: apply(version, m.group(1), m.group(2)), template)
    return out.replace("{version}", version)


def has_version(template: str) -> bool:
    """The template holds the version, whole or through an expansion."""
    return "{version}" in template or PLACE_RE.search(template) is not None


def check_template(template: str) -> str:
    """``template`` with each expansion checked and written as ``{version}``: what the
    grammar of the plain template then checks. Raises PatternError."""
    for m in PLACE_RE.finditer(template):
        compile_pattern(m.group(2))
    return PLACE_RE.sub("{version}", template)


def to_template(text: str, name: str) -> str:
    """``text`` with ``$NAME``/``${NAME}`` written ``{version}`` and ``${NAME<op><pattern>}``
    written ``{version<op><pattern>}``. Raises PatternError for a pattern not evaluated exactly;
    any other expansion is left as written (its ``$`` tells the caller)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) != name:
            return m.group(0)
        compile_pattern(m.group(3))
        return "{version" + m.group(2) + m.group(3) + "}"

    out = SHELL_RE.sub(sub, text)
    return re.sub(rf"\$(?:\{{{name}\}}|{name}(?![A-Za-z0-9_]))", "{version}", out)


def names_in(text: str) -> set[str]:
    """The variables ``text`` reads through a removal expansion."""
    return {m.group(1) for m in SHELL_RE.finditer(text)}
