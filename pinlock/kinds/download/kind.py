"""The download kind: a URL template with a version ARG and the sha256 ARG(s) that check it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pinlock.kinds.base import Detection, Row, Scope, TypedKind, Upstream, Upstreams, Value
from pinlock.kinds.download import detect, pins, schema
from pinlock.kinds.download.model import DownloadInput
from pinlock.model import Input, Lock

if TYPE_CHECKING:
    from pinlock.pins import PinSite
    from pinlock.tables import TableReader

# What each `verified-by` word of the lock means, for the legend under the pins table.
VERIFIED = {
    "sidecar": "the file's `.sha256` sidecar",
    "sums-file": "the upstream's checksum file (`SHA256SUMS`, `SHASUMS256.txt`)",
    "json-index": "the upstream's JSON index",
    "bytes": "the downloaded file, hashed",
    "signature": "the checksum file's OpenPGP signature, by the key the lock pins",
}


class DownloadKind(TypedKind[DownloadInput]):
    name = "download"
    input_type = DownloadInput
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
        files = self.own(inp).locked.files
        return not files or any(f.sha256 is None for f in files)

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        o, n = self.own(old), self.own(new)
        rows: list[Row] = []
        before = {(f.sha256_arg, f.platform): f for f in o.locked.files}
        after = {(f.sha256_arg, f.platform) for f in n.locked.files}
        for f in n.locked.files:
            prior = before.get((f.sha256_arg, f.platform))
            if prior is not None and prior.sha256 == f.sha256:
                continue
            where = f"{f.name}, {f.platform}" if f.platform else f.name
            rows.append((n.name, f"{f.sha256_arg} ({where})", prior.sha256 if prior else None,
                         f.sha256, ", ".join(sorted(f.verified_by)) or "unverified"))
        for key, prior in before.items():
            if key not in after:
                rows.append((n.name, f"{prior.sha256_arg} ({prior.name})", prior.sha256, None,
                             "no longer needed"))
        return rows

    def legend(self, inp: Input) -> Mapping[str, str]:
        return {w: VERIFIED[w] for f in self.own(inp).locked.files for w in f.verified_by
                if w in VERIFIED}

    def notes_url(self, inp: Input) -> str | None:
        i = self.own(inp)
        v = i.intent.versions
        if v is not None and v.source == "github-releases" and v.repository is not None:
            from pinlock.sources.github.versions import tag_for

            return (f"https://github.com/{v.repository}/releases/tag/"
                    f"{tag_for(v.template, i.locked.version)}")
        return None

    def upstream(self, env: Upstreams) -> Upstream:
        from pinlock.sources.download.source import DownloadSource

        return self.bind(DownloadSource.from_env(env.http, environ=env.environ,
                                                 deep=env.options.deep,
                                                 allow_prerelease=env.options.prerelease))


KIND = DownloadKind()
