"""``pinlock init`` for images: one input per distinct reference (repository, tag, digest)."""

from __future__ import annotations

from pinlock.dockerfile.sites import ImageSite, Sites
from pinlock.imageref import parse_image_ref
from pinlock.kinds.base import Detection
from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked


def detect(found: Detection) -> None:
    sites, inputs = found.sites, found.inputs
    seen: set[tuple[str, str | None, str | None]] = set()
    for s in sites.images:
        ref = parse_image_ref(s.ref)
        # `golang:1.22` and `golang:1.23` are two inputs: each is locked and updated on its
        # own, and each of their sites holds its own pin.
        key = (ref.canonical, ref.tag, ref.digest)
        if key in seen:
            continue
        seen.add(key)
        name = found.unique_name(ref.path.rsplit("/", 1)[-1])
        # No tag written (`alpine`, `alpine@sha256:…`): kept so, never locked as `latest`.
        inputs[name] = ImageInput(
            name, ImageIntent(image=ref.repository, stage=_stage_ref(sites, s),
                              untagged=ref.tag is None),
            ImageLocked(tag=ref.tag or "", index_digest=ref.digest))


def _stage_ref(sites: Sites, s: ImageSite) -> str | None:
    if s.context != "FROM":
        return None
    st = sites.stages[s.stage]
    return st.name or str(st.index)
