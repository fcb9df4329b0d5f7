"""`pinlock pr` against a release whose tag holds shell syntax: no branch, no commit, no PR."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.cli import run_cli, snapshot
from support.fake_github import S6_REPOSITORY, s6_tarballs
from support.git_world import World


@pytest.mark.parametrize("suffix", ["$(touch MARKER)", "`touch MARKER`", "\nx", '"]\n[x]'])
def test_hostile_release_tag_opens_no_pull_request(
        world: World, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    marker = Path("/tmp") / f"pinlock-injected-{uuid.uuid4().hex}"
    tag = "v3.2.5.0" + suffix.replace("MARKER", str(marker))
    world.fake.add_release(S6_REPOSITORY, tag, s6_tarballs("3.2.5.0"))
    heads = world.remote_heads()
    files = snapshot(world.work)
    run = run_cli(capsys, "pr")
    assert run.code == 1, run.out + run.err
    assert "GitHub releases of just-containers/s6-overlay" in run.out + run.err
    assert repr(tag)[:30] in run.out + run.err
    assert world.remote_heads() == heads  # no branch pushed
    assert world.fake.writes() == []  # no pull request, no comment
    assert snapshot(world.work) == files
    assert world.local_leftovers() == ("", "")
    assert not marker.exists()
