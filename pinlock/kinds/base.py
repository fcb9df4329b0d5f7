"""What a kind of input is to the core: one ``Kind`` per kind, asked instead of switched on.

A kind owns everything specific to it: its lock tables (decode, validate, encode), what
``init`` detects, its pin sites in the Dockerfile and how verify judges them, its version
naming, the update it proposes, its rows in ``outdated`` and in a pull request, and the
upstream source that resolves it. The core (lockfile, pins, verify, app, outdated, pr,
cli) holds no branch on a kind's name: it finds an input's kind in the registry
(``pinlock.kinds.kind_of``) and calls the methods below.

``Kind`` is the interface the core sees: every method takes any ``Input``. A kind
implements it as a ``TypedKind[ItsInput]``, whose ``own()`` narrows an input to the
kind's own dataclass (a wrong kind is a programming error, never bad input).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from pinlock.model import Finding, Input, Lock, Severity, Skipped

if TYPE_CHECKING:
    import httpx

    from pinlock.changes import Change
    from pinlock.dockerfile.sites import Sites
    from pinlock.errors import DockerfileError, PinlockError
    from pinlock.image_report import PlatformResult
    from pinlock.options import Options
    from pinlock.pins import PinSite
    from pinlock.sources.interface import Candidate, Context, Source
    from pinlock.tables import TableReader

I = TypeVar("I", bound=Input)  # noqa: E741
T = TypeVar("T")

Check = Callable[[str], None]
Value = tuple[str, str, Check]  # key in the lock file, value, its grammar
Row = tuple[str, str, str | None, str | None, str]  # input, pin, from, to, verified by


# ------------------------------------------------------------------ what kinds are given


@dataclass
class Scope:
    """One look at the Dockerfile against the lock: what pin sites and verify read.

    ``memo`` keeps what a kind computes once per look (an index of the image sites by
    repository), so that asking every input of a kind stays linear in the inputs.
    """

    lock: Lock
    sites: Sites
    path: str  # the Dockerfile as findings name it
    memo: dict[Callable[[Scope], object], object] = field(default_factory=dict)

    def once(self, make: Callable[[Scope], T]) -> T:
        if make not in self.memo:
            self.memo[make] = make(self)
        return cast(T, self.memo[make])  # stored by ``make`` itself


@dataclass
class Detection:
    """What ``pinlock init`` has found so far; each kind adds its inputs, notes and skips."""

    sites: Sites
    path: str
    platforms: tuple[str, ...]
    inputs: dict[str, Input] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Indexes of ``sites.urls`` an input manages (or already reported): the rest are
    # reported as downloads no input checks.
    used_urls: set[int] = field(default_factory=set)

    def taken_spans(self) -> set[tuple[int, int]]:
        """The Dockerfile spans the inputs found so far pin: a value one input keeps is no
        other input's to adopt (two inputs writing one value would never both agree)."""
        from pinlock.errors import DockerfileError
        from pinlock.kinds import kind_of

        scope = Scope(Lock(self.path, self.platforms, dict(self.inputs)), self.sites, self.path)
        out: set[tuple[int, int]] = set()
        for inp in self.inputs.values():
            try:
                sites = kind_of(inp).pin_sites(inp, scope)
            except DockerfileError:
                continue
            out.update((s.value.start, s.value.end) for s in sites)
        return out

    def unique_name(self, base: str) -> str:
        """A lock input name from ``base``: lowercase, safe characters, not taken yet."""
        import re

        name = re.sub(r"[^a-z0-9._-]+", "-", base.lower()).strip("-") or "input"
        if name not in self.inputs:
            return name
        n = 2
        while f"{name}-{n}" in self.inputs:
            n += 1
        return f"{name}-{n}"


class StageFiles(Protocol):
    """Files of the locked base image of a stage: how one kind reads another's locked value."""

    def stage_file(self, stage: str, arch: str, path: str) -> bytes | None:
        """``path`` in the image the lock pins under ``stage`` for ``arch``; None when the
        lock pins no image there (or the image has no such file)."""
        ...


class Upstreams(StageFiles, Protocol):
    """What a kind's source is built with: settings, the shared HTTP client, the
    environment, and the typed services other kinds provide (``StageFiles``)."""

    @property
    def options(self) -> Options: ...

    @property
    def http(self) -> httpx.Client: ...

    @property
    def environ(self) -> Mapping[str, str]: ...

    @property
    def lock(self) -> Lock | None: ...  # the lock being changed, as far as planned

    def upstream(self, inp: Input) -> Upstream: ...


