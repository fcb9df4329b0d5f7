"""Every hint pinlock prints names lock keys as the lock spells them, so following it works."""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from pathlib import Path

from pinlock import model
from pinlock.kinds import TypedKind, kinds

ROOT = Path(__file__).resolve().parents[2]

# Python names of the model's fields: a hint must say `tag-pattern`, never `tag_pattern`.
# Each kind's model module, and the core's.
MODELS = [model] + [sys.modules[k.input_type.__module__] for k in kinds()
                    if isinstance(k, TypedKind)]
FIELD_NAMES = {
    f.name for mod in MODELS for obj in vars(mod).values()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    for f in dataclasses.fields(obj) if "_" in f.name
}
LOCK_KEYS = set().union(*(k.intent_keys for k in kinds())) | {
    "version", "dockerfile", "platforms", "inputs", "kind", "tag", "index-digest", "media-type",
    "single-platform", "sha256", "sha256-arg", "platform", "url", "size", "verified-by",
    "snapshot", "archive", "base", "date", "inrelease-sha256", "top", "closure", "removed",
    "arch", "name"}


def _hint_texts() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted((ROOT / "pinlock").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg != "hint" or kw.value is None:
                    continue
                parts = [n.value for n in ast.walk(kw.value)
                         if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                out.append((str(path.relative_to(ROOT)), node.lineno, "".join(parts)))
    return out


def test_there_are_hints_to_check() -> None:
    assert len(_hint_texts()) > 40
    assert {"allow_prerelease", "tag_pattern", "version_arg"} <= FIELD_NAMES


def test_no_hint_spells_a_key_the_python_way() -> None:
    bad = [(f, line, word) for f, line, text in _hint_texts()
           for word in re.findall(r"[a-z]+(?:_[a-z]+)+", text) if word in FIELD_NAMES]
    assert bad == []


def test_every_backticked_key_in_a_hint_is_a_lock_key() -> None:
    bad = []
    for f, line, text in _hint_texts():
        for token in re.findall(r"`([^`\s]+)`", text):
            word = token.split("=")[0].strip()
            if re.fullmatch(r"[a-z]+(?:-[a-z0-9]+)+", word) and word not in LOCK_KEYS:
                bad.append((f, line, word))
    assert bad == []
