"""The download input's lock tables: decode with validation, encode, and every value's grammar."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pinlock import grammar
from pinlock.errors import LockfileError
from pinlock.grammar import GrammarError
from pinlock.kinds.base import Check, Value
from pinlock.kinds.download.expansion import (
    OPS,
    PLACE_RE,
    PatternError,
    check_template,
    has_version,
)
from pinlock.kinds.download.model import (
    ChecksumsFrom,
    DownloadInput,
    DownloadIntent,
    DownloadLocked,
    LockedFile,
    SignatureIntent,
    VersionsFrom,
)
from pinlock.kinds.files import encode_files, file_values, load_files
from pinlock.tables import Replace, TableReader, group, min_age
from pinlock.values import template

INTENT_KEYS = frozenset({"kind", "url", "version-arg", "sha256-arg", "arch-map", "versions",
                         "checksums", "signature", "allow-prerelease", "group", "min-age",
                         "url-arg", "more-urls", "platforms", "fixed", "locked"})
# The keys each `versions.from` takes (besides `from`); the first ones listed are required.
_VERSION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "github-tags": (("repository",), ("template",)),
    "github-releases": (("repository",), ("template",)),
    "gitlab-tags": (("repository",), ("url", "template")),
    "json-index": (("url",), ("template",)),
    "directory": ((), ("url",)),
}
_CHECKSUM_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sidecar": ((), ("url",)),
    "sums-file": (("url",), ()),
    "json-index": ((), ("url",)),
    "bytes": ((), ()),
}
_FINGERPRINT = re.compile(r"[0-9A-F]{40}", re.ASCII)
_GITLAB_PROJECT = re.compile(r"[0-9]{1,20}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}"
                             r"(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){1,20}", re.ASCII)
_QUERY = re.compile(r"[A-Za-z0-9._~:/@=+,%&-]{0,1024}", re.ASCII)
_KEYRING = re.compile(r"[A-Za-z0-9_./~+@-]{1,4096}", re.ASCII)


def load(r: TableReader, name: str, platforms: tuple[str, ...]) -> DownloadInput:
    path = r.path
    url = r.text("url", required=True)
    # A fixed download: URLs without a version to move, their sha256s kept and checked.
    fixed = r.flag("fixed", False)
    if fixed:
        for key in ("version-arg", "versions", "url-arg", "more-urls", "allow-prerelease"):
            if key in r.data:
                raise LockfileError(path, "a fixed download has no version to move: remove "
                                    f"{key}, or fixed = true", key=r.qualified(key))
        if has_version(url):
            raise r.fail("url", "a URL without {version}, since fixed = true", url)
    elif not has_version(url):
        raise r.fail("url", "a URL template containing {version} (or fixed = true)", url)
    # Absent: each file's sha256 is written literally where the Dockerfile checks it.
    sha256_arg = r.opt_str("sha256-arg")
    arch_map = r.str_map("arch-map")
    versions = _versions(r)
    checksums = _checksums(r, versions)
    signature = _signature(r, checksums)
    intent = DownloadIntent(
        url=url, version_arg=None if fixed else r.text("version-arg", required=True),
        sha256_arg=sha256_arg,
        arch_map=arch_map, versions=versions, checksums=checksums, signature=signature,
        allow_prerelease=r.flag("allow-prerelease", False), group=group(r), min_age=min_age(r),
        url_arg=r.opt_str("url-arg"), platforms=r.str_list("platforms", ()),
        more_urls=r.str_map("more-urls") if "more-urls" in r.data else {})
    for arg, more in intent.more_urls.items():
        if not has_version(more):
            raise LockfileError(path, f"a URL template containing {{version}}, got {more!r}",
                                key=f"{r.where}.more-urls.{arg}",
                                hint="more-urls lists the ARGs/ENVs whose URL moves with the "
                                "version; remove the ones that do not")
    if versions is not None and versions.source == "directory" and not fixed:
        head = url[: url.find("{version}")] if "{version}" in url else url
        if PLACE_RE.search(head):
            # The listing names folders by what the removal leaves: not the version.
            raise r.fail("versions", "a source other than a directory listing: url holds "
                         "the version through a removal before it holds it whole", url)
    arch_in_arg = sha256_arg is not None and ("{ARCH}" in sha256_arg or "{arch}" in sha256_arg)
    if intent.url_arg is not None and intent.per_arch:
        raise r.fail("url-arg", "no url-arg: one ARG holds one URL, and url holds {arch}",
                     intent.url_arg)
    if intent.platforms and not intent.per_arch:
        raise r.fail("platforms", "no platforms: url holds no {arch}",
                     ", ".join(intent.platforms))
    if intent.per_arch:
        missing = [p for p in intent.platforms or platforms if p not in arch_map]
        if missing:
            raise LockfileError(
                path, f"no arch name for platform(s) {', '.join(missing)}",
                key=f"{r.where}.arch-map",
                hint='map each platform to the name the URL uses, e.g. "linux/amd64" = "x64"')
        if sha256_arg is not None and not arch_in_arg \
                and len(intent.platforms or platforms) > 1:
            raise r.fail("sha256-arg", "a name with {ARCH} (one ARG per platform's file), "
                         "since url holds {arch}", sha256_arg)
    elif arch_in_arg:
        raise r.fail("sha256-arg", "a name without {ARCH}: url holds no {arch}, so one file "
                     "serves every platform", sha256_arg)
    locked = r.table("locked")
    if fixed and "version" in locked.data:
        raise LockfileError(path, "a fixed download locks no version: remove it, or fixed = "
                            "true", key=locked.qualified("version"))
    files = load_files(locked.table("files"), LockedFile)
    return DownloadInput(name, intent, DownloadLocked(
        version="" if fixed else locked.text("version", required=True), files=tuple(files)))


def _only(t: TableReader, allowed: tuple[str, ...], what: str) -> None:
    for key in t.data:
        if key not in allowed:
            raise LockfileError(t.path, f"unknown key for {what}; it takes "
                                f"{', '.join(allowed)}", key=t.qualified(key))


def _source(t: TableReader, what: str,
            keys: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> str:
    """The table's ``from``, checked, with the keys that source requires and takes."""
    source = t.text("from", required=True)
    if source not in keys:
        raise t.fail("from", "one of " + ", ".join(keys), source)
    required, optional = keys[source]
    _only(t, ("from", *required, *optional), f'{what} from "{source}"')
    for key in required:
        t.text(key, required=True)
    return source