class Upstream(Protocol):
    """A kind's source as the core calls it (``Source`` with inputs of any kind)."""

    @property
    def source(self) -> object: ...  # the kind's own source object, for the kind itself

    def resolve(self, inp: Input, ctx: Context, *, version: str | None = None) -> Input: ...

    def newest(self, inp: Input, ctx: Context, *, allow_major: bool = False,
               prerelease: bool = False) -> Candidate | None: ...

    def check(self, inp: Input, ctx: Context) -> list[Finding]: ...

    def take_notes(self) -> list[Finding]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BaseImage:
    """An image the lock pins as the base of a stage: what a kind that builds on a base
    (apt packages on a Debian image) reads of another kind's input."""

    input: str  # the input's name
    stage: str  # the stage's name or index, as the lock names it
    image: str  # the repository as written in the Dockerfile
    tag: str
    platforms: Mapping[str, str]  # platform -> manifest digest


@dataclass(frozen=True)
class IntentDelta:
    """How an update changed the intent itself (the lock follows the Dockerfile)."""

    added: tuple[str, ...] = ()  # members the install lines gained (apt packages)
    removed: tuple[str, ...] = ()
    moved: str | None = None  # e.g. "suites trixie trixie-updates -> forky forky-updates"


class BuiltImageCheck(Protocol):
    """``verify --image``: compare files of a built image with the lock's inputs."""

    files: Sequence[str]  # paths read from every layer, without the leading "/"
    dirs: Sequence[str]
    max_total: int

    def inputs(self, lock: Lock, sites: Sites, path: str,
               names: Sequence[str] | None) -> list[Input]: ...

    def check(self, files: Mapping[str, bytes], inputs: Sequence[Input], up: Upstream,
              platform: str, digest: str) -> PlatformResult: ...


# ------------------------------------------------------------------ the interface


class Kind(abc.ABC):
    """One kind of input, as the core sees it. Defaults suit a kind with nothing to say."""

    name: str  # the lock's `kind = "…"`
    intent_keys: frozenset[str]  # every key its input table may hold (besides `x-…`)
    # Planned after the other kinds, and moved along when the base they follow moves
    # (apt packages follow the base image's Debian release).
    follows_base: bool = False

    # -- the lock file
    @abc.abstractmethod
    def load(self, r: TableReader, name: str, platforms: tuple[str, ...]) -> Input:
        """The input from its table, validated; LockfileError naming the key otherwise."""

    @abc.abstractmethod
    def encode(self, inp: Input) -> tuple[dict[str, object], dict[str, object]]:
        """(intent, locked) as plain data; None marks a managed key that must be absent."""

    @abc.abstractmethod
    def values(self, inp: Input, at: str) -> Iterator[Value]:
        """Every value that reaches a file or a shell, with its grammar (key under ``at``)."""

    # -- init
    def detect(self, found: Detection) -> None:  # noqa: B027 - a kind init cannot find
        """Add the inputs of this kind ``init`` finds, adopting the pins already there."""

    # -- the Dockerfile
    @abc.abstractmethod
    def pin_sites(self, inp: Input, scope: Scope) -> list[PinSite]:
        """Each place that must hold a locked value, and the text the lock wants there."""

    def findings(self, inp: Input, scope: Scope, unpinned: Severity) -> list[Finding]:
        """Offline verify's findings beyond pin-site agreement."""
        return []

    def lock_findings(self, scope: Scope, names: Sequence[str] | None,
                      unpinned: Severity) -> list[Finding]:
        """Findings about the Dockerfile as a whole for this kind (not one input's)."""
        return []

    def blockers(self, scope: Scope, names: Sequence[str] | None
                 ) -> list[tuple[str, PinlockError]]:
        """What stops any change of the selected inputs, by input name."""
        return []

    def follow_dockerfile(self, inp: Input, scope: Scope) -> Input:
        """The intent as the Dockerfile states it now (hand edits it picks up)."""
        return inp

    def follow_base(self, inp: Input, scope: Scope) -> Input:
        """For ``follows_base`` kinds: the input moved along with what it follows."""
        return inp

    def conflicts(self, old: Lock, new: Lock, sites: Sites, path: str
                  ) -> list[tuple[str, DockerfileError]]:
        """Hand-written values the new lock would overwrite."""
        return []

    def lay_out(self, source: str, lock: Lock, path: str, notes: list[Finding]) -> str:
        """The Dockerfile after laying out this kind's pins as the inputs ask."""
        return source

    # -- versions and updates
    @abc.abstractmethod
    def version(self, inp: Input) -> str:
        """What the lock names, for people: a whole tag, a version, a snapshot."""

    def digest(self, inp: Input) -> str | None:
        """The content digest its version points at, when the kind has one."""
        return None

    def base_image(self, inp: Input) -> BaseImage | None:
        """The image the input pins as a stage's base, for kinds that read one."""
        return None

    def offered(self, inp: Input, cand: Candidate) -> str:
        """What ``cand`` would write, in the terms of ``version()``."""
        return cand.version

    def bump_version(self, inp: Input) -> str:
        """The version `pinlock bump` takes to reach the input's locked state."""
        return self.version(inp)

    def target_value(self, inp: Input) -> str:
        """What a pull request moves the input to: declined once, not opened again."""
        return self.version(inp)

    @abc.abstractmethod
    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        """True when the input has values not pinned yet."""

    def moved_in_place(self, inp: Input, cand: Candidate) -> Input | None:
        """When ``cand`` is the locked version whose content moved (a re-pushed tag): the
        input with that content unpinned, to be read afresh; None otherwise."""
        return None

    # -- change reports and pull requests
    def delta(self, old: Input, new: Input) -> IntentDelta:
        return IntentDelta()

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        """(input, pin, old value, new value, where the new value came from) per pin."""
        return []

    def legend(self, inp: Input) -> Mapping[str, str]:
        """The `verified-by` words the input's pins use, with what each means."""
        return {}

    def sections(self, change: Change, *, detailed: bool) -> list[str]:
        """Extra Markdown for a pull request body (a Debian package table)."""
        return []

    def notes_url(self, inp: Input) -> str | None:
        """Release notes of the locked version, when the kind knows where they are."""
        return None

    # -- upstream
    @abc.abstractmethod
    def upstream(self, env: Upstreams) -> Upstream:
        """The kind's source, built with what ``env`` gives."""

    def stage_file(self, env: Upstreams, lock: Lock, stage: str, arch: str,
                   path: str) -> bytes | None:
        """For a kind that locks base images: ``StageFiles.stage_file`` (else None)."""
        return None

    def built_image(self) -> BuiltImageCheck | None:
        """For a kind ``verify --image`` can check a built image against."""
        return None


