"""``pinlock init`` for images: one input per repository a FROM (or ARG default) names."""

from __future__ import annotations

from pinlock.dockerfile.sites import ImageSite, Sites
from pinlock.imageref import parse_image_ref
from pinlock.kinds.base import Detection
from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked


def detect(found: Detection) -> None:
    sites, inputs, notes = found.sites, found.inputs, found.notes
    seen: dict[str, str] = {}
    for s in sites.images:
        ref = parse_image_ref(s.ref)
        if ref.canonical in seen:
            continue
        name = found.unique_name(ref.path.rsplit("/", 1)[-1])
        seen[ref.canonical] = name
        stage = _stage_ref(sites, s)
        tag = ref.tag
        if tag is None:
            tag = "latest"
            notes.append(f"{name}: {s.ref} has no tag; locked as 'latest' — set a tag in the "
                         "Dockerfile so updates can follow a version")
        inputs[name] = ImageInput(
            name, ImageIntent(image=ref.repository, stage=stage),
            ImageLocked(tag=tag, index_digest=ref.digest))


def _stage_ref(sites: Sites, s: ImageSite) -> str | None:
    if s.context != "FROM":
        return None
    st = sites.stages[s.stage]
    return st.name or str(st.index)
