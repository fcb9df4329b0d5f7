"""Downloads are found wherever a real Dockerfile writes them: quoted ADD sources, URLs held in
a shell variable, an ENV or an ARG, commands after then/do; what is assembled at build time is
said, never guessed."""

from __future__ import annotations

import pytest

from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import find_sites

URL = "https://example.org/tool-1.0.tgz"


@pytest.mark.parametrize("text", [
    f'FROM alpine\nADD "{URL}" /t.tgz\n',
    f"FROM alpine\nARG TOOL_URL={URL}\nADD ${{TOOL_URL}} /t.tgz\n",
    f"FROM alpine\nRUN if true; then curl -fsSLo /t.tgz {URL}; fi\n",
    f"FROM alpine\nRUN for x in a; do wget -O /t.tgz {URL}; done\n",
    f"FROM alpine\nRUN url='{URL}'; curl -fsSLo /t.tgz \"$url\"\n",
    f"FROM alpine\nENV TOOL_URL={URL}\nRUN curl -fsSLo /t.tgz \"${{TOOL_URL}}\"\n",
    f'FROM alpine\nARG TOOL_URL="{URL}"\nRUN curl -o "$dest" "$TOOL_URL"\n',
])
def test_the_download_is_found_with_its_url(text: str) -> None:
    sites = find_sites(parse(text))
    assert [u.url for u in sites.urls] == [URL]
    assert sites.urls[0].line == text.count("\n")
    assert not sites.unmanaged


@pytest.mark.parametrize(("text", "said"), [
    ("FROM alpine\nRUN for u in a b; do curl -fsSLo /x \"$u\"; done\n", "downloads from $u"),
    ("FROM alpine\nRUN url=\"$(cat /u)\"; curl -fsSLo /x \"$url\"\n", "downloads from $url"),
    ("FROM alpine\nRUN wget -O /x \"$(cat /url)\"\n", "a URL a command prints"),
    ("FROM alpine\nRUN curl -fsSLo /x \"$NOWHERE\"\n", "downloads from $NOWHERE"),
])
def test_a_url_assembled_at_build_time_is_said_not_guessed(text: str, said: str) -> None:
    sites = find_sites(parse(text))
    assert not sites.urls
    assert [(u.line, said in u.reason) for u in sites.unmanaged] == [(2, True)]


@pytest.mark.parametrize("text", [
    # a flag without a value before the URL variable
    f'FROM alpine\nARG TOOL_URL="{URL}"\nRUN curl -L ${{TOOL_URL}} -o /t.tgz\n',
    f'FROM alpine\nARG TOOL_URL="{URL}"\nRUN wget -q "$TOOL_URL" -O /t.tgz\n',
])
def test_a_url_variable_after_a_flag_is_the_download(text: str) -> None:
    sites = find_sites(parse(text))
    assert [u.url for u in sites.urls] == [URL]


def test_a_url_arg_is_read_as_written_so_its_version_variable_shows() -> None:
    text = ("FROM alpine\nARG T_VERSION=1.0\n"
            'ARG T_URL="https://github.com/o/t/releases/download/${T_VERSION}/t_amd64"\n'
            "RUN curl -L ${T_URL} -o /t\n")
    assert [u.url for u in find_sites(parse(text)).urls] == [
        "https://github.com/o/t/releases/download/${T_VERSION}/t_amd64"]
