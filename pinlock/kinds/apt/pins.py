"""Where an apt input's locked values live: package pins, and the snapshot wiring of its stage."""

from __future__ import annotations

from dataclasses import replace

from pinlock.dockerfile.sites import (
    APT_LIST_READERS,
    AptCommand,
    AptPackageWord,
    AptSite,
    Sites,
    Value,
)
from pinlock.errors import DockerfileError
from pinlock.grammar import json_string, shell_word
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.kinds import base_images
from pinlock.kinds.apt import releases as debian
from pinlock.kinds.apt.model import AptInput
from pinlock.kinds.base import Scope
from pinlock.model import Lock, platform_arch
from pinlock.pins import PinSite, stage_index


def pin_sites(inp: AptInput, scope: Scope) -> list[PinSite]:
    return _apt(inp, scope.lock, scope.sites, scope.path)


def apt_sites_for(inp: AptInput, sites: Sites, path: str, lock: Lock) -> list[AptSite]:
    """The install commands of the input's stage: all of them (a stage may install in
    several RUNs, and a new one must not go unnoticed), unless another apt input of the
    lock shares the stage: then those that name the input's packages."""
    stage = stage_index(sites, inp.intent.stage, path, f"input {inp.name!r}")
    candidates = [s for s in sites.apt if s.stage == stage]
    unsafe = unsafe_apt_errors(sites, path, {stage} if stage is not None else None)
    if not candidates and unsafe:
        raise unsafe[0][1]  # the install is there, in a form pinlock cannot pin
    if not candidates:
        raise DockerfileError(path, f"input {inp.name!r}: stage {inp.intent.stage!r} has no "
                              "apt-get install", hint="fix `stage` in the lock file")
    others = [o for o in lock.inputs.values() if isinstance(o, AptInput) and o.name != inp.name
              and stage_index(sites, o.intent.stage, path, f"input {o.name!r}") == stage]
    if not others:
        return candidates
    want = set(inp.intent.packages)
    mine = [s for s in candidates if want & {p.name for p in s.packages}]
    return mine or candidates[:1]


def package_name(entry: str) -> str:
    """``libc6:arm64=2.41-12`` -> ``libc6``: how the lock's ``top`` tables key a package."""
    return entry.split("=", 1)[0].split(":", 1)[0].strip()


def apt_packages_in(inp: AptInput, sites: Sites, path: str, lock: Lock) -> tuple[str, ...]:
    """The packages the input's install lines name now, in Dockerfile order; the intent's own
    order when only the order differs (a reorder changes nothing apt installs).

    In a stage shared with other apt inputs, a package another input lists stays theirs.
    """
    theirs = {p for o in lock.inputs.values() if isinstance(o, AptInput) and o.name != inp.name
              for p in o.intent.packages}
    found = tuple(dict.fromkeys(w.name for w in _words(inp, sites, path, lock)
                                if w.name not in theirs))
    return inp.intent.packages if set(found) == set(inp.intent.packages) else found


def unlocked_packages(inp: AptInput, lock: Lock) -> list[str]:
    """Intent packages some platform's lock has not resolved (or resolved but no longer
    listed), sorted: what `pinlock lock` has to do for the package list."""
    want = {package_name(p) for p in inp.intent.packages}
    out: set[str] = set()
    for p in lock.platforms:
        arch = inp.locked.archs.get(platform_arch(p))
        if arch is not None and arch.closure:
            out |= want ^ set(arch.top)
    return sorted(out)


def base_codename(inp: AptInput, lock: Lock, sites: Sites, path: str) -> str | None:
    """The Debian release under the input's stage: its locked base image's tag, else the
    FROM as written. None when neither says (see ``debian.codename_of_image``)."""
    from pinlock.kinds.apt.detect import stage_codename

    stage = stage_index(sites, inp.intent.stage, path, f"input {inp.name!r}")
    for img in base_images(lock):
        if stage_index(sites, img.stage, path, f"input {img.input!r}") == stage:
            try:
                ref = parse_image_ref(img.image)
            except ImageRefError:
                break
            return debian.codename_of_image(ref.path, img.tag)
    return stage_codename(sites, stage) if stage is not None else None


