"""What find_sites reports: each pin site, what it says and which characters hold it."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Value:
    """A value in the source text: what it says and exactly which characters hold it."""

    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None
    base: str  # the image (or stage) as written after FROM
    line: int
    # ``base`` as BuildKit expands it from the global ARGs' defaults; None when it reads a
    # variable without one (a platform ARG, an ARG meant for --build-arg).
    resolved: str | None = None

    def matches(self, ref: str) -> bool:
        return ref == str(self.index) or (self.name is not None and ref.lower() == self.name)


@dataclass(frozen=True)
class ArgDecl:
    """One name an ARG or ENV instruction declares (``Sites.args`` holds the ARGs,
    ``Sites.envs`` the ENVs, each in source order)."""

    name: str
    value: Value | None  # the default, without surrounding quotes; None when declared bare
    stage: int  # -1: global (before the first FROM)
    line: int
    name_end: int = -1  # source offset just past the name (where "=value" goes when bare)
    env: bool = False  # declared by ENV (``ENV K=V`` or ``ENV K V``), not ARG
    # The value BuildKit gives it from the Dockerfile's defaults: quotes removed, ``$V`` and
    # ``${V:-x}`` forms expanded; a bare stage ARG has the global default. None when it has
    # no default, or its default reads a variable that has none.
    resolved: str | None = None


@dataclass(frozen=True)
class ImageSite:
    """An image reference: ``ref`` is the expanded reference, ``value`` where its text lives.

    ``ref == prefix + value.text + suffix``: for ``FROM node:${TAG}`` with ``ARG TAG=22``
    the value is the ARG default ``22`` and the prefix is ``node:``.
    """

    ref: str
    value: Value
    prefix: str
    suffix: str
    context: str  # "FROM", "COPY --from", "RUN --mount"
    stage: int
    line: int
    via_arg: str | None = None  # the ARG whose default ``value`` is
    # A reference built otherwise from variables (several, nested defaults, quotes, a literal
    # after the variable): ``value`` is the operand as written, ``template`` that text without
    # its digest part, ``base`` what ``template`` expands to, and ``digest`` where its digest
    # part is (``@sha256:…``, or empty at its end). When ``base`` names the locked tag only
    # ``digest`` is rewritten; otherwise the whole operand is written out.
    template: str | None = None
    base: str = ""
    digest: Value | None = None
    names: tuple[str, ...] = ()  # the variables the reference reads
    operand: Value | None = None  # the operand as written (also when ``value`` is an ARG's)


@dataclass(frozen=True)
class UrlSite:
    url: str  # as written, ARG references unexpanded
    keyword: str  # ADD or RUN
    stage: int
    line: int
    checksum: Value | None = None  # ADD --checksum= value


@dataclass(frozen=True)
class AptPackageWord:
    name: str  # may carry ":arch"
    version: str | None
    value: Value  # the whole word


@dataclass(frozen=True)
class AptSite:
    stage: int
    line: int
    tool: str
    packages: tuple[AptPackageWord, ...]
    no_install_recommends: bool
    json_form: bool = False


@dataclass(frozen=True)
class AptOption:
    """A configuration option given to one apt command: ``-o KEY=VALUE`` (any spelling),
    or ``--error-on=VALUE`` as ``APT::Update::Error-Mode``. ``word`` is where ``KEY=VALUE``
    (with any ``-o`` glued to it) sits in the source, inside simple quotes."""

    key: str  # as written; apt compares keys without regard to case
    value: str
    word: Value


@dataclass(frozen=True)
class AptCommand:
    """One apt-get/apt command: where options can be added and which snapshot it asks for.

    ``snapshot`` is the argument of ``--snapshot``/``-S``/``-o APT::Snapshot=`` as it sits
    in the source (quotes included when it holds a ``$`` reference); ``snapshot_word`` is
    that argument after quote removal. ``after_sub`` is the source offset just past the
    subcommand word; ``arg_at``/``indent`` say where an ``ARG`` line goes before this RUN.
    """

    stage: int
    line: int
    tool: str
    sub: str
    after_sub: int
    arg_at: int
    indent: str
    snapshot: Value | None = None
    snapshot_word: str | None = None
    json_form: bool = False
    in_json_string: bool = False  # the script of RUN ["sh", "-c", "…"]: inserts stay JSON-safe
    options: tuple[AptOption, ...] = ()
    after_snapshot: int | None = None  # source offset just past the whole snapshot option
    line_break: str = ""  # continues the command on a new, indented line (options one a line)

    def option(self, key: str) -> AptOption | None:
        """The last ``key`` given (apt keeps the last one), compared without case."""
        found = [o for o in self.options if o.key.lower() == key.lower()]
        return found[-1] if found else None


@dataclass(frozen=True)
class Unmanaged:
    what: str
    reason: str
    line: int


@dataclass(frozen=True)
class UnsafeApt(Unmanaged):
    """An apt command pinlock cannot rewrite safely: what it installs is not in the text.

    Unlike other unmanaged commands this is bad input: pinning the stage's other packages
    while this one installs whatever a variable, a file or a caller names would lock a
    closure the build does not install.
    """

    stage: int = -1


# ---- checksums: what recognize/checksums.py reports (a section of its own) ----


@dataclass(frozen=True)
class ChecksumSite:
    """A sha256 (64 hex digits) that checks a downloaded file, and where its digits sit.

    ``value`` spans exactly the hex digits: in the default of the ARG or ENV ``holder``
    names (``held_in`` "ARG"/"ENV"), or written in the instruction itself (``holder`` None,
    ``held_in`` "RUN"/"ADD"). ``url`` is the file's URL as written, ARG/ENV references left
    unexpanded and the RUN's own shell variables (``url=…``, ``arch=…`` of a case arm)
    substituted; None when no download of the checked file was seen. ``arch`` holds the
    patterns of the ``case`` arm the value sits in (``("amd64",)``), empty when not per-arch.
    ``url_values`` are the exact source spans of the words ``url`` was read from (the URL
    word, the RUN's ``url='…'`` assignments it reads; ARG/ENV references inside are left for
    the kind to expand): a version written literally there is rewritten in place. Empty when
    no download was seen, or a part of the URL has no exact span.
    """

    value: Value
    holder: str | None
    held_in: str  # "ARG", "ENV", "RUN", "ADD"
    # "sha256sum", "add-checksum", "get-filehash" (PowerShell, recognize/powershell.py),
    # "name" (a hex default no check was seen using)
    how: str
    url: str | None
    file: str | None  # the local file checked (RUN), or the ADD destination
    stage: int
    line: int  # the instruction that checks (for "name": the declaration)
    arch: tuple[str, ...] = ()
    url_values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class ChecksumFileSite:
    """A checksum file (a ``.sha256`` sidecar, ``SHA256SUMS``, ``SHASUMS256.txt``) a RUN
    downloads and checks a file against: the sha256 comes from upstream when the image
    builds, so the Dockerfile holds no value to pin, only the two URLs."""

    url: str  # the checksum file, as written
    checks: str | None  # the URL of the file it checks (None: every download of the RUN)
    stage: int
    line: int


@dataclass(frozen=True)
class Checksums:
    sites: tuple[ChecksumSite, ...] = ()
    files: tuple[ChecksumFileSite, ...] = ()
    # ENV declarations, read by the checksum recognizer alone until Sites carries them.
    env: tuple[ArgDecl, ...] = ()

    def holding(self, name: str) -> list[ChecksumSite]:
        return [c for c in self.sites if c.holder == name]


@dataclass(frozen=True)
class Sites:
    stages: tuple[Stage, ...]
    args: tuple[ArgDecl, ...]
    images: tuple[ImageSite, ...]
    urls: tuple[UrlSite, ...]
    apt: tuple[AptSite, ...]
    unmanaged: tuple[Unmanaged, ...]
    apt_commands: tuple[AptCommand, ...] = ()
    unsafe_apt: tuple[UnsafeApt, ...] = ()
    checksums: Checksums = Checksums()
    envs: tuple[ArgDecl, ...] = ()  # ENV declarations (``env=True``), apart from the ARGs

    def stage(self, ref: str) -> Stage | None:
        """The first stage ``ref`` names (by index or name); a lookup, not a scan per call."""
        by_index, by_name = self._stage_tables
        hits = [st for st in (by_index.get(ref), by_name.get(ref.lower())) if st is not None]
        return min(hits, key=lambda st: st.index, default=None)

    @functools.cached_property
    def _stage_tables(self) -> tuple[dict[str, Stage], dict[str, Stage]]:
        by_index = {str(st.index): st for st in self.stages}
        by_name: dict[str, Stage] = {}
        for st in self.stages:
            if st.name is not None:
                by_name.setdefault(st.name, st)
        return by_index, by_name

    def args_named(self, name: str) -> list[ArgDecl]:
        return [a for a in self.args if a.name == name]

    def envs_named(self, name: str) -> list[ArgDecl]:
        return [e for e in self.envs if e.name == name]

    def arg_default(self, name: str) -> str | None:
        """The last declared default of ``name`` (the one a build would see last)."""
        for arg in reversed(self.args):
            if arg.name == name and arg.value is not None:
                return arg.value.text
        return None
