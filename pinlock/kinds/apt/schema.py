"""The apt input's lock tables: decode with validation, encode, and every value's grammar."""

from __future__ import annotations

from collections.abc import Iterator

from pinlock import grammar
from pinlock.grammar import GrammarError
from pinlock.kinds.apt.model import (
    AptArchLocked,
    AptInput,
    AptIntent,
    AptLocked,
    AptPackage,
    SuiteState,
)
from pinlock.kinds.base import Value
from pinlock.tables import Replace, TableReader, group, min_age
from pinlock.values import stage, word

INTENT_KEYS = frozenset({"kind", "packages", "stage", "suites", "components",
                         "install-recommends", "snapshot-arg", "group", "min-age", "layout",
                         "locked"})


def _layout(r: TableReader) -> str | None:
    """The optional ``layout`` of the pins in the Dockerfile (default: where the words are)."""
    from pinlock.kinds.apt.layout import LAYOUTS

    layout = r.opt_str("layout")
    if layout is not None and layout not in LAYOUTS:
        raise r.fail("layout", " or ".join(f'"{x}"' for x in sorted(LAYOUTS)), layout)
    return layout


def load(r: TableReader, name: str, platforms: tuple[str, ...]) -> AptInput:
    path = r.path
    locked = r.table("locked")
    intent_a = AptIntent(
        packages=r.str_list("packages"),
        stage=r.text("stage", required=True),
        suites=r.str_list("suites", ()),
        components=r.str_list("components", ("main",)),
        install_recommends=r.flag("install-recommends", False),
        snapshot_arg=r.text("snapshot-arg", "DEBIAN_SNAPSHOT"),
        group=group(r),
        min_age=min_age(r),
        layout=_layout(r),
    )
    if len(set(intent_a.packages)) != len(intent_a.packages):
        raise r.fail("packages", "each package once", list(intent_a.packages))
    suites = {}
    st = locked.table("suites")
    for suite in st.data:
        s = st.table(suite)
        suites[suite] = SuiteState(s.text("date", required=True),
                                   str(s.sha256("inrelease-sha256", required=True)))
    archs = {}
    at = locked.table("arch")
    for arch in at.data:
        a = at.table(arch)
        top = a.str_map("top")
        closure = []
        raw = a.data.get("closure", [])
        if not isinstance(raw, list):
            raise a.fail("closure", "a list of package tables", raw)
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise a.fail(f"closure[{i}]", "a package table", item)
            p = TableReader(path, item, f"{a.where}.closure[{i}]")
            closure.append(AptPackage(
                name=p.text("name", required=True), version=p.text("version", required=True),
                architecture=p.text("architecture", required=True),
                sha256=str(p.sha256("sha256", required=True)),
                size=p.opt_int("size") or 0, filename=p.text("filename", required=True),
                source=p.text("source", required=True)))
        archs[arch] = AptArchLocked(top, tuple(closure), a.str_list("removed", ()))
    return AptInput(name, intent_a, AptLocked(
        snapshot=locked.opt_str("snapshot"), archive=locked.opt_str("archive"),
        base=locked.opt_str("base"), suites=suites, archs=archs))


def encode(inp: AptInput) -> tuple[dict[str, object], dict[str, object]]:
    ai, al = inp.intent, inp.locked
    intent: dict[str, object] = {
        "kind": inp.kind, "stage": ai.stage, "packages": list(ai.packages),
        "suites": list(ai.suites), "components": list(ai.components),
        "install-recommends": ai.install_recommends,
        "snapshot-arg": ai.snapshot_arg, "group": ai.group,
        "min-age": ai.min_age, "layout": ai.layout,
    }
    suites = Replace({s: {"date": st.date, "inrelease-sha256": st.sha256}
                      for s, st in sorted(al.suites.items())})
    archs = Replace()
    for arch, aa in sorted(al.archs.items()):
        archs[arch] = {
            "top": Replace(sorted(aa.top.items())),
            "closure": [
                {"name": p.name, "version": p.version, "architecture": p.architecture,
                 "sha256": p.sha256, "size": p.size, "filename": p.filename,
                 "source": p.source}
                for p in sorted(aa.closure, key=lambda p: (p.name, p.architecture, p.version))
            ],
            "removed": sorted(aa.removed) or None,
        }
    locked: dict[str, object] = {"snapshot": al.snapshot, "archive": al.archive,
                                 "base": al.base, "suites": suites or None,
                                 "arch": archs or None}
    return intent, locked


def values(inp: AptInput, at: str) -> Iterator[Value]:
    lk = f"{at}.locked"
    ai, al = inp.intent, inp.locked
    for pkg in ai.packages:
        yield f"{at}.packages", pkg, _apt_request
    yield f"{at}.stage", ai.stage, stage
    for s in ai.suites:
        yield f"{at}.suites", s, grammar.debian_suite
    for c in ai.components:
        yield f"{at}.components", c, grammar.debian_suite
    yield f"{at}.snapshot-arg", ai.snapshot_arg, grammar.arg_name
    if al.snapshot is not None:
        yield f"{lk}.snapshot", al.snapshot, grammar.snapshot
    for key, value in (("archive", al.archive), ("base", al.base)):
        if value is not None:
            yield f"{lk}.{key}", value, word
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
