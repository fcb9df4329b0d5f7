"""The GitHub release kind: a version ARG and the sha256 ARGs of the assets it downloads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pinlock.kinds.base import Detection, Row, Scope, TypedKind, Upstream, Upstreams, Value
from pinlock.kinds.release import detect, pins, schema
from pinlock.kinds.release.model import ReleaseInput
from pinlock.model import Input, Lock

if TYPE_CHECKING:
    from pinlock.pins import PinSite
    from pinlock.tables import TableReader

# What each `verified-by` word of the lock means, for the legend under the pins table.
VERIFIED = {
    "sidecar": "the release's `.sha256` file",
    "api-digest": "the GitHub API's asset `digest`",
    "bytes": "the downloaded file, hashed",
}


class ReleaseKind(TypedKind[ReleaseInput]):
    name = "github-release"
    input_type = ReleaseInput
    intent_keys = schema.INTENT_KEYS

    def load(self, r: TableReader, name: str, platforms: tuple[str, ...]) -> Input:
        return schema.load(r, name, platforms)

    def encode(self, inp: Input) -> tuple[dict[str, object], dict[str, object]]:
        return schema.encode(self.own(inp))

    def values(self, inp: Input, at: str) -> Iterator[Value]:
        return schema.values(self.own(inp), at)

    def detect(self, found: Detection) -> None:
        detect.detect(found)

    def pin_sites(self, inp: Input, scope: Scope) -> list[PinSite]:
        return pins.pin_sites(self.own(inp), scope)

    def version(self, inp: Input) -> str:
        return self.own(inp).locked.version

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        assets = self.own(inp).locked.assets
        return not assets or any(a.sha256 is None for a in assets)

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        o, n = self.own(old), self.own(new)
        rows: list[Row] = []
        before = {(a.sha256_arg, a.platform): a for a in o.locked.assets}
        after = {(a.sha256_arg, a.platform) for a in n.locked.assets}
        for asset in n.locked.assets:
            prior = before.get((asset.sha256_arg, asset.platform))
            if prior is not None and prior.sha256 == asset.sha256:
                continue
            where = f"{asset.name}, {asset.platform}" if asset.platform else asset.name
            rows.append((n.name, f"{asset.sha256_arg or 'sha256'} ({where})",
                         prior.sha256 if prior else None, asset.sha256,
                         ", ".join(sorted(asset.verified_by)) or "unverified"))
        for key, prior in before.items():
            if key not in after:
                rows.append((n.name, f"{prior.sha256_arg or 'sha256'} ({prior.name})",
                             prior.sha256, None,
                             "no longer needed"))
        return rows

    def legend(self, inp: Input) -> Mapping[str, str]:
        return {w: VERIFIED[w] for a in self.own(inp).locked.assets for w in a.verified_by
                if w in VERIFIED}

    def notes_url(self, inp: Input) -> str | None:
        i = self.own(inp)
        if i.intent.download_url.startswith("https://github.com/"):
            return f"https://github.com/{i.intent.repository}/releases/tag/{i.locked.tag}"
        return None

    def upstream(self, env: Upstreams) -> Upstream:
        from pinlock.sources.github.source import ReleaseSource

        return self.bind(ReleaseSource.from_env(env.http, deep=env.options.deep,
                                                allow_prerelease=env.options.prerelease))


KIND = ReleaseKind()
