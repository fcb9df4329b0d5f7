"""The command line: parse options, call one function of pinlock.app, render its result."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from pinlock import __version__
from pinlock.deadlines import DEFAULT_COMMAND_TIMEOUT

if TYPE_CHECKING:
    from pinlock.app import ChangeResult, Options
    from pinlock.errors import PinlockError as _Error

from pinlock.errors import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EXIT_OK,
    PinlockError,
    UsageError,
)

app = typer.Typer(
    name="pinlock",
    help="Lock every input of a Dockerfile to content-addressed values, and verify them.\n\n"
    "Examples:\n\n"
    "  pinlock init\n\n"
    "  pinlock verify --strict\n\n"
    "  pinlock bump s6-overlay 3.2.4.0",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DockerfileOpt = Annotated[Optional[Path], typer.Option(  # noqa: UP045 - typer needs Optional
    "--dockerfile", "-f", help="The Dockerfile (default: the lock's `dockerfile`, "
    "else docker/Dockerfile).", dir_okay=False)]
LockfileOpt = Annotated[Path, typer.Option(
    "--lockfile", "-l", help="The lock file.", dir_okay=False)]
def _json_flag(value: bool) -> bool:
    if value:
        from pinlock import output
        output.configure(as_json=True)  # machines read stdout: no progress display
    return value


def _verbose_flag(value: bool) -> bool:
    if value:
        from pinlock import output
        output.configure(verbose=True)
    return value


DEFAULT_MAX_AGE = "10m"  # outdated: answers.py
JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON.",
                                       callback=_json_flag)]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", callback=_verbose_flag,
    help="Print more detail; on stderr, what was fetched and decided.")]
NamesArg = Annotated[Optional[list[str]], typer.Argument(  # noqa: UP045
    help="Input names to limit the work to (default: all).", show_default=False)]
MirrorOpt = Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
    "--registry-mirror", help="HOST=URL: fetch images of HOST from URL (repeatable).")]
DeepOpt = Annotated[bool, typer.Option(
    "--deep", help="Also download release assets and locked .deb files and hash their bytes.")]
DebianMirrorOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--debian-mirror", help="Read Debian packages from this archive instead of snapshots.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Change nothing.")]
AllowMajorOpt = Annotated[bool, typer.Option(
    "--allow-major", help="Allow a new major version.")]
PrereleaseOpt = Annotated[bool, typer.Option("--prerelease", help="Allow pre-releases.")]
AcceptAlarmOpt = Annotated[bool, typer.Option(
    "--accept-alarm", help="Move inputs even while upstream raised an alarm on them.")]
DEFAULT_LOCK = Path("image.lock.toml")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pinlock {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", metavar="SECONDS",
        help="Stop the command after this long; each request also stops after 60 s unless "
        "its answer keeps arriving at 32 KiB/s. Cut off: exit code 3.")
    ] = DEFAULT_COMMAND_TIMEOUT,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="On stderr, show each request (URL, status, bytes, time, "
        "cache hits), each program run, and what was decided per input.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No warnings, notes or progress on stderr; errors still print.")
    ] = False,
) -> None:
    """pinlock: a reproducible lock manager for Dockerfiles."""
    from pinlock import output
    from pinlock.deadlines import finite, set_timeouts

    if verbose and quiet:
        raise UsageError("--verbose and --quiet contradict each other: choose one")
    output.configure(verbose=verbose, quiet=quiet)

    if not finite(timeout):
        raise UsageError(f"--timeout {timeout:g}: expected a number of seconds above 0")
    set_timeouts(timeout)


def _options(mirrors: list[str] | None = None, deep: bool = False,
             debian_mirror: str | None = None, allow_major: bool = False,
             prerelease: bool = False, accept_alarm: bool = False) -> Options:
    from pinlock.app import Options

    if mirrors:
        # A malformed mirror is a usage error before any work starts, whatever the command.
        from pinlock.sources.oci.config import parse_mirror_value
        for value in mirrors:
            parse_mirror_value(value, what="--registry-mirror")
    return Options(registry_mirrors=tuple(mirrors or ()), deep=deep,
                   debian_mirror=debian_mirror, allow_major=allow_major, prerelease=prerelease,
                   accept_alarm=accept_alarm)


@app.command()
def init(
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing lock.")] = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Find the Dockerfile's inputs and adopt the pins already there (no network).

    Example: pinlock init --dockerfile docker/Dockerfile
    """
    from pinlock import app as core
    from pinlock.report import skipped_text

    result = core.init(dockerfile, lockfile, force=force)
    lock = result.discovery.lock
    if as_json:
        typer.echo(json.dumps({
            "lockfile": str(lockfile),
            "inputs": {n: i.kind for n, i in sorted(lock.inputs.items())},
            "notes": result.discovery.notes,
            "unmanaged": [s.__dict__ for s in result.discovery.skipped],
        }, indent=2, sort_keys=True))
        return EXIT_OK
    typer.echo(f"wrote {lockfile} with {len(lock.inputs)} input(s):")
    for name, inp in sorted(lock.inputs.items()):
        typer.echo(f"  {name} ({inp.kind})")
    for note in result.discovery.notes:
        typer.echo(f"note: {note}")
    if result.discovery.skipped:
        typer.echo("seen but not managed by pinlock:")
        typer.echo(skipped_text(result.discovery.skipped))
    return EXIT_OK


