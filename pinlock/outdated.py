"""`pinlock outdated`: per input, the locked version, the newest allowed one, upstream drift.

Whether an input can move is decided by ``app.plan_move``, the function `pinlock
update` (and so `pinlock pr`) acts on: what this report calls movable is exactly
what `pr` opens a pull request for. Drift that no update explains (a release
asset replaced under its version, a locked manifest gone) is an alarm instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pinlock import clock, output
from pinlock.answers import Answer, Answers
from pinlock.app import (
    NOT_DRIFT,
    Move,
    Options,
    Sources,
    offered,
    open_project,
    plan_move,
    upstream_alarms,
    waiting,
)
from pinlock.changes import current_version, index_digest, short_digest
from pinlock.clock import shown
from pinlock.errors import PinlockError
from pinlock.model import Finding, Input, Lock
from pinlock.parallel import run_all

if TYPE_CHECKING:
    from pinlock.sources.interface import Candidate, Context

_STATUS: dict[Move, str] = {"version": "newer", "digest": "new digest", "pin": "not pinned"}


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
    error_exit: int = 3  # the error's exit code: 3 unreachable, 2 bad input, 1 bad upstream data
    move: Move | None = None  # what `pinlock update` / `pinlock pr` would do (app.plan_move)
    locked_digest: str | None = None  # images: the locked index digest
    newest_digest: str | None = None  # images: the index the newest tag points at now
    waiting: str | None = None  # a newer candidate younger than min-age: how long it has left
    asked: dt.datetime | None = None  # when upstream gave the answer shown
    cached: bool = False  # the answer of an earlier run (answers.py), not asked now

    @property
    def newer(self) -> bool:
        return self.move == "version"

    @property
    def drifted(self) -> bool:
        return any(f.code not in NOT_DRIFT for f in self.drift)

    @property
    def movable(self) -> bool:
        # An alarm blocks a version or digest move (app.refuse_on_alarm): not movable.
        return self.move is not None and not (self.alarm and self.move in ("version", "digest"))

    @property
    def alarms(self) -> tuple[Finding, ...]:
        """Upstream changed what the lock names, and no update explains it (a replaced
        release asset, a vanished manifest): a person must look; `verify --online` fails."""
        return upstream_alarms(self.drift)

    @property
    def alarm(self) -> bool:
        return bool(self.alarms)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        parts = [_STATUS[self.move]] if self.move is not None else []
        if self.waiting is not None:
            parts.insert(0, f"newer (waiting: {self.waiting})")
        if self.alarm:
            parts.append("alarm: changed upstream")
        elif self.drifted and self.move is None:
            parts.append("changed upstream")
        return "; ".join(parts) or "up to date"

    def to_json(self) -> dict[str, object]:
        return {
            "input": self.input,
            "kind": self.kind,
            "locked": self.locked,
            "newest": self.newest,
            "notes_url": self.notes_url,
            "newer": self.newer,
            "move": self.move,
            "movable": self.movable,
            "locked_digest": self.locked_digest,
            "newest_digest": self.newest_digest,
            "waiting": self.waiting,
            "drift": [f.to_json() for f in self.drift],
            "alarm": self.alarm,
            "alarms": [f.code for f in self.alarms],
            "error": self.error,
            "asked": self.asked.isoformat() if self.asked is not None else None,
            "cached": self.cached,
        }


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)  # asked in this run

    @property
    def movable(self) -> list[Row]:
        return [r for r in self.rows if r.movable]

    @property
    def alarms(self) -> list[Row]:
        return [r for r in self.rows if r.alarm]

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r.error is not None]


def outdated_lock(lock: Lock, names: list[str] | None, options: Options,
                  sources: Sources | None, *,
                  known: Mapping[str, Answer] | None = None) -> Report:
    """The report for an already loaded lock: asks each input's source (newest, check),
    unless ``known`` holds its answer (then ``sources`` may be None: nothing to ask)."""
    from pinlock.sources.interface import Context

    ctx = Context(lock)
    report = Report()
    selected = lock.select(names)
    known = known or {}
    ask = [inp for inp in selected if inp.name not in known]
    assert sources is not None or not ask
    # Each input's upstream is asked on its own thread: the rows are independent reads.
    asked = dict(zip([inp.name for inp in ask],
                     run_all([partial(_ask, inp, ctx, options, sources) for inp in ask]),
                     strict=True)) if sources is not None else {}
    for inp in selected:
        got = asked.get(inp.name) or known[inp.name]
        if isinstance(got, Answer) and inp.name in asked:
            report.answers[inp.name] = got
        row = got if isinstance(got, Row) else _row(inp, ctx, got,
                                                    cached=inp.name not in asked)
        report.rows.append(row)
        output.decided(inp.name, _decision(row))
    return report


def _decision(row: Row) -> str:
    """-v: what outdated found for one input."""
    if row.error is not None:
        return f"could not look: {row.error.splitlines()[0]}"
    return (f"locked {row.locked}, newest allowed {row.newest or 'none found'}: "
            f"{row.status}" + (" (answer kept from an earlier run)" if row.cached else ""))


def _ask(inp: Input, ctx: Context, options: Options, sources: Sources) -> Answer | Row:
    """What the input's upstream says now; a Row with the error when it cannot be asked."""
    try:
        source = sources.upstream(inp)
        when = clock.now()
        cand = source.newest(inp, ctx, allow_major=options.allow_major,
                             prerelease=options.prerelease)
        drift = tuple(source.check(inp, ctx))
    except PinlockError as exc:
        return Row(inp.name, inp.kind, current_version(inp), error=exc.diagnostics(),
                   error_exit=exc.exit_code)
    return Answer(when, cand, drift)


