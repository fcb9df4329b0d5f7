"""The download input's lock tables: one bad input per failure mode, each message naming the key."""

from __future__ import annotations

import pytest

from pinlock import lockfile
from pinlock.errors import LockfileError

SHA = "a" * 64
GOOD = """\
version = 1
platforms = ["linux/amd64", "linux/arm64"]

[inputs.node]
kind = "download"
url = "https://nodejs.org/dist/v{version}/node-v{version}-linux-{arch}.tar.xz"
version-arg = "NODE_VERSION"
sha256-arg = "NODE_SHA256_{ARCH}"
arch-map = { "linux/amd64" = "x64", "linux/arm64" = "arm64" }
versions = { from = "json-index", url = "https://nodejs.org/dist/index.json" }
checksums = { from = "sums-file", url = "https://nodejs.org/dist/v{version}/SHASUMS256.txt" }

[inputs.node.signature]
url = "https://nodejs.org/dist/v{version}/SHASUMS256.txt.asc"
fingerprint = "4ED778F539E3634C779C87C6D7062848A1AB005C"
key-url = "https://example.org/key.asc"

[inputs.node.locked]
version = "20.11.1"

[inputs.node.locked.files."node-v20.11.1-linux-x64.tar.xz"]
sha256 = "@SHA@"
sha256-arg = "NODE_SHA256_X64"
platform = "linux/amd64"
url = "https://nodejs.org/dist/v20.11.1/node-v20.11.1-linux-x64.tar.xz"
verified-by = ["signature", "sums-file"]
""".replace("@SHA@", SHA)

CASES = [
    # (what is changed, replaced by, the key the message names, what it says)
    ('url = "https://nodejs.org/dist/v{version}/node-v{version}-linux-{arch}.tar.xz"',
     'url = "https://nodejs.org/dist/latest/node-linux-{arch}.tar.xz"', "inputs.node.url",
     "containing {version}"),
    ('from = "json-index", url', 'from = "rss", url', "inputs.node.versions.from",
     "one of github-tags"),
    ('versions = { from = "json-index", url = "https://nodejs.org/dist/index.json" }',
     'versions = { from = "json-index" }', "inputs.node.versions.url", "missing required key"),
    ('versions = { from = "json-index", url', 'versions = { from = "json-index", repo = "x", url',
     "inputs.node.versions.repo", "unknown key"),
    ('from = "sums-file", url = "https://nodejs.org/dist/v{version}/SHASUMS256.txt"',
     'from = "sums-file"', "inputs.node.checksums.url", "missing required key"),
    ('fingerprint = "4ED778F539E3634C779C87C6D7062848A1AB005C"', 'fingerprint = "4ED7 78F5"',
     "inputs.node.signature.fingerprint", "40 hex digits"),
    ('key-url = "https://example.org/key.asc"', "", "inputs.node.signature",
     "exactly one of key-url"),
    (', "linux/arm64" = "arm64" }', " }", "inputs.node.arch-map", "linux/arm64"),
    ('sha256-arg = "NODE_SHA256_{ARCH}"', 'sha256-arg = "NODE_SHA256"', "inputs.node.sha256-arg",
     "{ARCH}"),
    (f'sha256 = "{SHA}"', 'sha256 = "abc"', "inputs.node.locked.files", "sha256"),
    ('version = "20.11.1"', 'version = "20.11.1$(id)"', "inputs.node.locked.version",
     "release version"),
    ('version = "20.11.1"', "", "inputs.node.locked.version", "missing required key"),
    ('from = "sums-file", url = "https://nodejs.org/dist/v{version}/SHASUMS256.txt"',
     'from = "bytes"', "inputs.node.signature", "covers a checksum file"),
    ('url = "https://nodejs.org/dist/index.json"', 'url = "https://nodejs.org/dist/index.json;id"',
     "inputs.node.versions.url", "URL"),
]


def test_the_good_table_loads_and_renders_back_the_same() -> None:
    lock = lockfile.load_fast(GOOD, "image.lock.toml")
    assert lock.inputs["node"].kind == "download"
    assert lockfile.render(lock, None) == lockfile.render(
        lockfile.load_fast(lockfile.render(lock, None), "image.lock.toml"), None)


@pytest.mark.parametrize(("old", "new", "key", "says"), CASES,
                         ids=[f"{c[2]}:{c[3]}" for c in CASES])
def test_bad_input_names_the_key(old: str, new: str, key: str, says: str) -> None:
    assert old in GOOD
    with pytest.raises(LockfileError) as exc:
        lockfile.load_fast(GOOD.replace(old, new, 1), "image.lock.toml")
    text = exc.value.diagnostics()
    assert key in text and says in text, text
