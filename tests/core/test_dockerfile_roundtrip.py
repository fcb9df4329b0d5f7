"""Property tests for the Dockerfile editor: parse -> render is the identity, and edits are exact.

Texts are generated with the layouts that break naive parsers: CRLF/LF mixes,
a BOM, parser directives (the escape character switches to a backtick),
continuations with trailing whitespace and comment or blank lines inside them,
tabs, heredocs with random delimiters (``<<-``, quoted), an open continuation or
no newline at the end of the file. BuildKit's parser (the `dockerfile` wheel)
is the oracle for the instruction line ranges wherever it accepts the text.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import dockerfile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pinlock.dockerfile.edit import Edit, apply_edits
from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import Sites, Value, find_sites

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

EOL = st.sampled_from(["\n", "\r\n", "\n", "\r\n", "\r\r\n"])
HSPACE = st.text(alphabet=" \t", min_size=0, max_size=3)
# Leading whitespace BuildKit strips (Go's unicode.IsSpace), not only spaces and tabs.
LEAD = st.text(alphabet=" \t\v\f\xa0\u3000", min_size=0, max_size=3)
WORD = st.text(alphabet=string.ascii_letters + string.digits + "_./=:-$", min_size=1,
               max_size=8).filter(lambda w: not w.startswith("#"))
KEYWORDS = ["RUN", "run", "ENV", "LABEL", "COPY", "WORKDIR", "EXPOSE", "USER", "Cmd", "ADD"]
HEREDOC_NAME = st.text(alphabet=string.ascii_uppercase + "_", min_size=1, max_size=6)


@dataclass
class Ctx:
    """What the generator must know while drawing: the escape character in force."""

    escape: str


@st.composite
def directives(draw: st.DrawFn) -> tuple[str, str]:
    out = ""
    escape = "\\"
    if draw(st.booleans()):
        out += "\ufeff"
    for key in draw(st.lists(st.sampled_from(["syntax", "escape", "check"]), unique=True,
                             max_size=3)):
        if key == "escape":
            escape = draw(st.sampled_from(["\\", "`"]))
            value = escape
        elif key == "syntax":
            value = "docker/dockerfile:1"
        else:
            value = "skip=all"
        out += f"#{draw(HSPACE)}{key}{draw(st.sampled_from(['=', ' = ']))}{value}{draw(EOL)}"
    return out, escape


@st.composite
def filler(draw: st.DrawFn) -> str:
    """Lines that may sit inside a continuation: comments and blank lines."""
    kind = draw(st.sampled_from(["comment", "blank"]))
    if kind == "comment":
        return f"{draw(HSPACE)}# {draw(WORD)}{draw(EOL)}"
    return f"{draw(HSPACE)}{draw(EOL)}"


def joined(draw: st.DrawFn, ctx: Ctx, words: list[str], split: bool = False) -> str:
    """Words on one logical line, split over physical lines at random word boundaries.

    With ``split`` a break may end in an escaped escape, which ends the instruction there.
    """
    out = words[0]
    for w in words[1:]:
        if draw(st.integers(0, 3)) == 0:
            # An escaped escape (`\\`) at the end of a line is no continuation in
            # BuildKit; three in a row are not one either (its regexp has no lookahead).
            run = ctx.escape * (draw(st.sampled_from([1, 1, 1, 2, 3])) if split else 1)
            out += f" {run}{draw(HSPACE)}{draw(EOL)}"
            out += "".join(draw(st.lists(filler(), max_size=2)))
            out += f"{draw(HSPACE)}{w}"
        else:
            out += draw(st.sampled_from([" ", "\t", "  "])) + w
    return out


@st.composite
def heredoc_instruction(draw: st.DrawFn, ctx: Ctx) -> str:
    keyword = draw(st.sampled_from(["RUN", "COPY", "run", "ONBUILD RUN"]))
    count = draw(st.integers(1, 2))
    names = draw(st.lists(HEREDOC_NAME, min_size=count, max_size=count, unique=True))
    markers, bodies = [], []
    for name in names:
        chomp = draw(st.booleans())
        quote = draw(st.sampled_from(["", "'", '"']))
        markers.append(f"<<{'-' if chomp else ''}{quote}{name}{quote}")
        lines = draw(st.lists(st.text(alphabet=string.ascii_letters + " \t$\\#", max_size=12),
                              max_size=3))
        # A body line that reads as the terminator would end the heredoc early.
        body = "".join(f"{line}{draw(EOL)}" for line in lines
                       if (line.lstrip("\t") if chomp else line) != name)
        terminator = ("\t" * draw(st.integers(0, 2)) if chomp else "") + name
        bodies.append(f"{body}{terminator}{draw(EOL)}")
    tail = draw(st.sampled_from(["", " cat", " bash -e", " /dst/"]))
    return f"{keyword} {' '.join(markers)}{tail}{draw(EOL)}{''.join(bodies)}"


@st.composite
def instruction(draw: st.DrawFn, ctx: Ctx) -> str:
    if draw(st.integers(0, 4)) == 0:
        return draw(heredoc_instruction(ctx))
    keyword = draw(st.sampled_from(KEYWORDS))
    words = [keyword, *draw(st.lists(WORD, min_size=1, max_size=6))]
    if draw(st.integers(0, 5)) == 0:
        # JSON form, possibly split over lines; a heredoc marker after it is no heredoc.
        words = [keyword, '["a",', '"b"]', *draw(st.sampled_from([[], ["<<EOF"]]))]
    return f"{draw(LEAD)}{joined(draw, ctx, words, split=True)}{draw(HSPACE)}{draw(EOL)}"


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    head, escape = draw(directives())
    ctx = Ctx(escape)
    parts = [head, f"FROM {draw(WORD)}{draw(EOL)}"]
    for _ in range(draw(st.integers(0, 6))):
        parts.append(draw(st.one_of(instruction(ctx), filler())))
    text = "".join(parts)
    ending = draw(st.sampled_from(["keep", "strip", "open"]))
    if ending == "strip":
        text = text.rstrip("\r\n")
    elif ending == "open":
        text += f"RUN echo {escape}{draw(HSPACE)}"
    return text


@given(dockerfiles())
@SETTINGS
def test_parse_render_is_identity(text: str) -> None:
    assert parse(text).render() == text


@given(dockerfiles())
@SETTINGS
def test_line_ranges_match_buildkit(text: str) -> None:
    df = parse(text)
    # The wheel's BuildKit predates the `# check=` directive (BuildKit 0.14): there a
    # `# check=` line ends the directive block; pinlock follows current BuildKit.
    assume("check" not in df.directives)
    try:
        expected = [(c.start_line, c.end_line) for c in dockerfile.parse_string(text)]
    except dockerfile.GoParseError:
        return  # only where BuildKit accepts the text
    assert [(i.line, i.end_line) for i in df.instructions] == expected


# Files with pin sites in random layouts, for the edit property.

IMAGES = st.sampled_from(["debian:12", "ghcr.io/org/app:1.0", "node:22-bookworm",
                          "alpine@sha256:" + "a" * 64, "registry.local:5000/x/y:tag"])
PACKAGES = st.lists(st.sampled_from(["curl", "git", "jq", "libc6:arm64", "tzdata=2024a-1",
                                     "ca-certificates", "'htop'", "\"less\""]),
                    min_size=1, max_size=5)
ARG_VALUES = st.text(alphabet=string.ascii_letters + string.digits + ".-_", min_size=1,
                     max_size=12)


@st.composite
def pinned_dockerfiles(draw: st.DrawFn) -> str:
    head, escape = draw(directives())
    ctx = Ctx(escape)
    eol = draw(EOL)
    parts = [head]
    parts.append(f"ARG BASE={draw(IMAGES)}{eol}")
    parts.append(joined(draw, ctx, ["FROM", "--platform=linux/amd64", draw(IMAGES),
                                    "AS", "build"]) + eol)
    parts.append(f"FROM ${{BASE}}{draw(EOL)}")
    parts.append(joined(draw, ctx, ["ARG", f"VERSION={draw(ARG_VALUES)}",
                                    f"SHA={draw(ARG_VALUES)}"]) + draw(EOL))
    parts.append(joined(draw, ctx, ["COPY", f"--from={draw(IMAGES)}", "/a", "/b"]) + draw(EOL))
    parts.append(joined(draw, ctx, ["ADD", "--checksum=sha256:" + "0" * 64,
                                    "https://example.com/v${VERSION}/x.tgz", "/x"]) + draw(EOL))
    pkgs = draw(PACKAGES)
    opts = draw(st.lists(st.sampled_from(["-y", "--no-install-recommends", "-qq"]),
                         max_size=2))
    if draw(st.booleans()):
        parts.append(joined(draw, ctx, ["RUN", "apt-get", "update", "&&", "apt-get", *opts,
                                        "install", *pkgs, "&&", "true"]) + draw(EOL))
    else:
        # Heredoc bodies are shell: the continuation there is always a backslash.
        body = "apt-get install " + " ".join(opts) + " \\\n  " + " ".join(pkgs) + "\n"
        parts.append(f"RUN <<EOF{draw(EOL)}set -e{draw(EOL)}{body}EOF{draw(EOL)}")
    return "".join(parts)


def all_values(sites: Sites) -> list[tuple[str, int, Value]]:
    """Every editable value, keyed by (kind, index) so a re-parse can find it again."""
    out: list[tuple[str, int, Value]] = []
    out += [("image", i, s.value) for i, s in enumerate(sites.images)]
    out += [("arg", i, a.value) for i, a in enumerate(sites.args) if a.value is not None]
    out += [("checksum", i, u.checksum) for i, u in enumerate(sites.urls)
            if u.checksum is not None]
    k = 0
    for site in sites.apt:
        for p in site.packages:
            out.append(("apt", k, p.value))
            k += 1
    return out


def replacement(kind: str, draw_text: str) -> str:
    if kind == "image":
        # Still a valid reference, so the re-parse finds the site again at the same index.
        repo = "".join(c for c in draw_text.lower() if c.isalnum()) or "x"
        return f"example.org/{repo}:1@sha256:{'b' * 64}"
    if kind == "checksum":
        return "sha256:" + "c" * 64
    if kind == "apt":
        return f"pkg{''.join(c for c in draw_text.lower() if c.isalnum())}=1.0-1"
    return draw_text or "v"


@given(pinned_dockerfiles(), st.data())
@SETTINGS
def test_edit_changes_exactly_the_value(text: str, data: st.DataObject) -> None:
    df = parse(text)
    assert df.render() == text
    values = all_values(find_sites(df))
    kinds = {k for k, _, _ in values}
    assert {"image", "arg", "checksum", "apt"} <= kinds, kinds
    for _kind, _i, v in values:
        # The value's characters are one run in the source: its span is exactly it.
        assert text[v.start:v.end] == v.text
        assert v.line == text.count("\n", 0, v.start) + 1
    kind, index, value = data.draw(st.sampled_from(values))
    new = replacement(kind, data.draw(ARG_VALUES))
    edited = apply_edits(text, [Edit(value.start, value.end, new)])
    assert edited[:value.start] == text[:value.start]
    assert edited[value.start + len(new):] == text[value.end:]
    again = [(k, i, v) for k, i, v in all_values(find_sites(parse(edited)))
             if (k, i) == (kind, index)]
    assert len(again) == 1
    assert again[0][2].text == new
    assert again[0][2].start == value.start
