"""AptSource: lock an apt install line to a snapshot, per-architecture closures and checksums.

Semantics (the orchestration layer relies on them):

* The archive state is named by a snapshot timestamp ``YYYYMMDDTHHMMSSZ`` (UTC).
  A new timestamp is "now" rounded down to ``AptSourceConfig.granularity``
  seconds (default one day, so every run on the same UTC day reads the same
  state and writes a byte-identical lock). snapshot.debian.org serves the last
  archive run at or before any timestamp, and apt's ``--snapshot`` / a
  ``snapshot.debian.org/archive/debian/<ts>/`` source does the same, so the
  Dockerfile's ARG and the lock name the same bytes.
* ``resolve(version=None)`` re-resolves at the locked snapshot (a new one if
  the input was never locked): on a snapshot archive this is deterministic, so
  it only fills what is missing (a new architecture, a package added to the
  install line) and changes nothing else. ``resolve(version=TS)`` moves the
  input to snapshot ``TS`` (``pinlock update apt`` passes ``newest().version``).
* Through a plain mirror (``PINLOCK_DEBIAN_MIRROR`` without ``{snapshot}``)
  only the mirror's current state can be read: the lock records
  ``archive = "mirror"`` and the timestamp of reading (to the second, not
  rounded). It promises the versions and checksums the mirror signed at that
  time, not that the snapshot of that timestamp holds the same ones (mirrors
  lag by hours). A complete lock read from a mirror is returned unchanged by
  ``resolve(version=None)``, because re-reading would silently move it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

import httpx

from pinlock import clock, grammar
from pinlock.errors import InputError, IntegrityError
from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptLocked, AptPackage, SuiteState
from pinlock.kinds.apt.releases import (
    BY_CODENAME,
    codename_of_base_files,
    moved_suites,
    newest_index,
    snapshot_predates,
    suites_codename,
)
from pinlock.model import Finding, Lock, platform_arch
from pinlock.parallel import pipeline, run_all
from pinlock.sources.debian.archive import (
    COMPRESSIONS,
    DEFAULT_DEBIAN,
    DEFAULT_SECURITY,
    SNAPSHOT_FORMAT,
    Archive,
    Location,
    SignedRelease,
    security_template,
)
from pinlock.sources.debian.deb822 import PackageRecord, PackagesIndex, installed_records
from pinlock.sources.debian.resolver import Universe, minbase, resolve
from pinlock.sources.debian.signature import DEFAULT_KEYRING
from pinlock.sources.interface import Candidate, Context
from pinlock.values import input_values, require

_SNAPSHOT_RE = re.compile(r"^\d{8}T\d{6}Z$")
BASE_IMAGE = "image-dpkg-status"
BASE_MINBASE = "minbase"

BaseStatus = Callable[[AptInput, str], "str | None"]
# The base image an apt input's stage is pinned to in this run (its digests), if any; the
# lock given is the one the input was read from, for when nothing else was planned.
BasePin = Callable[[AptInput, Lock], object]


@dataclass(frozen=True)
class AptSourceConfig:
    """Where and how the archive is read; ``from_env`` is what the CLI uses."""

    mirror: str = DEFAULT_DEBIAN  # base URL; "{snapshot}" in it marks a snapshot archive
    security_mirror: str = DEFAULT_SECURITY
    keyring: str = DEFAULT_KEYRING
    security_keyring: str | None = None  # None: the same keyring
    cache_dir: str | None = None  # verified indexes by sha256; None: no disk cache
    granularity: int = 86400  # seconds a new snapshot timestamp is rounded down to
    compression: str = "gz"  # the Packages index form fetched first (archive.COMPRESSIONS)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, mirror: str | None = None,
        security_mirror: str | None = None, keyring: str | None = None,
        cache_dir: str | None = None,
    ) -> AptSourceConfig:
        """Flags win over ``PINLOCK_DEBIAN_MIRROR`` / ``PINLOCK_DEBIAN_SECURITY_MIRROR`` /
        ``PINLOCK_DEBIAN_KEYRING`` (``PINLOCK_DEBIAN_SECURITY_KEYRING`` for the security
        archive, default the same); without either, snapshot.debian.org.
        ``PINLOCK_DEBIAN_INDEX_COMPRESSION``: ``gz`` (default) or ``xz``, the index form
        fetched when InRelease lists both.

        A mirror given without a security mirror implies its ``debian-security``
        sibling (``…/debian`` -> ``…/debian-security``).
        """
        env = os.environ if env is None else env
        compression = env.get("PINLOCK_DEBIAN_INDEX_COMPRESSION") or "gz"
        if compression not in COMPRESSIONS:
            raise InputError(
                f"PINLOCK_DEBIAN_INDEX_COMPRESSION={compression!r}: not an index compression",
                hint=f"expected one of: {', '.join(COMPRESSIONS)}",
            )
        m = mirror or env.get("PINLOCK_DEBIAN_MIRROR") or None
        s = security_mirror or env.get("PINLOCK_DEBIAN_SECURITY_MIRROR") or None
        if m and not s:
            s = security_template(m)
        if s and not m:
            raise InputError(
                "PINLOCK_DEBIAN_SECURITY_MIRROR is set without PINLOCK_DEBIAN_MIRROR",
                hint="set both, or neither to use snapshot.debian.org",
            )
        return cls(
            mirror=m or DEFAULT_DEBIAN, security_mirror=s or DEFAULT_SECURITY,
            keyring=keyring or env.get("PINLOCK_DEBIAN_KEYRING") or DEFAULT_KEYRING,
            security_keyring=env.get("PINLOCK_DEBIAN_SECURITY_KEYRING") or None,
            cache_dir=cache_dir, compression=compression,
        )


def snapshot_of(when: dt.datetime, granularity: int = 86400) -> str:
    """``when`` (UTC) rounded down to ``granularity`` seconds, as a snapshot timestamp."""
    ts = int(when.astimezone(dt.UTC).timestamp())
    ts -= ts % max(1, granularity)
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime(SNAPSHOT_FORMAT)


def check_snapshot(value: str) -> str:
    if not _SNAPSHOT_RE.match(value):
        raise InputError(
            f"{value!r} is not a snapshot timestamp",
            hint="expected YYYYMMDDTHHMMSSZ (UTC), e.g. 20250801T000000Z",
        )
    return value


def _package_name(entry: str) -> str:
    return entry.split("=", 1)[0].split(":", 1)[0].strip()


def _served(indexes: Sequence[PackagesIndex], name: str, version: str) -> PackageRecord | None:
    """The record the archive serves for ``name`` ``version``: the first suite listing it wins.

    Looked up through the indexes' name tables, so a check reads the locked packages'
    records only, not the ~65,000 of each index.
    """
    for index in indexes:
        for rec in index.named(name):
            if rec.version == version:
                return rec
    return None


def _check_base_release(inp: AptInput, installed: Sequence[PackageRecord]) -> None:
    """The base image is of the suites' Debian release: forky packages resolved against a
    trixie image (or the other way round) lock a closure apt would not install there."""
    have = suites_codename(inp.intent.suites)
    if have not in BY_CODENAME:
        return
    for rec in installed:
        if rec.package == "base-files":
            want = codename_of_base_files(rec.version)
            if want is not None and want != have:
                suites = ", ".join(f'"{s}"' for s in moved_suites(inp.intent.suites, want))
                raise InputError(
                    f"apt input {inp.name!r}: the base image is Debian {want} (base-files "
                    f"{rec.version} in its dpkg status), but the input reads {have} suites",
                    hint=f"set `suites = [{suites}]` in [inputs.{inp.name}] of the lock file, "
                         f"then run `pinlock lock {inp.name}`; or lock a {have} base image")
            return


def _attempt(read: Callable[[Location, str, str | None], SignedRelease], loc: Location,
             suite: str, snapshot: str | None) -> SignedRelease | IntegrityError:
    """``read(...)``, or the IntegrityError it raised: one suite's bad signature is a finding,
    not the end of the check of the others."""
    try:
        return read(loc, suite, snapshot)
    except IntegrityError as exc:
        return exc


def base_pin_in(lock: Lock | None, inp: AptInput) -> object:
    """The digests ``lock`` pins the base image of ``inp``'s stage to (None: no image)."""
    from pinlock.kinds import base_images

    if lock is None:
        return None
    stage = inp.intent.stage.lower()
    return next((dict(b.platforms) for b in base_images(lock) if b.stage.lower() == stage), None)


