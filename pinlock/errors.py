"""pinlock's error families, each with a diagnostics() text and a stable exit code."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Documented exit codes (README "Exit codes"); stable across releases.
EXIT_OK = 0
EXIT_FINDINGS = 1  # verify found failing findings; upstream values disagree with each other
EXIT_BAD_INPUT = 2  # bad Dockerfile, lock, arguments or usage
EXIT_UPSTREAM = 3  # an upstream could not be reached or answered with an error, after retries
EXIT_BUSY = 4  # another pinlock process holds the lock file


class PinlockError(Exception):
    """Base of every error pinlock reports; the CLI catches it in exactly one place."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The text shown to the user: what happened, then what to do next."""
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(PinlockError):
    """The user's input is bad: a Dockerfile, a lock file, an argument."""

    exit_code = EXIT_BAD_INPUT


class UsageError(InputError):
    """A command was called with arguments that cannot work."""


class DockerfileError(InputError):
    """The Dockerfile cannot be read or does not hold what the lock expects."""

    def __init__(
        self, path: str, message: str, *, line: int | None = None, hint: str | None = None
    ) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}", hint=hint)
        self.path = path
        self.line = line


class LockfileError(InputError):
    """The lock file is malformed, of an unknown schema version, or inconsistent."""

    def __init__(
        self, path: str, message: str, *, key: str | None = None, hint: str | None = None
    ) -> None:
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}", hint=hint)
        self.path = path
        self.key = key


class LocalFileError(InputError):
    """A local file cannot be read or written: a read-only folder, a full disk, no permission."""


class LockBusyError(PinlockError):
    """Another pinlock process is writing the same lock file."""

    exit_code = EXIT_BUSY


class UpstreamError(PinlockError):
    """An upstream could not be reached or answered with an error (the transfer failed)."""

    exit_code = EXIT_UPSTREAM


class NotFoundError(UpstreamError):
    """Upstream answered, but the thing asked for does not exist (a tag, a release, a package)."""


class IntegrityError(PinlockError):
    """Upstream data is bad: a hash, a signature or two sources disagree.

    Distinct from UpstreamError: retrying does not help, and nothing may be written.
    """

    exit_code = EXIT_FINDINGS

    def __init__(
        self, message: str, *, observed: str | None = None, expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        parts = [message]
        if expected is not None:
            parts.append(f"expected {expected}")
        if observed is not None:
            parts.append(f"observed {observed}")
        super().__init__("; ".join(parts), hint=hint)
        self.observed = observed
        self.expected = expected


class UpstreamDataError(IntegrityError):
    """An upstream answered with a value outside its grammar (a version holding ``$(…)``, a
    tag with a newline): bad upstream data, refused before it reaches any file."""

    def __init__(self, source: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {message}", hint=hint or (
            "pinlock writes no value it cannot prove harmless; nothing was written"))
        self.source = source


@contextlib.contextmanager
def upstream_as(own: type[UpstreamError]) -> Iterator[None]:
    """Inside: an UpstreamError from the shared transport (a broken body, a deadline) comes
    out as the source's ``own`` error, with its message and hint; one already ``own`` passes."""
    try:
        yield
    except own:
        raise
    except UpstreamError as exc:
        raise own(exc.message, hint=exc.hint) from None

