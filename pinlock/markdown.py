"""GitHub Markdown pieces for pull-request bodies: escaped table cells and tables."""

from __future__ import annotations

from collections.abc import Sequence


def cell(text: str | None) -> str:
    """A table cell: pipes escaped, newlines flattened, empty shown as a dash."""
    if not text:
        return "—"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def code(text: str | None) -> str:
    return f"`{cell(text)}`" if text else "—"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table; cells must already be escaped (``cell``/``code``)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out
