"""The grammar of every value pinlock writes: ``str -> None or raise GrammarError``, pure.

Upstream text is untrusted even when a signature or digest checks out: a signed
Packages index can hold ``Version: 1.0$(touch /tmp/x)``, a git tag can hold
backticks, quotes or a newline. Each check below accepts only what its
specification allows (narrowed where pinlock needs less), so nothing that a
shell, a TOML document, a git ref or a log line would read as syntax gets through.
Every pattern is anchored with ``fullmatch``: ``$`` alone would let a trailing
newline in.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit


class GrammarError(ValueError):
    """``value`` is not a ``what``: the message says what was expected."""

    def __init__(self, what: str, value: str, expected: str) -> None:
        super().__init__(f"{what} {shown(value)} is not valid: expected {expected}")
        self.what = what
        self.value = value
        self.expected = expected


def shown(value: str, limit: int = 120) -> str:
    """``value`` quoted and escaped (``repr``), cut at ``limit`` characters: a newline or an
    escape sequence in upstream text must not forge a line of pinlock's output."""
    if len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value)} characters)"
    return repr(value)


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def _match(rx: re.Pattern[str], what: str, expected: str, value: str) -> None:
    if not isinstance(value, str) or rx.fullmatch(value) is None:
        raise GrammarError(what, str(value), expected)


# ------------------------------------------------------------------ Debian

# Debian Policy §5.6.1 (Source) and §5.6.7 (Package): lowercase letters, digits, '+', '-',
# '.'; at least two characters; starts with a letter or digit.
_DEB_NAME = _full(r"[a-z0-9][a-z0-9+.-]{1,127}")
_DEB_VERSION = _full(r"(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?")
# dpkg-architecture names (debian/arch tables: amd64, arm64, armhf, ppc64el, hurd-i386, …)
# plus "all"; lowercase letters, digits and '-'.
_DEB_ARCH = _full(r"[a-z0-9][a-z0-9-]{0,31}")
# A pool path as Packages' Filename has it (pool/main/c/curl/curl_8.14.1-2_amd64.deb): a
# relative path of non-empty components; '%' for the rare URL-quoted epoch colon.
_POOL_PART = _full(r"[A-Za-z0-9+_~%][A-Za-z0-9.+_~%-]{0,254}")
# Suites (trixie, trixie-security, bookworm/updates) and components (main, non-free-firmware).
_SUITE = _full(r"[a-z0-9][a-z0-9.-]{0,63}(?:/[a-z0-9][a-z0-9.-]{0,63})?")
# apt's --snapshot timestamp and snapshot.debian.org's path component.
_SNAPSHOT = _full(r"\d{8}T\d{6}Z")
# InRelease Date (RFC 2822 in UTC): "Sat, 15 Nov 2025 09:04:36 UTC".
_RELEASE_DATE = _full(r"[A-Za-z0-9][A-Za-z0-9 ,:+.-]{0,63}")


def debian_package(value: str) -> None:
    """A Debian package name (Policy §5.6.1, §5.6.7)."""
    _match(_DEB_NAME, "Debian package name", "lowercase letters, digits, '+', '-' and '.', "
           "starting with a letter or digit (Debian Policy 5.6.1)", value)


def debian_version(value: str) -> None:
    """A Debian version ``[epoch:]upstream[-revision]`` (Policy §5.6.12): the upstream part
    starts with a digit, holds ':' only after an epoch and '-' only before a revision."""
    m = _DEB_VERSION.fullmatch(value) if isinstance(value, str) and len(value) <= 256 else None
    if m is None or (m.group(1) is None and ":" in m.group(2)) or (
            m.group(3) is None and "-" in m.group(2)):
        raise GrammarError("Debian version", str(value),
                           "[epoch:]upstream[-revision] of letters, digits and '.+~-:' "
                           "(Debian Policy 5.6.12)")


def debian_arch(value: str) -> None:
    """A Debian architecture name (``amd64``, ``arm64``, ``all``)."""
    _match(_DEB_ARCH, "Debian architecture", "lowercase letters, digits and '-'", value)


def pool_filename(value: str) -> None:
    """A Packages ``Filename``: a relative path inside the archive, no ``.``/``..`` parts."""
    expected = ("a relative path of letters, digits and '.+_~%-', with no empty, '.' or "
                "'..' part")
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise GrammarError("pool file name", str(value), expected)
    for part in value.split("/"):
        if part in ("", ".", "..") or _POOL_PART.fullmatch(part) is None:
            raise GrammarError("pool file name", value, expected)


