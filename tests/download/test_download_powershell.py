"""Windows images' PowerShell checks (``(Get-FileHash f -Algorithm sha256).Hash -ne …``): `init`
adopts an ENV version with an ENV sha256 (the URL a ``-f`` format of ``$env:`` values), and a
literal URL with a literal sha256; `verify` agrees, an edited sha256 is a mismatch at its line;
`bump` through the loopback host moves the version and the sha256 together. A URL pinlock cannot
rebuild exactly (a ``-replace`` on the version) is reported, never locked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import init_and_verify as _init
from support.cli import run_cli
from support.download_host import DownloadHost, go_index, sha256_hex

SHELL = ('SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; '
         "$ProgressPreference = 'SilentlyContinue';\"]\n")


def _env_form(base: str, version: str, sha: str) -> str:
    return f"""\
FROM scratch
{SHELL}
ENV TOOL_VERSION {version}
ENV TOOL_SHA256 {sha}

RUN $url = ('{base}/pub/tool/tool-{{0}}-win64.zip' -f $env:TOOL_VERSION); \\
\tWrite-Host ('Downloading {{0}} ...' -f $url); \\
\tInvoke-WebRequest -Uri $url -OutFile 'tool.zip'; \\
\tWrite-Host ('Verifying sha256 ({{0}}) ...' -f $env:TOOL_SHA256); \\
\tif ((Get-FileHash tool.zip -Algorithm sha256).Hash -ne $env:TOOL_SHA256) {{ \\
\t\tWrite-Host 'FAILED!'; \\
\t\texit 1; \\
\t}}
"""


def _literal_form(base: str, version: str, sha: str) -> str:
    return f"""\
FROM scratch
{SHELL}
ENV GOLANG_VERSION {version}

RUN $url = '{base}/go{version}.windows-amd64.zip'; \\
\tWrite-Host ('Downloading {{0}} ...' -f $url); \\
\tInvoke-WebRequest -Uri $url -OutFile 'go.zip'; \\
\t$sha256 = '{sha}'; \\
\tWrite-Host ('Verifying sha256 ({{0}}) ...' -f $sha256); \\
\tif ((Get-FileHash go.zip -Algorithm sha256).Hash -ne $sha256) {{ \\
\t\texit 1; \\
\t}}
"""



def _add_sources(project: Path, after: str, sources: str) -> None:
    lock = project / "image.lock.toml"
    text = lock.read_text()
    at = text.index(after) + len(after)
    lock.write_text(text[:at] + sources + text[at:])


def _mismatch_lines(capsys: pytest.CaptureFixture[str]) -> list[int]:
    r = run_cli(capsys, "verify", "--json")
    assert r.code == 1, r
    return [f["line"] for f in json.loads(r.out)["findings"] if f["code"] == "mismatch"]


def test_env_version_and_sha256_with_a_format_url(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    for v in ("1.0.0", "1.1.0"):
        host.publish(f"/pub/tool/tool-{v}-win64.zip", f"tool {v}".encode(), bare=True)
    old, new = sha256_hex(b"tool 1.0.0"), sha256_hex(b"tool 1.1.0")
    df = project / "docker" / "Dockerfile"
    before = _env_form(host.url, "1.0.0", old)
    inputs, _ = _init(project, before, capsys)
    tool = inputs["tool"]
    assert tool["kind"] == "download"
    assert tool["url"] == f"{host.url}/pub/tool/tool-{{version}}-win64.zip"
    assert (tool["version-arg"], tool["sha256-arg"]) == ("TOOL_VERSION", "TOOL_SHA256")
    assert tool["locked"]["files"]["tool-1.0.0-win64.zip"]["sha256"] == old
    assert df.read_text() == before
    # The ENV's sha256 edited by hand: a mismatch at its line.
    df.write_text(before.replace(old, "0" * 64))
    assert _mismatch_lines(capsys) == [5]
    df.write_text(before)
    _add_sources(project, 'sha256-arg = "TOOL_SHA256"\n',
                 'versions = { from = "directory" }\nchecksums = { from = "sidecar" }\n')
    r = run_cli(capsys, "bump", "tool", "1.1.0")
    assert r.code == 0, r
    assert df.read_text() == _env_form(host.url, "1.1.0", new)
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_a_literal_url_and_sha256_move_with_the_env_version(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    releases = {f"go{v}": {f"go{v}.windows-amd64.zip": f"go {v}".encode()}
                for v in ("1.26.6", "1.26.7")}
    for files in releases.values():
        for n, d in files.items():
            host.put(f"/dl/{n}", d)
    host.put("/dl/index.json", go_index(releases))
    old, new = sha256_hex(b"go 1.26.6"), sha256_hex(b"go 1.26.7")
    base = f"{host.url}/dl"
    df = project / "docker" / "Dockerfile"
    before = _literal_form(base, "1.26.6", old)
    inputs, _ = _init(project, before, capsys)
    go = inputs["golang"]
    assert go["url"] == f"{base}/go{{version}}.windows-amd64.zip"
    assert go["version-arg"] == "GOLANG_VERSION" and "sha256-arg" not in go
    assert go["locked"]["files"]["go1.26.6.windows-amd64.zip"]["sha256"] == old
    df.write_text(before.replace(old, "0" * 64))
    assert _mismatch_lines(capsys) == [9]
    df.write_text(before)
    _add_sources(project, 'version-arg = "GOLANG_VERSION"\n',
                 f'versions = {{ from = "json-index", template = "go{{version}}", '
                 f'url = "{base}/index.json" }}\nchecksums = {{ from = "json-index" }}\n')
    r = run_cli(capsys, "bump", "golang", "1.26.7")
    assert r.code == 0, r
    # The ENV, the URL's version and the sha256 moved; nothing else.
    assert df.read_text() == _literal_form(base, "1.26.7", new)
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_a_sha256_printed_and_compared_moves_in_both_places(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sha = sha256_hex(b"vc")
    url = "https://download.example.org/download/6/A/vc_redist.x64.exe"
    text = f"""\
