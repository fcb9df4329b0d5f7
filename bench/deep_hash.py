"""Benchmark: `--deep` hashing of a release asset, against `sha256sum` on the same bytes.

Reference (release-artifacts issue): `--deep` hashing at >= 90% of `sha256sum` throughput on
the same file. pinlock's path is the real one (GitHub API asset URL, redirect to the download
host, sha256 chunk by chunk, never whole in memory), from the tests' loopback GitHub stand-in
serving a 256 MB asset; `sha256sum` reads the same bytes from disk. Prints both rates and
exits 1 when the goal is missed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_github import FakeGitHub  # noqa: E402

from pinlock.http import make_client  # noqa: E402
from pinlock.sources.github.api import GitHubClient, GitHubConfig  # noqa: E402

SIZE = 256 << 20
RUNS = 3
REPO = "acme/big"


def main() -> int:
    data = os.urandom(1 << 20) * (SIZE >> 20)
    want = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub() as fake:
        path = Path(tmp) / "asset.bin"
        path.write_bytes(data)
        fake.add_release(REPO, "v1", {"asset.bin": data})
        client = GitHubClient(make_client(timeout=120), GitHubConfig(api_url=fake.api_url))
        asset = client.release_by_tag(REPO, "v1").asset("asset.bin")
        assert asset is not None
        mine = []
        for _ in range(RUNS):
            t = time.perf_counter()
            got, size = client.download_sha256(asset)
            mine.append(time.perf_counter() - t)
            assert (got, size) == (want, SIZE)
        tool = []
        if shutil.which("sha256sum"):
            for _ in range(RUNS):
                t = time.perf_counter()
                out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                                     check=True).stdout
                tool.append(time.perf_counter() - t)
                assert out.split()[0] == want
    mb = SIZE / 1e6
    rate = mb / min(mine)
    print(f"pinlock --deep download+hash   {rate:7.0f} MB/s  (best of {RUNS}, {mb:.0f} MB)")
    if not tool:
        print("sha256sum not found: no reference")
        return 0
    ref = mb / min(tool)
    print(f"sha256sum (file on disk)       {ref:7.0f} MB/s  (best of {RUNS})")
    ok = rate >= 0.9 * ref
    print(f"goal >= 90% of sha256sum: {'met' if ok else 'MISSED'} ({rate / ref:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
