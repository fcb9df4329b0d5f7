"""`update` asks the upstreams of independent inputs together, not one after another."""

from __future__ import annotations

import re
import threading

import pytest
from support.cli import run_cli
from support.fake_github import S6_REPOSITORY, Answer
from support.git_world import TOOL_REPOSITORY, MakeWorld


def test_two_releases_are_asked_at_the_same_time(
    make_world: MakeWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(tool=True)
    # Each release listing is answered only once the other one has been asked too: planned
    # one after another, the first would wait in vain and fail the run.
    listing = re.compile(rf"/repos/({re.escape(S6_REPOSITORY)}|{re.escape(TOOL_REPOSITORY)})"
                         r"/releases")
    met = threading.Barrier(2, timeout=10)
    seen: set[str] = set()
    dispatch = world.fake._dispatch

    def together(server: str, method: str, target: str, headers: dict[str, str],
                 body: bytes) -> Answer:
        m = listing.match(target)
        if m is not None and m.group(1) not in seen:
            seen.add(m.group(1))
            try:
                met.wait()
            except threading.BrokenBarrierError:
                return Answer.message(404, "asked alone")
        return dispatch(server, method, target, headers, body)

    monkeypatch.setattr(world.fake, "_dispatch", together)
    run = run_cli(capsys, "update")
    assert run.code == 0, run.out + run.err
    assert seen == {S6_REPOSITORY, TOOL_REPOSITORY}
    lock = (world.work / "image.lock.toml").read_text()
    assert "3.2.4.0" in lock and "1.1.0" in lock