def _versions(r: TableReader) -> VersionsFrom | None:
    if "versions" not in r.data:
        return None
    t = r.table("versions")
    source = _source(t, "versions", _VERSION_KEYS)
    out = VersionsFrom(source, repository=t.opt_str("repository"), url=t.opt_str("url"),
                       template=t.text("template", "v{version}"))
    if out.template.count("{version}") != 1:
        raise t.fail("template", "a template containing {version} once", out.template)
    if source.startswith("github-") and out.repository is not None \
            and out.repository.count("/") != 1:
        raise t.fail("repository", "'owner/name'", out.repository)
    return out


def _checksums(r: TableReader, versions: VersionsFrom | None) -> ChecksumsFrom | None:
    if "checksums" not in r.data:
        return None
    t = r.table("checksums")
    source = _source(t, "checksums", _CHECKSUM_KEYS)
    url = t.opt_str("url")
    if source == "json-index" and url is None and (
            versions is None or versions.source != "json-index"):
        raise LockfileError(t.path, "missing required key (the JSON index to read sha256 "
                            "from, unless versions come from one)", key=t.qualified("url"))
    return ChecksumsFrom(source, url)


def _signature(r: TableReader, checksums: ChecksumsFrom | None) -> SignatureIntent | None:
    if "signature" not in r.data:
        return None
    t = r.table("signature")
    _only(t, ("url", "fingerprint", "key-url", "keyring"), "signature")
    if checksums is None or not checksums.has_file:
        raise LockfileError(t.path, "a signature covers a checksum file: set checksums.from "
                            'to "sums-file" or "sidecar"', key=r.qualified("signature"))
    fingerprint = t.text("fingerprint", required=True)
    if _FINGERPRINT.fullmatch(fingerprint.upper()) is None:
        raise t.fail("fingerprint", "the key's fingerprint: 40 hex digits, no spaces",
                     fingerprint)
    key_url, keyring = t.opt_str("key-url"), t.opt_str("keyring")
    if (key_url is None) == (keyring is None):
        raise LockfileError(t.path, "expected exactly one of key-url (fetched, then checked "
                            "against the fingerprint) and keyring (a file)",
                            key=r.qualified("signature"))
    return SignatureIntent(t.text("url", required=True), fingerprint.upper(), key_url, keyring)


def encode(inp: DownloadInput) -> tuple[dict[str, object], dict[str, object]]:
    d, dl = inp.intent, inp.locked
    versions = checksums = signature = None
    if d.versions is not None:
        v = d.versions
        # Only the keys its source takes: "directory" has no template, and load refuses one.
        takes = {"from", *(k for keys in _VERSION_KEYS[v.source] for k in keys)}
        versions = Replace(_present(tuple(
            (k, val) for k, val in (("from", v.source), ("repository", v.repository),
                                    ("url", v.url), ("template", v.template)) if k in takes)))
    if d.checksums is not None:
        checksums = Replace(_present((("from", d.checksums.source), ("url", d.checksums.url))))
    if d.signature is not None:
        s = d.signature
        signature = Replace(_present((("url", s.url), ("fingerprint", s.fingerprint),
                                      ("key-url", s.key_url), ("keyring", s.keyring))))
    intent: dict[str, object] = {
        "kind": inp.kind, "url": d.url, "fixed": d.fixed or None,
        "version-arg": d.version_arg,
        "sha256-arg": d.sha256_arg, "allow-prerelease": d.allow_prerelease or None,
        "group": d.group, "min-age": d.min_age, "url-arg": d.url_arg,
        "platforms": list(d.platforms) or None,
        "arch-map": Replace(sorted(d.arch_map.items())) or None,
        "more-urls": Replace(sorted(d.more_urls.items())) or None,
        "versions": versions, "checksums": checksums, "signature": signature,
    }
    files = encode_files(dl.files)
    return intent, {"version": None if d.fixed else dl.version, "files": files or None}