def follow_base(inp: AptInput, lock: Lock, sites: Sites, path: str) -> AptInput:
    """The input with its suites moved to the release of its stage's base (trixie,
    trixie-updates -> forky, forky-updates): packages of one release are never locked
    for a base image of another. Unchanged when the base or the suites name no release.

    A base of a Debian release pinlock does not know is bad input: there is no suite
    name to move to.
    """
    want = base_codename(inp, lock, sites, path)
    have = debian.suites_codename(inp.intent.suites)
    if want is None or have is None or have not in debian.BY_CODENAME or want == have:
        return inp
    if not want:
        raise DockerfileError(
            path, f"apt input {inp.name!r}: the base of stage {inp.intent.stage!r} is a "
            f"Debian release pinlock does not know, and the input reads {have} suites",
            hint=f"set `suites` of [inputs.{inp.name}] in the lock file to that release's "
                 f"suites, then run `pinlock lock {inp.name}`")
    return replace(inp, intent=replace(inp.intent,
                                       suites=debian.moved_suites(inp.intent.suites, want)))


def _words(inp: AptInput, sites: Sites, path: str, lock: Lock) -> list[AptPackageWord]:
    return [w for site in apt_sites_for(inp, sites, path, lock) for w in site.packages]


def locked_version(inp: AptInput, lock: Lock, name: str) -> str | None:
    """The version to write for a top-level package: one version on every platform, or None."""
    versions = set()
    for p in lock.platforms:
        arch = inp.locked.archs.get(platform_arch(p))
        if arch is None or name not in arch.top:
            return None
        versions.add(arch.top[name])
    return versions.pop() if len(versions) == 1 else None


def apt_pin_conflicts(old: Lock, new: Lock, sites: Sites,
                      path: str) -> list[tuple[str, DockerfileError]]:
    """Hand-written ``name=version`` pins the new lock would overwrite with another version.

    A pin pinlock wrote itself (the old lock resolved it, closure and all) may move; a pin
    somebody wrote (or that ``init`` only adopted) is theirs: refuse rather than replace it.
    """
    out = []
    for inp in new.inputs.values():
        before = old.inputs.get(inp.name)
        if not isinstance(inp, AptInput) or inp == before:
            continue
        ours = isinstance(before, AptInput) and bool(before.locked.archs) and all(
            a.closure for a in before.locked.archs.values())
        for word in _words(inp, sites, path, new):
            if word.version is None:
                continue
            want = locked_version(inp, new, word.name)
            if word.version == want:
                continue
            if ours and isinstance(before, AptInput) and (
                    locked_version(before, old, word.name) == word.version):
                continue
            per_arch = ", ".join(f"{a} {al.top.get(word.name, '?')}"
                                 for a, al in sorted(inp.locked.archs.items()))
            out.append((inp.name, DockerfileError(
                path, f"apt package {word.name} is pinned to {word.version} here, but the "
                f"archive at snapshot {inp.locked.snapshot} has {want or per_arch}",
                line=word.value.line,
                hint=f"remove `={word.version}` to let pinlock pin it, or lock a snapshot that "
                     f"has that version (`pinlock bump {inp.name} YYYYMMDDTHHMMSSZ`)")))
    return out


UNSAFE_APT_HINT = ("write the packages literally in the install line (`apt-get install -y "
                   "curl jq`) so pinlock can pin each one")


def unsafe_apt_errors(sites: Sites, path: str,
                      stages: set[int] | None = None) -> list[tuple[int, DockerfileError]]:
    """apt commands whose packages are not in the Dockerfile text (of ``stages``, or all),
    with their stage: bad input, because a lock of the stage would not be what the build
    installs."""
    return [(u.stage, DockerfileError(path, f"{u.what}: {u.reason}", line=u.line,
                                      hint=UNSAFE_APT_HINT))
            for u in sites.unsafe_apt if stages is None or u.stage in stages]


