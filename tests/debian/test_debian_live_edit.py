"""`jq` added by hand to the seed's install line, locked through this machine's Debian mirror."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.apt_oracle import make_root, simulate_install, sources_entry
from support.apt_project import apt_table, live_seed_project
from support.cli import run_cli
from support.debian_mirror import require_mirrors

from pinlock.http import make_client
from pinlock.sources.debian.archive import Archive, Location
from pinlock.sources.debian.resolver import Universe, minbase
from pinlock.sources.debian.signature import DEFAULT_KEYRING

pytestmark = pytest.mark.live_debian

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("trixie", "trixie-updates", "trixie-security")


def test_jq_added_to_the_seed_is_pinned_and_its_closure_is_what_apt_installs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    project, debian = live_seed_project(tmp_path, monkeypatch)
    _, security = require_mirrors()
    df = project / "docker" / "Dockerfile"
    assert run_cli(capsys, "lock", "apt", "--debian-mirror", debian).code == 0
    before = apt_table(project)

    text = df.read_text()
    last = before["packages"][-1]
    word = next(w for w in text.split() if w == last or w.startswith(f"{last}="))
    df.write_text(text.replace(f" {word}", f" {word} jq", 1))
    r = run_cli(capsys, "verify", "--strict", "apt")
    assert r.code == 1 and "apt package jq is installed but not locked yet" in r.out, r.out
    r = run_cli(capsys, "lock", "apt", "--debian-mirror", debian)
    assert r.code == 0, r.err
    after = apt_table(project)
    assert after["packages"] == [*before["packages"], "jq"]
    assert run_cli(capsys, "verify", "--strict", "apt").code == 0
    jq = after["locked"]["arch"]["amd64"]["top"]["jq"]
    assert f" {word} jq={jq}" in df.read_text()
    old_locked, new_locked = before["locked"], after["locked"]
    if new_locked["suites"] == old_locked["suites"]:
        # the mirror did not move between the two runs: nothing else may
        assert new_locked["snapshot"] == old_locked["snapshot"]
        for arch in ("amd64", "arm64"):
            top = dict(new_locked["arch"][arch]["top"])
            assert top.pop("jq") and top == old_locked["arch"][arch]["top"]
    else:  # it did: the snapshot records the later reading, never the older time
        assert new_locked["snapshot"] > old_locked["snapshot"]

    # real apt, on the same minbase and the same mirror, installs exactly the new closure
    archive = Archive(make_client(timeout=60))
    indexes = []
    for suite in SUITES:
        loc = Location(security if suite.endswith("-security") else debian)
        indexes.append(archive.packages(loc, archive.release(loc, suite, None), "main",
                                        "amd64", None))
    base = minbase(Universe.build("amd64", indexes))
    sources = sources_entry(debian, ["trixie", "trixie-updates"], DEFAULT_KEYRING)
    sources += sources_entry(security, ["trixie-security"], DEFAULT_KEYRING)
    root = make_root(tmp_path / "apt", arch="amd64", sources=sources,
                     status="\n".join(rec.control() for rec in base))
    root.run("update")
    apt = simulate_install(root, after["packages"])
    assert {p["name"]: p["version"] for p in new_locked["arch"]["amd64"]["closure"]} == apt
