"""Every value of a Lock paired with its grammar: the one list that load, write and verify check."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from pinlock import grammar
from pinlock.errors import UpstreamDataError
from pinlock.grammar import GrammarError
from pinlock.model import AptInput, ImageInput, Input, Lock, ReleaseInput

Check = Callable[[str], None]
Value = tuple[str, str, Check]  # key in the lock file, value, its grammar

_PLACEHOLDER = re.compile(r"\{(?:arch|ARCH|version|repository|tag|name)\}")
_WORD = re.compile(r"[a-z][a-z0-9-]{0,31}", re.ASCII)
_STAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)


def _word(value: str) -> None:
    if _WORD.fullmatch(value) is None:
        raise GrammarError("word", value, "lowercase letters, digits and '-'")


def _stage(value: str) -> None:
    if _STAGE.fullmatch(value) is None:
        raise GrammarError("stage", value, "a stage name or index")


def _template(check: Check, sample: str = "x1") -> Check:
    """A template's grammar: its placeholders filled with a harmless sample, then ``check``.
    What is filled in later is checked on its own, when it is filled."""
    def run(value: str) -> None:
        try:
            check(_PLACEHOLDER.sub(sample, value))
        except GrammarError as exc:
            raise GrammarError(f"{exc.what} template", value, exc.expected) from None
    return run


def _apt_request(value: str) -> None:
    """An install-line entry: ``name[:arch][=version]``."""
    name, _, version = value.partition("=")
    name, _, arch = name.partition(":")
    grammar.debian_package(name)
    if arch:
        grammar.debian_arch(arch)
    if version or "=" in value:
        grammar.debian_version(version)


def _removed(value: str) -> None:
    name, sep, version = value.partition("=")
    if not sep:
        raise GrammarError("removed package", value, "name=version")
    grammar.debian_package(name)
    grammar.debian_version(version)


def lock_values(lock: Lock) -> Iterator[Value]:
    """(key, value, grammar) for every value of ``lock`` that reaches a file or a shell."""
    for i, p in enumerate(lock.platforms):
        yield f"platforms[{i}]", p, grammar.platform
    for name in sorted(lock.inputs):
        yield from input_values(lock.inputs[name])


def input_values(inp: Input) -> Iterator[Value]:
    at = f"inputs.{inp.name}"
    lk = f"{at}.locked"
    if inp.intent.group is not None:
        yield f"{at}.group", inp.intent.group, grammar.git_branch
    if isinstance(inp, ImageInput):
        i, il = inp.intent, inp.locked
        yield f"{at}.image", i.image, grammar.oci_repository
        if i.stage is not None:
            yield f"{at}.stage", i.stage, _stage
        if i.tag_pattern is not None:
            yield f"{at}.tag-pattern", i.tag_pattern, _template(grammar.oci_tag)
        yield f"{lk}.tag", il.tag, grammar.oci_tag
        if il.index_digest is not None:
            yield f"{lk}.index-digest", il.index_digest, grammar.digest
        if il.media_type is not None:
            yield f"{lk}.media-type", il.media_type, grammar.media_type
        for plat, d in sorted(il.platforms.items()):
            yield f"{lk}.platforms", plat, grammar.platform
            yield f"{lk}.platforms.{plat}", d, grammar.digest
    elif isinstance(inp, ReleaseInput):
        r, rl = inp.intent, inp.locked
        yield f"{at}.repository", r.repository, grammar.github_repository
        yield f"{at}.version-arg", r.version_arg, grammar.arg_name
        yield f"{at}.tag-template", r.tag_template, _template(grammar.release_tag)
        yield f"{at}.download-url", r.download_url, _template(grammar.url)
        for n, asset in enumerate(r.assets):
            yield f"{at}.assets[{n}].name", asset.name, _template(grammar.asset_name)
            yield f"{at}.assets[{n}].sha256-arg", asset.sha256_arg, _template(grammar.arg_name,
                                                                          "X1")
        for plat, arch in sorted(r.arch_map.items()):
            yield f"{at}.arch-map", plat, _arch_map_key
            yield f"{at}.arch-map.{plat}", arch, grammar.asset_name
        if rl.version:
            yield f"{lk}.version", rl.version, grammar.release_version
        if rl.tag:
            yield f"{lk}.tag", rl.tag, grammar.release_tag
        for a in rl.assets:
            ak = f"{lk}.assets.{a.name}"
            yield f"{lk}.assets", a.name, grammar.asset_name
            yield f"{ak}.sha256-arg", a.sha256_arg, grammar.arg_name
            if a.platform is not None:
                yield f"{ak}.platform", a.platform, grammar.platform
            yield f"{ak}.url", a.url, grammar.url
            if a.sha256 is not None:
                yield f"{ak}.sha256", a.sha256, grammar.sha256_hex
            for v in a.verified_by:
                yield f"{ak}.verified-by", v, _word
    else:
        assert isinstance(inp, AptInput)
        ai, al = inp.intent, inp.locked
        for pkg in ai.packages:
            yield f"{at}.packages", pkg, _apt_request
        yield f"{at}.stage", ai.stage, _stage
        for s in ai.suites:
            yield f"{at}.suites", s, grammar.debian_suite
        for c in ai.components:
            yield f"{at}.components", c, grammar.debian_suite
        yield f"{at}.snapshot-arg", ai.snapshot_arg, grammar.arg_name
        if al.snapshot is not None:
            yield f"{lk}.snapshot", al.snapshot, grammar.snapshot
        for key, word in (("archive", al.archive), ("base", al.base)):
            if word is not None:
                yield f"{lk}.{key}", word, _word
        for s, st in sorted(al.suites.items()):
            yield f"{lk}.suites", s, grammar.debian_suite
            yield f"{lk}.suites.{s}.date", st.date, grammar.release_date
            yield f"{lk}.suites.{s}.inrelease-sha256", st.sha256, grammar.sha256_hex
        for arch, aa in sorted(al.archs.items()):
            ak = f"{lk}.arch.{arch}"
            yield f"{lk}.arch", arch, grammar.debian_arch
            for pkg, version in sorted(aa.top.items()):
                yield f"{ak}.top", pkg, grammar.debian_package
                yield f"{ak}.top.{pkg}", version, grammar.debian_version
            for n, deb in enumerate(aa.closure):
                ck = f"{ak}.closure[{n}]"
                yield f"{ck}.name", deb.name, grammar.debian_package
                yield f"{ck}.version", deb.version, grammar.debian_version
                yield f"{ck}.architecture", deb.architecture, grammar.debian_arch
                yield f"{ck}.sha256", deb.sha256, grammar.sha256_hex
                yield f"{ck}.filename", deb.filename, grammar.pool_filename
                yield f"{ck}.source", deb.source, grammar.debian_package
            for rm in aa.removed:
                yield f"{ak}.removed", rm, _removed


def _arch_map_key(value: str) -> None:
    # A platform ("linux/amd64") or a bare arch name ("amd64"): ReleaseIntent.arch_for.
    if "/" in value:
        grammar.platform(value)
    else:
        grammar.debian_arch(value)


def first_bad(values: Iterator[Value]) -> tuple[str, GrammarError] | None:
    """The first value outside its grammar, with its key; None when all hold."""
    for key, value, check in values:
        try:
            check(value)
        except GrammarError as exc:
            return key, exc
    return None


def require(source: str, values: Iterable[Value], *, what: str | None = None) -> None:
    """Raise UpstreamDataError naming ``source`` (and ``what``, e.g. the package) for the
    first value outside its grammar: bad upstream data, refused before it is written."""
    bad = first_bad(iter(values))
    if bad is not None:
        key, exc = bad
        raise UpstreamDataError(source, f"{what} {key}: {exc}" if what else f"{key}: {exc}")