def _apt(inp: AptInput, lock: Lock, sites: Sites, path: str) -> list[PinSite]:
    found = apt_sites_for(inp, sites, path, lock)
    out = []
    for at, word in ((s, w) for s in found for w in s.packages):
        version = locked_version(inp, lock, word.name)
        # Quoted for where it lands, should a value ever need it (its grammar admits none
        # that does): a JSON string in exec form (no shell), else shell text.
        pin = f"{word.name}={version}"
        expected = (json_string(pin) if at.json_form else shell_word(pin)) if version else (
            word.name)
        # Without a common version, the snapshot ARG is what pins the package.
        pinned = version is not None or (inp.locked.snapshot is not None and bool(inp.locked.archs))
        out.append(PinSite(inp.name, f"apt package {word.name}", word.value, expected,
                           pinned=pinned, counted="apt package(s)"))
    if inp.locked.snapshot and snapshot_supported(inp):
        sharing = [o for o in lock.inputs.values() if isinstance(o, AptInput)
                   and o.name != inp.name and o.intent.snapshot_arg == inp.intent.snapshot_arg]
        for o in sharing:
            if (o.locked.snapshot not in (None, inp.locked.snapshot) and stage_index(
                    sites, o.intent.stage, path, f"input {o.name!r}") == found[0].stage):
                raise DockerfileError(
                    path, f"apt inputs {inp.name!r} and {o.name!r} install in the same stage "
                    f"at snapshots {inp.locked.snapshot} and {o.locked.snapshot}, through one "
                    f"ARG {inp.intent.snapshot_arg}", line=found[0].line,
                    hint="lock both at one snapshot, or merge them into one input")
        shared = bool(sharing)
        out.extend(_snapshot(inp, inp.locked.snapshot, found[0].stage, sites, shared))
    return out


def snapshot_supported(inp: AptInput) -> bool:
    """apt of the input's Debian release understands ``--snapshot`` (2.7+: trixie on)."""
    return debian.snapshot_supported(inp.intent.suites)


# Every apt command that reads the package lists also gets these options (docs/lockfile.md,
# "What the Dockerfile holds"). apt maps the image's archive hosts to snapshot.debian.org over
# https by its built-in configuration, and the base image has no CA bundle: the handshake
# fails, `apt-get update` still exits 0 and silently keeps the live lists. Plain http is
# safe for the same reason the image's own deb.debian.org source is: every index and .deb is
# checked by hash against the InRelease signed by a key of the image's keyring. Before the
# first update apt picks the server by host; once lists exist, by the Release file's Label and
# Origin: both lookups are pointed at http, or the install would fetch over https. @PATH@ is
# the source's own path (debian, debian-security): the one Origin serves both archives.
_SNAPSHOT_HTTP = "http://snapshot.debian.org/archive"
SNAPSHOT_URI_OPTIONS = (
    ("Acquire::Snapshots::URI::Host::deb.debian.org", f"{_SNAPSHOT_HTTP}/@PATH@/@SNAPSHOTID@/"),
    ("Acquire::Snapshots::URI::Host::security.debian.org",
     f"{_SNAPSHOT_HTTP}/@PATH@/@SNAPSHOTID@/"),
    ("Acquire::Snapshots::URI::Origin::Debian", f"{_SNAPSHOT_HTTP}/@PATH@/@SNAPSHOTID@/"),
    ("Acquire::Snapshots::URI::Override::Label::Debian-Security",
     f"{_SNAPSHOT_HTTP}/debian-security/@SNAPSHOTID@/"),
)
# Debian's -updates and -security InRelease expire 7 days after their Date, and apt enforces
# Valid-Until on snapshots too: a pinned state is stale by design, its content fixed by the lock.
VALID_UNTIL_KEY = "Acquire::Check-Valid-Until"
# Without it a transient fetch failure (no connection, a failed TLS handshake) is a warning, the
# update exits 0, and the install reads whatever lists there are.
ERROR_MODE_KEY = "APT::Update::Error-Mode"
_FALSE = frozenset({"false", "0", "no", "off", "without", "disable"})


