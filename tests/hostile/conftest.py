"""The hostile suite: at the end, the worst peak RSS and wall time per case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.proc import RUNS, Proc


@pytest.fixture(scope="session", autouse=True)
def _report_worst() -> Iterator[None]:
    yield
    if not RUNS:
        return
    worst: dict[str, Proc] = {}
    for name, proc in RUNS:
        best = worst.get(name)
        if best is None or proc.rss_mb > best.rss_mb or proc.seconds > best.seconds:
            worst[name] = proc
    lines = [f"{p.rss_mb:7.1f} MB {p.seconds:7.2f} s  exit {p.code}  {name}"
             for name, p in sorted(worst.items())]
    print("\nhostile cases: peak RSS, wall time, exit code\n" + "\n".join(lines))
