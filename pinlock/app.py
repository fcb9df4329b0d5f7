"""The orchestration layer: the only place that touches disk and network.

Each public function is one CLI command's work: read the Dockerfile and the
lock, call the pure core (parser, pins, verify, lockfile) and the sources,
and write both files together or not at all.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pinlock import clock, grammar, lockfile, output
from pinlock.changes import Change, current_version
from pinlock.dockerfile.edit import OverlappingEditsError, apply_edits
from pinlock.dockerfile.parser import Dockerfile, ParseError, parse
from pinlock.dockerfile.sites import Sites, find_sites
from pinlock.errors import (
    DockerfileError,
    InputError,
    IntegrityError,
    PinlockError,
    UpstreamDataError,
    UsageError,
)
from pinlock.files import (
    discard_scratch,
    exclusive,
    journal_for,
    note,
    read_text,
    write_together,
)
from pinlock.grammar import GrammarError, shell_word
from pinlock.kinds import kind_of, kinds
from pinlock.kinds.base import Scope, Upstream
from pinlock.limits import MAX_DOCKERFILE_BYTES, MAX_LOCK_BYTES
from pinlock.model import DEFAULT_PLATFORMS, Finding, Input, Lock, Skipped, platform_arch
from pinlock.options import Options, cache_dir
from pinlock.pins import PinSite, pin_sites
from pinlock.values import first_bad, input_values, lock_values, require
from pinlock.verify import edits_for, verify_offline

if TYPE_CHECKING:
    import httpx

    from pinlock.discover import Discovery
    from pinlock.image_report import ImageReport
    from pinlock.sources.interface import Candidate, Context

__all__ = ["Options", "Sources", "cache_dir"]  # Options and cache_dir: kept importable here


@dataclass
class Project:
    lock_path: Path
    dockerfile_path: Path
    label: str  # the Dockerfile path as shown in findings
    source: str
    df: Dockerfile
    sites: Sites
    lock: Lock | None = None
    doc: lockfile.Document | None = None
    lock_text: str | None = None


def _parse_dockerfile(path: Path, label: str) -> tuple[str, Dockerfile, Sites]:
    source = read_text(path, "dockerfile", limit=MAX_DOCKERFILE_BYTES)
    try:
        df = parse(source)
    except ParseError as exc:
        raise DockerfileError(label, str(exc), line=exc.line) from None
    return source, df, find_sites(df)


def open_project(dockerfile: Path | None, lock_path: Path, *, need_lock: bool = True,
                 keep_document: bool = True) -> Project:
    lock: Lock | None = None
    doc = None
    text = None
    if need_lock:
        text = read_text(lock_path, "lockfile", limit=MAX_LOCK_BYTES)
        if keep_document:
            lock, doc = lockfile.load(text, str(lock_path))
        else:
            lock = lockfile.load_fast(text, str(lock_path))
    if dockerfile is None:
        rel = lock.dockerfile if lock else "docker/Dockerfile"
        dockerfile = (lock_path.parent / rel) if lock else Path(rel)
    label = os.path.relpath(dockerfile) if dockerfile.is_absolute() else str(dockerfile)
    source, df, sites = _parse_dockerfile(dockerfile, label)
    return Project(lock_path, dockerfile, label, source, df, sites, lock, doc, text)


# ------------------------------------------------------------------ init


@dataclass
class InitResult:
    discovery: Discovery
    lock_path: Path
    text: str


def init(dockerfile: Path | None, lock_path: Path, *, force: bool = False,
         platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> InitResult:
    from pinlock.discover import discover

    if lock_path.exists() and not force:
        raise InputError(f"{lock_path}: already exists",
                         hint="pass --force to replace it, or `pinlock lock` to fill it")
    dockerfile = dockerfile or Path("docker/Dockerfile")
    source, _, sites = _parse_dockerfile(dockerfile, str(dockerfile))
    # apt RUNs whose packages are not in the text (a variable, a function, eval): discover
    # leaves their stage out of the lock and reports them, so the lock is never half a stage.
    rel = os.path.relpath(dockerfile.resolve(), lock_path.resolve().parent)
    found = discover(sites, rel, platforms)
    _adoptable(found.lock, str(dockerfile), source)
    text = lockfile.render(found.lock)
    with exclusive(lock_path):
        write_together({lock_path: text}, journal=journal_for(lock_path))
    return InitResult(found, lock_path, text)


def _adoptable(lock: Lock, label: str, source: str) -> None:
    """A value adopted from the Dockerfile must hold its grammar like any other: a version
    ARG of `1.0$(id)` is bad input, named by line, not a value to lock and write back."""
    bad = first_bad(lock_values(lock))
    if bad is None:
        return
    key, exc = bad
    line = next((n for n, text in enumerate(source.splitlines(), 1)
                 if exc.value and exc.value in text), None)
    raise DockerfileError(label, f"{exc} (adopted as {key})", line=line,
                          hint="fix the value in the Dockerfile, or remove it and let "
                          "`pinlock lock` fill it")


# ------------------------------------------------------------------ verify


def verify(dockerfile: Path | None, lock_path: Path, *, names: list[str] | None = None,
           strict: bool = False, online: bool = False,
           options: Options | None = None) -> tuple[list[Finding], list[Skipped]]:
    """Offline: Dockerfile == lock. Online (``online=True``): also lock == upstream.

    Returns the findings, and what the Dockerfile installs that no lock can pin.
    """
    from pinlock.discover import unmanaged

    project = open_project(dockerfile, lock_path, keep_document=False)
    assert project.lock is not None
    if journal_for(lock_path).exists():  # read-only here: the next writing command repairs it
        note(f"an earlier run stopped between writing {project.label} and {lock_path}; "
             "`pinlock lock` completes it")
    project.lock.select(names)
    findings = verify_offline(project.lock, project.sites, project.label, names=names,
                              strict=strict)
    if online:
        findings.extend(_check_online(project.lock, names, options or Options()))
    return findings, unmanaged(project.sites, project.label)


def _check_online(lock: Lock, names: list[str] | None, options: Options) -> list[Finding]:
    from pinlock.sources.interface import Context

    ctx = Context(lock)
    out: list[Finding] = []
    # What upstream says now, never what a cache says it said: the cache is not read.
    with Sources(replace(options, index_cache=False, full_check=True)) as sources:
        for inp in lock.select(names):
            try:
                out.extend(sources.upstream(inp).check(inp, ctx))
            except PinlockError as exc:
                out.append(Finding(inp.name, "error", "upstream", exc.diagnostics()))
    return out


# ------------------------------------------------------------------ verify --image


def verify_image(image: str, dockerfile: Path | None, lock_path: Path, *,
                 names: list[str] | None = None, platforms: Sequence[str] = (),
                 options: Options | None = None) -> ImageReport:
    """``verify --image REF``: what a built image holds == what the lock's inputs say,
    asked of the kind that can read it (apt: the image's dpkg status)."""
    from pinlock.image_report import ImageReport, PlatformResult
    from pinlock.sources.oci.client import parse_platform
    from pinlock.sources.oci.errors import LayerFormatError
    from pinlock.sources.oci.image import image_platforms, open_image, parse_location
    from pinlock.sources.oci.layers import read_image_files

    location = parse_location(image)
    for text in platforms:
        parse_platform(text)
    project = open_project(dockerfile, lock_path, keep_document=False)
    assert project.lock is not None
    lock = project.lock
    checker = next((c for c in (k.built_image() for k in kinds()) if c is not None), None)
    if checker is None:  # pragma: no cover - the apt kind is built in
        raise UsageError("no kind of input can check a built image")
    inputs = checker.inputs(lock, project.sites, project.label, names)
    options = options or Options()
    wanted = tuple(platforms) or lock.platforms
    results = []
    findings: list[Finding] = []
    with Sources(options) as sources, open_image(
            location, os.environ, registry_mirrors=options.registry_mirrors) as opened:
        sources.lock = lock
        found, missing = image_platforms(opened, wanted)
        arches = {platform_arch(p) for p in wanted}
        for platform, digest in sorted(found.items()):
            if platform_arch(platform) not in arches:  # one manifest, for another platform
                missing.extend(p for p in wanted if p not in missing)
                continue
            try:
                files = read_image_files(opened.store, opened.repository, digest,
                                         files=list(checker.files), dirs=list(checker.dirs),
                                         max_total=checker.max_total)
            except LayerFormatError as exc:  # what the image holds is bad, not the transfer
                results.append(PlatformResult(platform, digest, 0, (Finding(
                    inputs[-1].name, "error", "image-unreadable",
                    f"{platform}: {exc.message}"),)))
                continue
            results.append(checker.check(files, inputs, sources.upstream(inputs[0]),
                                         platform, digest))
        findings += [Finding(inputs[-1].name, "error", "platform-missing",
                             f"{opened.label} has no {p} image "
                             f"(it has: {', '.join(sorted(found)) or 'none'})")
                     for p in missing]
    return ImageReport(str(location), tuple(i.name for i in inputs), tuple(results),
                       tuple(findings))


# ------------------------------------------------------------------ sources


class Sources:
    """Builds each kind's source on first use, sharing one HTTP client; closes it at the end.

    It is also what a kind's source is built with (``kinds.base.Upstreams``): the settings,
    the client, the environment, and the services one kind offers another (the files of a
    stage's locked base image, for apt).
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self._built: dict[str, Upstream] = {}
        self._client: httpx.Client | None = None
        self.lock: Lock | None = None  # the lock being changed, for sources that read others
        # Inputs may be asked on several threads (outdated): each source and the client are
        # built once. Re-entrant: building a source asks for the client.
        self._guard = threading.RLock()

    @property
    def http(self) -> httpx.Client:
        with self._guard:
            if self._client is None:
                from pinlock.http import make_client

                self._client = make_client()
            return self._client

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ

    def upstream(self, inp: Input) -> Upstream:
        """The source of ``inp``'s kind, built on first use."""
        with self._guard:
            if inp.kind not in self._built:
                self._built[inp.kind] = kind_of(inp).upstream(self)
            return self._built[inp.kind]


    def notes(self, inp: Input) -> list[Finding]:
        """Warnings the source of ``inp``'s kind collected, if it was built."""
        built = self._built.get(inp.kind)
        return built.take_notes() if built is not None else []

    def stage_file(self, stage: str, arch: str, path: str) -> bytes | None:
        """``StageFiles``: asked of each kind; the one that locks the stage's base answers."""
        lock = self.lock
        if lock is None:
            return None
        for kind in kinds():
            data = kind.stage_file(self, lock, stage, arch, path)
            if data is not None:
                return data
        return None

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        for src in self._built.values():
            src.close()
        if self._client is not None:
            self._client.close()


class _OnFirstUse:
    """The source of an input's kind, built when a planner first asks it something: a run
    with nothing to resolve (a no-op `lock`) builds no source, no HTTP client."""

    def __init__(self, sources: Sources, inp: Input) -> None:
        self._sources = sources
        self._inp = inp

    @property
    def _up(self) -> Upstream:
        return self._sources.upstream(self._inp)

    @property
    def source(self) -> object:
        return self._up.source

    def resolve(self, inp: Input, ctx: Context, *, version: str | None = None) -> Input:
        return self._up.resolve(inp, ctx, version=version)

    def newest(self, inp: Input, ctx: Context, *, allow_major: bool = False,
               prerelease: bool = False) -> Candidate | None:
        return self._up.newest(inp, ctx, allow_major=allow_major, prerelease=prerelease)

    def check(self, inp: Input, ctx: Context) -> list[Finding]:
        return self._up.check(inp, ctx)

    def take_notes(self) -> list[Finding]:
        return self._up.take_notes()

    def close(self) -> None:
        self._up.close()


# ------------------------------------------------------------------ changes


def needs_lock(inp: Input, lock: Lock) -> bool:
    """True when the input has values not pinned yet."""
    return kind_of(inp).needs_lock(inp, lock)


# What `update` does with an input, in order of precedence; the one answer `update`,
# `outdated` and `pr` share, so what `outdated` calls movable is what `pr` opens.
# "version": a newer version than the locked one; "digest": the same version (tag) now
# points at other content, a re-pushed tag; "pin": values not pinned yet.
Move = Literal["version", "digest", "pin"]


def offered(inp: Input, cand: Candidate) -> str:
    """What ``cand`` would write, in the terms of ``current_version(inp)``: an image's whole
    tag (``0.11.7-python3.13-trixie``, not ``0.11.7``), a release's version."""
    return kind_of(inp).offered(inp, cand)


def waiting(inp: Input, cand: Candidate | None, lock: Lock | None = None
            ) -> dt.timedelta | None:
    """How long ``cand`` must still age before ``min-age`` (the input's, else the lock's
    top-level one) lets it be proposed; None: no ``min-age``, or old enough. A candidate
    whose publication time upstream does not tell waits the whole age: too new to judge."""
    age = inp.intent.min_age or (lock.min_age if lock is not None else None)
    if cand is None or age is None:
        return None
    return clock.left(cand.published, clock.parse_age(age))


def plan_move(inp: Input, cand: Candidate | None, lock: Lock, *,
              min_age: bool = True) -> Move | None:
    """How ``inp`` can move, given the newest candidate its source offers; None: it cannot.

    A release asset replaced under the same version is deliberately not a move:
    a release's version is its identity, so new bytes under it are a supply-chain
    alarm for a person (``outdated``, ``verify --online``), never a silent re-pin.
    A candidate younger than the input's ``min-age`` is not a move either (``min_age=
    False``: what the move would be without it, for ``outdated``'s waiting status).
    """
    young = min_age and waiting(inp, cand, lock) is not None
    if cand is not None and offered(inp, cand) != current_version(inp) and not young:
        return "version"
    if cand is not None and not young and kind_of(inp).moved_in_place(inp, cand) is not None:
        return "digest"
    if needs_lock(inp, lock):
        return "pin"
    return None


# Findings of Source.check that are not drift: values pinlock has not pinned yet, or a
# checksum with one source only. They are shown, but are neither a move nor an alarm.
NOT_DRIFT = frozenset({"not-pinned", "not-locked", "single-checksum-source"})
# Drift that an update picks up: a re-pushed tag is a digest update (plan_move).
UPDATE_DRIFT = frozenset({"tag-moved"})


def upstream_alarms(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Upstream changed what the lock names and no update explains it (a release asset
    replaced under its version, a locked manifest gone): a person must look first."""
    return tuple(f for f in findings if f.severity == "error"
                 and f.code not in NOT_DRIFT and f.code not in UPDATE_DRIFT)


class UpstreamAlarmError(IntegrityError):
    """An input would move while upstream has raised an alarm on what the lock names."""


def refuse_on_alarm(src: Upstream, inp: Input, ctx: Context, options: Options) -> None:
    """Stop an update of ``inp`` while upstream shows an alarm, unless --accept-alarm.

    An alarm (same version, other bytes; a manifest gone) may be a compromised upstream;
    moving the input on top of it would bury the evidence in a routine update.
    """
    if options.accept_alarm:
        return
    alarms = upstream_alarms(src.check(inp, ctx))
    if alarms:
        codes = ", ".join(sorted({f.code for f in alarms}))
        raise UpstreamAlarmError(
            f"{inp.name}: not moved: upstream raised an alarm ({codes}): "
            + "; ".join(f.message for f in alarms),
            hint=f"find out why (`pinlock verify --online {inp.name}`); to move it anyway, "
            "pass --accept-alarm")


def carry_out(src: Upstream, inp: Input, ctx: Context, move: Move | None,
              cand: Candidate | None) -> Input | None:
    """The input after ``move`` (see ``plan_move``), resolved from upstream; None: no move."""
    if move == "version":
        assert cand is not None
        return src.resolve(inp, ctx, version=cand.version)
    if move == "digest":
        # The version is read afresh: its locked content is what moved, so it cannot stay
        # the reference resolve reads; every value is then hashed again.
        assert cand is not None
        unpinned = kind_of(inp).moved_in_place(inp, cand)
        assert unpinned is not None
        return src.resolve(unpinned, ctx)
    if move == "pin":
        return src.resolve(inp, ctx)
    return None


@dataclass
class ChangeResult:
    changes: list[Change] = field(default_factory=list)
    dockerfile_changed: bool = False
    lock_changed: bool = False
    failures: list[tuple[str, PinlockError]] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # warnings the sources raised
    dry_run: bool = False
    diff: str = ""  # a dry run: the unified diff of what would be written


Planner = Callable[["Upstream", Input, "Context"], Input | None]


def _attempt(plan: Planner, srcs: Sources, inp: Input, ctx: Context,
             original: Lock) -> tuple[Input | None, PinlockError | None]:
    """``plan`` for one input: its new value (None: nothing to change), or its failure."""
    try:
        new = plan(_OnFirstUse(srcs, inp), inp, ctx)
    except PinlockError as exc:
        return None, exc
    if new is None and inp != original.inputs[inp.name] and not needs_lock(inp, ctx.lock):
        new = inp  # only the intent followed the Dockerfile: nothing to resolve
    return new, None


def change(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
           planner: Planner, options: Options, *, dry_run: bool = False,
           sources: Sources | None = None) -> ChangeResult:
    """Plan new locked values with ``planner`` for each input, then write both files at once.

    Every input is tried, and every failure is collected; if any input failed,
    nothing is written and the failures are reported together.
    """
    from pinlock.parallel import run_all
    from pinlock.sources.interface import Context

    with exclusive(lock_path, dry_run=dry_run):
        project = open_project(dockerfile, lock_path)
        if not dry_run:
            discard_scratch(project.dockerfile_path)  # what a run killed mid-write left
            discard_scratch(journal_for(lock_path))  # a journal killed before its rename
        lock = project.lock
        assert lock is not None
        lock.select(names)
        scope = Scope(lock, project.sites, project.label)
        unsafe = [b for kind in kinds() for b in kind.blockers(scope, names)]
        if unsafe:
            return ChangeResult(failures=unsafe, dry_run=dry_run)
        # Structure first: an ARG or stage the lock names but the Dockerfile lacks is bad
        # input, reported before any upstream is asked.
        pin_sites(lock, project.sites, project.label)
        original = lock
        lock = _follow_dockerfile(lock, names, project)
        ctx = Context(lock)
        result = ChangeResult(dry_run=dry_run)
        new_lock = original
        own = sources is None
        srcs = sources or Sources(options)
        srcs.lock = lock
        selected = lock.select(names)
        # Kinds that follow a base (apt) last: they move with the images planned before them.
        followers = [i for i in lock.inputs.values() if kind_of(i).follows_base
                     and i not in selected]
        # Inputs that follow no base are independent: each asks its own upstream, all on
        # their own threads (images and releases in flight together).
        free = [i for i in selected if not kind_of(i).follows_base]
        try:
            planned: dict[str, tuple[Input | None, PinlockError | None]] = dict(zip(
                [i.name for i in free],
                run_all([partial(_attempt, planner, srcs, inp, ctx, original) for inp in free]),
                strict=True))
            for inp in free + [i for i in selected if kind_of(i).follows_base] + followers:
                name = inp.name
                kind = kind_of(inp)
                if name in planned:
                    new, failed = planned[name]
                else:
                    plan: Planner = planner
                    new, failed = None, None
                    if kind.follows_base:
                        srcs.lock = new_lock
                        try:
                            moved = kind.follow_base(
                                inp, Scope(new_lock, project.sites, project.label))
                        except PinlockError as exc:
                            moved, failed = inp, exc
                        if inp in followers and failed is None:
                            if moved is inp:
                                continue
                            # The base moved to another Debian release under an input not
                            # named: it moves too, at its locked snapshot.
                            plan = _resolve_again
                        inp = moved
                    if failed is None:
                        new, failed = _attempt(plan, srcs, inp, ctx, original)
                result.notes.extend(srcs.notes(inp))
                if failed is not None:
                    output.decided(name, f"not moved: {failed.message}")
                    result.failures.append((name, failed))
                    continue
                output.decided(name, "nothing to change" if new in (None, original.inputs[name])
                               else f"planned: {current_version(original.inputs[name])} -> "
                               f"{current_version(new)}")
                if new is not None and new != original.inputs[name]:
                    result.changes.append(Change(name, original.inputs[name], new))
                    new_lock = new_lock.replace_input(new)
            result.changes.sort(key=lambda c: c.input)
        finally:
            if own:
                srcs.__exit__(None, None, None)
        if not result.failures:
            for kind in kinds():
                result.failures.extend(kind.conflicts(original, new_lock, project.sites,
                                                      project.label))
        if result.failures:
            return result
        # Defence in depth: every value about to be written, once more, whatever source
        # produced it (each checks its own on entry).
        for c in result.changes:
            require(f"upstream of input {c.input!r}", input_values(c.new))
        new_sites = pin_sites(new_lock, project.sites, project.label)
        _inert(new_sites)
        try:
            new_source = apply_edits(project.source, edits_for(new_sites))
        except OverlappingEditsError as exc:  # pragma: no cover - two pins on one value
            raise PinlockError(f"internal error: {exc}; nothing was written") from None
        new_source, new_lock = _laid_out(new_source, new_lock, project.label, result.notes)
        _self_check(new_source, new_lock, project.label)
        new_text = lockfile.render(new_lock, project.doc)
        writes: dict[Path, str] = {}
        if new_source != project.source:
            writes[project.dockerfile_path] = new_source
            result.dockerfile_changed = True
        if new_text != project.lock_text:
            writes[lock_path] = new_text
            result.lock_changed = True
        if dry_run:
            result.diff = unified_diff({
                path: (project.source if path == project.dockerfile_path
                       else project.lock_text or "", text)
                for path, text in writes.items()})
        elif writes:
            write_together(writes, journal=journal_for(lock_path))
        return result


def unified_diff(files: Mapping[Path, tuple[str, str]]) -> str:
    """``git diff``-style text for (old, new) contents, file by file."""
    import difflib

    out: list[str] = []
    for path, (old, new) in files.items():
        name = path.as_posix()
        out.extend(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def _resolve_again(src: Upstream, inp: Input, ctx: Context) -> Input | None:
    return src.resolve(inp, ctx)


def _follow_dockerfile(lock: Lock, names: list[str] | None, project: Project) -> Lock:
    """The selected inputs' intent as the Dockerfile states it now: a value edited by hand
    (an apt package added, removed or renamed) is what the lock resolves next."""
    scope = Scope(lock, project.sites, project.label)
    for inp in lock.select(names):
        found = kind_of(inp).follow_dockerfile(inp, scope)
        if found != inp:
            lock = lock.replace_input(found)
            scope = Scope(lock, project.sites, project.label)
    return lock


def _inert(sites: list[PinSite]) -> None:
    """Each value about to be written into the Dockerfile is one inert shell word (the
    snapshot wiring, pinlock's own fixed text, aside): the last wall before the edit."""
    for site in sites:
        if not site.wiring and not site.agrees and shell_word(site.expected) != site.expected:
            raise UpstreamDataError(f"input {site.input!r}",
                                    f"{site.label}: {grammar.shown(site.expected)} is not "
                                    "one inert shell word")


def _laid_out(source: str, lock: Lock, label: str, notes: list[Finding]) -> tuple[str, Lock]:
    """Apply the layout each kind's inputs ask for (apt: pins one a line, sorted)."""
    for kind in kinds():
        source = kind.lay_out(source, lock, label, notes)
    return source, lock


def _self_check(source: str, lock: Lock, label: str) -> None:
    """The rewritten Dockerfile must parse and hold every locked value: else write nothing."""
    try:
        df = parse(source)
    except ParseError as exc:  # pragma: no cover - an editor bug
        raise PinlockError(f"internal error: rewritten {label} does not parse: {exc}") from None
    bad = [f for f in verify_offline(lock, find_sites(df), label) if f.code == "mismatch"]
    if bad:  # pragma: no cover - an editor bug
        raise PinlockError("internal error: rewritten Dockerfile disagrees with the lock: "
                           + "; ".join(f"{f.message} (line {f.line})" for f in bad))


def lock_inputs(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
                options: Options, *, dry_run: bool = False) -> ChangeResult:
    """``pinlock lock``: resolve whatever is not pinned yet, keeping versions."""
    def plan(src: Upstream, inp: Input, ctx: Context) -> Input | None:
        if not needs_lock(inp, ctx.lock) and not names:
            output.decided(inp.name, "already pinned: not resolved")
            return None
        return src.resolve(inp, ctx)

    return change(dockerfile, lock_path, names, plan, options, dry_run=dry_run)


def update_inputs(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
                  options: Options, *, dry_run: bool = False) -> ChangeResult:
    """``pinlock update``: move inputs to the newest version their intent allows.

    A tag that now points at another index (same tag, new digest) is re-pinned
    too; a release asset replaced under its version is not (see ``plan_move``).
    """
    def plan(src: Upstream, inp: Input, ctx: Context) -> Input | None:
        cand: Candidate | None = src.newest(inp, ctx, allow_major=options.allow_major,
                                            prerelease=options.prerelease)
        move = plan_move(inp, cand, ctx.lock)
        output.decided(inp.name, f"newest allowed: {cand.version if cand else 'none found'}; "
                       f"move: {move or 'none'}")
        if move in ("version", "digest"):
            refuse_on_alarm(src, inp, ctx, options)
        return carry_out(src, inp, ctx, move, cand)

    return change(dockerfile, lock_path, names, plan, options, dry_run=dry_run)


def bump(dockerfile: Path | None, lock_path: Path, name: str, version: str,
         options: Options, *, dry_run: bool = False) -> ChangeResult:
    """``pinlock bump NAME VERSION``: move one input, all its pins at once."""
    if not version.strip() or any(c.isspace() for c in version):
        raise UsageError(f"{version!r} is not a version")
    try:
        grammar.release_version(version)
    except GrammarError as exc:
        raise UsageError(str(exc)) from None

    def plan(src: Upstream, inp: Input, ctx: Context) -> Input | None:
        return src.resolve(inp, ctx, version=version)

    return change(dockerfile, lock_path, [name], plan, options, dry_run=dry_run)
