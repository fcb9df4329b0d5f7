"""Every value of a Lock paired with its grammar: the one list that load, write and verify check."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pinlock import grammar
from pinlock.errors import UpstreamDataError
from pinlock.grammar import GrammarError
from pinlock.kinds import kind_of
from pinlock.kinds.base import Check, Value
from pinlock.model import Input, Lock

_PLACEHOLDER = re.compile(r"\{(?:arch|ARCH|version|repository|tag|name)\}")
_WORD = re.compile(r"[a-z][a-z0-9-]{0,31}", re.ASCII)
_STAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)


def word(value: str) -> None:
    if _WORD.fullmatch(value) is None:
        raise GrammarError("word", value, "lowercase letters, digits and '-'")


def stage(value: str) -> None:
    if _STAGE.fullmatch(value) is None:
        raise GrammarError("stage", value, "a stage name or index")


def template(check: Check, sample: str = "x1") -> Check:
    """A template's grammar: its placeholders filled with a harmless sample, then ``check``.
    What is filled in later is checked on its own, when it is filled."""
    def run(value: str) -> None:
        try:
            check(_PLACEHOLDER.sub(sample, value))
        except GrammarError as exc:
            raise GrammarError(f"{exc.what} template", value, exc.expected) from None
    return run


def lock_values(lock: Lock) -> Iterator[Value]:
    """(key, value, grammar) for every value of ``lock`` that reaches a file or a shell."""
    for i, p in enumerate(lock.platforms):
        yield f"platforms[{i}]", p, grammar.platform
    for name in sorted(lock.inputs):
        yield from input_values(lock.inputs[name])


def input_values(inp: Input) -> Iterator[Value]:
    """The values of one input, with their grammars: its kind knows them."""
    at = f"inputs.{inp.name}"
    if inp.intent.group is not None:
        yield f"{at}.group", inp.intent.group, grammar.git_branch
    yield from kind_of(inp).values(inp, at)


def first_bad(values: Iterator[Value]) -> tuple[str, GrammarError] | None:
    """The first value outside its grammar, with its key; None when all hold."""
    for key, value, check in values:
        try:
            check(value)
        except GrammarError as exc:
            return key, exc
    return None


def require(source: str, values: Iterable[Value], *, what: str | None = None) -> None:
    """Raise UpstreamDataError naming ``source`` (and ``what``, e.g. the package) for the
    first value outside its grammar: bad upstream data, refused before it is written."""
    bad = first_bad(iter(values))
    if bad is not None:
        key, exc = bad
        raise UpstreamDataError(source, f"{what} {key}: {exc}" if what else f"{key}: {exc}")