@app.command()
def verify(
    names: NamesArg = None,
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Treat inputs that are not pinned yet as failures.")] = False,
    online: Annotated[bool, typer.Option(
        "--online", help="Also check that the locked values still hold upstream.")] = False,
    registry_mirror: MirrorOpt = None,
    deep: DeepOpt = False,
    sample: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--sample", min=1, metavar="N",
        help="With --deep: check N randomly chosen .deb files per apt input, not all.")] = None,
    seed: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--seed", min=0, help="With --sample: the seed that chooses them (repeat a run).")
    ] = None,
    debian_mirror: DebianMirrorOpt = None,
    image: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--image", metavar="REF", help="Check a built image's installed Debian packages "
        "against the apt inputs instead: a registry reference, oci:PATH[:TAG] or "
        "docker-archive:PATH.")] = None,
    platform: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--platform", help="With --image: check this platform (repeatable; default: every "
        "platform of the lock).")] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Check that the Dockerfile and the lock agree (offline by default).

    Exit codes: 0 consistent, 1 failing findings, 2 bad input, 3 upstream unreachable.

    Example: pinlock verify --strict;  pinlock verify --online uv debian;
    pinlock verify --image ghcr.io/owner/app:1.2
    """
    from pinlock import app as core
    from pinlock.report import findings_json, findings_text, skipped_text

    if image is not None:
        if online or deep or sample is not None or seed is not None:
            raise UsageError("--image reads a built image, not upstream: run --online apart")
        from pinlock.image_report import report_json, report_text

        report = core.verify_image(image, dockerfile, lockfile, names=names,
                                   platforms=tuple(platform or ()),
                                   options=_options(registry_mirror, False, debian_mirror))
        typer.echo(report_json(report) if as_json else report_text(report, verbose=verbose))
        return EXIT_OK if report.ok else EXIT_FINDINGS
    if platform:
        raise UsageError("--platform chooses the platforms of --image: add --image REF")
    if (sample is not None or deep) and not online:
        raise UsageError("--deep and --sample check upstream: add --online")
    if sample is not None and not deep:
        raise UsageError("--sample N chooses which .deb files --deep downloads: add --deep")
    options = _options(registry_mirror, deep, debian_mirror) if online else None
    if seed is not None and sample is None:
        raise UsageError("--seed repeats the choice of --sample N: add --sample")
    if options is not None and sample is not None:
        options = dataclasses.replace(options, sample=sample, sample_seed=seed)
    findings, unmanaged = core.verify(dockerfile, lockfile, names=names, strict=strict,
                                      online=online, options=options)
    typer.echo(findings_json(findings) if as_json else findings_text(findings, verbose=verbose))
    if verbose and not as_json and unmanaged:
        typer.echo("seen but not managed by pinlock:")
        typer.echo(skipped_text(unmanaged))
    return EXIT_FINDINGS if any(f.severity == "error" for f in findings) else EXIT_OK


def _report_failures(failures: list[tuple[str, _Error]]) -> int:
    """Print every input's failure; the exit code is the worst of them (0 when none)."""
    for name, exc in failures:
        typer.echo(f"error: [{name}] {exc.diagnostics()}", err=True)
    return max((exc.exit_code for _, exc in failures), default=EXIT_OK)


