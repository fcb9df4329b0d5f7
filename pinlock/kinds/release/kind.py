"""The GitHub release kind: a version ARG and the sha256 ARGs of the assets it downloads."""

from __future__ import annotations

from collections.abc import Mapping

from pinlock.kinds.base import Parts, Row, TypedKind, Upstream, Upstreams
from pinlock.kinds.files import file_rows, legend
from pinlock.kinds.release import detect, pins, schema
from pinlock.kinds.release.model import ReleaseInput
from pinlock.model import Input, Lock

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
    parts = Parts(schema.load, schema.encode, schema.values, pins.pin_sites, detect.detect)

    def version(self, inp: Input) -> str:
        return self.own(inp).locked.version

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        assets = self.own(inp).locked.assets
        return not assets or any(a.sha256 is None for a in assets)

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        return file_rows(new.name, self.own(old).locked.assets, self.own(new).locked.assets)

    def legend(self, inp: Input) -> Mapping[str, str]:
        return legend(self.own(inp).locked.assets, VERIFIED)

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