@dataclass(frozen=True)
class Parts(Generic[I]):
    """A kind's pure pieces, each written for its own input type: its lock tables (``load``,
    ``encode``, ``values``), its pin sites, and what ``init`` detects."""

    load: Callable[[TableReader, str, tuple[str, ...]], I]
    encode: Callable[[I], tuple[dict[str, object], dict[str, object]]]
    values: Callable[[I, str], Iterator[Value]]
    pin_sites: Callable[[I, Scope], list[PinSite]]
    detect: Callable[[Detection], None] | None = None


class TypedKind(Kind, Generic[I]):
    """A kind whose inputs are ``I``: ``own()`` narrows what the core hands over, and
    ``parts`` serve the lock file, init and the pin sites."""

    input_type: type[I]
    parts: Parts[I]

    def load(self, r: TableReader, name: str, platforms: tuple[str, ...]) -> Input:
        return self.parts.load(r, name, platforms)

    def encode(self, inp: Input) -> tuple[dict[str, object], dict[str, object]]:
        return self.parts.encode(self.own(inp))

    def values(self, inp: Input, at: str) -> Iterator[Value]:
        return self.parts.values(self.own(inp), at)

    def detect(self, found: Detection) -> None:
        if self.parts.detect is not None:
            self.parts.detect(found)

    def pin_sites(self, inp: Input, scope: Scope) -> list[PinSite]:
        return self.parts.pin_sites(self.own(inp), scope)

    def own(self, inp: Input) -> I:
        if not isinstance(inp, self.input_type):
            raise TypeError(f"{self.name} kind asked about a {inp.kind} input {inp.name!r}")
        return inp

    def bind(self, source: Source[I]) -> Upstream:
        return Bound(self, source)


class Bound(Generic[I]):
    """A kind's ``Source[I]`` behind the ``Upstream`` interface."""

    def __init__(self, kind: TypedKind[I], source: Source[I]) -> None:
        self.kind = kind
        self._source = source

    @property
    def source(self) -> object:
        return self._source

    def resolve(self, inp: Input, ctx: Context, *, version: str | None = None) -> Input:
        return self._source.resolve(self.kind.own(inp), ctx, version=version)

    def newest(self, inp: Input, ctx: Context, *, allow_major: bool = False,
               prerelease: bool = False) -> Candidate | None:
        return self._source.newest(self.kind.own(inp), ctx, allow_major=allow_major,
                                   prerelease=prerelease)

    def check(self, inp: Input, ctx: Context) -> list[Finding]:
        return self._source.check(self.kind.own(inp), ctx)

    def take_notes(self) -> list[Finding]:
        return self._source.take_notes()

    def close(self) -> None:
        self._source.close()

