"""The lock's data model: what each input is (intent) and what it resolved to (locked).

Frozen dataclasses, no I/O. Intent is edited by people; locked values only by pinlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pinlock.errors import UsageError

SCHEMA_VERSION = 1
DEFAULT_PLATFORMS: tuple[str, ...] = ("linux/amd64", "linux/arm64")
DEFAULT_DOCKERFILE = "docker/Dockerfile"


def platform_arch(platform: str) -> str:
    """``linux/arm64/v8`` -> ``arm64``: the Debian/Go architecture name of a platform."""
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


# ---------------------------------------------------------------- inputs


class Intent(Protocol):
    """What the core reads of any input's intent; each kind's intent adds its own keys."""

    @property
    def group(self) -> str | None: ...  # `pinlock pr` updates a group's inputs together

    @property
    def min_age(self) -> str | None: ...  # update/outdated/pr propose only older candidates


class Input(Protocol):
    """One input of any kind (``pinlock.kinds``): a name, its kind, its intent, its locked values.

    Each kind defines a frozen dataclass with these fields; the core asks the input's kind
    (``pinlock.kinds.kind_of``) for anything else.
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def intent(self) -> Intent: ...


@dataclass(frozen=True)
class Lock:
    """The whole lock: global settings and the inputs by name."""

    dockerfile: str = DEFAULT_DOCKERFILE
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    inputs: Mapping[str, Input] = field(default_factory=dict)
    min_age: str | None = None  # the `min-age` of every input that sets none of its own

    def get(self, name: str) -> Input | None:
        return self.inputs.get(name)

    def select(self, names: Sequence[str] | None = None) -> list[Input]:
        """The inputs named (all when ``names`` is empty), in name order.

        An unknown name is a usage error: a typo must not silently check nothing.
        """
        for n in names or ():
            if n not in self.inputs:
                known = ", ".join(sorted(self.inputs)) or "none"
                raise UsageError(f"unknown input {n!r} (inputs in the lock: {known})")
        return [self.inputs[n] for n in sorted(self.inputs) if not names or n in names]

    def groups(self) -> dict[str, list[str]]:
        """Group name -> the names of its inputs (sorted), from the intents' ``group`` keys."""
        out: dict[str, list[str]] = {}
        for name in sorted(self.inputs):
            group = self.inputs[name].intent.group
            if group is not None:
                out.setdefault(group, []).append(name)
        return dict(sorted(out.items()))

    def replace_input(self, new: Input) -> Lock:
        inputs = dict(self.inputs)
        inputs[new.name] = new
        return Lock(self.dockerfile, self.platforms, inputs, self.min_age)


# ---------------------------------------------------------------- findings

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One disagreement between Dockerfile, lock and upstream, or a value not yet pinned."""

    input: str
    severity: Severity
    code: str  # stable: "mismatch", "not-pinned", "tag-moved", "asset-replaced", …
    message: str
    file: str | None = None
    line: int | None = None
    expected: str | None = None
    found: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "input": self.input,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(frozen=True)
class Skipped:
    """Something pinlock saw but cannot manage, reported rather than dropped."""

    what: str
    reason: str
    file: str | None = None
    line: int | None = None