FROM scratch
{SHELL}
RUN Write-Host ('Downloading {url} ...'); \\
    curl.exe -LfsSo vc.exe {url} ; \\
    Write-Host ('Verifying sha256 ({sha}) ...'); \\
    if ((Get-FileHash vc.exe -Algorithm sha256).Hash -ne '{sha}') {{ exit 1 }}
"""
    inputs, _ = _init(project, text, capsys)
    vc = inputs["vc-redist"]
    assert vc["fixed"] is True and vc["url"] == url
    assert vc["locked"]["files"]["vc_redist.x64.exe"]["sha256"] == sha
    df = project / "docker" / "Dockerfile"
    df.write_text(text.replace(f"-ne '{sha}'", f"-ne '{'0' * 64}'"))
    assert _mismatch_lines(capsys) == [7]


def test_a_url_built_with_replace_is_reported_not_locked(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = f"""\
FROM scratch
{SHELL}
ENV PYTHON_VERSION 3.14.0
ENV PYTHON_SHA256 {sha256_hex(b"python")}

RUN $url = ('https://www.python.org/ftp/python/{{0}}/python-{{1}}-amd64.exe' -f \\
\t\t($env:PYTHON_VERSION -replace '[a-z]+[0-9]*$', ''), $env:PYTHON_VERSION); \\
\tInvoke-WebRequest -Uri $url -OutFile 'python.exe'; \\
\tif ((Get-FileHash python.exe -Algorithm sha256).Hash -ne $env:PYTHON_SHA256) {{ exit 1 }}
"""
    inputs, out = _init(project, text, capsys)
    assert not any(i.get("kind") == "download" for i in inputs.values()), inputs
    assert "-replace" in out and "cannot reproduce exactly" in out, out
    assert (project / "docker" / "Dockerfile").read_text() == text


def test_a_release_url_held_whole_in_an_env_is_adopted_by_the_release_kind(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://github.com/docker/buildx/releases/download/v0.36.1/buildx-v0.36.1.windows-amd64.exe"
    text = f"""\
FROM scratch
{SHELL}
ENV DOCKER_BUILDX_VERSION 0.36.1
ENV DOCKER_BUILDX_URL {url}
ENV DOCKER_BUILDX_SHA256 {sha256_hex(b"buildx")}
RUN $plugin = ('{{0}}\\docker-buildx.exe' -f $env:ProgramFiles); \\
\tInvoke-WebRequest -Uri $env:DOCKER_BUILDX_URL -OutFile $plugin; \\
\tif ((Get-FileHash $plugin -Algorithm sha256).Hash -ne $env:DOCKER_BUILDX_SHA256) {{ exit 1 }}
"""
    inputs, out = _init(project, text, capsys)
    # The version ENV, the places of the version in the URL ENV and the sha256 ENV move
    # together (tests/github/test_release_held_url.py bumps the Linux form).
    assert [i.get("kind") for i in inputs.values()] == ["github-release"], inputs
    assert "seen but not managed" not in out, out
    assert run_cli(capsys, "verify", "--strict").code == 0
