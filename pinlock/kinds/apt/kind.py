"""The apt kind: the packages a stage installs, locked as a closure at a Debian archive state."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pinlock.errors import DockerfileError, PinlockError
from pinlock.kinds.apt import detect, pins, schema, verify
from pinlock.kinds.apt.model import AptInput
from pinlock.kinds.apt.releases import snapshot_predates
from pinlock.kinds.base import (
    BuiltImageCheck,
    IntentDelta,
    Parts,
    Row,
    Scope,
    TypedKind,
    Upstream,
    Upstreams,
)
from pinlock.model import Finding, Input, Lock, Severity

if TYPE_CHECKING:
    from pinlock.changes import Change
    from pinlock.dockerfile.sites import Sites
    from pinlock.image_report import PlatformResult

DPKG_STATUS = "/var/lib/dpkg/status"


class AptKind(TypedKind[AptInput]):
    name = "apt"
    input_type = AptInput
    intent_keys = schema.INTENT_KEYS
    parts = Parts(schema.load, schema.encode, schema.values, pins.pin_sites, detect.detect)
    follows_base = True  # its suites follow the Debian release of the stage's base image


    def findings(self, inp: Input, scope: Scope, unpinned: Severity) -> list[Finding]:
        return verify.findings(self.own(inp), scope, unpinned)

    def lock_findings(self, scope: Scope, names: Sequence[str] | None,
                      unpinned: Severity) -> list[Finding]:
        return verify.lock_findings(scope, names, unpinned)

    def blockers(self, scope: Scope, names: Sequence[str] | None
                 ) -> list[tuple[str, PinlockError]]:
        """apt RUNs of the selected apt inputs' stages that cannot be rewritten safely (of
        every stage when no input is named), each named by the input it blocks."""
        by_stage: dict[int, str] = {}
        for inp in scope.lock.select(list(names) if names else None):
            st = (scope.sites.stage(inp.intent.stage.lower()) if isinstance(inp, AptInput)
                  else None)
            if st is not None:
                by_stage.setdefault(st.index, inp.name)
        # Only stages an apt input owns: a stage the lock leaves out (init reported it) is no
        # reason to refuse locking the rest.
        return [(by_stage[stage], err) for stage, err in pins.unsafe_apt_errors(
            scope.sites, scope.path, set(by_stage))]

    def follow_dockerfile(self, inp: Input, scope: Scope) -> Input:
        # A package added, removed or renamed by hand is what the lock resolves next (the
        # intent follows the Dockerfile, not the other way round).
        i = self.own(inp)
        found = pins.apt_packages_in(i, scope.sites, scope.path, scope.lock)
        if found == i.intent.packages:
            return i
        return replace(i, intent=replace(i.intent, packages=found))

    def follow_base(self, inp: Input, scope: Scope) -> Input:
        return pins.follow_base(self.own(inp), scope.lock, scope.sites, scope.path)

    def conflicts(self, old: Lock, new: Lock, sites: Sites, path: str
                  ) -> list[tuple[str, DockerfileError]]:
        return pins.apt_pin_conflicts(old, new, sites, path)

    def lay_out(self, source: str, lock: Lock, path: str, notes: list[Finding]) -> str:
        """Pins one a line, sorted, for inputs that ask; installs it cannot lay out without
        touching more than their package words are noted, not changed."""
        from pinlock.dockerfile.edit import apply_edits
        from pinlock.dockerfile.parser import parse
        from pinlock.dockerfile.sites import find_sites
        from pinlock.kinds.apt.layout import layout_edits

        laid = [i for i in lock.inputs.values() if isinstance(i, AptInput) and i.intent.layout]
        if not laid:
            return source
        sites = find_sites(parse(source))
        edits = []
        for inp in laid:
            found, skipped = layout_edits(source, pins.apt_sites_for(inp, sites, path, lock),
                                          sites)
            edits += found
            notes.extend(Finding(inp.name, "warning", "layout-skipped",
                                 f"{path}:{s.line}: the apt install is left as it is, not laid "
                                 f"out {inp.intent.layout}: {s.why}", line=s.line)
                         for s in skipped)
        # The lock's `packages` keep their order: a reorder in the Dockerfile changes nothing
        # apt installs, and `apt_packages_in` reads it so (the next run finds nothing to do).
        return apply_edits(source, edits) if edits else source

    # -- versions and updates
    def version(self, inp: Input) -> str:
        return self.own(inp).locked.snapshot or "unresolved"

    def bump_version(self, inp: Input) -> str:
        return self.own(inp).locked.snapshot or ""

    def target_value(self, inp: Input) -> str:
        """Which package versions the lock installs: a later snapshot with the same
        versions is the same update, not a newer one."""
        i = self.own(inp)
        lines = sorted(f"{arch} {part} {name}={version}"
                       for arch, al in i.locked.archs.items()
                       for part, pairs in (("top", al.top.items()),
                                           ("closure", ((p.name, p.version)
                                                        for p in al.closure)))
                       for name, version in pairs)
        return "versions:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        i = self.own(inp)
        apt = i.locked
        return (not apt.archs or any(not a.closure for a in apt.archs.values())
                or bool(pins.unlocked_packages(i, lock))
                or bool(apt.suites and set(apt.suites) != set(i.intent.suites))
                or snapshot_predates(apt.snapshot, apt.suites) is not None)

    # -- reports
    def delta(self, old: Input, new: Input) -> IntentDelta:
        if not isinstance(old, AptInput):
            return IntentDelta()
        n = self.own(new)
        a, b = old.intent, n.intent
        return IntentDelta(
            added=tuple(sorted(set(b.packages) - set(a.packages))),
            removed=tuple(sorted(set(a.packages) - set(b.packages))),
            moved=(f"suites {' '.join(a.suites)} -> {' '.join(b.suites)}"
                   if a.suites != b.suites else None))

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        from pinlock.kinds.apt.report import pin_rows

        return pin_rows(self.own(old), self.own(new))

    def sections(self, change: Change, *, detailed: bool) -> list[str]:
        from pinlock.kinds.apt.report import section

        return section(change.input, self.own(change.old), self.own(change.new),
                       detailed=detailed)

    # -- upstream
    def upstream(self, env: Upstreams) -> Upstream:
        import os

        from pinlock.options import cache_dir
        from pinlock.sources.debian import AptSource, AptSourceConfig
        from pinlock.sources.debian.source import base_pin_in

        options = env.options
        cfg = AptSourceConfig.from_env(
            env.environ, mirror=options.debian_mirror,
            security_mirror=options.debian_security_mirror, keyring=None,
            cache_dir=(os.path.join(cache_dir(env.environ), "debian")
                       if options.index_cache else None))

        def base_status(inp: AptInput, arch: str) -> str | None:
            # The dpkg status of the locked base image of the input's stage: what apt
            # starts from. Read through whichever kind locks that image.
            data = env.stage_file(inp.intent.stage, arch, DPKG_STATUS)
            return data.decode("utf-8", "replace") if data is not None else None

        return self.bind(AptSource(env.http, cfg, now=None, base_status=base_status,
                                   deep=options.deep, full=options.full_check,
                                   sample=options.sample,
                                   seed=options.sample_seed,
                                   base_pin=lambda inp, read: base_pin_in(env.lock or read, inp)))

    def built_image(self) -> BuiltImageCheck | None:
        return _BuiltImage(self)


class _BuiltImage:
    """``verify --image``: the built image's dpkg status against the lock's apt inputs."""

    def __init__(self, kind: AptKind) -> None:
        from pinlock.kinds.apt import built

        self.kind = kind
        self.files: Sequence[str] = [built.STATUS]
        self.dirs: Sequence[str] = [built.STATUS_D]
        self.max_total = built.MAX_STATUS

    def inputs(self, lock: Lock, sites: Sites, path: str,
               names: Sequence[str] | None) -> list[Input]:
        from pinlock.kinds.apt.built import inputs_for_image

        return list(inputs_for_image(lock, sites, path, names))

    def check(self, files: Mapping[str, bytes], inputs: Sequence[Input], up: Upstream,
              platform: str, digest: str) -> PlatformResult:
        from pinlock.kinds.apt.built import check_platform
        from pinlock.model import platform_arch
        from pinlock.sources.debian import AptSource

        apt = [self.kind.own(i) for i in inputs]
        first = apt[0]
        arch = platform_arch(platform)
        source = up.source
        assert isinstance(source, AptSource)
        base = source.base_packages(first, arch) if arch in first.locked.archs else []
        return check_platform(files, apt, base, platform, digest)


KIND = AptKind()
