"""A kind added by one folder and one line works through every command, like the built-in ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli

from fakekind import kind as toy
from pinlock import lockfile
from pinlock.changes import Change
from pinlock.errors import LockfileError
from pinlock.pr import body

OLD = "1" * 64
NEW = "2" * 64
DOCKERFILE = f"""\
FROM scratch
ARG TOY_VERSION=1.0.0
ARG TOY_SHA256={OLD}
ADD https://example.org/toy.tar.gz /toy.tgz
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    toy.CATALOGUE.clear()
    toy.CATALOGUE.update({"1.0.0": OLD, "1.1.0": NEW})
    yield tmp_path
    toy.CATALOGUE.clear()


def test_init_adopts_the_toy_pins_and_verify_agrees(project: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "init").code == 0
    text = (project / "image.lock.toml").read_text()
    assert 'kind = "toy"' in text
    assert f'sha256 = "{OLD}"' in text
    r = run_cli(capsys, "verify", "--json")
    assert r.code == 0, r
    # The Dockerfile edited by hand: verify names the ARG and what the lock wants.
    (project / "docker" / "Dockerfile").write_text(DOCKERFILE.replace(OLD, NEW))
    r = run_cli(capsys, "verify", "--json")
    assert r.code == 1, r
    found = json.loads(r.out)["findings"]
    assert [(f["input"], f["code"], f["expected"]) for f in found] == [
        ("toy", "mismatch", OLD)]


def test_update_moves_both_args_and_outdated_and_the_pr_body_say_so(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "init").code == 0
    r = run_cli(capsys, "outdated", "--json")
    rows = json.loads(r.out)["inputs"]
    assert [(x["input"], x["kind"], x["locked"], x["newest"]) for x in rows] == [
        ("toy", "toy", "1.0.0", "1.1.0")]
    before = lockfile.load_fast((project / "image.lock.toml").read_text(), "image.lock.toml")
    r = run_cli(capsys, "update", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["changes"][0]["to"] == "1.1.0"
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG TOY_VERSION=1.1.0" in df and f"ARG TOY_SHA256={NEW}" in df
    assert run_cli(capsys, "verify").code == 0
    after = lockfile.load_fast((project / "image.lock.toml").read_text(), "image.lock.toml")
    text = body.render([Change("toy", before.inputs["toy"], after.inputs["toy"])],
                       command="pinlock bump toy 1.1.0")
    assert f"| toy | TOY_SHA256 | `{OLD}` | `{NEW}` | catalogue |" in text


def test_a_misspelt_toy_key_is_refused_with_the_kinds_own_keys(project: Path) -> None:
    text = ('version = 1\n[inputs.toy]\nkind = "toy"\nversion_arg = "X"\n'
            '[inputs.toy.locked]\nversion = "1.0.0"\n')
    with pytest.raises(LockfileError) as exc:
        lockfile.load_fast(text, "image.lock.toml")
    assert "did you mean `version-arg`?" in exc.value.diagnostics()
    assert "keys of a toy input: group, kind, min-age, sha256-arg, version-arg" in (
        exc.value.diagnostics())


def test_an_unregistered_kind_is_bad_input_naming_the_kinds() -> None:
    text = 'version = 1\n[inputs.x]\nkind = "nope"\n'
    with pytest.raises(LockfileError) as exc:
        lockfile.load_fast(text, "image.lock.toml")
    assert "kind is one of: image, github-release, apt, download, toy" in exc.value.diagnostics()
