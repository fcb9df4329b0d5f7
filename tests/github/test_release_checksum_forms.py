"""The checksum forms real Dockerfiles use for GitHub release downloads: `init` adopts each one
and `verify` accepts its lock; `bump` and `update` through the loopback GitHub move a version
and its checksums together, rewriting only the characters of each value."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import FakeGitHub

GH = "https://github.com/acme/tool/releases/download"
FILES = {v: {f"tool-linux-{a}.tgz": f"tool {v} for {a}".encode() for a in ("amd64", "arm64")}
         for v in ("1.0.0", "1.1.0")}
FILES_V = {v: {f"tool-{v}-linux-{a}.tgz": f"tool {v} {a}".encode() for a in ("amd64", "arm64")}
           for v in ("1.0.0", "1.1.0")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


A = sha(FILES["1.0.0"]["tool-linux-amd64.tgz"])
B = sha(FILES["1.0.0"]["tool-linux-arm64.tgz"])
AV = sha(FILES_V["1.0.0"]["tool-1.0.0-linux-amd64.tgz"])
BV = sha(FILES_V["1.0.0"]["tool-1.0.0-linux-arm64.tgz"])

DOWNLOAD = f'curl -fsSLo /tmp/t.tgz "{GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz"'
CASE = f"""\
FROM debian:13
ENV TOOL_VERSION=1.0.0
RUN set -eux; \\
    case "$(dpkg --print-architecture)" in \\
        amd64) sha256='{A}'; url="{GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz" ;; \\
        arm64) sha256='{B}'; url="{GH}/v${{TOOL_VERSION}}/tool-linux-arm64.tgz" ;; \\
        *) exit 1 ;; \\
    esac; \\
    curl -fsSLo /tmp/t.tgz "$url"; \\
    echo "$sha256 */tmp/t.tgz" | sha256sum -c -
"""
ENV_PAIR = f"""\
FROM debian:13
ENV TOOL_VERSION=1.0.0 \\
    TOOL_SHA256={A}
RUN {DOWNLOAD} \\
 && echo "${{TOOL_SHA256}}  /tmp/t.tgz" | sha256sum -c -
"""
# name: (Dockerfile, the line of a sha256 that verify must watch, the sha256 there)
FORMS: dict[str, tuple[str, int, str]] = {
    "tool-sha256-echo-pipe": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ARG TOOL_SHA256={A}
RUN {DOWNLOAD} && echo "${{TOOL_SHA256}}  /tmp/t.tgz" | sha256sum -c -
""", 3, A),
    "x-checksum-star-check": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ARG X_CHECKSUM={A}
RUN {DOWNLOAD} && echo "$X_CHECKSUM */tmp/t.tgz" | sha256sum --check --strict
""", 3, A),
    "here-string": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ARG X_SHA256={A}
RUN {DOWNLOAD} && sha256sum -c <<<"${{X_SHA256}}  /tmp/t.tgz"
""", 3, A),
    "sha256-arch-names": (f"""\
FROM debian:13
ARG TARGETARCH
ARG TOOL_VERSION=1.0.0
ARG SHA256_AMD64={A}
ARG SHA256_ARM64={B}
ADD {GH}/v${{TOOL_VERSION}}/tool-linux-${{TARGETARCH}}.tgz /tmp/
""", 5, B),
    "env-pair": (ENV_PAIR, 3, A),
    "add-checksum-arg": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ARG TOOL_AMD64=x
ARG BIN_SHA256={A}
ADD --checksum=sha256:${{BIN_SHA256}} {GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz /tmp/t.tgz
""", 4, A),
    "add-checksum-literal": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ADD --checksum=sha256:{A} {GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz /tmp/t.tgz
""", 3, A),
    "echo-literal": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
RUN {DOWNLOAD} \\
 && echo "{A}  /tmp/t.tgz" | sha256sum -c -
""", 4, A),
    "case-arms": (CASE, 6, B),
    "version-in-asset-name": (f"""\
