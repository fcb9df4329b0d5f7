"""The image kind: ``FROM`` and ``COPY --from`` references, locked to index and platform digests."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pinlock.kinds.base import (
    BaseImage,
    Parts,
    Row,
    Scope,
    TypedKind,
    Upstream,
    Upstreams,
)
from pinlock.kinds.image import detect, pins, schema
from pinlock.kinds.image.model import UNTAGGED, ImageInput
from pinlock.model import Finding, Input, Lock, Severity

if TYPE_CHECKING:
    from pinlock.sources.interface import Candidate


class ImageKind(TypedKind[ImageInput]):
    name = "image"
    input_type = ImageInput
    intent_keys = schema.INTENT_KEYS
    parts = Parts(schema.load, schema.encode, schema.values, pins.pin_sites, detect.detect)


    def findings(self, inp: Input, scope: Scope, unpinned: Severity) -> list[Finding]:
        i = self.own(inp)
        if i.locked.index_digest and not i.locked.platforms:
            return [Finding(i.name, "warning", "not-resolved",
                            "platform digests are not recorded yet (run `pinlock lock "
                            f"{i.name}`)", scope.path, None)]
        return []

    def version(self, inp: Input) -> str:
        return self.own(inp).locked.tag or UNTAGGED

    def digest(self, inp: Input) -> str | None:
        return self.own(inp).locked.index_digest

    def base_image(self, inp: Input) -> BaseImage | None:
        i = self.own(inp)
        if i.intent.stage is None:
            return None
        return BaseImage(i.name, i.intent.stage, i.intent.image, i.locked.tag, i.locked.platforms)

    def offered(self, inp: Input, cand: Candidate) -> str:
        # An image's version is its whole tag (``0.11.7-python3.13-trixie``, not ``0.11.7``).
        return cand.ref or UNTAGGED

    def bump_version(self, inp: Input) -> str:
        from pinlock.sources.oci.tags import version_of

        i = self.own(inp)
        if not i.locked.tag:
            return UNTAGGED
        return version_of(i.locked.tag, i.intent.tag_pattern) or i.locked.tag

    def target_value(self, inp: Input) -> str:
        i = self.own(inp)
        return f"{i.locked.tag}@{i.locked.index_digest or ''}"

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        lk = self.own(inp).locked
        return (lk.index_digest is None
                or (not lk.single_platform and set(lk.platforms) != set(lock.platforms)))

    def moved_in_place(self, inp: Input, cand: Candidate) -> Input | None:
        # A re-pushed tag: the same tag, another index. Its locked digest is what moved, so
        # it cannot stay the reference resolve reads; every value is hashed again.
        i = self.own(inp)
        if (cand.digest is not None and i.locked.index_digest is not None
                and cand.ref == i.locked.tag and cand.digest != i.locked.index_digest):
            return replace(i, locked=replace(i.locked, index_digest=None))
        return None

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        o, n = self.own(old), self.own(new)
        rows: list[Row] = []
        if o.locked.index_digest != n.locked.index_digest:
            named = n.intent.image + (f":{n.locked.tag}" if n.locked.tag else "")
            rows.append((n.name, f"{named} index",
                         o.locked.index_digest, n.locked.index_digest,
                         "registry manifest, its bytes hashed"))
        for plat in sorted(set(o.locked.platforms) | set(n.locked.platforms)):
            a, b = o.locked.platforms.get(plat), n.locked.platforms.get(plat)
            if a != b:
                rows.append((n.name, f"{n.intent.image} {plat}", a, b, "entry of that index"))
        return rows

    def upstream(self, env: Upstreams) -> Upstream:
        from pinlock.sources.oci import make_image_source

        return self.bind(make_image_source(
            env.environ, registry_mirrors=list(env.options.registry_mirrors)))

    def stage_file(self, env: Upstreams, lock: Lock, stage: str, arch: str,
                   path: str) -> bytes | None:
        """``path`` in the locked image of ``stage`` for ``arch``, read from its registry."""
        from pinlock.sources.oci import ImageSource, read_image_file

        base = next((i for i in lock.inputs.values() if isinstance(i, ImageInput)
                     and i.intent.stage is not None
                     and i.intent.stage.lower() == stage.lower()), None)
        if base is None:
            return None
        digest = next((d for p, d in base.locked.platforms.items()
                       if p.split("/")[1:2] == [arch]), None)
        if digest is None:
            return None
        source = env.upstream(base).source
        assert isinstance(source, ImageSource)
        return read_image_file(source.client, base.intent.image, digest, path)


KIND = ImageKind()
