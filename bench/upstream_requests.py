"""Benchmark: HTTP requests and time to lock the seed's images and to bump s6-overlay.

References (images and release-artifact issues): per image at most one token, one HEAD and
one GET of the index when the tag is known, plus one HEAD per platform manifest (each one
locked must be served), tokens reused across images of one registry; a
bump of s6-overlay makes one release lookup plus one small request per sidecar, and downloads
no tarball without --deep. Runs against the tests' loopback servers (a real docker-registry,
the GitHub stand-in); prints the counts and exits 1 when a goal is missed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_github import FakeGitHub, add_s6_overlay  # noqa: E402
from support.oci_registry import (  # noqa: E402
    Layout,
    build_image,
    push_built,
    start_registry,
)

from pinlock import lockfile  # noqa: E402
from pinlock.http import make_client  # noqa: E402
from pinlock.kinds.image.model import ImageInput  # noqa: E402
from pinlock.kinds.release.model import ReleaseInput  # noqa: E402
from pinlock.sources.github.source import ReleaseSource  # noqa: E402
from pinlock.sources.interface import Context  # noqa: E402
from pinlock.sources.oci import make_image_source  # noqa: E402


def images(work: Path) -> bool:
    lock, _ = lockfile.load((ROOT / "image.lock.toml").read_text(), "image.lock.toml")
    layout = Layout(work / "layout")
    reg = start_registry(work / "reg", storage=work / "storage")
    try:
        for repo, tag in [("library/debian", "13.4"), ("astral-sh/uv", "0.11.7-python3.13-trixie")]:
            push_built(reg.url, repo, build_image(layout, repo.replace("/", "-"), seed=tag), tag)
        source = make_image_source({}, registry_mirrors=[f"docker.io={reg.url}",
                                                         f"ghcr.io={reg.url}"])
        ctx = Context(lock)
        debian, uv = lock.inputs["debian"], lock.inputs["uv"]
        assert isinstance(debian, ImageInput) and isinstance(uv, ImageInput)
        start = time.perf_counter()
        n_platforms = len(source.resolve(debian, ctx).locked.platforms)
        n_debian = len(source.client.requests)
        source.resolve(uv, ctx, version="0.11.7")
        elapsed = time.perf_counter() - start
        n_uv = len(source.client.requests) - n_debian
        print(f"images: debian {n_debian} request(s), uv {n_uv} request(s), "
              f"{elapsed * 1000:.0f} ms for both")
        for r in source.client.requests:
            print(f"    {r}")
        return n_debian <= 3 + n_platforms and n_uv <= 3 + n_platforms
    finally:
        reg.stop()


def release() -> bool:
    lock, _ = lockfile.load((ROOT / "image.lock.toml").read_text(), "image.lock.toml")
    s6 = lock.inputs["s6-overlay"]
    assert isinstance(s6, ReleaseInput)
    with FakeGitHub() as fake, make_client() as http:
        add_s6_overlay(fake)
        source = ReleaseSource.from_env(http, environ={"GITHUB_API_URL": fake.api_url})
        fake.clear_requests()
        start = time.perf_counter()
        source.resolve(s6, Context(lock), version="3.2.4.0")
        elapsed = time.perf_counter() - start
        api = [r for r in fake.requests if r.server == "api"]
        tarballs = [r for r in fake.requests if r.path.endswith(".tar.xz")]
        print(f"bump s6-overlay: {len(fake.requests)} exchange(s) "
              f"({len(api)} to the API, {len(fake.requests) - len(api)} to the download host), "
              f"{len(tarballs)} tarball download(s), {elapsed * 1000:.0f} ms")
        lookups = [r for r in api if "/releases/tags/" in r.path]
        return len(lookups) == 1 and not tarballs and len(fake.requests) <= 1 + 2 * 4


def main() -> int:
    ok = True
    if shutil.which("docker-registry"):
        with tempfile.TemporaryDirectory() as tmp:
            ok = images(Path(tmp)) and ok
    else:
        print("images: skipped (docker-registry not installed)")
    ok = release() and ok
    print("goals met" if ok else "goal MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
