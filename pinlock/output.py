"""What pinlock tells a person on stderr besides results: -v detail, --quiet, and progress."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pinlock.secrets import MASK, scrub

log = logging.getLogger("pinlock")

# Query parameters that carry credentials in a URL pinlock may fetch: a signed
# object-store redirect (X-Amz-Signature), a token in the query. Their values never
# reach a CI log, whatever the registered secrets are.
_SECRET_QUERY = ("token", "signature", "credential", "secret", "password", "key", "sig",
                 "auth", "policy")


@dataclass
class _State:
    verbose: bool = False
    quiet: bool = False
    as_json: bool = False
    progress: Any = None  # a started rich Progress, or None
    stream: TextIO | None = None  # the real stderr, to ask whether it is a terminal


_state = _State()
_lock = threading.Lock()


class _Handler(logging.Handler):
    """Writes each record as one `pinlock: …` line to the current (scrubbing) stderr,
    above the progress display when one is live so neither garbles the other."""

    def emit(self, record: logging.LogRecord) -> None:
        line = scrub(f"pinlock: {record.getMessage()}")
        with contextlib.suppress(OSError, ValueError):
            progress = _state.progress
            if progress is not None:
                progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
                return
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


_handler = _Handler()


def configure(*, verbose: bool | None = None, quiet: bool | None = None,
              as_json: bool | None = None, stream: TextIO | None = None) -> None:
    """Set what the command shows; each call changes only the settings it names."""
    if verbose is not None:
        _state.verbose = _state.verbose or verbose
    if quiet is not None:
        _state.quiet = quiet
    if as_json is not None:
        _state.as_json = _state.as_json or as_json
    if stream is not None:
        _state.stream = stream
    if _handler not in log.handlers:
        log.addHandler(_handler)
    log.propagate = False
    log.setLevel(logging.DEBUG if _state.verbose else logging.WARNING)


def reset() -> None:
    """End of a command: stop the display and forget the settings (main runs in-process
    in tests, one command after another)."""
    stop_progress()
    _state.verbose = _state.quiet = _state.as_json = False
    _state.stream = None
    log.setLevel(logging.WARNING)


def verbose() -> bool:
    return _state.verbose


def quiet() -> bool:
    return _state.quiet


def warn(message: str, *, label: str = "warning") -> None:
    """A warning or note on stderr; --quiet silences it (errors are never routed here)."""
    if _state.quiet:
        return
    with contextlib.suppress(OSError, ValueError):
        line = f"pinlock: {label}: {message}"
        if _state.progress is not None:
            _state.progress.console.print(scrub(line), markup=False, highlight=False,
                                          soft_wrap=True)
            return
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- -v detail


def safe_url(url: str) -> str:
    """``url`` for a log line: no user info, credential-like query values masked, and
    every registered secret scrubbed (a token in a path stays out too)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if any(s in k.lower() for s in _SECRET_QUERY) else v)
                               for k, v in pairs], safe="*/:")
        url = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        url = url.split("?", 1)[0]
    return scrub(url)


def http(method: str, url: str, status: int | str, nbytes: int | None,
         started: float) -> None:
    """One HTTP exchange: ``GET url -> 200, 1234 bytes, 56 ms``."""
    if not _state.verbose:
        return
    size = "streamed" if nbytes is None else f"{nbytes} bytes"
    log.debug("http: %s %s -> %s, %s, %d ms", method, safe_url(url), status, size,
              _ms(started))


def cache_hit(what: str, path: str | None, nbytes: int | None = None) -> None:
    """An index read from the disk cache instead of the network."""
    if not _state.verbose:
        return
    size = "" if nbytes is None else f", {nbytes} bytes"
    log.debug("cache hit: %s (%s%s)", safe_url(what), path or "memory", size)


def ran(argv: Sequence[str], started: float, code: int | None) -> None:
    """One subprocess (gpgv, sqv, git, a credential helper): its program, exit, duration."""
    if not _state.verbose:
        return
    # A `-c key=value` may carry an auth header (git's http.extraheader): key only.
    words = [os.path.basename(argv[0])]
    for i, a in enumerate(argv[1:], 1):
        words.append(a.split("=", 1)[0] + "=" + MASK if argv[i - 1] == "-c" else a)
    shown = " ".join(words)
    log.debug("run: %s -> exit %s, %d ms", scrub(shown), code, _ms(started))


def decided(name: str, message: str) -> None:
    """What a command decided for one input: the candidate found, the move or why not."""
    if _state.verbose:
        log.debug("[%s] %s", name, message)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


# ---------------------------------------------------------------- progress


def _progress_wanted() -> bool:
    """A display only for a person at a terminal: never in --quiet, --json, or on a pipe
    or file (a CI log would fill with redraws), and never on stdout."""
    if _state.quiet or _state.as_json:
        return False
    stream = _state.stream or sys.stderr
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (OSError, ValueError):
        return False


def _progress() -> Any:
    with _lock:
        if _state.progress is None and _progress_wanted():
            try:  # rich comes with typer; without it, no display (never an error)
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    DownloadColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )
            except ImportError:
                return None

            # rich reads NO_COLOR itself; the console writes to the scrubbing stderr.
            console = Console(file=sys.stderr, force_terminal=True, stderr=True)
            _state.progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
                TimeElapsedColumn(), console=console, transient=True,
                # rich would otherwise route print() on stdout through the display.
                redirect_stdout=False, redirect_stderr=False)
            _state.progress.start()
        return _state.progress


def stop_progress() -> None:
    with _lock:
        if _state.progress is not None:
            with contextlib.suppress(OSError, ValueError):
                _state.progress.stop()
            _state.progress = None


class Task:
    """One line of the progress display; every method is a no-op without a display."""

    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._id, amount)

    def total(self, total: int | None) -> None:
        if self._progress is not None:
            self._progress.update(self._id, total=total)


@contextlib.contextmanager
def task(description: str, total: int | None = None) -> Iterator[Task]:
    """A progress line for long work (a download, hashing, a resolution), removed when done."""
    progress = _progress()
    if progress is None:
        yield Task(None, None)
        return
    task_id = progress.add_task(scrub(description), total=total)
    with contextlib.suppress(OSError, ValueError):
        progress.refresh()  # drawn now: work shorter than a refresh tick is still shown
    try:
        yield Task(progress, task_id)
    finally:
        with contextlib.suppress(KeyError):
            progress.remove_task(task_id)
        if not progress.tasks:
            # Between pieces of work the display is gone: results and errors print clean.
            stop_progress()
