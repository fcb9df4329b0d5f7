"""The download kind: a URL template with a version ARG and the sha256 ARG(s) that check it."""

from __future__ import annotations

from collections.abc import Mapping

from pinlock.kinds.base import Parts, Row, TypedKind, Upstream, Upstreams
from pinlock.kinds.download import detect, pins, schema
from pinlock.kinds.download.model import DownloadInput
from pinlock.kinds.files import file_rows, legend
from pinlock.model import Input, Lock

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
    parts = Parts(schema.load, schema.encode, schema.values, pins.pin_sites, detect.detect)

    def version(self, inp: Input) -> str:
        # A fixed download has no version: its URLs are what the lock names.
        return self.own(inp).locked.version or "fixed"

    def needs_lock(self, inp: Input, lock: Lock) -> bool:
        files = self.own(inp).locked.files
        return not files or any(f.sha256 is None for f in files)

    def pin_rows(self, old: Input, new: Input) -> list[Row]:
        return file_rows(new.name, self.own(old).locked.files, self.own(new).locked.files)

    def legend(self, inp: Input) -> Mapping[str, str]:
        return legend(self.own(inp).locked.files, VERIFIED)

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
