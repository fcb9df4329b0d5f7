"""Independent upstream work on a few threads: requests in flight together, results in order.

Each call runs in a copy of the caller's context, so the command's deadline and the request
deadline (``pinlock.deadlines``, context variables) hold on every thread. Downloads and
decompression (zlib, lzma, hashlib) release the GIL, so two indexes read on two threads
overlap their transfer, their decompression and each other's scanning.
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")

# Enough to keep a link and two cores busy; each index in flight holds its decompressed
# text while it is scanned, so more would raise the peak memory for little gain.
WORKERS = 3


_heap_shared = False


def _one_heap() -> None:
    """Have glibc's malloc serve every thread from one arena (mallopt M_ARENA_MAX=1), once,
    before the first worker thread starts.

    Index chunks are made on one thread and freed on another: with an arena per thread, the
    memory freed in one is not reused by the other, and a cold apt lock peaked about 20 MB
    higher for it. A no-op where the C library has no mallopt (not glibc).
    """
    global _heap_shared
    if _heap_shared:
        return
    _heap_shared = True
    import ctypes

    # no C library to open by None (Windows), or no mallopt in it (macOS, musl): nothing to do
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)


_M_ARENA_MAX = -8  # glibc's malloc.h


def run_all(calls: Sequence[Callable[[], T]], *, workers: int = WORKERS) -> list[T]:
    """The results of ``calls``, in their order. Every call runs to its end; the first
    failure in call order is then raised (the others are dropped), as a loop would."""
    if len(calls) <= 1 or workers <= 1:
        return [call() for call in calls]
    _one_heap()
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
    _one_heap()
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


_DONE = object()


def read_ahead(produce: Iterator[T], *, depth: int = 1) -> Generator[T, None, None]:
    """The items of ``produce``, made on another thread up to ``depth`` items ahead of the
    caller: decompressing and hashing the next chunk of an index (zlib and hashlib release
    the GIL) overlaps scanning this one. Memory stays bounded by ``depth`` items.

    An exception in ``produce`` is raised here, at its place in the sequence; stopping early
    (the caller breaks, or raises) stops the producer at its next item.
    """
    _one_heap()
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` once there is room; False when the consumer has stopped."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(_Failed(exc))

    worker = threading.Thread(target=contextvars.copy_context().run, args=(run,),
                              name="pinlock-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield cast(T, item)
    finally:
        stop.set()  # a producer waiting for room sees it within 0.1 s
        worker.join()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