FROM debian:13
ARG TOOL_VERSION=1.0.0
ARG TOOL_AMD64_SHA256={AV}
ARG TOOL_ARM64_SHA256={BV}
ADD {GH}/v${{TOOL_VERSION}}/tool-${{TOOL_VERSION}}-linux-amd64.tgz /tmp/
ADD {GH}/v${{TOOL_VERSION}}/tool-${{TOOL_VERSION}}-linux-arm64.tgz /tmp/
""", 4, BV),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker").mkdir()
    return tmp_path


@pytest.mark.parametrize("form", sorted(FORMS))
def test_init_adopts_the_checksum_and_verify_watches_it(
        form: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, line, value = FORMS[form]
    df = project / "docker" / "Dockerfile"
    df.write_text(text)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    lock = (project / "image.lock.toml").read_text()
    assert 'kind = "github-release"' in lock and 'repository = "acme/tool"' in lock, r.out
    assert f'sha256 = "{value}"' in lock
    assert "seen but not managed" not in r.out, r.out
    assert df.read_text() == text
    v = run_cli(capsys, "verify", "tool", "--strict")
    assert v.code == 0, v.out
    # The adopted value is watched where it sits: a changed digit is a mismatch on its line.
    df.write_text(text.replace(value, value[:-1] + ("0" if value[-1] != "0" else "1"), 1))
    bad = run_cli(capsys, "verify")
    assert bad.code == 1 and f"docker/Dockerfile:{line}:" in bad.out, bad.out


def test_version_in_asset_name_is_a_template() -> None:
    from pinlock.kinds.release.model import AssetIntent, ReleaseIntent

    intent = ReleaseIntent("acme/tool", "TOOL_VERSION",
                           (AssetIntent("tool-{version}-linux-{arch}.tgz", "T_{ARCH}_SHA256"),),
                           arch_map={"linux/amd64": "amd64"})
    (p,) = intent.plan(["linux/amd64"], version="1.1.0")
    assert (p.name, p.sha256_arg) == ("tool-1.1.0-linux-amd64.tgz", "T_AMD64_SHA256")


def _serve(fake: FakeGitHub, files: dict[str, dict[str, bytes]]) -> None:
    for version, assets in files.items():
        fake.add_release("acme/tool", f"v{version}", assets)


def _github(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
    monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


def _changed(before: str, after: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
            if a != b]


@pytest.mark.parametrize("command", ["bump", "update"])
def test_a_case_blocks_literals_move_with_the_version(
        command: str, project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    df = project / "docker" / "Dockerfile"
    df.write_text(CASE)
    assert run_cli(capsys, "init").code == 0
    with FakeGitHub() as fake:
        _serve(fake, FILES)
        _github(monkeypatch, fake)
        args = ("bump", "tool", "1.1.0") if command == "bump" else ("update", "tool")
        r = run_cli(capsys, *args)
        assert r.code == 0, r
    new = {a: sha(FILES["1.1.0"][f"tool-linux-{a}.tgz"]) for a in ("amd64", "arm64")}
    after = df.read_text()
    # Exactly the version and the two literals moved; every other byte stays.
    assert after == (CASE.replace("TOOL_VERSION=1.0.0", "TOOL_VERSION=1.1.0")
                     .replace(A, new["amd64"]).replace(B, new["arm64"]))
    assert len(_changed(CASE, after)) == 3
    lock = (project / "image.lock.toml").read_text()
    assert 'version = "1.1.0"' in lock and 'verified-by = ["api-digest", "sidecar"]' in lock
    assert run_cli(capsys, "verify", "tool", "--strict").code == 0


def test_an_env_held_version_and_checksum_move_together(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    df = project / "docker" / "Dockerfile"
    df.write_text(ENV_PAIR)
    assert run_cli(capsys, "init").code == 0
    with FakeGitHub() as fake:
        _serve(fake, FILES)
        _github(monkeypatch, fake)
        r = run_cli(capsys, "update", "tool")
        assert r.code == 0, r
        assert run_cli(capsys, "verify", "--online", "tool").code == 0
    new = sha(FILES["1.1.0"]["tool-linux-amd64.tgz"])
    assert df.read_text() == ENV_PAIR.replace("1.0.0", "1.1.0").replace(A, new)
    assert run_cli(capsys, "verify", "tool", "--strict").code == 0


def test_version_in_asset_names_moves_on_bump(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = FORMS["version-in-asset-name"][0]
    df = project / "docker" / "Dockerfile"
    df.write_text(text)
    assert run_cli(capsys, "init").code == 0
    lock = (project / "image.lock.toml").read_text()
    assert '"tool-1.0.0-linux-amd64.tgz"' in lock and "tool-{version}-linux-" in lock
    with FakeGitHub() as fake:
        _serve(fake, FILES_V)
        _github(monkeypatch, fake)
        r = run_cli(capsys, "bump", "tool", "1.1.0")
        assert r.code == 0, r
    after = df.read_text()
    for a in ("amd64", "arm64"):
        assert sha(FILES_V["1.1.0"][f"tool-1.1.0-linux-{a}.tgz"]) in after
    assert run_cli(capsys, "verify", "tool", "--strict").code == 0
