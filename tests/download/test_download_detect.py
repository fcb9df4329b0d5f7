"""`init` adopts a versioned download and its sha256 ARG(s) as a download input, and leaves out
(reported, with its line) what it cannot tie completely; verify accepts every lock it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import init_and_verify as _init
from support.cli import run_cli

A, B = "a" * 64, "b" * 64



def test_a_sidecar_fetched_by_the_dockerfile_is_adopted_as_the_checksum_source(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, f"""\
FROM alpine:3.20@sha256:{"c" * 64}
ARG TOOL_VERSION=1.4.2
ARG TOOL_SHA256={A}
RUN curl -fsSLO https://dl.example.org/tool/tool-${{TOOL_VERSION}}.tar.gz \\
 && curl -fsSLO https://dl.example.org/tool/tool-${{TOOL_VERSION}}.tar.gz.sha256 \\
 && echo "${{TOOL_SHA256}}  tool-${{TOOL_VERSION}}.tar.gz" | sha256sum -c -
""", capsys)
    tool = inputs["tool"]
    assert tool["kind"] == "download"
    assert tool["url"] == "https://dl.example.org/tool/tool-{version}.tar.gz"
    assert tool["checksums"] == {"from": "sidecar"}
    assert "versions" not in tool and "set `versions`" in out
    assert tool["locked"]["files"]["tool-1.4.2.tar.gz"]["sha256"] == A
    assert "not tied" not in out
    r = run_cli(capsys, "init", "--force", "--json")  # checked against the JSON schema too
    assert r.code == 0 and json.loads(r.out)["inputs"]["tool"] == "download", r


def test_per_arch_checksum_args_and_the_arch_variable(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, f"""\
FROM scratch
ARG NODE_VERSION=20.11.1
ARG NODE_SHA256_X64={A}
ARG NODE_SHA256_ARM64={B}
ARG ARCH=x64
ADD https://nodejs.org/dist/v${{NODE_VERSION}}/node-v${{NODE_VERSION}}-linux-${{ARCH}}.tar.xz /n
""", capsys)
    node = inputs["node"]
    assert node["sha256-arg"] == "NODE_SHA256_{ARCH}"
    assert node["arch-map"] == {"linux/amd64": "x64", "linux/arm64": "arm64"}
    assert "checksums" not in node and "set `checksums`" in out
    files = node["locked"]["files"]
    assert files["node-v20.11.1-linux-arm64.tar.xz"]["sha256"] == B
    # Edited by hand afterwards: verify names the ARG and what the lock wants.
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace(B, A))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "NODE_SHA256_ARM64" in r.out + r.err, r


@pytest.mark.parametrize(("text", "reason"), [
    # No checksum ARG at all.
    ("ARG T_VERSION=1.0\nADD https://x.example.org/t-${T_VERSION}.tgz /t\n",
     "no checksum ARG named T_SHA256"),
    # Two other variables: which one is the arch?
    (f"ARG T_VERSION=1.0\nARG T_SHA256={A}\nARG OS=linux\nARG ARCH=amd64\n"
     "ADD https://x.example.org/t-${T_VERSION}-${OS}-${ARCH}.tgz /t\n",
     "cannot tell which one is the architecture"),
    # Per-arch URL but one checksum for every platform.
    (f"ARG T_VERSION=1.0\nARG T_SHA256={A}\nARG ARCH=amd64\n"
     "ADD https://x.example.org/t-${T_VERSION}-${ARCH}.tgz /t\n", "T_SHA256_<ARCH>"),
    # The checksum ARG holds no sha256.
    ("ARG T_VERSION=1.0\nARG T_SHA256=changeme\nADD https://x.example.org/t-${T_VERSION}.tgz /t\n",
     "does not hold one sha256"),
    # A literal ADD --checksum that disagrees with the ARG.
    (f"ARG T_VERSION=1.0\nARG T_SHA256={A}\n"
     f"ADD --checksum=sha256:{B} https://x.example.org/t-${{T_VERSION}}.tgz /t\n",
     "disagrees with ARG T_SHA256"),
    # A version with shell syntax in it.
    (f"ARG T_VERSION=1.0;id\nARG T_SHA256={A}\nADD https://x.example.org/t-${{T_VERSION}}.tgz /t\n",
     "release version"),
])
def test_what_cannot_be_tied_is_reported_never_locked_half(
        text: str, reason: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, "FROM scratch\n" + text, capsys)
    assert not any(i.get("kind") == "download" for i in inputs.values()), inputs
    assert reason in out, out
    assert "docker/Dockerfile:" in out