def _report_change(result: ChangeResult, as_json: bool, what: str) -> int:
    from pinlock import output
    from pinlock.changes import short_digest

    for note in result.notes:
        if not output.quiet():
            typer.echo(f"warning: [{note.input}] {note.message}", err=True)
    if result.failures:
        code = _report_failures(result.failures)
        typer.echo("nothing was written", err=True)
        if as_json:
            typer.echo(json.dumps({
                "error": {"message": "nothing was written: "
                          + ", ".join(n for n, _ in result.failures) + " failed",
                          "hint": None},
                "exit": code,
                "failures": [{"input": n, "error": e.diagnostics(), "exit": e.exit_code}
                             for n, e in result.failures],
            }, indent=2, sort_keys=True))
        return code
    if as_json:
        typer.echo(json.dumps({
            "changes": [{"input": c.input, "from": c.from_version, "to": c.to_version,
                         "from_digest": c.from_digest, "to_digest": c.to_digest,
                         "digest_moved": c.digest_moved,
                         "packages_added": list(c.delta.added),
                         "packages_removed": list(c.delta.removed)}
                        for c in result.changes],
            "dockerfile_changed": result.dockerfile_changed,
            "lock_changed": result.lock_changed, "dry_run": result.dry_run,
            **({"diff": result.diff} if result.dry_run else {}),
        }, indent=2, sort_keys=True))
        return EXIT_OK
    if not result.changes:
        typer.echo(f"nothing to {what}")
    for c in result.changes:
        moved = c.from_version if c.from_version == c.to_version else (
            f"{c.from_version} -> {c.to_version}")
        if c.digest_moved:  # the same tag, pushed again: say which index it left and took
            moved += (f" ({short_digest(c.from_digest, 8)}… → "
                      f"{short_digest(c.to_digest, 8)}…)")
        delta = c.delta
        edits = [f"+{p}" for p in delta.added] + [f"-{p}" for p in delta.removed]
        if edits:  # the install lines were edited: say what the lock now follows
            moved += f" (packages {' '.join(edits)})"
        if delta.moved:  # e.g. the base moved to another Debian release
            moved += f" ({delta.moved})"
        typer.echo(f"{c.input}: {moved}")
    if result.dry_run:
        if result.diff:
            typer.echo(result.diff, nl=False)
        typer.echo("dry run: nothing written")
    return EXIT_OK