def _snapshot(inp: AptInput, snapshot: str, stage: int, sites: Sites,
              shared: bool) -> list[PinSite]:
    """apt reads the locked archive state: ``--snapshot "${ARG}"`` and the options of
    ``_options`` on every apt command that reads the package lists in the stage, and
    ``ARG <snapshot_arg>=<snapshot>`` in scope.

    Missing pieces are sites with an empty span: the rewriter inserts them. A global
    default is only used when no other apt input shares the ARG's name (their snapshots
    may differ): otherwise the stage gets its own default.
    """
    arg = inp.intent.snapshot_arg
    out: list[PinSite] = []
    cmds = [c for c in sites.apt_commands
            if c.stage == stage and c.sub in APT_LIST_READERS and not c.json_form]
    uses_arg = False
    for c in cmds:
        label = f"{c.tool} {c.sub} --snapshot"
        why = "apt would not read the locked archive state"
        # Inside a JSON string (RUN ["sh", "-c", "…"]) a timestamp needs no quotes.
        ref = f"${{{arg}}}" if c.in_json_string else f'"${{{arg}}}"'
        if c.snapshot is None or c.snapshot_word is None:
            out.append(PinSite(inp.name, label, Value("", c.after_sub, c.after_sub, c.line),
                               f" --snapshot {ref}", wiring=True, why=why))
            uses_arg = True
        elif c.snapshot_word in (f"${{{arg}}}", f"${arg}"):
            out.append(PinSite(inp.name, label, c.snapshot, c.snapshot.text, wiring=True))
            uses_arg = True
        elif "$" not in c.snapshot_word:
            out.append(PinSite(inp.name, label, c.snapshot, snapshot, wiring=True))
        else:
            out.append(PinSite(inp.name, label, c.snapshot, ref, wiring=True))
            uses_arg = True
        out.extend(_options(inp.name, c))
    decls = sites.args_named(arg)
    local = [d for d in decls if d.stage == stage]
    glob = [d for d in decls if d.stage == -1 and d.value is not None]
    use_global = not shared and not any(d.value is not None for d in local)
    for d in (glob if use_global else []) + [d for d in local if d.value is not None]:
        assert d.value is not None
        out.append(PinSite(inp.name, f"ARG {arg}", d.value, snapshot, wiring=True))
    if uses_arg and local and not any(d.value is not None for d in local) and not (
            use_global and glob):
        # A bare `ARG X` in the stage inherits a default that is not this input's (shared
        # with another stage) or none at all: it gets its own.
        d = local[0]
        out.append(PinSite(inp.name, f"ARG {arg}", Value("", d.name_end, d.name_end, d.line),
                           f"={snapshot}", wiring=True))
    if uses_arg and not local:
        first = min(cmds, key=lambda c: c.arg_at)
        text = f"{first.indent}ARG {arg}" + ("" if use_global and glob else f"={snapshot}")
        out.append(PinSite(inp.name, f"ARG {arg}",
                           Value("", first.arg_at, first.arg_at, first.line), text + "\n",
                           wiring=True))
    return out


def _options(name: str, c: AptCommand) -> list[PinSite]:
    """The options that make the snapshot work in the base image, a year from now: plain-http
    snapshot URIs, no Valid-Until check, and (on ``update``) failing on any fetch error.

    A missing option is inserted after ``--snapshot`` and the subcommand; one written by
    hand is kept as it is, except a value that undoes it (``Check-Valid-Until=true``).
    """
    at = max(c.after_sub, c.after_snapshot or 0)
    here = Value("", at, at, c.line)
    # One option a line where the shell allows it; inside a JSON string, one line.
    sep = " " if c.in_json_string or not c.line_break else c.line_break
    out: list[PinSite] = []

    def keep_or(key: str, want: str, insert: str, ok: frozenset[str] | None, why: str) -> None:
        label = f"{c.tool} {c.sub} {insert.split('=')[0]}"
        have = c.option(key)
        if have is None:
            out.append(PinSite(name, label, here, sep + insert, wiring=True, why=why))
        elif ok is not None and have.value.lower() not in ok and have.word.text.endswith(
                have.value):
            fixed = have.word.text[:len(have.word.text) - len(have.value)] + want
            out.append(PinSite(name, label, have.word, fixed, wiring=True, why=why))
        else:
            out.append(PinSite(name, label, have.word, have.word.text, wiring=True))

    if c.sub == "update":
        keep_or(ERROR_MODE_KEY, "any", "--error-on=any", frozenset({"any"}),
                "a snapshot index apt cannot fetch would be a warning, and the build would "
                "go on with whatever lists it has")
    keep_or(VALID_UNTIL_KEY, "false", f"-o {VALID_UNTIL_KEY}=false", _FALSE,
            "apt refuses a snapshot's -updates/-security InRelease 7 days after its Date")
    for key, uri in SNAPSHOT_URI_OPTIONS:
        keep_or(key, uri, f"-o {key}={uri}", None,
                "apt would fetch the snapshot over https, which an image without "
                "ca-certificates cannot, and fall back to the live archive")
    return out
