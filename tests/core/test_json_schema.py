"""docs/schemas/pinlock.schema.json: valid, complete, and strict enough to catch drift.

Every test that runs a command with --json (support.cli.run_cli) validates what it printed
against this schema; these tests check the schema itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import typer
from support.cli import SCHEMA, SCHEMA_OF, check_json_output, run_cli

from pinlock.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))


def test_every_command_with_json_output_has_a_definition_and_docs() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    with_json = {name for name, cmd in commands.items()
                 if any("--json" in p.opts for p in cmd.params)}
    assert {"init", "verify", "lock", "update", "bump", "outdated", "pr"} <= with_json
    schema = json.loads(SCHEMA.read_text())
    docs = (ROOT / "docs" / "json.md").read_text()
    for name in with_json:
        assert SCHEMA_OF.get(name, name) in schema["$defs"], name
        assert f"`pinlock {name}" in docs, name


def test_drift_from_the_schema_is_caught() -> None:
    good = {"ok": True, "findings": []}
    check_json_output("verify", json.dumps(good), 0)
    for bad in ({"ok": True}, {**good, "extra": 1}, {"ok": "yes", "findings": []}):
        with pytest.raises(jsonschema.ValidationError):
            check_json_output("verify", json.dumps(bad), 0)
    with pytest.raises(AssertionError):  # the error object must carry the real exit code
        check_json_output("verify", json.dumps(
            {"error": {"message": "x", "hint": None}, "exit": 3}), 2)


@pytest.mark.parametrize("args", [
    ("verify", "--json", "--no-such-option"),
    ("verify", "--json", "--lockfile", "missing.toml"),
    ("lock", "--json", "--registry-mirror", "not-a-mapping"),
    ("outdated", "--json", "--lockfile", "missing.toml"),
])
def test_errors_are_json_with_their_exit_code(
    args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_cli(capsys, *args)  # validates against the error definition
    assert run.code == 2
    data = json.loads(run.out)
    assert data["exit"] == 2 and data["error"]["message"]
    assert "error" in run.err.lower()  # people still get the message on stderr
