"""Secrets pinlock holds (tokens, passwords): checked before use, kept off plain http, scrubbed."""

from __future__ import annotations

import base64
import io
import ipaddress
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TextIO
from urllib.parse import urlsplit

from pinlock.errors import InputError

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
MASK = "***"
_MIN_SECRET = 4  # shorter "secrets" would mask ordinary words in every message

_registered: set[str] = set()


def register(*values: str | None) -> None:
    """Remember secrets so that scrub() removes them from every message pinlock prints."""
    for value in values:
        if value and len(value) >= _MIN_SECRET:
            _registered.add(value)


def register_basic(username: str, password: str) -> str:
    """Register a Basic credential and return its header value (whose base64 is a secret too)."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    register(password, encoded)
    return f"Basic {encoded}"


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    for secret in sorted(_registered, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be a token (an HTTP header value), or None. Never quotes it."""
    for i, ch in enumerate(value):
        if ch.isspace():
            return f"whitespace at position {i + 1}"
        if unicodedata.category(ch).startswith("C"):
            return f"a control character at position {i + 1}"
        if not ch.isascii():
            return f"a non-ASCII character at position {i + 1}"
    return None


def check_token(variable: str, value: str) -> str:
    """The token in ``variable``, stripped; refused (exit 2) if it cannot be sent as a header.

    A token with a newline would otherwise be retried, then printed whole in
    the transport's error (the header it was refused in).
    """
    token = value.strip()
    register(value, token)
    problem = token_problem(token)
    if problem is not None:
        raise InputError(
            f"{variable} holds {problem}; refusing to use it as a token",
            hint=f"set {variable} to the token alone (letters, digits and punctuation)",
        )
    return token


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (``host`` may carry a port)."""
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def may_carry_secret(url: str) -> bool:
    """The one rule for every credential pinlock sends: https, or plain http to loopback.

    Plain http to any other host would put the secret on the wire for anyone on
    the path to read.
    """
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.netloc))


def plain_http_host(url: str) -> str:
    """The host a refused URL names, for messages (no user info, no path)."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url


class ScrubbingWriter(io.TextIOBase):
    """A text stream that scrubs registered secrets from everything written through it:
    messages, JSON reports and upstream text echoed in errors alike."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self._inner = inner

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._inner.errors

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")  # click probes with bytes
        self._inner.write(scrub(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def writable(self) -> bool:
        return True


_URL_PASSWORD = re.compile(r"://[^/@:\s]*:([^/@\s]+)@")


def register_environment(environ: Mapping[str, str], argv: Sequence[str] = ()) -> None:
    """Register, before anything runs, the token variables' values (as given and
    stripped) and any password written into a URL in the environment or the arguments
    (``https://user:secret@mirror``)."""
    for text in [*environ.values(), *argv]:
        if "@" in text:
            register(*_URL_PASSWORD.findall(text))
    for variable in TOKEN_VARIABLES:
        value = environ.get(variable) or ""
        token = value.strip()
        register(value, token)
        if token:
            # The forms it travels in: git's Basic header, and Basic with the token alone.
            for user in ("x-access-token", ""):
                register(base64.b64encode(f"{user}:{token}".encode()).decode())
