"""parallel.read_ahead: items made on another thread, in order, bounded, stoppable."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from pinlock.parallel import read_ahead


def test_items_come_in_order_from_another_thread() -> None:
    made_on: set[str] = set()

    def produce() -> Iterator[int]:
        for i in range(50):
            made_on.add(threading.current_thread().name)
            yield i

    assert list(read_ahead(produce())) == list(range(50))
    assert made_on == {"pinlock-ahead"}


def test_a_failure_is_raised_at_its_place() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("broken stream")

    got: list[int] = []
    with pytest.raises(ValueError, match="broken stream"):
        for item in read_ahead(produce()):
            got.append(item)
    assert got == [1, 2]


def test_the_producer_stays_at_most_depth_items_ahead() -> None:
    made: list[int] = []
    gate = threading.Event()

    def produce() -> Iterator[int]:
        for i in itertools.count():
            made.append(i)
            if i == 10:
                gate.set()
            yield i

    items = read_ahead(produce(), depth=2)
    assert next(items) == 0
    assert not gate.wait(0.3)  # far fewer than 10 made while nobody reads
    # one taken, two waiting in the queue, one made and waiting for room
    assert len(made) <= 4, made
    items.close()


def test_stopping_early_stops_an_endless_producer() -> None:
    def produce() -> Iterator[int]:
        yield from itertools.count()

    for item in read_ahead(produce()):
        if item == 5:
            break
    # the consumer's generator is closed when the loop is left: the worker has ended
    assert not any(t.name == "pinlock-ahead" for t in threading.enumerate())


def test_a_consumer_failure_stops_the_producer() -> None:
    def produce() -> Iterator[int]:
        yield from itertools.count()

    with pytest.raises(RuntimeError):
        for item in read_ahead(produce(), depth=1):
            if item == 3:
                raise RuntimeError("scan refused the chunk")
    assert not any(t.name == "pinlock-ahead" for t in threading.enumerate())