def debian_suite(value: str) -> None:
    """A suite or component name (``trixie-security``, ``non-free-firmware``)."""
    _match(_SUITE, "Debian suite", "lowercase letters, digits, '.' and '-'", value)


def snapshot(value: str) -> None:
    """A snapshot timestamp ``YYYYMMDDTHHMMSSZ`` (apt --snapshot, snapshot.debian.org)."""
    _match(_SNAPSHOT, "snapshot", "YYYYMMDDTHHMMSSZ", value)


def release_date(value: str) -> None:
    """An InRelease ``Date`` field (RFC 2822): letters, digits, spaces and ``,:+.-``."""
    _match(_RELEASE_DATE, "InRelease date", "an RFC 2822 date", value)


# ------------------------------------------------------------------ OCI

# OCI distribution spec, "Pulling manifests": <name> path components and <reference> tags.
_OCI_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_OCI_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*" \
    r"[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)"
_OCI_REPO = _full(rf"{_OCI_HOST}?{_OCI_COMPONENT}(?:/{_OCI_COMPONENT})*")
_OCI_TAG = _full(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = _full(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
# RFC 6838 restricted-name, narrowed to what OCI and Docker media types use.
_MEDIA_TYPE = _full(r"[A-Za-z0-9][A-Za-z0-9.+_-]{0,126}/[A-Za-z0-9][A-Za-z0-9.+_-]{0,126}")
_PLATFORM = _full(r"[a-z0-9][a-z0-9._-]{0,31}(?:/[a-z0-9][a-z0-9._-]{0,31}){1,2}")


def oci_repository(value: str) -> None:
    """An image repository: an optional ``host[:port]/``, then distribution-spec components."""
    if isinstance(value, str) and len(value) > 255:
        raise GrammarError("image repository", value, "at most 255 characters")
    _match(_OCI_REPO, "image repository",
           "[host[:port]/]path of lowercase components (OCI distribution spec)", value)


def oci_tag(value: str) -> None:
    """An image tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`` (OCI distribution spec)."""
    _match(_OCI_TAG, "image tag",
           "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (OCI distribution spec)", value)


def digest(value: str) -> None:
    """A content digest: ``sha256:`` and 64 lowercase hex digits (or sha512 and 128)."""
    _match(_DIGEST, "digest", "'sha256:' and 64 lowercase hex digits", value)


def media_type(value: str) -> None:
    """A media type ``type/subtype`` (RFC 6838 names, as OCI and Docker use them)."""
    _match(_MEDIA_TYPE, "media type", "type/subtype of letters, digits and '.+_-'", value)


def platform(value: str) -> None:
    """A platform ``os/arch[/variant]``."""
    _match(_PLATFORM, "platform", "os/arch[/variant] like linux/amd64", value)


# ------------------------------------------------------------------ releases

# Release tags and versions: what real projects use (v1.2.3, jq-1.7.1, 2024.05.1,
# 3.2.0.0, 1.0.0-rc.1, 1.2.3+build.4, r27, pkg@1.2.3, cli/v2.0.0), and no character a
# shell, a TOML string or a URL would read as syntax.
_VERSION = _full(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_TAG_PART = r"[A-Za-z0-9_][A-Za-z0-9._+@-]{0,127}"
_TAG = _full(rf"{_TAG_PART}(?:/{_TAG_PART}){{0,3}}")
# GitHub release asset names: GitHub itself replaces most other characters with '.'.
_ASSET = _full(r"[A-Za-z0-9_+~@][A-Za-z0-9._+~@-]{0,254}")
_SHA256 = _full(r"[0-9a-f]{64}")
_GITHUB_REPO = _full(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_ARG_NAME = _full(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def release_version(value: str) -> None:
    """A release version: letters, digits and ``._+-``, starting with a letter or digit."""
    _match(_VERSION, "release version",
           "letters, digits and '._+-', starting with a letter or digit", value)


def release_tag(value: str) -> None:
    """A release tag: letters, digits and ``._+@-``, up to three ``/``; no ``..``."""
    if isinstance(value, str) and ".." in value:
        raise GrammarError("release tag", value, "no '..'")
    _match(_TAG, "release tag",
           "letters, digits and '._+@-' (and '/' between parts), no shell or TOML "
           "metacharacter", value)


def asset_name(value: str) -> None:
    """A release asset file name: no ``/``, no ``..``, no shell or TOML metacharacter."""
    if isinstance(value, str) and ".." in value:
        raise GrammarError("asset name", value, "a file name without '..'")
    _match(_ASSET, "asset name", "a file name of letters, digits and '._+~@-'", value)


def sha256_hex(value: str) -> None:
    """A bare sha256: 64 lowercase hex digits (sha256sum's form, checksum ARGs)."""
    _match(_SHA256, "sha256", "64 lowercase hex digits", value)


def github_repository(value: str) -> None:
    """A GitHub ``owner/name``."""
    _match(_GITHUB_REPO, "GitHub repository", "owner/name of letters, digits and '_.-'",
           value)


def arg_name(value: str) -> None:
    """A Dockerfile ARG name: a shell variable name."""
    _match(_ARG_NAME, "ARG name", "letters, digits and '_', not starting with a digit", value)


# ------------------------------------------------------------------ URLs

# RFC 3986 unreserved and the reserved characters a download URL needs ('/:@=+,%'):
# nothing a shell would have to quote ('&;$`'"()*!?#[]' and whitespace: '?' and '[' glob,
# '#' starts a comment) and no TOML escape.
_URL_CHARS = _full(r"[A-Za-z0-9._~:/@=+,%-]{1,2048}")


def url(value: str) -> None:
    """An http(s) URL with a host, of characters that need no quoting in a shell."""
    expected = ("an http:// or https:// URL with a host, without whitespace, quotes or "
                "shell metacharacters")
    if not isinstance(value, str) or _URL_CHARS.fullmatch(value) is None:
        raise GrammarError("URL", str(value), expected)
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise GrammarError("URL", value, expected) from None
    if parts.scheme not in ("http", "https") or not host:
        raise GrammarError("URL", value, expected)
    # A '..' segment walks out of the release (or pool) the URL names into another one.
    if any(seg in (".", "..") for seg in parts.path.split("/")):
        raise GrammarError("URL", value, "a URL path without '.' or '..' segments")


# ------------------------------------------------------------------ git and pull requests

_BRANCH = _full(r"[A-Za-z0-9_][A-Za-z0-9._+@/-]{0,199}")


def git_branch(value: str) -> None:
    """A branch name git takes as it is (``git check-ref-format --branch``), narrowed to
    characters no shell or URL needs to quote."""
    expected = ("letters, digits and '._+@/-', no '..', '//', '@{', and no part that "
                "starts with '.' or ends with '.lock'")
    if not isinstance(value, str):
        raise GrammarError("branch name", str(value), expected)
    bad = (".." in value or "//" in value or "@{" in value or value.endswith(("/", "."))
           or any(p.startswith(".") or p.endswith(".lock") for p in value.split("/")))
    if bad or _BRANCH.fullmatch(value) is None:
        raise GrammarError("branch name", value, expected)


def pr_title(value: str) -> None:
    """A pull request title: one line of printable text, at most 256 characters (GitHub)."""
    if (not isinstance(value, str) or not value or len(value) > 256
            or any(not c.isprintable() for c in value)):
        raise GrammarError("pull request title", str(value),
                           "one line of printable text, at most 256 characters")


def pr_body(value: str) -> None:
    """A pull request body: printable text in lines, at most 65536 characters (GitHub); a
    carriage return or an escape sequence from upstream would hide or forge a line."""
    if (not isinstance(value, str) or len(value) > 65536
            or any(not c.isprintable() and c != "\n" for c in value)):
        raise GrammarError("pull request body", str(value),
                           "printable lines, at most 65536 characters")


# ------------------------------------------------------------------ shell text

# Characters that mean nothing to a POSIX shell inside a word. '~' only expands at the start
# of a word or right after '=' / ':' (bash, in assignment-like words): quoted there.
_SHELL_SAFE = _full(r"[A-Za-z0-9_@%+=:,./~-]+")
_TILDE_EXPANDS = _full(r"(?:~|.*[=:]~).*")


def shell_word(value: str) -> str:
    """``value`` as one POSIX shell word: as is when no character needs quoting, else in
    single quotes (``'`` written as ``'\\''``). A value that passed its grammar needs no
    quotes; this is the second wall, should a grammar ever let one through."""
    if _SHELL_SAFE.fullmatch(value) and not _TILDE_EXPANDS.fullmatch(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def json_string(value: str) -> str:
    """``value`` as the inside of a JSON string (a RUN in exec form: no shell reads it)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]
