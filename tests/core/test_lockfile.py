"""image.lock.toml: round trips, hand edits and unknown keys survive, output is deterministic."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from pinlock import lockfile
from pinlock.errors import LockfileError
from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptPackage
from pinlock.kinds.image import KIND
from pinlock.kinds.image.model import ImageInput, ImageLocked

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = (ROOT / "image.lock.toml").read_text()


def test_committed_lock_round_trips_byte_identical() -> None:
    lock, doc = lockfile.load(COMMITTED, "image.lock.toml")
    assert lockfile.render(lock, doc) == COMMITTED
    # A fresh render of the same model is the same text: layout is deterministic.
    assert lockfile.render(lock) == COMMITTED


def test_fast_and_full_loaders_agree() -> None:
    lock, _ = lockfile.load(COMMITTED, "image.lock.toml")
    assert lockfile.load_fast(COMMITTED, "image.lock.toml") == lock


def test_comments_hand_edits_and_unknown_keys_survive_a_rewrite() -> None:
    text = COMMITTED.replace(
        '[inputs.debian]\n',
        '[inputs.debian]\n# keep debian on the 13 line\nx-owner = "platform-team"\n',
    ).replace('tag = "13.4"\n', 'tag = "13.4"\nx-note = "kept"\n')
    lock, doc = lockfile.load(text, "image.lock.toml")
    debian = lock.inputs["debian"]
    assert isinstance(debian, ImageInput)
    digest = "sha256:" + "ab" * 32
    new = ImageInput(debian.name, debian.intent, ImageLocked(
        tag="13.5", index_digest=digest,
        platforms={"linux/arm64": "sha256:" + "22" * 32, "linux/amd64": "sha256:" + "11" * 32}))
    out = lockfile.render(lock.replace_input(new), doc)
    assert "# keep debian on the 13 line" in out
    assert 'x-owner = "platform-team"' in out
    assert 'x-note = "kept"' in out
    assert 'tag = "13.5"' in out and f'index-digest = "{digest}"' in out
    # Platforms are written sorted whatever order the source gave.
    assert out.index('"linux/amd64"') < out.index('"linux/arm64"')
    again, doc2 = lockfile.load(out, "image.lock.toml")
    assert again.inputs["debian"] == new
    assert lockfile.render(again, doc2) == out
    # Everything outside the changed input is untouched.
    before_uv = COMMITTED[COMMITTED.index("[inputs.uv]"):]
    assert out.endswith(before_uv)


@pytest.mark.parametrize(("key", "near"), [
    ("tag_pattern", "tag-pattern"), ("allow-prereleases", "allow-prerelease"),
    ("allow_prerelease", "allow-prerelease"), ("imgae", "image"), ("owner", None)])
def test_an_unknown_intent_key_is_refused_with_a_did_you_mean(key: str, near: str | None) -> None:
    text = COMMITTED.replace('[inputs.debian]\n', f'[inputs.debian]\n{key} = "x"\n')
    with pytest.raises(LockfileError) as exc:
        lockfile.load(text, "image.lock.toml")
    message = exc.value.diagnostics()
    assert f"inputs.debian.{key}" in message and "unknown key for kind 'image'" in message
    if near:
        assert f"did you mean `{near}`?" in message
    else:
        assert "did you mean" not in message
    # Every key the message offers is one the reader accepts.
    for offered in re.findall(r"keys of a image input: ([^(]+)", message)[0].split(", "):
        assert offered.strip() in KIND.intent_keys


def test_newer_schema_is_refused_with_advice() -> None:
    with pytest.raises(LockfileError) as exc:
        lockfile.load(COMMITTED.replace("version = 1", "version = 7"), "x.toml")
    assert "upgrade pinlock" in exc.value.diagnostics()


def test_apt_removals_round_trip_and_are_absent_when_none() -> None:
    lock, doc = lockfile.load(COMMITTED, "image.lock.toml")
    apt = lock.inputs["apt"]
    assert isinstance(apt, AptInput)
    pkg = AptPackage("mta-b", "1.0-1", "amd64", "ab" * 32, 10, "pool/m/mta-b_1.0-1_amd64.deb",
                     "mta-b")
    archs = {"amd64": AptArchLocked({"mta-b": "1.0-1"}, (pkg,), ("mta-a=1.0-1",)),
             "arm64": AptArchLocked({"mta-b": "1.0-1"}, (pkg,))}
    new = replace(apt, locked=replace(apt.locked, snapshot="20250101T000000Z", archs=archs))
    out = lockfile.render(lock.replace_input(new), doc)
    assert out.count("removed = ") == 1 and 'removed = ["mta-a=1.0-1"]' in out
    again, _ = lockfile.load(out, "image.lock.toml")
    assert again.inputs["apt"] == new
    assert lockfile.load_fast(out, "image.lock.toml") == again
