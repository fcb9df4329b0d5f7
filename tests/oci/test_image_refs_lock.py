"""`init` + `lock` (+ `update`) through a real registry for the reference forms whose
resolution changed: untagged and digest-only references, one repository at several tags, and
references built from variables (the digest goes after them, the variables stay)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.oci_registry import Layout, Registry, build_image, push_built, running_registry

pytestmark = pytest.mark.registry
DIGEST = r"sha256:[0-9a-f]{64}"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[Registry, Layout]]:
    with running_registry(tmp_path) as reg:
        yield reg, Layout(tmp_path / "layout")


def _push(reg: Registry, layout: Layout, repo: str, tag: str, seed: str) -> str:
    image = build_image(layout, seed, seed=seed)
    push_built(reg.url, repo, image, tag)
    return image.index_digest


def _project(tmp_path: Path, reg: Registry, text: str, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text(text)
    monkeypatch.chdir(work)
    monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={reg.url}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
    run = run_cli(capsys, "lock")
    assert run.code == 0, run.out + run.err
    v = run_cli(capsys, "verify")
    assert v.code == 0, v.out + v.err
    return work


def _images(work: Path) -> dict[str, dict[str, object]]:
    lock = tomllib.loads((work / "image.lock.toml").read_text())
    return {n: i for n, i in lock["inputs"].items() if i["kind"] == "image"}


def test_untagged_is_pinned_by_digest_and_updated_by_digest(
        tmp_path: Path, registry: tuple[Registry, Layout], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    reg, layout = registry
    first = _push(reg, layout, "library/alpine", "latest", "one")
    work = _project(tmp_path, reg, "FROM alpine\nRUN true\n", monkeypatch, capsys)
    assert (work / "Dockerfile").read_text() == f"FROM alpine@{first}\nRUN true\n"
    [alpine] = _images(work).values()
    assert alpine["untagged"] is True and "tag" not in alpine["locked"]  # type: ignore[operator]
    second = _push(reg, layout, "library/alpine", "latest", "two")
    run = run_cli(capsys, "update", "alpine")
    assert run.code == 0, run.out + run.err
    assert (work / "Dockerfile").read_text() == f"FROM alpine@{second}\nRUN true\n"
    assert run_cli(capsys, "verify").code == 0


def test_digest_only_is_adopted_as_written(
        tmp_path: Path, registry: tuple[Registry, Layout], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    reg, layout = registry
    old = _push(reg, layout, "library/alpine", "3.19", "old")
    _push(reg, layout, "library/alpine", "latest", "new")
    text = f"FROM alpine@{old}\n"
    work = _project(tmp_path, reg, text, monkeypatch, capsys)
    assert (work / "Dockerfile").read_text() == text  # the locked digest, not latest's
    [alpine] = _images(work).values()
    locked = alpine["locked"]
    assert isinstance(locked, dict) and locked["index-digest"] == old and locked["platforms"]


def test_one_repository_at_two_tags_is_two_inputs(
        tmp_path: Path, registry: tuple[Registry, Layout], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    reg, layout = registry
    d22 = _push(reg, layout, "library/golang", "1.22", "g22")
    d23 = _push(reg, layout, "library/golang", "1.23", "g23")
    work = _project(tmp_path, reg, "FROM golang:1.22 AS a\nFROM golang:1.23 AS b\n"
                    "COPY --from=golang:1.22 /x /y\n", monkeypatch, capsys)
    assert (work / "Dockerfile").read_text() == (
        f"FROM golang:1.22@{d22} AS a\nFROM golang:1.23@{d23} AS b\n"
        f"COPY --from=golang:1.22@{d22} /x /y\n")
    assert sorted(i["locked"]["tag"] for i in _images(work).values()) == [  # type: ignore[index]
        "1.22", "1.23"]


@pytest.mark.parametrize(("text", "pinned"), [
    # several variables: the digest goes after them, the ARGs stay as they are
    ("ARG GO=1.22\nARG ALPINE=3.20\nFROM golang:${GO}-alpine${ALPINE}\n",
     "ARG GO=1.22\nARG ALPINE=3.20\nFROM golang:${GO}-alpine${ALPINE}@{d}\n"),
    # a nested default
    ("ARG GO=1.22-alpine3.20\nARG BASE=golang:${GO}\nARG X\nFROM ${X:-${BASE}}\n",
     "ARG GO=1.22-alpine3.20\nARG BASE=golang:${GO}\nARG X\nFROM ${X:-${BASE}}@{d}\n"),
    # a quoted ARG value holds the pin, inside its quotes
    ('ARG TAG="1.22-alpine3.20"\nFROM golang:${TAG}\n',
     'ARG TAG="1.22-alpine3.20@{d}"\nFROM golang:${TAG}\n'),
], ids=["multi-variable", "nested-default", "quoted-arg"])
def test_references_built_from_variables_are_locked(
        text: str, pinned: str, tmp_path: Path, registry: tuple[Registry, Layout],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    reg, layout = registry
    d = _push(reg, layout, "library/golang", "1.22-alpine3.20", "ga")
    work = _project(tmp_path, reg, text, monkeypatch, capsys)
    assert (work / "Dockerfile").read_text() == pinned.replace("{d}", d)
    [golang] = _images(work).values()
    assert golang["locked"]["tag"] == "1.22-alpine3.20"  # type: ignore[index]
    assert re.fullmatch(DIGEST, golang["locked"]["index-digest"])  # type: ignore[index]


def test_update_moves_one_tag_of_a_repository_and_its_sites_only(
        tmp_path: Path, registry: tuple[Registry, Layout], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    reg, layout = registry
    _push(reg, layout, "library/golang", "1.22", "g22")
    d23 = _push(reg, layout, "library/golang", "1.23", "g23")
    work = _project(tmp_path, reg, "FROM golang:1.22 AS a\nCOPY --from=golang:1.23 /x /y\n"
                    "FROM golang:1.23 AS b\nCOPY --from=golang:1.22 /x /y\n",
                    monkeypatch, capsys)
    d24 = _push(reg, layout, "library/golang", "1.24", "g24")
    run = run_cli(capsys, "update", "golang")  # the 1.22 input
    assert run.code == 0, run.out + run.err
    assert (work / "Dockerfile").read_text() == (
        f"FROM golang:1.24@{d24} AS a\nCOPY --from=golang:1.23@{d23} /x /y\n"
        f"FROM golang:1.23@{d23} AS b\nCOPY --from=golang:1.24@{d24} /x /y\n")
    assert run_cli(capsys, "verify").code == 0
