"""Run pinlock's CLI in-process and capture what a user would see."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pinlock.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    else:  # pragma: no cover - main always exits
        code = 0
    cap = capsys.readouterr()
    if "--json" in args and "--help" not in args:
        check_json_output(args[0] if args else "", cap.out, code, args)
    return Run(code, cap.out, cap.err)


SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "pinlock.schema.json"
# Which definition of the schema each command's --json output follows.
SCHEMA_OF = {"init": "init", "verify": "verify", "lock": "change", "update": "change",
             "bump": "change", "outdated": "outdated", "pr": "pr"}


def pr(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `pinlock pr ARGS`: exit code, stdout, stderr."""
    run = run_cli(capsys, "pr", *args)
    return run.code, run.out, run.err


def check_json_output(command: str, out: str, code: int, args: tuple[str, ...] = ()) -> None:
    """Every --json output a test sees is valid against docs/schemas/pinlock.schema.json:
    the command's own definition, or the error object (with its exit code) when it failed."""
    import json

    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    data = json.loads(out)  # --json prints JSON and nothing else on stdout
    if isinstance(data, dict) and "error" in data:
        jsonschema.validate(data, {**schema, "$ref": "#/$defs/error"})
        assert data["exit"] == code, (data, code)
        return
    definition = SCHEMA_OF.get(command, command)
    if command == "verify" and any(a == "--image" or a.startswith("--image=") for a in args):
        definition = "verify-image"
    assert definition in schema["$defs"], f"no JSON schema for `pinlock {command}`"
    jsonschema.validate(data, {**schema, "$ref": f"#/$defs/{definition}"})


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256: to prove a command changed nothing."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def init_and_verify(project: Path, text: str, capsys: pytest.CaptureFixture[str]
                    ) -> tuple[dict[str, Any], str]:
    """``text`` as the project's docker/Dockerfile, ``pinlock init``, then ``verify`` (which
    must accept the lock init wrote): the lock's inputs, and what init printed."""
    import tomllib

    (project / "docker" / "Dockerfile").write_text(text)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    v = run_cli(capsys, "verify")
    assert v.code == 0, v  # never a lock verify rejects
    data = tomllib.loads((project / "image.lock.toml").read_text())
    return data.get("inputs", {}), r.out + r.err
