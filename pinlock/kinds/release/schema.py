"""The release input's lock tables: decode with validation, encode, and every value's grammar."""

from __future__ import annotations

from collections.abc import Iterator

from pinlock import grammar
from pinlock.errors import LockfileError
from pinlock.kinds.base import Value
from pinlock.kinds.files import encode_files, file_values, load_files
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.tables import Replace, TableReader, group, min_age
from pinlock.values import template

INTENT_KEYS = frozenset({"kind", "repository", "version-arg", "assets", "tag-template",
                         "download-url", "arch-map", "allow-prerelease", "group", "min-age",
                         "locked"})


def load(r: TableReader, name: str, platforms: tuple[str, ...]) -> ReleaseInput:
    path = r.path
    locked = r.table("locked")
    repo = r.text("repository", required=True)
    if repo.count("/") != 1:
        raise r.fail("repository", "'owner/name'", repo)
    assets_raw = r.data.get("assets")
    if not isinstance(assets_raw, list) or not assets_raw:
        raise r.fail("assets", "a non-empty list of {name, sha256-arg} tables", assets_raw)
    assets = []
    for i, item in enumerate(assets_raw):
        if not isinstance(item, dict):
            raise r.fail(f"assets[{i}]", "a table {name, sha256-arg}", item)
        a = TableReader(path, item, f"{r.where}.assets[{i}]")
        assets.append(AssetIntent(a.text("name", required=True), a.opt_str("sha256-arg")))
    arch_map = r.str_map("arch-map")
    intent_r = ReleaseIntent(
        repository=repo,
        version_arg=r.opt_str("version-arg"),
        assets=tuple(assets),
        tag_template=r.text("tag-template", "v{version}"),
        arch_map=arch_map,
        download_url=r.text("download-url", ReleaseIntent.download_url),
        allow_prerelease=r.flag("allow-prerelease", False),
        group=group(r),
        min_age=min_age(r),
    )
    if "{version}" not in intent_r.tag_template:
        raise r.fail("tag-template", "a template containing {version}",
                     intent_r.tag_template)
    if any(a.per_arch for a in assets):
        missing = [p for p in platforms if p not in arch_map]
        if missing:
            raise LockfileError(
                path, f"no arch name for platform(s) {', '.join(missing)}",
                key=f"{r.where}.arch-map",
                hint='map each platform to the name the assets use, e.g. '
                '"linux/amd64" = "x86_64"')
    locked_assets = load_files(locked.table("assets"), LockedAsset)
    return ReleaseInput(name, intent_r, ReleaseLocked(
        version=locked.text("version", required=True),
        tag=locked.text("tag", required=True),
        assets=tuple(locked_assets),
    ))


def encode(inp: ReleaseInput) -> tuple[dict[str, object], dict[str, object]]:
    r, rl = inp.intent, inp.locked
    intent: dict[str, object] = {
        "kind": inp.kind, "repository": r.repository, "version-arg": r.version_arg,
        "tag-template": r.tag_template, "download-url": r.download_url,
        "allow-prerelease": r.allow_prerelease or None, "group": r.group, "min-age": r.min_age,
        "arch-map": Replace(sorted(r.arch_map.items())) or None,
        "assets": [{k: v for k, v in (("name", a.name), ("sha256-arg", a.sha256_arg))
                    if v is not None} for a in r.assets],
    }
    assets = encode_files(rl.assets)
    locked: dict[str, object] = {"version": rl.version, "tag": rl.tag, "assets": assets or None}
    return intent, locked


def values(inp: ReleaseInput, at: str) -> Iterator[Value]:
    lk = f"{at}.locked"
    r, rl = inp.intent, inp.locked
    yield f"{at}.repository", r.repository, grammar.github_repository
    if r.version_arg is not None:
        yield f"{at}.version-arg", r.version_arg, grammar.arg_name
    yield f"{at}.tag-template", r.tag_template, template(grammar.release_tag)
    yield f"{at}.download-url", r.download_url, template(grammar.url)
    for n, asset in enumerate(r.assets):
        yield f"{at}.assets[{n}].name", asset.name, template(grammar.asset_name)
        if asset.sha256_arg is not None:
            yield (f"{at}.assets[{n}].sha256-arg", asset.sha256_arg,
                   template(grammar.arg_name, "X1"))
    for plat, arch in sorted(r.arch_map.items()):
        yield f"{at}.arch-map", plat, _arch_map_key
        yield f"{at}.arch-map.{plat}", arch, grammar.asset_name
    if rl.version:
        yield f"{lk}.version", rl.version, grammar.release_version
    if rl.tag:
        yield f"{lk}.tag", rl.tag, grammar.release_tag
    yield from file_values(f"{lk}.assets", rl.assets)


def _arch_map_key(value: str) -> None:
    # A platform ("linux/amd64") or a bare arch name ("amd64"): ReleaseIntent.arch_for.
    if "/" in value:
        grammar.platform(value)
    else:
        grammar.debian_arch(value)
