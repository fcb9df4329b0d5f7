"""Benchmark: `pinlock verify` (offline) on this repo, beside `python -c pass` in the same run.

Goal (core issue): median <= 100 ms on the reference machine (2 cores), and <= 7x the bare
interpreter's start-up measured in the same run. Prints both and exits 1 when a goal is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 21
GOAL_MS = 100.0
GOAL_RATIO = 7.0


def median_ms(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    bare = median_ms([sys.executable, "-c", "pass"])
    verify = median_ms([sys.executable, "-m", "pinlock", "verify"])
    ratio = verify / bare
    print(f"python -c pass   median {bare:7.1f} ms  ({RUNS} runs)")
    print(f"pinlock verify   median {verify:7.1f} ms  ({RUNS} runs)")
    print(f"ratio            {ratio:7.2f}x  (goal <= {GOAL_RATIO}x)")
    print(f"absolute goal    {'met' if verify <= GOAL_MS else 'MISSED'} (<= {GOAL_MS:.0f} ms)")
    return 0 if verify <= GOAL_MS and ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
