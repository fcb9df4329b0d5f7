"""BuildKit's own parser (the `dockerfile` wheel) as the oracle for pinlock's Dockerfile parser.

Over every file of tests/corpus/dockerfiles: pinlock finds the same instructions
on the same line ranges, with the same logical text (continuations joined) and
the same heredoc names and contents, and render() gives back the file's bytes.

Intentional differences, each handled explicitly below:
- The wheel reports the keyword as written (`run`); pinlock upper-cases it.
- For a heredoc instruction the wheel's `original` is the logical line, a
  newline, then each heredoc body and its bare name; pinlock keeps the body and
  the terminator line as written (a `<<-` terminator keeps its tabs), so the
  comparison rebuilds the wheel's form from pinlock's model.
- For `ONBUILD RUN <<EOF` the wheel reports the line range (which includes the
  heredoc) but not the heredoc itself; pinlock keeps the heredoc on the ONBUILD
  instruction. Only the line ranges and the line are compared there.
- The wheel embeds a BuildKit older than the `# check=` parser directive
  (BuildKit 0.14, Dockerfile 1.8): for it `# check=…` is a comment that ends the
  directive block. pinlock follows current BuildKit (validDirectives holds
  syntax, escape and check); test_check_directive_differs_from_the_wheel pins
  this down.
"""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from support.dockerfile_oracle import oracle_view, pinlock_view, read_corpus

from pinlock.dockerfile.parser import ParseError, parse

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "dockerfiles"
FILES = sorted(CORPUS.glob("*.Dockerfile"))


def test_corpus_is_large_enough_and_holds_the_seed() -> None:
    assert len(FILES) >= 25
    seed = (CORPUS / "seed.Dockerfile").read_bytes()
    assert seed == (Path(__file__).resolve().parents[2] / "docker" / "Dockerfile").read_bytes()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_render_is_byte_identical(path: Path) -> None:
    raw = path.read_bytes()
    assert parse(read_corpus(path)).render().encode("utf-8") == raw


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_same_instructions_as_buildkit(path: Path) -> None:
    text = read_corpus(path)
    assert pinlock_view(parse(text)) == oracle_view(text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_nodes_cover_every_character_once(path: Path) -> None:
    df = parse(read_corpus(path))
    pos = 0
    for node in df.nodes:
        assert node.start == pos, f"gap or overlap at {pos} before {node}"
        assert node.end > node.start
        assert node.line == df.line_of(node.start)
        pos = node.end
    assert pos == len(df.source)


@pytest.mark.parametrize(
    ("text", "escape"),
    [
        ("# escape=`\nFROM a `\n b\n", "`"),
        ("# foo=bar\n# escape=`\nFROM a `\n b\n", "\\"),  # an unknown key ends the block
        ("  # escape=`\nFROM a `\n b\n", "`"),  # leading whitespace is allowed
        ("\ufeff# escape=`\nFROM a `\n b\n", "`"),
        ("# comment\n# escape=`\nFROM a\n", "\\"),
        ("\n# escape=`\nFROM a\n", "\\"),
    ],
)
def test_escape_directive_as_buildkit(text: str, escape: str) -> None:
    df = parse(text)
    assert df.escape == escape
    assert pinlock_view(df) == oracle_view(text)


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN <<EOF\nnever closed\n",
        "# syntax=a\n# syntax=b\nFROM a\n",
        "# escape=x\nFROM a\n",
        "FROM a\nRUN [1, 2]\n",
    ],
)
def test_rejects_what_buildkit_rejects(text: str) -> None:
    with pytest.raises(dockerfile.GoParseError):
        dockerfile.parse_string(text)
    with pytest.raises(ParseError):
        parse(text)


def test_check_directive_differs_from_the_wheel() -> None:
    text = "# check=skip=all\n# escape=`\nFROM a `\n b\n"
    df = parse(text)
    assert df.directives == {"check": "skip=all", "escape": "`"}
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [("FROM", 3, 4)]
    # If the wheel learns `check`, this starts failing: drop the exception above.
    assert [(c.cmd, c.start_line, c.end_line) for c in dockerfile.parse_string(text)] == [
        ("FROM", 3, 3), ("b", 4, 4)]
