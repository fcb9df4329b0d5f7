"""Benchmark: offline `pinlock verify` with 500, 1,000 and 2,000 image inputs, and the ratio.

Each size is a generated Dockerfile of N stages, each FROM its own pinned image, and the lock
`pinlock init` writes for it. Goal (hostile-input issue): verify grows linearly in the number
of inputs, 2,000 inputs taking at most 4.5x the time of 500. Prints the median time per size
and exits 1 when the goal is missed.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (500, 1000, 2000)
RUNS = 5
GOAL_RATIO = 4.5


def pinlock(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pinlock", *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)


def project(folder: Path, n: int) -> None:
    lines = []
    for i in range(n):
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        lines.append(f"FROM registry.example/img{i}:1.0@sha256:{digest} AS s{i}\nRUN true\n")
    (folder / "Dockerfile").write_text("".join(lines))
    done = pinlock(["init", "--dockerfile", "Dockerfile"], folder)
    if done.returncode != 0:
        raise SystemExit(f"pinlock init failed for {n} inputs: {done.stderr.decode()}")


def median_seconds(folder: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = pinlock(["verify"], folder)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"pinlock verify failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> int:
    bare = statistics.median(
        [_timed([sys.executable, "-c", "import pinlock.cli"]) for _ in range(RUNS)])
    seconds: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            project(folder, n)
            seconds[n] = median_seconds(folder)
            print(f"{n:5d} inputs  median {seconds[n] * 1000:8.1f} ms  ({RUNS} runs)")
    ratio = seconds[SIZES[-1]] / seconds[SIZES[0]]
    # The interpreter's start-up is in every run; the ratio without it shows the growth alone.
    net = (seconds[SIZES[-1]] - bare) / max(seconds[SIZES[0]] - bare, 1e-6)
    print(f"start-up (import pinlock.cli) {bare * 1000:.1f} ms")
    print(f"ratio {SIZES[-1]}/{SIZES[0]}  {ratio:5.2f}x  (goal <= {GOAL_RATIO}x; "
          f"{net:.2f}x without start-up)")
    return 0 if ratio <= GOAL_RATIO else 1


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=False)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
