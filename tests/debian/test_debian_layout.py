"""`layout = "one-per-line"` on an apt input: pins one a line, sorted, nothing else touched.

Through the CLI against the real signed test archive; each rewritten Dockerfile is read
back with BuildKit's own parser (the `dockerfile` wheel) as a build would read it.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import dockerfile
import pytest
from support.apt_project import apt_only_project
from support.cli import run_cli
from support.debian_archive import SNAP1, ArchiveServer

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM debian:13.4
ARG KEEP=1
# install the tools (this comment stays)
RUN echo start && \\
    apt-get update && \\
    apt-get install -y --no-install-recommends tool   prelib \\
      app && \\
    rm -rf /var/lib/apt/lists/*  # trailing words stay
RUN <<SCRIPT
echo "a heredoc stays as it is"
SCRIPT
"""

# The install's package words, after the options pinlock adds to the command.
WANT_RUN = """\
 -y --no-install-recommends \\
        app=1.0-1 \\
        prelib=0.5-1 \\
        tool=1.0-1 && \\
    rm -rf /var/lib/apt/lists/*  # trailing words stay
RUN <<SCRIPT
"""


def _setup(root: Path, text: str, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], layout: str = "one-per-line") -> Path:
    return apt_only_project(root, text, srv, monkeypatch, capsys, layout=layout).parent


def _buildkit_run_words(text: str) -> list[list[str]]:
    """The shell-form RUN commands as BuildKit reads them, split into shell words."""
    return [shlex.split(c.value[0], comments=True) for c in dockerfile.parse_string(text)
            if c.cmd == "RUN" and not c.json and not c.heredocs]