def _present(pairs: tuple[tuple[str, object], ...]) -> dict[str, object]:
    return {k: v for k, v in pairs if v is not None}


def values(inp: DownloadInput, at: str) -> Iterator[Value]:
    d, dl = inp.intent, inp.locked
    yield f"{at}.url", d.url, url_template
    if d.version_arg is not None:
        yield f"{at}.version-arg", d.version_arg, grammar.arg_name
    if d.sha256_arg is not None:
        yield f"{at}.sha256-arg", d.sha256_arg, template(grammar.arg_name, "X1")
    if d.url_arg is not None:
        yield f"{at}.url-arg", d.url_arg, grammar.arg_name
    for arg, more in sorted(d.more_urls.items()):
        yield f"{at}.more-urls", arg, grammar.arg_name
        yield f"{at}.more-urls.{arg}", more, url_template
    for plat in d.platforms:
        yield f"{at}.platforms", plat, grammar.platform
    for plat, arch in sorted(d.arch_map.items()):
        yield f"{at}.arch-map", plat, _arch_map_key
        yield f"{at}.arch-map.{plat}", arch, grammar.asset_name
    if d.versions is not None:
        v = d.versions
        if v.repository is not None:
            check = (grammar.github_repository if v.source.startswith("github-")
                     else gitlab_project)
            yield f"{at}.versions.repository", v.repository, check
        if v.url is not None:
            yield f"{at}.versions.url", v.url, fetched_url
        yield f"{at}.versions.template", v.template, template(grammar.release_tag)
    if d.checksums is not None and d.checksums.url is not None:
        yield f"{at}.checksums.url", d.checksums.url, fetched_template
    if d.signature is not None:
        s = d.signature
        yield f"{at}.signature.url", s.url, fetched_template
        yield f"{at}.signature.fingerprint", s.fingerprint, fingerprint
        if s.key_url is not None:
            yield f"{at}.signature.key-url", s.key_url, fetched_url
        if s.keyring is not None:
            yield f"{at}.signature.keyring", s.keyring, keyring_path
    lk = f"{at}.locked"
    if not d.fixed:
        yield f"{lk}.version", dl.version, grammar.release_version
    yield from file_values(f"{lk}.files", dl.files)


def _expanding(check: Check, what: str) -> Check:
    """A template's grammar, its ``{version<op><pattern>}`` expansions checked first: each
    pattern one pinlock evaluates exactly, then written ``{version}`` for ``check``."""
    plain = template(check)

    def run(value: str) -> None:
        try:
            rest = check_template(value)
        except PatternError as exc:
            raise GrammarError(what, value, f"{{version<op><pattern>}} with op one of "
                               f"{', '.join(OPS)} and a pattern pinlock evaluates exactly "
                               f"({exc})") from None
        plain(rest)
    return run


def fetched_url(value: str) -> None:
    """A URL only pinlock reads (an index, a checksum file), never written to the Dockerfile:
    ``grammar.url`` plus a query (``?mode=json&include=all``)."""
    path, sep, query = value.partition("?")
    grammar.url(path)
    if sep and _QUERY.fullmatch(query) is None:
        raise GrammarError("URL", value, "a query of letters, digits and '._~:/@=+,%&-'")


url_template = _expanding(grammar.url, "URL template")
fetched_template = _expanding(fetched_url, "URL template")


def fingerprint(value: str) -> None:
    """An OpenPGP v4 key fingerprint: 40 upper-case hex digits."""
    if _FINGERPRINT.fullmatch(value) is None:
        raise GrammarError("key fingerprint", value, "40 upper-case hex digits")


def gitlab_project(value: str) -> None:
    """A GitLab project: its numeric id or its path (``group/sub/project``), no ``..``."""
    if ".." in value or _GITLAB_PROJECT.fullmatch(value) is None:
        raise GrammarError("GitLab project", value,
                           "a numeric id or a path group/project of letters, digits and '_.-'")


def keyring_path(value: str) -> None:
    """A keyring file on this machine: a path of letters, digits and ``_./~+@-``."""
    if _KEYRING.fullmatch(value) is None:
        raise GrammarError("keyring path", value, "a file path of letters, digits and '_./~+@-'")


def _arch_map_key(value: str) -> None:
    # A platform ("linux/amd64") or a bare arch name ("amd64"): DownloadIntent.arch_for.
    if "/" in value:
        grammar.platform(value)
    else:
        grammar.debian_arch(value)
