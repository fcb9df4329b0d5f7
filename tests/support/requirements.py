"""The hash-pinned requirements of the GitHub Action, read and checked against pyproject.toml."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "action.txt"


def dependency_fingerprint(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """sha256 of the [project] dependencies and Python bound the requirements were made from."""
    project = tomllib.loads(pyproject.read_text())["project"]
    basis = {"dependencies": sorted(project["dependencies"]),
             "requires-python": project.get("requires-python", "")}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


@dataclass
class Pin:
    name: str
    version: str
    marker: str
    hashes: list[str] = field(default_factory=list)


def read_pins(text: str) -> tuple[str | None, list[Pin]]:
    """(the recorded fingerprint, the pins) of a requirements file in pip's hash format."""
    fingerprint = None
    m = re.search(r"^# dependencies-sha256: ([0-9a-f]{64})$", text, re.M)
    if m:
        fingerprint = m.group(1)
    pins: list[Pin] = []
    logical = re.sub(r"\\\n\s*", " ", text)
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req, _, rest = line.partition(" --hash=")
        spec, _, marker = req.partition(";")
        name, sep, version = spec.strip().partition("==")
        if not sep:
            raise ValueError(f"not pinned with ==: {line!r}")
        hashes = re.findall(r"sha256:([0-9a-f]{64})", "--hash=" + rest if rest else "")
        pins.append(Pin(name.strip().lower(), version.strip(), marker.strip(), hashes))
    return fingerprint, pins
