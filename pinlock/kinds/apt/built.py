"""verify --image: does a built image's dpkg status hold what the lock's apt inputs say? Pure.

The image's ``/var/lib/dpkg/status`` (and ``status.d/*``, as distroless images keep
it) is compared with what the lock says apt leaves installed: the base the closure
was resolved against (the locked base image's status, or debootstrap's minbase),
less the packages apt removes, with the closure installed over it. Every package
whose version or architecture differs, every package the lock does not know and
every locked package missing is a finding. Only fully installed packages count
(dpkg's ``ok installed``): an unpacked or half-configured package did not install.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pinlock.dockerfile.sites import Sites
from pinlock.errors import UsageError
from pinlock.image_report import PlatformResult
from pinlock.kinds.apt.model import AptInput
from pinlock.model import Finding, Lock, platform_arch
from pinlock.pins import stage_index
from pinlock.sources.debian.deb822 import ControlError, PackageRecord, parse_packages

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d"
# A dpkg status of 3,000 packages is about 10 MB; more is an image built to exhaust memory.
MAX_STATUS = 64 * 1024 * 1024


@dataclass(frozen=True, order=True)
class Package:
    name: str
    version: str
    architecture: str

    def __str__(self) -> str:
        return f"{self.name}={self.version} ({self.architecture})"


# ------------------------------------------------------------------ which inputs


def inputs_for_image(lock: Lock, sites: Sites, path: str,
                     names: Sequence[str] | None) -> list[AptInput]:
    """The apt inputs the image is checked against, in stage order.

    Named: those. Else the apt inputs of the last stage and of the stages it is
    built ``FROM`` (what the final image holds, not a builder stage's packages).
    """
    apt = [i for i in lock.select(list(names) if names else None) if isinstance(i, AptInput)]
    if names:
        other = sorted(set(names) - {i.name for i in apt})
        if other:
            raise UsageError(f"{', '.join(other)}: not an apt input; --image checks apt inputs")
    else:
        chain: set[int] = set()
        stage = sites.stages[-1] if sites.stages else None
        while stage is not None and stage.index not in chain:
            chain.add(stage.index)
            stage = next((s for s in sites.stages[:stage.index]
                          if s.name is not None and s.matches(stage.base.lower())), None)
        apt = [i for i in apt if stage_index(sites, i.intent.stage, path,
                                             f"input {i.name!r}") in chain]
        if not apt:
            raise UsageError(
                "the lock has no apt input for the Dockerfile's last stage: nothing to compare "
                "the image with", hint="name the apt input: pinlock verify --image REF INPUT")
    order = {i.name: stage_index(sites, i.intent.stage, path, f"input {i.name!r}") for i in apt}
    return sorted(apt, key=lambda i: (order[i.name], i.name))


# ------------------------------------------------------------------ what the image holds


def _status_texts(files: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    out = [(STATUS, files[STATUS])] if STATUS in files else []
    # distroless keeps one file per package, beside its .md5sums list (not control data)
    out += sorted((p, data) for p, data in files.items()
                  if posixpath.dirname(p) == STATUS_D and not p.endswith(".md5sums"))
    return out


def installed(files: Mapping[str, bytes]) -> tuple[list[Package], dict[str, str]] | None:
    """The fully installed packages, and name -> status of the others; None: no status.

    Raises ControlError when the status data is not dpkg control data.
    """
    texts = _status_texts(files)
    if not texts:
        return None
    out: list[Package] = []
    other: dict[str, str] = {}
    for path, data in texts:
        try:
            records = parse_packages(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ControlError(f"/{path}: not UTF-8 (byte {exc.start})") from None
        except ControlError as exc:
            raise ControlError(f"/{path}: {exc}") from None
        for rec in records:
            words = rec.status.split()
            if words[1:] == ["ok", "installed"]:
                out.append(Package(rec.package, rec.version, rec.architecture))
            else:
                other[rec.package] = rec.status or "(no Status field)"
    return out, other


# ------------------------------------------------------------------ what the lock says


@dataclass
class _Expected:
    packages: dict[str, list[Package]] = field(default_factory=dict)  # by name
    owner: dict[str, str] = field(default_factory=dict)  # name -> apt input
    removed: set[tuple[str, str]] = field(default_factory=set)


def _expected(inputs: Sequence[AptInput], base: Sequence[PackageRecord], arch: str) -> _Expected:
    exp = _Expected()
    first = inputs[0].name
    for rec in base:
        exp.packages.setdefault(rec.package, []).append(
            Package(rec.package, rec.version, rec.architecture))
        exp.owner[rec.package] = first
    for inp in inputs:
        locked = inp.locked.archs[arch]
        for entry in locked.removed:
            name, _, version = entry.partition("=")
            exp.removed.add((name, version))
            exp.packages[name] = [p for p in exp.packages.get(name, [])
                                  if p.version != version]
        for pkg in locked.closure:
            # An upgrade replaces the installed package of the same name; another
            # architecture's copy (multi-arch, e.g. libc6:i386) stays.
            kept = [p for p in exp.packages.get(pkg.name, [])
                    if p.architecture not in (pkg.architecture, "all", arch)
                    and pkg.architecture != "all"]
            exp.packages[pkg.name] = [*kept, Package(pkg.name, pkg.version, pkg.architecture)]
            exp.owner[pkg.name] = inp.name
    exp.packages = {n: ps for n, ps in exp.packages.items() if ps}
    return exp


# ------------------------------------------------------------------ the comparison


def compare(files: Mapping[str, bytes], inputs: Sequence[AptInput],
            base: Sequence[PackageRecord], arch: str, platform: str) -> list[Finding]:
    """Findings for one platform: ``files`` from the image (by normalised path), ``inputs``
    in stage order (locked for ``arch``), ``base`` the first input's base packages."""
    return _check(files, inputs, base, arch, platform)[0]


def _check(files: Mapping[str, bytes], inputs: Sequence[AptInput],
           base: Sequence[PackageRecord], arch: str,
           platform: str) -> tuple[list[Finding], int]:
    last = inputs[-1].name
    for inp in inputs:
        if arch not in inp.locked.archs:
            return [Finding(inp.name, "error", "not-locked",
                            f"{platform}: the lock has no {arch} closure for {inp.name} "
                            f"(run `pinlock lock {inp.name}`)")], 0
    try:
        found = installed(files)
    except ControlError as exc:
        return [Finding(last, "error", "status-unreadable",
                        f"{platform}: the image's dpkg status cannot be read: {exc}")], 0
    exp = _expected(inputs, base, arch)
    if found is None:
        return [Finding(last, "error", "no-dpkg-status",
                        f"{platform}: the image has no /{STATUS}: none of the "
                        f"{len(exp.packages)} locked packages can be found",
                        expected=f"/{STATUS}")], 0
    have: dict[str, list[Package]] = {}
    unique = sorted(set(found[0]))
    for pkg in unique:
        have.setdefault(pkg.name, []).append(pkg)
    out: list[Finding] = []
    for name in sorted(set(have) | set(exp.packages)):
        want = sorted(exp.packages.get(name, []))
        got = sorted(have.get(name, []))
        extra = [p for p in got if p not in want]
        missing = [p for p in want if p not in got]
        owner = exp.owner.get(name, last)
        if len(extra) == 1 and len(missing) == 1:
            out.append(_differs(owner, platform, missing[0], extra[0]))
            continue
        for p in extra:
            if (p.name, p.version) in exp.removed:
                out.append(Finding(owner, "error", "removed-package",
                                   f"{platform}: {p.name} {p.version} is installed, but the "
                                   "lock says apt removes it", found=str(p)))
            else:
                out.append(Finding(owner, "error", "unknown-package",
                                   f"{platform}: {p.name} {p.version} ({p.architecture}) is "
                                   "installed, but the lock does not know it", found=str(p)))
        for p in missing:
            status = found[1].get(p.name)
            note = f" (dpkg status: {status})" if status and not got else ""
            out.append(Finding(owner, "error", "missing-package",
                               f"{platform}: {p.name} {p.version} ({p.architecture}) is in the "
                               f"lock but not installed in the image{note}", expected=str(p)))
    return out, len(unique)


def check_platform(files: Mapping[str, bytes], inputs: Sequence[AptInput],
                   base: Sequence[PackageRecord], platform: str, digest: str) -> PlatformResult:
    """``compare`` for one platform of the image, with the count of packages it installs."""
    findings, count = _check(files, inputs, base, platform_arch(platform), platform)
    return PlatformResult(platform, digest, count, tuple(findings))


def _differs(owner: str, platform: str, want: Package, got: Package) -> Finding:
    if want.architecture == got.architecture:
        code, what = "version-differs", (f"{got.name} is {got.version} in the image, the lock "
                                          f"says {want.version}")
    elif want.version == got.version:
        code, what = "architecture-differs", (f"{got.name} {got.version} is built for "
                                               f"{got.architecture}, the lock says "
                                               f"{want.architecture}")
    else:
        code, what = "package-differs", (f"{got.name} is {got.version} ({got.architecture}) "
                                          f"in the image, the lock says {want.version} "
                                          f"({want.architecture})")
    return Finding(owner, "error", code, f"{platform}: {what}", expected=str(want),
                   found=str(got))
