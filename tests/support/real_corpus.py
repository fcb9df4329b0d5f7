"""The corpus of real public Dockerfiles: its provenance list and where its files are.

tests/corpus/real/PROVENANCE.tsv lists every file (repository, path, commit, license, the
patterns it shows, its sha256 and size). The files themselves are third-party text kept
byte-exact; they are looked for in tests/corpus/real/ and then in the shared folder beside the
repository (../shared/corpus/real/), the way the seed Dockerfile is (see README.md there).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "corpus" / "real"
PROVENANCE = HERE / "PROVENANCE.tsv"
COLUMNS = ["file", "repository", "path", "commit", "license", "patterns", "sha256", "bytes"]


@dataclass(frozen=True)
class Entry:
    file: str
    repository: str
    path: str
    commit: str
    license: str
    patterns: tuple[str, ...]
    sha256: str
    bytes: int


def provenance() -> list[Entry]:
    with PROVENANCE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows and rows[0] == COLUMNS, f"{PROVENANCE}: header must be {COLUMNS}"
    return [
        Entry(r[0], r[1], r[2], r[3], r[4], tuple(t for t in r[5].split(",") if t), r[6], int(r[7]))
        for r in rows[1:]
    ]


def corpus_dir() -> Path | None:
    """Where the corpus files are: $PINLOCK_REAL_CORPUS, tests/corpus/real/, or
    ../shared/corpus/real/; None when none of them holds a Dockerfile."""
    candidates = [HERE, ROOT.parent / "shared" / "corpus" / "real"]
    if os.environ.get("PINLOCK_REAL_CORPUS"):
        candidates.insert(0, Path(os.environ["PINLOCK_REAL_CORPUS"]))
    for folder in candidates:
        if any(folder.glob("*.Dockerfile")):
            return folder
    return None


def corpus_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.Dockerfile"))