def _to_locked(rec: PackageRecord, source: str) -> AptPackage:
    # A validly signed index is still untrusted text: a Version of `1.0$(touch /tmp/x)`
    # would run at build time in the RUN line, a Filename of `../x` escape the pool.
    require(source, (
        ("Package", rec.package, grammar.debian_package),
        ("Version", rec.version, grammar.debian_version),
        ("Architecture", rec.architecture, grammar.debian_arch),
        ("SHA256", rec.sha256, grammar.sha256_hex),
        ("Filename", rec.filename, grammar.pool_filename),
        ("Source", rec.source_name, grammar.debian_package),
    ), what=f"package {grammar.shown(rec.package)}")
    return AptPackage(
        name=rec.package, version=rec.version, architecture=rec.architecture,
        sha256=rec.sha256, size=rec.size, filename=rec.filename, source=rec.source_name,
    )


Installs = dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str, str], ...],
                           tuple[str, ...]]]


def installs(inp: AptInput) -> Installs:
    """What the locked install line installs, per architecture: the top-level versions, the
    closure (name, version, architecture, sha256) and the base packages it removes. Two
    archive states with equal ``installs`` build the same image layer from the same bytes."""
    return {
        arch: (tuple(sorted(al.top.items())),
               tuple(sorted((p.name, p.version, p.architecture, p.sha256) for p in al.closure)),
               tuple(sorted(al.removed)))
        for arch, al in sorted(inp.locked.archs.items())
    }


