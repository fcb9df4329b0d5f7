"""`min-age` on an image, through the CLI against a real registry: the index's
`org.opencontainers.image.created` annotation, else the config's `created`, else too new."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_cli
from support.clock import freeze_clock
from support.oci_registry import (
    Layout,
    Registry,
    build_image,
    fault_proxy,
    push_built,
    running_registry,
)

pytestmark = pytest.mark.registry
MADE = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CREATED = "org.opencontainers.image.created"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with running_registry(tmp_path) as reg:
        yield reg


def _project(tmp_path: Path, reg: Registry, newer: dict[str, object],
             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             *, url: str | None = None, age: str | None = "2d") -> Path:
    """debian:13.4 locked; 13.5 pushed with ``newer`` (build_image's created/annotations)."""
    layout = Layout(tmp_path / "layout")
    push_built(reg.url, "library/debian", build_image(layout, "old", seed="old"), "13.4")
    push_built(reg.url, "library/debian",
               build_image(layout, "new", seed="new", **newer), "13.5")  # type: ignore[arg-type]
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text("FROM debian:13.4\nRUN true\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PINLOCK_REGISTRY_MIRRORS", f"docker.io={url or reg.url}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    assert run_cli(capsys, "init", "--dockerfile", "Dockerfile").code == 0
    run = run_cli(capsys, "lock")
    assert run.code == 0, run.out + run.err
    if age is not None:
        lock = work / "image.lock.toml"
        lock.write_text(lock.read_text().replace("[inputs.debian]\n",
                                                 f'[inputs.debian]\nmin-age = "{age}"\n', 1))
    return work


def _row(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    run = run_cli(capsys, "outdated", "--json")
    assert run.code == 0, run.out + run.err
    [row] = json.loads(run.out)["inputs"]
    return row  # type: ignore[no-any-return]


@pytest.mark.parametrize("newer", [
    {"annotations": {CREATED: "2026-03-01T12:00:00Z"}},
    {"created": "2026-03-01T12:00:00.123456789Z"},  # as BuildKit writes it: nanoseconds
    # the annotation wins over the config
    {"annotations": {CREATED: "2026-03-01T12:00:00Z"}, "created": "2020-01-01T00:00:00Z"},
], ids=["annotation", "config", "annotation-first"])
def test_image_waits_by_its_created_time(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], newer: dict[str, object],
) -> None:
    work = _project(tmp_path, registry, newer, monkeypatch, capsys)
    before = (work / "Dockerfile").read_text(), (work / "image.lock.toml").read_text()
    freeze_clock(monkeypatch, MADE + dt.timedelta(hours=20))
    row = _row(capsys)
    assert row["newest"] == "13.5" and row["waiting"] == "28h left" and not row["movable"]
    assert run_cli(capsys, "update", "debian").code == 0
    assert ((work / "Dockerfile").read_text(), (work / "image.lock.toml").read_text()) == before

    freeze_clock(monkeypatch, MADE + dt.timedelta(days=2, minutes=1))
    row = _row(capsys)
    assert row["movable"] and row["move"] == "version" and row["waiting"] is None
    assert run_cli(capsys, "update", "debian").code == 0
    assert "FROM debian:13.5@sha256:" in (work / "Dockerfile").read_text()


def test_image_without_created_time_is_too_new_to_judge(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _project(tmp_path, registry, {}, monkeypatch, capsys)
    freeze_clock(monkeypatch, MADE + dt.timedelta(days=3650))
    row = _row(capsys)
    assert row["waiting"] == "publication time unknown, too new to judge"
    assert not row["movable"]
    text = run_cli(capsys, "outdated")
    assert "newer (waiting: publication time unknown, too new to judge)" in text.out
    # bump names the version: min-age does not apply
    assert run_cli(capsys, "bump", "debian", "13.5").code == 0


@pytest.mark.parametrize("created", ["not a time", "2026-13-45T99:00:00Z", "9" * 5000])
def test_a_created_value_that_is_no_time_is_too_new_to_judge(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], created: str,
) -> None:
    _project(tmp_path, registry, {"annotations": {CREATED: created}, "created": created},
             monkeypatch, capsys)
    freeze_clock(monkeypatch, MADE + dt.timedelta(days=3650))
    row = _row(capsys)
    assert row["waiting"] == "publication time unknown, too new to judge"


def test_the_created_time_is_read_only_when_min_age_is_set(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with fault_proxy(registry.url) as proxy:
        work = _project(tmp_path, registry, {"created": "2026-03-01T12:00:00Z"}, monkeypatch,
                        capsys, url=proxy.url, age=None)
        freeze_clock(monkeypatch, MADE + dt.timedelta(days=30))
        proxy.requests.clear()
        assert _row(capsys)["movable"]
        without = [p for _, p, _ in proxy.requests if "/blobs/" in p]
        assert without == []  # no config fetched for a candidate's age

        lock = work / "image.lock.toml"
        lock.write_text(lock.read_text().replace("[inputs.debian]\n",
                                                 '[inputs.debian]\nmin-age = "2d"\n', 1))
        proxy.requests.clear()
        assert _row(capsys)["movable"]
        assert len([p for _, p, _ in proxy.requests if "/blobs/" in p]) == 1  # the config
