"""The version lists a download's new versions come from, parsed (pure: data in, offers out).

Shapes, as documented upstream: Go's ``https://go.dev/dl/?mode=json&include=all`` (a list of
``{version: "go1.22.1", stable, files: [{filename, os, arch, sha256, size, kind}]}``), Node's
``https://nodejs.org/dist/index.json`` (a list of ``{version: "v20.11.1", date, files: [...]}``),
GitLab's ``/api/v4/projects/:id/repository/tags`` (``{name, created_at, ...}``), and Apache /
nginx autoindex HTML (``<a href="…">``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

from pinlock.clock import parse_time
from pinlock.errors import UpstreamDataError
from pinlock.sources.github.versions import version_from_tag

MAX_HREFS = 100_000  # a directory listing with more links is no listing


@dataclass(frozen=True)
class Offer:
    """One version upstream lists, as the input's template reads it."""

    version: str
    ref: str  # as upstream writes it: the tag, the index `version`, the file name
    prerelease: bool = False
    published: dt.datetime | None = None
    notes_url: str | None = None


def _list(data: Any, source: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise UpstreamDataError(source, f"expected a JSON list of objects ({what})")
    return data


def _text(item: dict[str, Any], key: str, source: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise UpstreamDataError(source, f"an entry without a string {key!r}")
    return value


def json_index_offers(data: Any, template: str, *, source: str) -> Iterator[Offer]:
    """Go's and Node's index: each entry whose ``version`` fits ``template``. Go's
    ``stable: false`` marks a pre-release; Node's ``date`` is the publication day."""
    for item in _list(data, source, "a version index"):
        ref = _text(item, "version", source)
        version = version_from_tag(template, ref)
        if version is None:
            continue
        stable = item.get("stable")
        yield Offer(version, ref, prerelease=stable is False,
                    published=parse_time(item.get("date")))


def json_index_sha256(data: Any, ref: str, filename: str, *, source: str
                      ) -> tuple[str | None, int | None]:
    """The sha256 (and size) Go's index lists for ``filename`` of version ``ref``."""
    for item in _list(data, source, "a version index"):
        if item.get("version") != ref:
            continue
        files = item.get("files")
        if not isinstance(files, list):
            raise UpstreamDataError(source, f"version {ref}: `files` is not a list")
        for f in files:
            if isinstance(f, dict) and f.get("filename") == filename:
                sha = f.get("sha256")
                size = f.get("size")
                return (sha if isinstance(sha, str) else None,
                        size if isinstance(size, int) and not isinstance(size, bool) else None)
    return None, None


def tag_offers(tags: Iterable[Any], template: str, *, source: str) -> Iterator[Offer]:
    """GitHub's ``/tags`` and GitLab's ``/repository/tags`` items: ``name`` read through
    ``template``; GitLab's ``created_at`` (the tag's time, when given) is its publication."""
    for item in tags:
        if not isinstance(item, dict):
            raise UpstreamDataError(source, "expected a JSON list of tag objects")
        ref = _text(item, "name", source)
        version = version_from_tag(template, ref)
        if version is not None:
            yield Offer(version, ref, published=parse_time(item.get("created_at")))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for key, value in attrs:
                if key == "href" and value and len(self.hrefs) < MAX_HREFS:
                    self.hrefs.append(value)


def listing_names(html: str) -> list[str]:
    """The entry names an autoindex page links to: the last path segment of each href, a
    folder keeping its trailing ``/`` (``v20.11.1/``, ``tool-1.2.3.tar.gz``)."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    out = []
    for href in parser.hrefs:
        path = unquote(urlsplit(href).path)
        folder = path.endswith("/")
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name and name not in (".", ".."):
            out.append(name + "/" if folder else name)
    return out


def listing_pattern(segment: str, arch: str | None) -> re.Pattern[str]:
    """A regex for one path segment of the URL template: ``{version}`` captured, ``{arch}``
    the first platform's arch name (so a listed file exists for it)."""
    parts = re.split(r"(\{version\}|\{arch\})", segment)
    rx = []
    seen = False
    for part in parts:
        if part == "{version}":
            rx.append(r"(?P=version)" if seen else r"(?P<version>[0-9][^/]*?)")
            seen = True
        elif part == "{arch}":
            rx.append(re.escape(arch) if arch is not None else r"[^/]+?")
        else:
            rx.append(re.escape(part))
    return re.compile("".join(rx))


def listing_offers(names: Iterable[str], pattern: re.Pattern[str]) -> Iterator[Offer]:
    for name in names:
        m = pattern.fullmatch(name)
        if m is not None:
            yield Offer(m.group("version"), name)


_ARMOR = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?P<body>.*?)"
                    r"-----END PGP PUBLIC KEY BLOCK-----", re.S)


def dearmor_key(data: bytes) -> bytes:
    """An OpenPGP public key as binary packets (gpgv reads no armoured keyring): armour
    (RFC 4880 §6.2: headers, a blank line, base64, a ``=`` checksum line) removed; binary
    keys are returned as they are."""
    text = data.decode("ascii", "replace")
    m = _ARMOR.search(text)
    if m is None:
        return data
    lines = m.group("body").splitlines()
    if "" in [ln.strip() for ln in lines]:
        lines = lines[[ln.strip() for ln in lines].index("") + 1:]  # drop armour headers
    b64 = "".join(ln.strip() for ln in lines if ln.strip() and not ln.startswith("="))
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamDataError("public key", "its armour is not valid base64") from None