def test_one_per_line_rewrites_only_the_package_words(
    tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _setup(tmp_path / "p", DOCKERFILE, archive_server, monkeypatch, capsys)
    run = run_cli(capsys, "bump", "apt", SNAP1)
    assert run.code == 0, run.out + run.err
    text = (root / "Dockerfile").read_text()
    assert WANT_RUN in text, text
    # Around the install, everything is as written.
    head, tail = DOCKERFILE.split("RUN echo start")
    assert text.startswith(head) and text.endswith(tail.split("&& \\\n    rm", 1)[1])
    # The lock keeps the order it was written in: a reorder installs nothing else.
    apt = (root / "image.lock.toml").read_text()
    intent = tomllib.loads(apt)["inputs"]["apt"]
    assert intent["packages"] == ["tool", "prelib", "app"] and intent["layout"] == "one-per-line"
    # BuildKit reads the same command: one install of the three pinned packages.
    [words] = _buildkit_run_words(text)
    i = words.index("--no-install-recommends")
    assert words[i + 1:i + 5] == ["app=1.0-1", "prelib=0.5-1", "tool=1.0-1", "&&"]
    assert words[-2:] == ["-rf", "/var/lib/apt/lists/*"]
    heredoc = [c for c in dockerfile.parse_string(text) if c.heredocs]
    assert len(heredoc) == 1

    # Round trip: lock, update and verify change nothing and accept it.
    files = (text, apt)
    for args in (("lock",), ("lock", "apt")):
        run = run_cli(capsys, *args)
        assert run.code == 0, (args, run.out, run.err)
        now = ((root / "Dockerfile").read_text(), (root / "image.lock.toml").read_text())
        assert now == files, args
    assert run_cli(capsys, "verify", "--strict").code == 0

    # An update (prelib 0.6-1 in the archive's later run) keeps the layout.
    assert run_cli(capsys, "update", "apt").code == 0
    moved = (root / "Dockerfile").read_text()
    assert WANT_RUN.replace("prelib=0.5-1", "prelib=0.6-1") in moved
    assert run_cli(capsys, "verify", "--strict").code == 0
    assert run_cli(capsys, "update", "apt").code == 0
    assert (root / "Dockerfile").read_text() == moved


def test_without_layout_pins_stay_where_the_words_are(
    tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _setup(tmp_path / "p", DOCKERFILE, archive_server, monkeypatch, capsys)
    lock = root / "image.lock.toml"
    lock.write_text(lock.read_text().replace('layout = "one-per-line"\n', ""))
    assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
    assert "tool=1.0-1   prelib=0.5-1 \\\n      app=1.0-1 &&" in (root / "Dockerfile").read_text()


@pytest.mark.parametrize(("text", "why", "pinned"), [
    ('FROM debian:13.4\nRUN ["apt-get", "install", "-y", "tool", "prelib"]\n',
     "exec (JSON) form", '"tool=1.0-1", "prelib=0.5-1"]'),
    ('FROM debian:13.4\nRUN ["sh", "-c", "apt-get update && apt-get install -y tool prelib"]\n',
     "inside JSON", "-y tool=1.0-1 prelib=0.5-1\"]"),
    ("FROM debian:13.4\nRUN apt-get install -y tool \\\n# a comment between\n    prelib\n",
     "something other than blanks", "tool=1.0-1 \\\n# a comment between\n    prelib=0.5-1\n"),
], ids=["exec-form", "sh-c-json", "comment-between"])
def test_installs_it_cannot_lay_out_stay_with_a_warning(
    tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], text: str, why: str, pinned: str,
) -> None:
    root = _setup(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    run = run_cli(capsys, "bump", "apt", SNAP1)
    assert run.code == 0, run.out + run.err
    notes = [line for line in run.err.splitlines() if "not laid out" in line]
    assert len(notes) == 1 and why in notes[0] and notes[0].startswith("warning: [apt]"), notes
    got = (root / "Dockerfile").read_text()
    assert pinned in got  # pinned where the words are
    dockerfile.parse_string(got)  # still a Dockerfile BuildKit reads
    again = run_cli(capsys, "lock")
    assert again.code == 0 and (root / "Dockerfile").read_text() == got


def test_an_unknown_layout_is_bad_input(
    tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _setup(tmp_path / "p", DOCKERFILE, archive_server, monkeypatch, capsys,
                  layout="sorted")
    run = run_cli(capsys, "lock")
    assert run.code == 2 and "inputs.apt.layout" in run.out + run.err
    assert (root / "Dockerfile").read_text() == DOCKERFILE


@pytest.mark.parametrize(("text", "want", "skipped"), [
    # a multi-line exec form whose sh -c script installs: a JSON string, left alone
    ('FROM d\nRUN ["sh", "-c", \\\n  "apt-get update && apt-get install -y tool prelib"]\n',
     None, "inside JSON"),
    # a heredoc script: laid out inside the heredoc, the rest of it as written
    ("FROM d\nRUN <<EOF\nset -e\napt-get install -y tool prelib\necho done\nEOF\n",
     "FROM d\nRUN <<EOF\nset -e\napt-get install -y \\\n    prelib \\\n    tool\necho done\nEOF\n",
     None),
    # CRLF line ends stay CRLF
    ("FROM d\r\nRUN apt-get install -y tool prelib && \\\r\n    true\r\n",
     "FROM d\r\nRUN apt-get install -y \\\r\n    prelib \\\r\n    tool && \\\r\n    true\r\n",
     None),
    # already one a line but unsorted, at its own indent: sorted, indent kept
    ("FROM d\nRUN apt-get install -y \\\n  tool \\\n  prelib\n",
     "FROM d\nRUN apt-get install -y \\\n  prelib \\\n  tool\n", None),
], ids=["sh-c-json-multiline", "heredoc", "crlf", "unsorted"])
def test_layout_text(text: str, want: str | None, skipped: str | None) -> None:
    """The pure rewrite: what changes, what is skipped, and that a second pass is a no-op."""
    from pinlock.dockerfile.edit import apply_edits
    from pinlock.dockerfile.parser import parse
    from pinlock.dockerfile.sites import find_sites
    from pinlock.kinds.apt.layout import layout_edits

    sites = find_sites(parse(text))
    edits, left = layout_edits(text, sites.apt, sites)
    out = apply_edits(text, edits)
    assert out == (want if want is not None else text)
    assert [s.why for s in left if skipped and skipped in s.why] == [s.why for s in left]
    assert bool(left) == (skipped is not None)
    again = find_sites(parse(out))
    assert apply_edits(out, layout_edits(out, again.apt, again)[0]) == out
    dockerfile.parse_string(out)