class AptSource:
    """Source[AptInput] for Debian archives (snapshot.debian.org by default)."""

    def __init__(
        self, client: httpx.Client, config: AptSourceConfig | None = None, *,
        now: Callable[[], dt.datetime] | None = None, base_status: BaseStatus | None = None,
        deep: bool = False, sample: int | None = None, seed: int | None = None,
        base_pin: BasePin | None = None, full: bool = True,
    ) -> None:
        """``deep``: ``check`` also downloads the locked .debs (``sample`` of them, chosen
        with ``seed``, random when None) and hashes them. ``base_pin``: what pins the base
        image of an input's stage now, as far as this run has planned (None: the lock's).
        ``full``: ``check`` reads the locked indexes even when every InRelease is the locked
        one (False: the signed files alone say nothing moved upstream)."""
        self.config = config or AptSourceConfig()
        self.deep, self.sample, self.full = deep, sample, full
        self.seed = random.SystemRandom().randrange(1 << 32) if seed is None else seed
        self.now = now or (lambda: clock.now())
        self.base_status = base_status
        self.base_pin = base_pin
        self.client = client
        self.archive = Archive(client, now=self.now, cache_dir=self.config.cache_dir,
                               compression=self.config.compression)

    # ------------------------------------------------------------ locations

    def location(self, suite: str) -> Location:
        """Security suites live under their own base (``debian-security``)."""
        if suite.endswith("-security") or suite.endswith("/updates"):
            return Location(
                self.config.security_mirror, self.config.security_keyring or self.config.keyring
            )
        return Location(self.config.mirror, self.config.keyring)

    @property
    def is_snapshot(self) -> bool:
        return Location(self.config.mirror).is_snapshot

    def snapshot_now(self) -> str:
        """A snapshot archive: now, rounded down (one state per day by default). A plain mirror
        serves its current state only, so the lock names the second it was read: the snapshot
        a build uses must not predate what the mirror had then."""
        return snapshot_of(self.now(), self.config.granularity if self.is_snapshot else 1)

    # ------------------------------------------------------------ reading

    def _releases(self, inp: AptInput, snapshot: str) -> dict[str, SignedRelease]:
        if not inp.intent.suites:
            raise InputError(
                f"apt input {inp.name!r} names no suites",
                hint="set suites, e.g. [\"trixie\", \"trixie-updates\", \"trixie-security\"]",
            )
        suites = list(inp.intent.suites)
        signed = run_all([partial(self.archive.release, self.location(s), s, snapshot)
                          for s in suites])
        return dict(zip(suites, signed, strict=True))

    def _indexes(
        self, inp: AptInput, releases: Mapping[str, SignedRelease], arch: str, snapshot: str
    ) -> list[tuple[str, PackagesIndex]]:
        return list(zip(*self._read_indexes(inp, releases, [arch], snapshot)[arch],
                        strict=True))

    def _read_indexes(
        self, inp: AptInput, releases: Mapping[str, SignedRelease], archs: Sequence[str],
        snapshot: str,
    ) -> dict[str, tuple[list[str], list[PackagesIndex]]]:
        """Per architecture, (suites, indexes) of every suite and component: all downloads in
        flight together, each index decompressed and scanned as its bytes arrive, one at a
        time (``parallel.pipeline``)."""
        wanted = [(arch, suite, signed, comp) for arch in archs
                  for suite, signed in releases.items() for comp in inp.intent.components]
        got = pipeline(
            [partial(self.archive.prefetch, self.location(suite), signed, comp, arch, snapshot)
             for arch, suite, signed, comp in wanted],
            [partial(self.archive.packages, self.location(suite), signed, comp, arch, snapshot)
             for arch, suite, signed, comp in wanted])
        out: dict[str, tuple[list[str], list[PackagesIndex]]] = {a: ([], []) for a in archs}
        for (arch, suite, _, _), index in zip(wanted, got, strict=True):
            out[arch][0].append(suite)
            out[arch][1].append(index)
        return out

    def _universe(
        self, inp: AptInput, releases: Mapping[str, SignedRelease], arch: str, snapshot: str
    ) -> tuple[Universe, str]:
        indexes = [recs for _, recs in self._indexes(inp, releases, arch, snapshot)]
        status = self.base_status(inp, arch) if self.base_status else None
        if status is not None:
            installed = installed_records(status)
            _check_base_release(inp, installed)
            return Universe.build(arch, indexes, installed), BASE_IMAGE
        bare = Universe.build(arch, indexes)
        return Universe.build(arch, indexes, minbase(bare)), BASE_MINBASE

    def take_notes(self) -> list[Finding]:
        return []

    def close(self) -> None:
        """Nothing of its own to close: the HTTP client is the caller's."""

    def base_packages(self, inp: AptInput, arch: str) -> list[PackageRecord]:
        """What the lock took as installed before the install line ran (``locked.base``):
        the locked base image's dpkg status, else debootstrap's minbase at the locked
        snapshot. ``verify --image`` compares a built image with it plus the closure."""
        lk = inp.locked
        if lk.base == BASE_IMAGE:
            status = self.base_status(inp, arch) if self.base_status else None
            if status is None:
                raise InputError(
                    f"apt input {inp.name!r} was resolved against its base image's dpkg "
                    f"status, but the lock has no base image with a {arch} status for stage "
                    f"{inp.intent.stage!r}", hint=f"run `pinlock lock {inp.name}`")
            return installed_records(status)
        if not lk.snapshot:
            raise InputError(f"apt input {inp.name!r} is not locked",
                             hint=f"run `pinlock lock {inp.name}`")
        releases = self._releases(inp, lk.snapshot)
        indexes = [recs for _, recs in self._indexes(inp, releases, arch, lk.snapshot)]
        return minbase(Universe.build(arch, indexes))

    # ------------------------------------------------------------ Source protocol

    def resolve(self, inp: AptInput, ctx: Context, *, version: str | None = None) -> AptInput:
        """Lock ``inp`` at snapshot ``version`` (None: the locked one, else a new one)."""
        archs = sorted({platform_arch(p) for p in ctx.platforms})
        if version is None and not self.is_snapshot and self._complete(inp, archs):
            return inp
        snapshot = check_snapshot(version) if version else (
            inp.locked.snapshot or self.snapshot_now()
        )
        return self._resolve_at(inp, ctx, snapshot, self._releases(inp, snapshot),
                                moved=version is not None)

    def _resolve_at(self, inp: AptInput, ctx: Context, snapshot: str,
                    releases: Mapping[str, SignedRelease], *, moved: bool) -> AptInput:
        archs = sorted({platform_arch(p) for p in ctx.platforms})
        snapshot = self._honest_snapshot(inp, snapshot, releases, moved=moved)
        wanted = [_package_name(p) for p in inp.intent.packages]
        locked_archs: dict[str, AptArchLocked] = {}
        bases: set[str] = set()
        source = f"Debian archive {self.config.mirror.replace('{snapshot}', snapshot)}"
        self._read_indexes(inp, releases, archs, snapshot)  # all at once; kept by the archive
        for arch in archs:
            universe, base = self._universe(inp, releases, arch, snapshot)
            bases.add(base)
            res = resolve(universe, wanted, install_recommends=inp.intent.install_recommends)
            locked_archs[arch] = AptArchLocked(
                top=dict(sorted(res.top.items())),
                closure=tuple(
                    sorted((_to_locked(r, source) for r in res.closure),
                           key=lambda p: (p.name, p.architecture))
                ),
                removed=tuple(sorted(f"{r.package}={r.version}" for r in res.removed)),
            )
        locked = AptLocked(
            snapshot=snapshot,
            archive="snapshot" if self.is_snapshot else "mirror",
            base=BASE_IMAGE if bases == {BASE_IMAGE} else BASE_MINBASE,
            suites={s: SuiteState(r.release.date, r.sha256) for s, r in sorted(releases.items())},
            archs=locked_archs,
        )
        # The rest (top versions, removed base packages, InRelease dates) once more, whole.
        require(source, (v for v in input_values(replace(inp, locked=locked))
                         if ".locked." in v[0]))
        return replace(inp, locked=locked)

    def _honest_snapshot(self, inp: AptInput, snapshot: str,
                         releases: Mapping[str, SignedRelease], *, moved: bool) -> str:
        """The snapshot to record with ``releases``: never older than what they say.

        A snapshot archive serves the last run at or before the timestamp, so an InRelease
        dated later is bad upstream data. A plain mirror serves its state of now: the
        locked time stays only while every InRelease is the locked one, else it is the
        time of reading (or the newest Date, when the mirror's clock is ahead of ours).
        """
        states = {s: SuiteState(r.release.date, r.sha256) for s, r in releases.items()}
        if self.is_snapshot:
            late = snapshot_predates(snapshot, states)
            if late is not None:
                raise IntegrityError(
                    f"the archive at snapshot {snapshot} serves an InRelease of {late[0]} "
                    "dated after that snapshot", expected=f"Date at or before {snapshot}",
                    observed=late[1],
                    hint="the archive does not behave like snapshot.debian.org; check "
                         "PINLOCK_DEBIAN_MIRROR")
            return snapshot
        same = not moved and {s: st.sha256 for s, st in inp.locked.suites.items()} == {
            s: st.sha256 for s, st in states.items()}
        if not same or snapshot_predates(snapshot, states) is not None:
            snapshot = self.snapshot_now()
        late = snapshot_predates(snapshot, states)
        if late is not None:
            newest = newest_index(states)
            assert newest is not None
            snapshot = newest[1].astimezone(dt.UTC).strftime(SNAPSHOT_FORMAT)
        return snapshot

    def _complete(self, inp: AptInput, archs: list[str]) -> bool:
        lk = inp.locked
        wanted = {_package_name(p) for p in inp.intent.packages}
        return bool(lk.snapshot) and set(lk.suites) == set(inp.intent.suites) and all(
            a in lk.archs and set(lk.archs[a].top) == wanted for a in archs
        ) and snapshot_predates(lk.snapshot, lk.suites) is None

    def newest(
        self, inp: AptInput, ctx: Context, *, allow_major: bool = False, prerelease: bool = False
    ) -> Candidate | None:
        """The newest snapshot, if moving there changes what the install line installs.

        Quiet by design: a newer archive state that would install exactly what the lock
        holds (see ``installs``) is no candidate, so ``update``, ``outdated`` and ``pr``
        leave the lock alone: its snapshot and InRelease states stay the ones it read, and
        stay consistent with each other. InRelease files of suites that changed without
        changing the closure (another package moved, a re-signing) are not a reason to move.
        """
        snapshot = self.snapshot_now()
        if snapshot == inp.locked.snapshot and self.is_snapshot:
            return None
        releases = self._releases(inp, snapshot)
        archs = sorted({platform_arch(p) for p in ctx.platforms})
        same_base = self.base_pin is None or self.base_pin(inp, ctx.lock) == base_pin_in(
            ctx.lock, inp)
        if same_base and self._complete(inp, archs) and {
                s: r.sha256 for s, r in releases.items()} == {
                s: st.sha256 for s, st in inp.locked.suites.items()}:
            # The very InRelease files the lock was resolved from: the same signed indexes,
            # the same base image, the same install line resolve to the same closure.
            return None
        moved = self._resolve_at(inp, ctx, snapshot, releases, moved=True)
        if installs(moved) == installs(inp):
            return None
        at = moved.locked.snapshot or snapshot
        if at == inp.locked.snapshot:
            # A plain mirror read twice within one second, its state changed in between:
            # the time of reading alone would not tell the two apart, and `plan_move` would
            # see no newer version. The candidate is the next second (never before the lock).
            at = (dt.datetime.strptime(at, SNAPSHOT_FORMAT).replace(tzinfo=dt.UTC)
                  + dt.timedelta(seconds=1)).strftime(SNAPSHOT_FORMAT)
        # Its age is the newest InRelease it reads: the run that published the change.
        newest_date = newest_index(moved.locked.suites)
        return Candidate(version=at, ref=at,
                         published=newest_date[1] if newest_date is not None else None)

    def check(self, inp: AptInput, ctx: Context) -> list[Finding]:
        """Does the locked archive state still serve the locked indexes and packages (and,
        when deep, the same .deb bytes)?"""
        findings = self._check_listed(inp)
        if self.deep and not any(f.code in ("not-locked", "signature") for f in findings):
            findings += self.check_debs(inp, ctx, sample=self.sample, seed=self.seed)
        return findings

    def _check_listed(self, inp: AptInput) -> list[Finding]:
        lk = inp.locked
        if not lk.snapshot or not lk.archs:
            return [Finding(inp.name, "error", "not-locked", "apt input is not locked")]
        findings: list[Finding] = []
        releases: dict[str, SignedRelease] = {}
        suites = list(inp.intent.suites)
        snapshot = lk.snapshot
        read = run_all([partial(_attempt, self.archive.release, self.location(s), s, snapshot)
                        for s in suites])
        for suite, signed in zip(suites, read, strict=True):
            if isinstance(signed, IntegrityError):
                findings.append(Finding(inp.name, "error", "signature", signed.message))
                continue
            releases[suite] = signed
            want = lk.suites.get(suite)
            got = releases[suite].sha256
            if want is not None and want.sha256 != got:
                findings.append(Finding(
                    inp.name, "error" if lk.archive == "snapshot" else "warning",
                    "index-changed" if lk.archive == "snapshot" else "archive-moved",
                    f"InRelease of {suite} at {lk.snapshot} is not the locked one",
                    expected=want.sha256, found=got,
                ))
        if findings and any(f.code == "signature" for f in findings):
            return findings
        if not findings and not self.full and not self.deep and set(releases) == set(lk.suites):
            # The very InRelease files the lock was resolved from: the indexes they sign, and
            # so every locked package, are what they were. Whether the lock's closure matches
            # those indexes is a question about the lock itself: `verify --online` asks it.
            return findings
        with contextlib.suppress(IntegrityError):  # each architecture's read reports it
            self._read_indexes(inp, releases, sorted(lk.archs), lk.snapshot)
        for arch, al in sorted(lk.archs.items()):
            try:
                indexes = [idx for _, idx in self._indexes(inp, releases, arch, lk.snapshot)]
            except IntegrityError as exc:
                findings.append(Finding(inp.name, "error", "index-mismatch", exc.message))
                continue
            for pkg in al.closure:
                rec = _served(indexes, pkg.name, pkg.version)
                label = f"{pkg.name} {pkg.version} ({arch})"
                if rec is None:
                    findings.append(Finding(
                        inp.name, "error", "package-gone",
                        f"{label} is no longer in the locked archive state",
                        expected=pkg.version,
                    ))
                elif (rec.sha256, rec.size, rec.filename) != (pkg.sha256, pkg.size, pkg.filename):
                    findings.append(Finding(
                        inp.name, "error", "package-changed",
                        f"{label}: the archive lists other bytes than the lock",
                        expected=f"{pkg.sha256} {pkg.size} {pkg.filename}",
                        found=f"{rec.sha256} {rec.size} {rec.filename}",
                    ))
        return findings

    def check_debs(
        self, inp: AptInput, ctx: Context, *, sample: int | None = None, seed: int = 0
    ) -> list[Finding]:
        """``--deep``: download locked .debs (all, or ``sample`` of them) and check sha256/size."""
        lk = inp.locked
        if not lk.snapshot:
            return [Finding(inp.name, "error", "not-locked", "apt input is not locked")]
        pkgs = sorted(
            {(p.filename, p.sha256, p.size) for al in lk.archs.values() for p in al.closure}
        )
        how = ""
        if sample is not None and sample < len(pkgs):
            how = f" (one of {sample} sampled from {len(pkgs)} with seed {seed})"
            pkgs = sorted(random.Random(seed).sample(pkgs, sample))
        bases = []
        for suite in inp.intent.suites:
            base = self.location(suite).base(lk.snapshot)
            if base not in bases:
                bases.append(base)
        findings: list[Finding] = []
        for filename, sha, size in pkgs:
            findings.extend(replace(f, message=f.message + how)
                            for f in self._check_deb(inp.name, bases, filename, sha, size))
        return findings

    def _check_deb(
        self, name: str, bases: list[str], filename: str, sha: str, size: int
    ) -> list[Finding]:
        for base in bases:
            served = self.archive.hash_of(base + filename, limit=size)
            if served is None:
                continue
            got, got_size = served
            if got != sha or got_size != size:
                found = f"{got} {got_size}" if got_size <= size else f"more than {size} bytes"
                return [Finding(
                    name, "error", "deb-mismatch", f"{filename}: bytes differ from the lock",
                    expected=f"{sha} {size}", found=found,
                )]
            return []
        return [Finding(name, "error", "deb-missing", f"{filename} is not served")]
