"""The orchestration layer: the only place that touches disk and network.

Each public function is one CLI command's work: read the Dockerfile and the
lock, call the pure core (parser, pins, verify, lockfile) and the sources,
and write both files together or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pinlock import lockfile
from pinlock.changes import Change, current_version
from pinlock.dockerfile.edit import OverlappingEditsError, apply_edits
from pinlock.dockerfile.parser import Dockerfile, ParseError, parse
from pinlock.dockerfile.sites import Sites, find_sites
from pinlock.errors import (
    DockerfileError,
    InputError,
    PinlockError,
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
from pinlock.model import (
    DEFAULT_PLATFORMS,
    AptInput,
    Finding,
    ImageInput,
    Input,
    Lock,
    ReleaseInput,
)
from pinlock.pins import apt_pin_conflicts, pin_sites
from pinlock.verify import edits_for, verify_offline

if TYPE_CHECKING:
    import tomlkit

    from pinlock.discover import Discovery
    from pinlock.sources.interface import Candidate, Context, Source

@dataclass(frozen=True)
class Options:
    """Settings for the sources, from the CLI and the environment."""

    registry_mirrors: tuple[str, ...] = ()
    deep: bool = False
    debian_mirror: str | None = None
    debian_security_mirror: str | None = None
    prerelease: bool = False
    allow_major: bool = False
    sample: int | None = None  # --deep: this many .deb files per apt input, chosen at random
    sample_seed: int | None = None  # ... with this seed (None: a fresh one, reported)
    index_cache: bool = True  # False: Debian indexes fetched and verified afresh, no disk cache


@dataclass
class Project:
    lock_path: Path
    dockerfile_path: Path
    label: str  # the Dockerfile path as shown in findings
    source: str
    df: Dockerfile
    sites: Sites
    lock: Lock | None = None
    doc: tomlkit.TOMLDocument | None = None
    lock_text: str | None = None


def _parse_dockerfile(path: Path, label: str) -> tuple[str, Dockerfile, Sites]:
    source = read_text(path, "dockerfile")
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
        text = read_text(lock_path, "lockfile")
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
    _, _, sites = _parse_dockerfile(dockerfile, str(dockerfile))
    rel = os.path.relpath(dockerfile.resolve(), lock_path.resolve().parent)
    found = discover(sites, rel, platforms)
    text = lockfile.render(found.lock)
    with exclusive(lock_path):
        write_together({lock_path: text}, journal=journal_for(lock_path))
    return InitResult(found, lock_path, text)


# ------------------------------------------------------------------ verify


def verify(dockerfile: Path | None, lock_path: Path, *, names: list[str] | None = None,
           strict: bool = False, online: bool = False,
           options: Options | None = None) -> list[Finding]:
    """Offline: Dockerfile == lock. Online (``online=True``): also lock == upstream."""
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
    return findings


def _check_online(lock: Lock, names: list[str] | None, options: Options) -> list[Finding]:
    from pinlock.sources.interface import Context

    ctx = Context(lock)
    out: list[Finding] = []
    # What upstream says now, never what a cache says it said: the cache is not read.
    with Sources(replace(options, index_cache=False)) as sources:
        for inp in lock.select(names):
            try:
                out.extend(sources.for_input(inp).check(inp, ctx))
            except PinlockError as exc:
                out.append(Finding(inp.name, "error", "upstream", exc.diagnostics()))
    return out


# ------------------------------------------------------------------ sources


class Sources:
    """Builds each kind's source on first use, sharing one HTTP client; closes it at the end."""

    def __init__(self, options: Options,
                 factories: dict[str, Callable[[Sources], Any]] | None = None) -> None:
        self.options = options
        self._built: dict[str, Any] = {}
        self._factories = factories or _FACTORIES
        self._client: Any = None
        self.lock: Lock | None = None  # the lock being changed, for sources that read others

    @property
    def http(self) -> Any:
        if self._client is None:
            from pinlock.http import make_client

            self._client = make_client()
        return self._client

    def for_input(self, inp: Input) -> Source[Any]:
        kind = inp.kind
        if kind not in self._built:
            factory = self._factories.get(kind)
            if factory is None:
                raise UsageError(f"no upstream source for inputs of kind {kind!r}")
            self._built[kind] = factory(self)
        source: Source[Any] = self._built[kind]
        return source

    def built(self, kind: str) -> Any:
        return self._built.get(kind)

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        for src in self._built.values():
            close = getattr(src, "close", None)
            if callable(close):
                close()
        if self._client is not None:
            self._client.close()


def _image_source(sources: Sources) -> Any:
    from pinlock.sources.oci import make_image_source

    return make_image_source(os.environ, registry_mirrors=list(sources.options.registry_mirrors))


