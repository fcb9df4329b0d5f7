"""Benchmark: `pinlock lock` of the seed's apt input, amd64 + arm64, trixie + -updates + -security.

Goals (apt performance issue): parse + resolve both architectures in <= 3 s cold (empty index
cache) and <= 0.5 s warm (parsed indexes cached by their verified sha256), peak RSS <= 200 MB.
The floor it names is decompressing the same Packages indexes the lock reads (gzip when the
archive lists it, else xz: archive.COMPRESSIONS), measured in the same run.

Reads the Debian mirror from this machine's apt sources at run time and exits 0 with a message
when there is none. Every measurement runs in a fresh process; its peak RSS is that process's
ru_maxrss (os.wait4). Cold runs download the indexes, so their transfer time is printed apart:
"cold, indexes on disk" is the same run with the compressed indexes already cached, the parse
cost the goal is about. Prints the figures and exits 1 when a goal is missed.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.debian_mirror: the apt sources reader

SEED = (
    "curl", "nodejs", "npm", "python3", "ripgrep", "ffmpeg", "gcc", "python3-dev", "libffi-dev",
    "procps", "git", "openssh-client", "docker-cli", "xz-utils",
)
SUITES = ("trixie", "trixie-updates", "trixie-security")
ARCHS = ("amd64", "arm64")
RUNS_COLD = 2
RUNS = 5
GOAL_COLD_S = 3.0
GOAL_WARM_S = 0.5
GOAL_RSS_MB = 200.0


def machine_mirrors() -> tuple[str, str] | None:
    """The Debian and Debian security URIs of this machine's apt sources."""
    from support.debian_mirror import machine_mirrors as found

    return found()


# ------------------------------------------------------------------ children


def child_lock(cache_dir: str) -> dict[str, Any]:
    """What `pinlock lock` does for the apt input: read, verify, parse, resolve, per arch."""
    start = time.perf_counter()
    from pinlock.http import MAX_DOCUMENT, make_client
    from pinlock.kinds.apt.model import AptInput, AptIntent, AptLocked
    from pinlock.model import Lock
    from pinlock.sources.debian import AptSource, AptSourceConfig
    from pinlock.sources.interface import Context

    imported = time.perf_counter()
    mirrors = machine_mirrors()
    assert mirrors is not None
    cfg = AptSourceConfig(mirror=mirrors[0], security_mirror=mirrors[1], cache_dir=cache_dir)
    src = AptSource(make_client(timeout=120), cfg)
    transfer = 0.0
    fetch = src.archive.get

    def timed_get(url: str, *, missing_ok: bool = False,
                  limit: int = MAX_DOCUMENT) -> bytes | None:
        nonlocal transfer
        t = time.perf_counter()
        try:
            return fetch(url, missing_ok=missing_ok, limit=limit)
        finally:
            transfer += time.perf_counter() - t

    src.archive.get = timed_get  # type: ignore[method-assign]
    inp = AptInput("apt", AptIntent(packages=SEED, stage="0", suites=SUITES), AptLocked())
    platforms = tuple(f"linux/{a}" for a in ARCHS)
    t = time.perf_counter()
    locked = src.resolve(inp, Context(Lock(platforms=platforms)))
    end = time.perf_counter()
    return {
        "import": imported - start, "lock": end - t, "transfer": transfer,
        "closure": {a: len(al.closure) for a, al in locked.locked.archs.items()},
    }


def child_floor(cache_dir: str) -> dict[str, Any]:
    """Decompress the compressed indexes the lock reads, per architecture (bytes cached)."""
    from pinlock.http import make_client
    from pinlock.sources.debian.archive import Archive, Location

    mirrors = machine_mirrors()
    assert mirrors is not None
    archive = Archive(make_client(timeout=120), cache_dir=cache_dir)
    blobs: dict[str, list[tuple[str, bytes]]] = {a: [] for a in ARCHS}
    for suite in SUITES:
        loc = Location(mirrors[1] if suite.endswith("-security") else mirrors[0])
        signed = archive.release(loc, suite, None)
        for arch in ARCHS:
            entry = archive.index_entry(signed, "main", arch)
            blobs[arch].append((entry.path, archive.compressed(loc, signed, entry, None)))
    out: dict[str, Any] = {}
    for arch, datas in blobs.items():
        t = time.perf_counter()
        size = sum(len(lzma.decompress(d) if path.endswith(".xz") else
                       zlib.decompress(d, 47) if path.endswith(".gz") else d)
                   for path, d in datas)
        out[arch] = time.perf_counter() - t
        out[f"{arch}_mb"] = size / 1e6
    return out


