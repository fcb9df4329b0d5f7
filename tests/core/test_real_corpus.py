"""The corpus of real public Dockerfiles (tests/corpus/real/, see its README.md).

(a) PROVENANCE.tsv lists exactly the files present, each with its repository, path, a commit,
    a license, and the sha256 and size of the bytes as found (so each file is byte-exact);
(b) pinlock's parser agrees with BuildKit's (the `dockerfile` wheel) on every file, and
    render(parse(text)) gives back the file byte for byte;
(c) the invariant: `pinlock init` never writes a lock its own offline `pinlock verify`
    rejects (what it cannot tie is left out and reported), and neither ever crashes. Per
    pattern, how many pins were found, adopted and left out: bench/corpus.py.

The files are third-party text: when they are not laid out (see README.md), (b) and (c) skip.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from support.cli import run_cli
from support.dockerfile_oracle import oracle_view, pinlock_view, read_corpus
from support.real_corpus import PROVENANCE, corpus_dir, corpus_files, provenance

from pinlock.dockerfile.parser import parse

FOLDER = corpus_dir()
FILES = corpus_files(FOLDER) if FOLDER else []
ENTRIES = provenance()
SPDX = re.compile(r"[A-Za-z0-9.+-]+( (OR|AND|WITH) [A-Za-z0-9.+-]+)*|unknown")

# Files on which pinlock's parser and BuildKit's are known to differ: none now (a line ending
# in an escaped escape, as in docker-library mongo's Windows Dockerfiles, once was one).
PARSER_DIFFERS: dict[str, str] = {}


def _params(marks: dict[str, str]) -> list[object]:
    if not FILES:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="the corpus files are not laid out (tests/corpus/real/README.md)"))]
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(strict=True, reason=marks[p.name])]
                     if p.name in marks else [])
        for p in FILES
    ]


def test_provenance_rows_are_complete() -> None:
    assert len(ENTRIES) >= 150
    names = [e.file for e in ENTRIES]
    assert len(names) == len(set(names)), "a file is listed twice"
    for e in ENTRIES:
        assert e.file.endswith(".Dockerfile") and "/" not in e.file, e.file
        assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", e.repository), e
        owner, repo = e.repository.split("/")
        assert e.file.startswith(f"{owner}__{repo}__" + e.path.replace("/", "__")), e
        assert re.fullmatch(r"[0-9a-f]{40}", e.commit), e
        assert SPDX.fullmatch(e.license), e
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256) and e.bytes > 0, e
        assert e.patterns and all(re.fullmatch(r"[a-z0-9-]+", t) for t in e.patterns), e


def test_provenance_lists_exactly_the_files_present() -> None:
    if FOLDER is None:
        pytest.skip("the corpus files are not laid out (tests/corpus/real/README.md)")
    assert sorted(e.file for e in ENTRIES) == [p.name for p in FILES], PROVENANCE
    for e in ENTRIES:
        raw = (FOLDER / e.file).read_bytes()
        assert (len(raw), hashlib.sha256(raw).hexdigest()) == (e.bytes, e.sha256), \
            f"{e.file} is not byte-identical to {e.repository}@{e.commit}:{e.path}"


@pytest.mark.parametrize("path", _params({}))
def test_render_is_byte_identical(path: Path) -> None:
    assert parse(read_corpus(path)).render().encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("path", _params(PARSER_DIFFERS))
def test_same_instructions_as_buildkit(path: Path) -> None:
    text = read_corpus(path)
    assert pinlock_view(parse(text)) == oracle_view(text)


@pytest.mark.parametrize("path", _params({}))
def test_verify_accepts_the_lock_init_wrote(path: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_REPOSITORY",
                 "PINLOCK_REGISTRY_MIRRORS", "PINLOCK_DEBIAN_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    (tmp_path / "docker").mkdir()
    shutil.copyfile(path, tmp_path / "docker" / "Dockerfile")
    monkeypatch.chdir(tmp_path)
    init = run_cli(capsys, "init", "--json")
    assert init.code in (0, 2), init
    assert "Traceback" not in init.err, init.err
    verify = run_cli(capsys, "verify", "--json")
    assert "Traceback" not in verify.err, verify.err
    if init.code == 0:  # a Dockerfile init refuses (bad input, exit 2) has no lock to verify
        assert verify.code == 0, verify.out
