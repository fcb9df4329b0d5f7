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