# ------------------------------------------------------------------ parent


def run_child(mode: str, cache_dir: str) -> tuple[dict[str, Any], float, float]:
    """(the child's report, its wall time in s, its peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, cache_dir], stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"child {mode} failed with exit code {proc.returncode}")
    return json.loads(out), wall, usage.ru_maxrss / 1024


def keep_compressed(src: str, dst: str) -> None:
    """A cache holding only the verified compressed indexes, as a first run leaves them."""
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith((".xz", ".gz")) and not name.startswith("."):
            shutil.copy(os.path.join(src, name), dst)


def report(label: str, runs: list[tuple[dict[str, Any], float, float]]) -> tuple[float, float]:
    lock = statistics.median(r[0]["lock"] for r in runs)
    transfer = statistics.median(r[0]["transfer"] for r in runs)
    wall = statistics.median(r[1] for r in runs)
    rss = max(r[2] for r in runs)
    closure = runs[0][0]["closure"]
    print(f"{label:<26} lock {lock:6.2f} s  (of which HTTP {transfer:5.2f} s)  "
          f"process {wall:6.2f} s  peak RSS {rss:6.0f} MB  ({len(runs)} run(s))")
    print(f"{'':<26} closure " + ", ".join(f"{a} {n}" for a, n in sorted(closure.items())))
    return lock - transfer, rss


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        mode, cache_dir = sys.argv[2], sys.argv[3]
        print(json.dumps(child_floor(cache_dir) if mode == "floor" else child_lock(cache_dir)))
        return 0
    if machine_mirrors() is None:
        print("apt lock benchmark: skipped (this machine's apt sources name no Debian archive)")
        return 0
    with tempfile.TemporaryDirectory(prefix="pinlock-bench-") as tmp:
        cold = []
        for i in range(RUNS_COLD):
            cold.append(run_child("lock", os.path.join(tmp, f"cold{i}")))
        keep_compressed(os.path.join(tmp, "cold0"), os.path.join(tmp, "xz-only"))
        on_disk = []
        for i in range(RUNS):
            cache = os.path.join(tmp, f"disk{i}")
            shutil.copytree(os.path.join(tmp, "xz-only"), cache)
            on_disk.append(run_child("lock", cache))
        warm = [run_child("lock", os.path.join(tmp, "cold0")) for _ in range(RUNS)]
        floor, _, _ = run_child("floor", os.path.join(tmp, "xz-only"))
    _, cold_rss = report("cold, empty cache", cold)
    disk_cpu, disk_rss = report("cold, indexes on disk", on_disk)
    warm_cpu, warm_rss = report("warm", warm)
    both = sum(floor[a] for a in ARCHS)
    per_arch = ", ".join(f"{a} {floor[a]:.2f} s ({floor[a + '_mb']:.0f} MB)" for a in ARCHS)
    print(f"{'decompression floor':<26} {per_arch}, both {both:.2f} s")
    rss = max(cold_rss, disk_rss, warm_rss)
    # (name, measured, goal, unit): times are the lock's, HTTP excluded
    goals = [
        ("cold parse + resolve", disk_cpu, GOAL_COLD_S, "s"),
        ("warm", warm_cpu, GOAL_WARM_S, "s"),
        ("peak RSS", rss, GOAL_RSS_MB, "MB"),
    ]
    for name, value, goal, unit in goals:
        print(f"goal {name:<22} {'met' if value <= goal else 'MISSED'}: "
              f"{value:.2f} {unit} (<= {goal:g} {unit})")
    print(f"cold parse + resolve is {disk_cpu / both:.1f}x the decompression floor")
    return 0 if all(value <= goal for _, value, goal, _ in goals) else 1

if __name__ == "__main__":
    sys.exit(main())