def _release_source(sources: Sources) -> Any:
    from pinlock.sources.github.source import ReleaseSource

    return ReleaseSource.from_env(sources.http, deep=sources.options.deep,
                                  allow_prerelease=sources.options.prerelease)


def cache_dir(env: Mapping[str, str]) -> str:
    """pinlock's cache: ``PINLOCK_CACHE_DIR``, else ``$XDG_CACHE_HOME/pinlock``, else
    ``~/.cache/pinlock`` (the XDG base directory rules: a relative XDG path is ignored)."""
    if env.get("PINLOCK_CACHE_DIR"):
        return env["PINLOCK_CACHE_DIR"]
    xdg = env.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pinlock")


def _apt_source(sources: Sources) -> Any:
    from pinlock.sources.debian import AptSource, AptSourceConfig

    cfg = AptSourceConfig.from_env(
        os.environ, mirror=sources.options.debian_mirror,
        security_mirror=sources.options.debian_security_mirror, keyring=None,
        cache_dir=(os.path.join(cache_dir(os.environ), "debian")
                   if sources.options.index_cache else None))
    return AptSource(sources.http, cfg, now=None,
                     base_status=lambda inp, arch: _base_status(sources, inp, arch),
                     deep=sources.options.deep, sample=sources.options.sample,
                     seed=sources.options.sample_seed)


def _base_status(sources: Sources, inp: AptInput, arch: str) -> str | None:
    """/var/lib/dpkg/status of the locked base image of the apt input's stage, if it has one."""
    lock = sources.lock
    if lock is None:
        return None
    base = next((i for i in lock.inputs.values() if isinstance(i, ImageInput)
                 and i.intent.stage is not None
                 and i.intent.stage.lower() == inp.intent.stage.lower()), None)
    if base is None:
        return None
    digest = next((d for p, d in base.locked.platforms.items() if p.split("/")[1:2] == [arch]),
                  None)
    if digest is None:
        return None
    from pinlock.sources.oci import read_image_file

    image: Any = sources.for_input(base)
    data = read_image_file(image.client, base.intent.image, digest, "/var/lib/dpkg/status")
    return data.decode("utf-8", "replace") if data is not None else None


_FACTORIES: dict[str, Callable[[Sources], Any]] = {
    "image": _image_source,
    "github-release": _release_source,
    "apt": _apt_source,
}


# ------------------------------------------------------------------ changes


def needs_lock(inp: Input, lock: Lock) -> bool:
    """True when the input has values not pinned yet."""
    if isinstance(inp, ImageInput):
        lk = inp.locked
        return (lk.index_digest is None
                or (not lk.single_platform and set(lk.platforms) != set(lock.platforms)))
    if isinstance(inp, ReleaseInput):
        return not inp.locked.assets or any(a.sha256 is None for a in inp.locked.assets)
    assert isinstance(inp, AptInput)
    return not inp.locked.archs or any(not a.closure for a in inp.locked.archs.values())


# What `update` does with an input, in order of precedence; the one answer `update`,
# `outdated` and `pr` share, so what `outdated` calls movable is what `pr` opens.
# "version": a newer version than the locked one; "digest": the same version (tag) now
# points at other content, a re-pushed tag; "pin": values not pinned yet.
Move = Literal["version", "digest", "pin"]


def offered(inp: Input, cand: Candidate) -> str:
    """What ``cand`` would write, in the terms of ``current_version(inp)``: an image's whole
    tag (``0.11.7-python3.13-trixie``, not ``0.11.7``), a release's version."""
    return cand.ref if isinstance(inp, ImageInput) else cand.version


def plan_move(inp: Input, cand: Candidate | None, lock: Lock) -> Move | None:
    """How ``inp`` can move, given the newest candidate its source offers; None: it cannot.

    A release asset replaced under the same version is deliberately not a move:
    a release's version is its identity, so new bytes under it are a supply-chain
    alarm for a person (``outdated``, ``verify --online``), never a silent re-pin.
    """
    if cand is not None and offered(inp, cand) != current_version(inp):
        return "version"
    if (cand is not None and cand.digest is not None and isinstance(inp, ImageInput)
            and inp.locked.index_digest is not None and cand.ref == inp.locked.tag
            and cand.digest != inp.locked.index_digest):
        return "digest"
    if needs_lock(inp, lock):
        return "pin"
    return None


def carry_out(src: Source[Any], inp: Input, ctx: Context, move: Move | None,
              cand: Candidate | None) -> Input | None:
    """The input after ``move`` (see ``plan_move``), resolved from upstream; None: no move."""
    if move == "version":
        assert cand is not None
        return src.resolve(inp, ctx, version=cand.version)  # type: ignore[no-any-return]
    if move == "digest":
        # The tag is read afresh: its locked digest is what moved, so it cannot stay the
        # reference resolve reads; every value is then hashed again from the new index.
        assert isinstance(inp, ImageInput)
        unpinned = replace(inp, locked=replace(inp.locked, index_digest=None))
        return src.resolve(unpinned, ctx)  # type: ignore[no-any-return]
    if move == "pin":
        return src.resolve(inp, ctx)  # type: ignore[no-any-return]
    return None


