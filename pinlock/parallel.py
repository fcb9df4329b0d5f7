"""Independent upstream work on a few threads: requests in flight together, results in order.

Each call runs in a copy of the caller's context, so the command's deadline and the request
deadline (``pinlock.deadlines``, context variables) hold on every thread. Downloads and
decompression (zlib, lzma, hashlib) release the GIL, so two indexes read on two threads
overlap their transfer, their decompression and each other's scanning.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Enough to keep a link and two cores busy; each index in flight holds its decompressed
# text while it is scanned, so more would raise the peak memory for little gain.
WORKERS = 3


def run_all(calls: Sequence[Callable[[], T]], *, workers: int = WORKERS) -> list[T]:
    """The results of ``calls``, in their order. Every call runs to its end; the first
    failure in call order is then raised (the others are dropped), as a loop would."""
    if len(calls) <= 1 or workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls)),
                            thread_name_prefix="pinlock") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        return [f.result() for f in futures]


def pipeline(fetches: Sequence[Callable[[], object]], then: Sequence[Callable[[], T]], *,
             workers: int = WORKERS) -> list[T]:
    """``then[i]()`` in order on this thread, each once ``fetches[i]()`` has run on a worker:
    downloads go ahead while what they fetched is processed one at a time (decompressing
    and scanning two large indexes at once would hold both in memory).

    The first failure, in order, is raised once the fetches still running have ended.
    """
    if len(fetches) <= 1 or workers <= 1:
        return [step() for step in then]
    with ThreadPoolExecutor(max_workers=min(workers, len(fetches)),
                            thread_name_prefix="pinlock") as pool:
        futures = [pool.submit(contextvars.copy_context().run, fetch) for fetch in fetches]
        out: list[T] = []
        for future, step in zip(futures, then, strict=True):
            failed = future.exception()
            if failed is not None:
                raise failed
            out.append(step())
        return out