def _row(inp: Input, ctx: Context, answer: Answer, *, cached: bool) -> Row:
    """The row of an answer, judged now (min-age waits run on while an answer is kept)."""
    cand = answer.candidate
    move = plan_move(inp, cand, ctx.lock)
    wait = waiting(inp, cand, ctx.lock)
    young = wait is not None and plan_move(inp, cand, ctx.lock, min_age=False) != move
    return Row(inp.name, inp.kind, current_version(inp),
               newest=offered(inp, cand) if cand is not None else None,
               notes_url=cand.notes_url if cand is not None else None,
               drift=answer.drift, move=move,
               locked_digest=index_digest(inp),
               newest_digest=cand.digest if cand is not None else None,
               waiting=_wait_text(wait, cand) if young and wait is not None else None,
               asked=answer.asked, cached=cached)


def _wait_text(wait: dt.timedelta, cand: Candidate | None) -> str:
    if cand is None or cand.published is None:
        return "publication time unknown, too new to judge"
    return f"{shown(wait)} left"


def outdated(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
             options: Options, *, sources: Sources | None = None,
             max_age: dt.timedelta = dt.timedelta(0),
             environ: Mapping[str, str] | None = None) -> Report:
    """``pinlock outdated``: read the lock, ask every input's upstream, change nothing.

    ``max_age``: answers an earlier run got for this very lock (``answers``) are shown
    instead of asking again while they are younger than this; 0: every upstream is asked.
    """
    project = open_project(dockerfile, lock_path, keep_document=False)
    lock = project.lock
    assert lock is not None and project.lock_text is not None
    selected = lock.select(names)  # unknown names are refused before any upstream is asked
    if sources is not None:
        return outdated_lock(lock, names, options, sources)
    kept = Answers.open(project.lock_text, options, os.environ if environ is None else environ)
    known = kept.fresh([inp.name for inp in selected], max_age, clock.now()) if max_age else {}
    if len(known) == len(selected):
        return outdated_lock(lock, names, options, None, known=known)
    with Sources(options) as own:
        report = outdated_lock(lock, names, options, own, known=known)
    kept.keep(report.answers)  # errors are not kept: the next run asks again
    return report


# ------------------------------------------------------------------ rendering


def report_text(report: Report) -> str:
    """A table for people: input, kind, locked, newest, and a status column."""
    header = ("input", "kind", "locked", "newest", "status")
    rows: list[tuple[str, ...]] = []
    for r in report.rows:
        status = r.status
        if r.move == "digest":
            status += f" ({short_digest(r.locked_digest)} → {short_digest(r.newest_digest)})"
        rows.append((r.input, r.kind, r.locked, r.newest or "-", status))
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    for r in report.rows:
        alarms = r.alarms
        for f in r.drift:
            if f.code not in NOT_DRIFT:
                what = "alarm: " if f in alarms else ""
                lines.append(f"{r.input}: {what}{f.code}: {f.message}")
        if alarms:
            lines.append(f"{r.input}: alarm: upstream changed what the lock names without a "
                         "new version; this is not an update (pinlock update and pinlock pr "
                         f"leave it alone) and `pinlock verify --online {r.input}` fails until "
                         "a person has found out why")
        if r.error is not None:
            lines.append(f"{r.input}: error: {r.error}")
    n, m, e = len(report.movable), len(report.alarms), len(report.errors)
    summary = [f"{n} input(s) can move"] if n else []
    if m:
        summary.append(f"{m} input(s) raised an alarm")
    if e:
        # An input that could not be asked is not up to date: nobody knows.
        summary.append(f"{e} of {len(report.rows)} input(s) could not be checked")
    kept = [r.asked for r in report.rows if r.cached and r.asked is not None]
    if kept:
        age = max(clock.now() - min(kept), dt.timedelta(0))
        lines.append(f"{len(kept)} of {len(report.rows)} answer(s) kept from a run "
                     f"{_ago(age)} ago (--max-age 0 asks upstream now)")
    lines.append("; ".join(summary) if summary else "everything is up to date")
    return "\n".join(lines)


def _ago(age: dt.timedelta) -> str:
    seconds = int(age.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def report_json(report: Report) -> str:
    return json.dumps({"inputs": [r.to_json() for r in report.rows],
                       "movable": [r.input for r in report.movable],
                       "alarms": [r.input for r in report.alarms],
                       "errors": [r.input for r in report.errors]},
                      indent=2, sort_keys=True)