@app.command("lock")
def lock_cmd(
    names: NamesArg = None,
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    registry_mirror: MirrorOpt = None,
    deep: DeepOpt = False,
    debian_mirror: DebianMirrorOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Resolve whatever is not pinned yet, keeping every version as it is.

    Example: pinlock lock;  pinlock lock debian
    """
    from pinlock import app as core

    result = core.lock_inputs(dockerfile, lockfile, names,
                              _options(registry_mirror, deep, debian_mirror),
                              dry_run=dry_run)
    return _report_change(result, as_json, "lock")


@app.command()
def update(
    names: NamesArg = None,
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    allow_major: AllowMajorOpt = False,
    prerelease: PrereleaseOpt = False,
    accept_alarm: AcceptAlarmOpt = False,
    registry_mirror: MirrorOpt = None,
    deep: DeepOpt = False,
    debian_mirror: DebianMirrorOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Move inputs to the newest version their intent allows.

    Example: pinlock update;  pinlock update uv --dry-run
    """
    from pinlock import app as core

    result = core.update_inputs(
        dockerfile, lockfile, names,
        _options(registry_mirror, deep, debian_mirror, allow_major, prerelease, accept_alarm),
        dry_run=dry_run)
    return _report_change(result, as_json, "update")


@app.command()
def bump(
    name: Annotated[str, typer.Argument(help="The input to move, e.g. s6-overlay.")],
    version: Annotated[str, typer.Argument(help="The version to move it to, e.g. 3.2.4.0.")],
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    registry_mirror: MirrorOpt = None,
    deep: DeepOpt = False,
    debian_mirror: DebianMirrorOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Move one input to a version: all its pins change together.

    Example: pinlock bump s6-overlay 3.2.4.0;  pinlock bump debian 13.5
    """
    from pinlock import app as core

    result = core.bump(dockerfile, lockfile, name, version,
                       _options(registry_mirror, deep, debian_mirror),
                       dry_run=dry_run)
    return _report_change(result, as_json, "bump")


@app.command()
def outdated(
    names: NamesArg = None,
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    allow_major: Annotated[bool, typer.Option(
        "--allow-major", help="Count a new major version.")] = False,
    prerelease: Annotated[bool, typer.Option(
        "--prerelease", help="Count pre-releases.")] = False,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 1 when any input can move or raised an alarm.")] = False,
    max_age: Annotated[str, typer.Option(
        "--max-age", help="Show what upstream answered an earlier run for this very lock, "
        "options and settings when it is younger than this (30s, 10m, 2h); 0 asks every "
        "upstream now.")] = DEFAULT_MAX_AGE,
    registry_mirror: MirrorOpt = None,
    debian_mirror: DebianMirrorOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Show, per input, the locked version, the newest allowed one, and upstream changes.

    Example: pinlock outdated;  pinlock outdated --json --exit-code --max-age 0
    """
    from pinlock.answers import parse_max_age
    from pinlock.outdated import outdated as run
    from pinlock.outdated import report_json, report_text

    try:
        age = parse_max_age(max_age)
    except ValueError:
        raise UsageError(f"--max-age {max_age!r}: expected 0 or a whole number and a unit "
                         "s, m or h (e.g. 10m)") from None
    report = run(dockerfile, lockfile, names,
                 _options(registry_mirror, False, debian_mirror, allow_major,
                          prerelease), max_age=age)
    typer.echo(report_json(report) if as_json else report_text(report))
    if report.errors:
        # Bad input (a misconfigured mirror, a lock an upstream cannot serve as written) says
        # exit 2; otherwise an upstream could not be asked: exit 3. Never "up to date".
        return min(r.error_exit for r in report.errors)
    # An alarm (upstream changed without a new version) needs a person as much as an
    # update does: both make --exit-code fail; the JSON tells them apart.
    return EXIT_FINDINGS if exit_code and (report.movable or report.alarms) else EXIT_OK


@app.command()
def pr(
    names: NamesArg = None,
    dockerfile: DockerfileOpt = None,
    lockfile: LockfileOpt = DEFAULT_LOCK,
    group: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--group", help="Only the pull request of this group (the inputs' `group` key).")
    ] = None,
    base: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--base", help="The branch to update (default: the one checked out).")] = None,
    remote: Annotated[str, typer.Option("--remote", help="The git remote to push to.")] = "origin",
    repository: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--repository", help="owner/name on GitHub (default: GITHUB_REPOSITORY, else the "
        "remote's URL).")] = None,
    prefix: Annotated[str, typer.Option(
        "--branch-prefix", help="Branch name prefix; the input or group name follows.")
    ] = "pinlock/",
    author_name: Annotated[str, typer.Option("--author-name")] = "pinlock",
    author_email: Annotated[str, typer.Option(
        "--author-email")] = "pinlock@users.noreply.github.com",
    label: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--label", help="Label for new pull requests (repeatable).")] = None,
    reviewer: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--reviewer", help="Reviewer for new pull requests (repeatable).")] = None,
    allow_major: AllowMajorOpt = False,
    prerelease: PrereleaseOpt = False,
    accept_alarm: AcceptAlarmOpt = False,
    registry_mirror: MirrorOpt = None,
    deep: DeepOpt = False,
    debian_mirror: DebianMirrorOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print branch, commit message and body; change nothing.")] = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Open or update one pull request per input (or group) that can move (GITHUB_TOKEN).

    Example: pinlock pr --dry-run;  pinlock pr s6-overlay --label dependencies;
    pinlock pr --group images
    """
    from pinlock.pr import Author, PrOptions, run_pr

    opts = PrOptions(remote=remote, base=base, prefix=prefix,
                     author=Author(author_name, author_email), labels=tuple(label or ()),
                     reviewers=tuple(reviewer or ()), repository=repository, group=group,
                     dry_run=dry_run)
    result = run_pr(Path.cwd(), dockerfile, lockfile, names,
                    _options(registry_mirror, deep, debian_mirror, allow_major,
                             prerelease, accept_alarm), opts)
    if as_json:
        typer.echo(json.dumps({
            "actions": [{"input": a.input, "inputs": list(a.inputs), "branch": a.branch,
                         "action": a.action, "number": a.number, "url": a.url,
                         "title": a.title, "detail": a.detail}
                        for a in result.actions],
            "failures": [{"input": n, "error": e.diagnostics(), "exit": e.exit_code}
                         for n, e in result.failures],
            "pushes": result.pushes, "api_writes": result.api_writes, "dry_run": dry_run,
        }, indent=2, sort_keys=True))
    else:
        for a in result.actions:
            where = f" #{a.number}" if a.number is not None else ""
            typer.echo(f"{a.input}: {a.action}{where} ({a.branch})"
                       + (f": {a.detail}" if a.detail else ""))
            if dry_run and a.title:
                typer.echo(f"  branch: {a.branch}\n  commit: {a.title}\n  body:")
                typer.echo("".join(f"    {line}\n" for line in (a.body or "").splitlines()),
                           nl=False)
        if dry_run:
            typer.echo("dry run: nothing pushed, no pull request changed")
    return _report_failures(result.failures)


def _json_error(argv: list[str] | None, message: str, hint: str | None, code: int) -> None:
    """With --json, an error is JSON on stdout too (docs/json.md), so machines never parse
    text; the human message still goes to stderr."""
    args = sys.argv[1:] if argv is None else argv
    if "--json" in args:
        typer.echo(json.dumps({"error": {"message": message, "hint": hint}, "exit": code},
                              indent=2, sort_keys=True))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the one place errors become messages and exit codes."""
    import os

    from pinlock import output
    from pinlock.deadlines import set_timeouts
    from pinlock.secrets import ScrubbingWriter, register_environment

    # Every line pinlock prints passes through here: no token, password or
    # registry bearer token reaches the terminal or a CI log, even echoed by an upstream.
    register_environment(os.environ, sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbingWriter(out), ScrubbingWriter(err)
    # The progress display asks the real stderr whether a person is watching.
    output.configure(stream=err)
    try:
        _main(argv)
    finally:
        output.reset()  # the display is gone before the streams are put back
        sys.stdout, sys.stderr = out, err
        set_timeouts(None)  # the command's clock ends with the command


def _main(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors: unknown option or command, missing argument.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"pinlock: error: {exc}", err=True)
        _json_error(argv, f"usage: {exc}", None, EXIT_BAD_INPUT)
        sys.exit(EXIT_BAD_INPUT)
    except PinlockError as exc:
        typer.echo(f"pinlock: error: {exc.diagnostics()}", err=True)
        _json_error(argv, exc.message, exc.hint, exc.exit_code)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
