"""`pinlock outdated`: per input, the locked version, the newest allowed one, upstream drift."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pinlock.app import Options, Sources, current_version, open_project
from pinlock.errors import PinlockError
from pinlock.model import Finding, Input, Lock

if TYPE_CHECKING:
    from pinlock.sources.interface import Context

# Findings of Source.check that are not drift: values pinlock has not pinned yet, or a
# checksum with one source only. They are shown, but do not make an input "movable".
_NOT_DRIFT = frozenset({"not-pinned", "single-checksum-source"})


@dataclass(frozen=True)
class Row:
    """One input: where it is, where it could go, and what changed upstream without a version."""

    input: str
    kind: str
    locked: str
    newest: str | None = None
    notes_url: str | None = None
    drift: tuple[Finding, ...] = ()
    error: str | None = None  # upstream could not be asked; the row says so, the run goes on

    @property
    def newer(self) -> bool:
        return self.newest is not None and self.newest != self.locked

    @property
    def drifted(self) -> bool:
        return any(f.code not in _NOT_DRIFT for f in self.drift)

    @property
    def movable(self) -> bool:
        return self.newer or self.drifted

    def to_json(self) -> dict[str, object]:
        return {
            "input": self.input,
            "kind": self.kind,
            "locked": self.locked,
            "newest": self.newest,
            "notes_url": self.notes_url,
            "newer": self.newer,
            "drift": [f.to_json() for f in self.drift],
            "movable": self.movable,
            "error": self.error,
        }


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    @property
    def movable(self) -> list[Row]:
        return [r for r in self.rows if r.movable]

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r.error is not None]


def outdated_lock(lock: Lock, names: list[str] | None, options: Options,
                  sources: Sources) -> Report:
    """The report for an already loaded lock: asks each input's source (newest, check)."""
    from pinlock.sources.interface import Context

    ctx = Context(lock)
    report = Report()
    for inp in lock.select(names):
        report.rows.append(_row(inp, ctx, options, sources))
    return report


def _row(inp: Input, ctx: Context, options: Options, sources: Sources) -> Row:
    locked = current_version(inp)
    try:
        source = sources.for_input(inp)
        cand = source.newest(inp, ctx, allow_major=options.allow_major,
                             prerelease=options.prerelease)
        drift = tuple(source.check(inp, ctx))
    except PinlockError as exc:
        return Row(inp.name, inp.kind, locked, error=exc.diagnostics())
    return Row(inp.name, inp.kind, locked,
               newest=cand.version if cand is not None else None,
               notes_url=cand.notes_url if cand is not None else None,
               drift=drift)


def outdated(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
             options: Options, *, sources: Sources | None = None) -> Report:
    """``pinlock outdated``: read the lock, ask every input's upstream, change nothing."""
    project = open_project(dockerfile, lock_path, keep_document=False)
    lock = project.lock
    assert lock is not None
    lock.select(names)  # unknown names are refused before any upstream is asked
    if sources is not None:
        return outdated_lock(lock, names, options, sources)
    with Sources(options) as own:
        return outdated_lock(lock, names, options, own)


# ------------------------------------------------------------------ rendering


def report_text(report: Report) -> str:
    """A table for people: input, kind, locked, newest, and a status column."""
    header = ("input", "kind", "locked", "newest", "status")
    rows: list[tuple[str, ...]] = []
    for r in report.rows:
        if r.error is not None:
            status = "error"
        elif r.newer and r.drifted:
            status = "newer; changed upstream"
        elif r.newer:
            status = "newer"
        elif r.drifted:
            status = "changed upstream"
        else:
            status = "up to date"
        rows.append((r.input, r.kind, r.locked, r.newest or "-", status))
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    for r in report.rows:
        for f in r.drift:
            if f.code not in _NOT_DRIFT:
                lines.append(f"{r.input}: {f.code}: {f.message}")
        if r.error is not None:
            lines.append(f"{r.input}: error: {r.error}")
    n = len(report.movable)
    lines.append(f"{n} input(s) can move" if n else "everything is up to date")
    return "\n".join(lines)


def report_json(report: Report) -> str:
    return json.dumps({"inputs": [r.to_json() for r in report.rows],
                       "movable": [r.input for r in report.movable]},
                      indent=2, sort_keys=True)
