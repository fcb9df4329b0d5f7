"""Rendering results for people (text) and machines (JSON); no logic, no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pinlock.model import Finding, Skipped


def _plain(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``): a value read from a
    Dockerfile or an upstream cannot forge a line or a terminal sequence of the report.
    ``lines``: a message's own line breaks (before a hint) stay."""
    if text.isprintable() or (lines and all(c.isprintable() or c == "\n" for c in text)):
        return text
    parts = text.split("\n") if lines else [text]
    return "\n".join(p if p.isprintable() else repr(p)[1:-1] for p in parts)


def findings_text(findings: Sequence[Finding], *, verbose: bool = False) -> str:
    if not findings:
        return "ok: the Dockerfile and the lock agree"
    lines = []
    for f in findings:
        # upstream findings have no place in the Dockerfile: input and message only
        where = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        lines.append(f"{f.severity}: {where}[{f.input}] {_plain(f.message, lines=True)}")
        if f.expected is not None:
            lines.append(f"    expected: {_plain(f.expected)}")
        if f.found is not None and (verbose or f.code != "not-pinned"):
            lines.append(f"    found:    {_plain(f.found)}")
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def findings_json(findings: Sequence[Finding]) -> str:
    return json.dumps({
        "ok": not any(f.severity == "error" for f in findings),
        "findings": [f.to_json() for f in findings],
    }, indent=2, sort_keys=True)


def skipped_text(skipped: Sequence[Skipped]) -> str:
    return "\n".join(
        f"  {s.file}:{s.line}: {s.what}\n      {s.reason}" if s.line else f"  {s.what}: {s.reason}"
        for s in skipped)