@dataclass
class ChangeResult:
    changes: list[Change] = field(default_factory=list)
    dockerfile_changed: bool = False
    lock_changed: bool = False
    failures: list[tuple[str, PinlockError]] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # warnings the sources raised
    dry_run: bool = False


Planner = Callable[["Source[Any]", Input, "Context"], Input | None]


def change(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
           planner: Planner, options: Options, *, dry_run: bool = False,
           sources: Sources | None = None) -> ChangeResult:
    """Plan new locked values with ``planner`` for each input, then write both files at once.

    Every input is tried, and every failure is collected; if any input failed,
    nothing is written and the failures are reported together.
    """
    from pinlock.sources.interface import Context

    with exclusive(lock_path, dry_run=dry_run):
        project = open_project(dockerfile, lock_path)
        if not dry_run:
            discard_scratch(project.dockerfile_path)  # what a run killed mid-write left
        lock = project.lock
        assert lock is not None
        lock.select(names)
        # Structure first: an ARG or stage the lock names but the Dockerfile lacks is bad
        # input, reported before any upstream is asked.
        pin_sites(lock, project.sites, project.label)
        ctx = Context(lock)
        result = ChangeResult(dry_run=dry_run)
        new_lock = lock
        own = sources is None
        srcs = sources or Sources(options)
        srcs.lock = lock
        try:
            for inp in lock.select(names):
                name = inp.name
                try:
                    src = srcs.for_input(inp)
                    new = planner(src, inp, ctx)
                except PinlockError as exc:
                    result.failures.append((name, exc))
                    continue
                finally:
                    take_notes = getattr(srcs.built(inp.kind), "take_notes", None)
                    if callable(take_notes):
                        result.notes.extend(take_notes())
                if new is not None and new != inp:
                    result.changes.append(Change(name, inp, new))
                    new_lock = new_lock.replace_input(new)
        finally:
            if own:
                srcs.__exit__(None, None, None)
        if not result.failures:
            result.failures.extend(apt_pin_conflicts(lock, new_lock, project.sites,
                                                     project.label))
        if result.failures:
            return result
        try:
            new_source = apply_edits(
                project.source, edits_for(pin_sites(new_lock, project.sites, project.label)))
        except OverlappingEditsError as exc:  # pragma: no cover - two pins on one value
            raise PinlockError(f"internal error: {exc}; nothing was written") from None
        _self_check(new_source, new_lock, project.label)
        new_text = lockfile.render(new_lock, project.doc)
        writes: dict[Path, str] = {}
        if new_source != project.source:
            writes[project.dockerfile_path] = new_source
            result.dockerfile_changed = True
        if new_text != project.lock_text:
            writes[lock_path] = new_text
            result.lock_changed = True
        if writes and not dry_run:
            write_together(writes, journal=journal_for(lock_path))
        return result


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
    def plan(src: Source[Any], inp: Input, ctx: Context) -> Input | None:
        if not needs_lock(inp, ctx.lock) and not names:
            return None
        return src.resolve(inp, ctx)  # type: ignore[no-any-return]

    return change(dockerfile, lock_path, names, plan, options, dry_run=dry_run)


def update_inputs(dockerfile: Path | None, lock_path: Path, names: list[str] | None,
                  options: Options, *, dry_run: bool = False) -> ChangeResult:
    """``pinlock update``: move inputs to the newest version their intent allows.

    A tag that now points at another index (same tag, new digest) is re-pinned
    too; a release asset replaced under its version is not (see ``plan_move``).
    """
    def plan(src: Source[Any], inp: Input, ctx: Context) -> Input | None:
        cand: Candidate | None = src.newest(inp, ctx, allow_major=options.allow_major,
                                            prerelease=options.prerelease)
        return carry_out(src, inp, ctx, plan_move(inp, cand, ctx.lock), cand)

    return change(dockerfile, lock_path, names, plan, options, dry_run=dry_run)


def bump(dockerfile: Path | None, lock_path: Path, name: str, version: str,
         options: Options, *, dry_run: bool = False) -> ChangeResult:
    """``pinlock bump NAME VERSION``: move one input, all its pins at once."""
    if not version.strip() or any(c.isspace() for c in version):
        raise UsageError(f"{version!r} is not a version")

    def plan(src: Source[Any], inp: Input, ctx: Context) -> Input | None:
        return src.resolve(inp, ctx, version=version)  # type: ignore[no-any-return]

    return change(dockerfile, lock_path, [name], plan, options, dry_run=dry_run)
