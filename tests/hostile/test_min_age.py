"""min-age against a hostile registry: the config read for an image's age is bounded.

A registry chooses the config it serves for a candidate; under `min-age` pinlock reads it
for `created`. A huge or deeply nested config must end as an error for that input (or a
candidate too new to judge), never a traceback, a blown memory budget or a written file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.oci_registry import (
    OCI_CONFIG,
    OCI_MANIFEST,
    Layout,
    Registry,
    build_image,
    canonical_json,
    push_blob,
    push_built,
    push_manifest,
    running_registry,
    sha256,
)
from support.proc import run_pinlock, tree_digest

pytestmark = pytest.mark.registry


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with running_registry(tmp_path) as reg:
        yield reg


CONFIGS = {
    # 20 MB of padding around a valid created time: more than the config cap (8 MiB)
    "huge-config": lambda: canonical_json({"created": "2020-01-01T00:00:00Z",
                                           "pad": "x" * (20 << 20)}),
    # nested far beyond the JSON depth limit
    "deep-config": lambda: b'{"created": "2020-01-01T00:00:00Z", "x": '
                           + b"[" * 100_000 + b"]" * 100_000 + b"}",
    # a created time that is not a string
    "created-object": lambda: canonical_json({"created": {"$date": 0}}),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_hostile_config_under_min_age(tmp_path: Path, registry: Registry, case: str) -> None:
    layout = Layout(tmp_path / "layout")
    push_built(registry.url, "library/debian", build_image(layout, "old", seed="old"), "13.4")
    config = CONFIGS[case]()
    push_blob(registry.url, "library/debian", config)
    manifest = canonical_json({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [],
    })
    push_manifest(registry.url, "library/debian", "13.5", manifest, OCI_MANIFEST)
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text("FROM debian:13.4\nRUN true\n")
    env = {"PINLOCK_REGISTRY_MIRRORS": f"docker.io={registry.url}",
           "DOCKER_CONFIG": str(tmp_path / "docker-config")}
    assert run_pinlock("init", "--dockerfile", "Dockerfile", cwd=work, env=env).code == 0
    locked = run_pinlock("lock", cwd=work, env=env)
    assert locked.code == 0, locked.text
    lock = work / "image.lock.toml"
    lock.write_text(lock.read_text().replace("[inputs.debian]\n",
                                             '[inputs.debian]\nmin-age = "1d"\n', 1))
    before = tree_digest(work)

    run = run_pinlock("outdated", "--json", cwd=work, env=env, limit=60)
    run.assert_clean()
    [row] = json.loads(run.out)["inputs"]
    assert not row["movable"], row
    if case == "created-object":
        assert row["waiting"] == "publication time unknown, too new to judge"
    else:
        # as every other oversized or over-deep registry answer: an upstream error (exit 3)
        assert row["error"] and run.code == 3, (run.code, row)
        assert ("nested deeper" if case == "deep-config" else "bytes") in row["error"], row

    moved = run_pinlock("update", cwd=work, env=env, limit=60)
    moved.assert_clean()
    assert tree_digest(work) == before  # nothing moved on a config pinlock could not judge
