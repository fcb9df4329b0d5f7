"""The image input's lock tables: decode with validation, encode, and every value's grammar."""

from __future__ import annotations

from collections.abc import Iterator

from pinlock import grammar
from pinlock.kinds.base import Value
from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked
from pinlock.tables import Replace, TableReader, group, min_age
from pinlock.values import stage, template

INTENT_KEYS = frozenset({"kind", "image", "tag-pattern", "stage", "allow-prerelease", "group",
                         "min-age", "untagged", "locked"})


def load(r: TableReader, name: str, platforms: tuple[str, ...]) -> ImageInput:
    locked = r.table("locked")
    untagged = r.flag("untagged", False)
    if untagged and "tag" in locked.data:
        raise locked.fail("tag", "no tag (the input is `untagged`)", locked.data["tag"])
    intent = ImageIntent(
        image=r.text("image", required=True),
        tag_pattern=r.opt_str("tag-pattern"),
        stage=r.opt_str("stage"),
        allow_prerelease=r.flag("allow-prerelease", False),
        group=group(r),
        min_age=min_age(r),
        untagged=untagged,
    )
    plats = locked.table("platforms")
    platform_digests = {p: str(plats.digest(p)) for p in plats.data}
    return ImageInput(name, intent, ImageLocked(
        tag="" if untagged else locked.text("tag", required=True),
        index_digest=locked.digest("index-digest"),
        media_type=locked.opt_str("media-type"),
        platforms=platform_digests,
        single_platform=locked.flag("single-platform", False),
    ))


def encode(inp: ImageInput) -> tuple[dict[str, object], dict[str, object]]:
    i, lk = inp.intent, inp.locked
    intent: dict[str, object] = {
        "kind": inp.kind, "image": i.image, "untagged": i.untagged or None, "stage": i.stage,
        "tag-pattern": i.tag_pattern, "allow-prerelease": i.allow_prerelease or None,
        "group": i.group, "min-age": i.min_age,
    }
    locked: dict[str, object] = {
        "tag": lk.tag or None, "index-digest": lk.index_digest, "media-type": lk.media_type,
        "single-platform": lk.single_platform or None,
        "platforms": Replace(sorted(lk.platforms.items())) or None,
    }
    return intent, locked


def values(inp: ImageInput, at: str) -> Iterator[Value]:
    lk = f"{at}.locked"
    i, il = inp.intent, inp.locked
    yield f"{at}.image", i.image, grammar.oci_repository
    if i.stage is not None:
        yield f"{at}.stage", i.stage, stage
    if i.tag_pattern is not None:
        yield f"{at}.tag-pattern", i.tag_pattern, template(grammar.oci_tag)
    if not i.untagged:
        yield f"{lk}.tag", il.tag, grammar.oci_tag
    if il.index_digest is not None:
        yield f"{lk}.index-digest", il.index_digest, grammar.digest
    if il.media_type is not None:
        yield f"{lk}.media-type", il.media_type, grammar.media_type
    for plat, d in sorted(il.platforms.items()):
        yield f"{lk}.platforms", plat, grammar.platform
        yield f"{lk}.platforms.{plat}", d, grammar.digest
