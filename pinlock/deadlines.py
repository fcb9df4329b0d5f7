"""Deadlines for the command and for each request: set once by the CLI, read by every wait."""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pinlock.errors import UpstreamError

DEFAULT_COMMAND_TIMEOUT = 300.0
DEFAULT_REQUEST_TIMEOUT = 60.0
_HINT = "the upstream is too slow or stalls; try again later, or raise --timeout"


class DeadlineError(UpstreamError):
    """A request or the command ran past its deadline."""


@dataclass
class _Deadlines:
    command_seconds: float | None = None
    command_at: float | None = None  # time.monotonic() value
    request_seconds: float = DEFAULT_REQUEST_TIMEOUT


_deadlines = _Deadlines()
REQUEST_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pinlock_request_deadline", default=None)


def set_timeouts(command: float | None, request: float | None = None) -> None:
    """Start the command's clock: ``command`` seconds in all, ``request`` per request."""
    _deadlines.command_seconds = command
    _deadlines.command_at = None if command is None else time.monotonic() + command
    per_request = DEFAULT_REQUEST_TIMEOUT if request is None else request
    _deadlines.request_seconds = min(per_request, command) if command else per_request


def _earliest() -> tuple[float | None, str]:
    """The deadline in force now, and what it is (for messages)."""
    request = REQUEST_AT.get()
    command = _deadlines.command_at
    if command is not None and (request is None or command <= request):
        return command, f"the command's deadline ({_deadlines.command_seconds:g} s, --timeout)"
    if request is not None:
        return request, f"the request deadline ({_deadlines.request_seconds:g} s)"
    return None, ""


def _left(error: type[DeadlineError], prefix: str) -> float | None:
    """Seconds left before the deadline in force (None: no deadline); ``error`` once past."""
    at, which = _earliest()
    if at is None:
        return None
    left = at - time.monotonic()
    if left <= 0:
        raise error(f"{prefix}stopped at {which}", hint=_HINT)
    return left


def remaining(what: str) -> float | None:
    """Seconds left before the deadline in force (None: no deadline); raise once it passed."""
    return _left(DeadlineError, f"{what}: ")


def subprocess_timeout(what: str, default: float) -> float:
    """A timeout for a child process: ``default``, cut to what is left of the command."""
    left = remaining(what)
    return default if left is None else min(default, left)


@contextlib.contextmanager
def request_deadline(what: str, seconds: float | None = None) -> Iterator[None]:
    """Run one request (its retries and its body included) under its own deadline."""
    span = _deadlines.request_seconds if seconds is None else seconds
    at = time.monotonic() + span
    outer = REQUEST_AT.get()
    token = REQUEST_AT.set(at if outer is None else min(at, outer))
    try:
        yield
    except Expired as exc:
        raise DeadlineError(f"{what}: {exc.message}", hint=exc.hint) from None
    finally:
        REQUEST_AT.reset(token)


class Expired(DeadlineError):
    """Raised inside httpx by a socket operation past the deadline; request_deadline or
    iter_body rename it with what was being read."""


def socket_timeout(timeout: float | None) -> float | None:
    """A socket operation's timeout, cut to the deadline in force; Expired once it passed."""
    left = _left(Expired, "")
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


def finite(seconds: float) -> bool:
    """A usable --timeout value: a number of seconds above zero."""
    return math.isfinite(seconds) and seconds > 0


def run_bounded(argv: list[str], *, what: str, timeout: float, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, input_text: str | None = None
                ) -> subprocess.CompletedProcess[str]:
    """Run a child process (text output) under ``timeout`` cut to the command's deadline.

    The child gets its own process group, killed whole at the deadline (or on Ctrl-C):
    a helper it started would otherwise hold the pipes open and pinlock with them.
    """
    from pinlock import output

    limit = subprocess_timeout(what, timeout)
    started = time.monotonic()
    with subprocess.Popen(argv, cwd=cwd, env=env, text=True, start_new_session=True,
                          stdin=subprocess.DEVNULL if input_text is None else subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            out, err = proc.communicate(input_text, timeout=limit)
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise DeadlineError(f"{what}: did not finish before the deadline",
                                    hint=_HINT) from None
            raise
    output.ran(argv, started, proc.returncode)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
