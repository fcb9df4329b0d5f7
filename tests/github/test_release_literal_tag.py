"""A checked GitHub release download whose tag is written in the URL (gosu, buildx style):
`init` adopts it, `verify` agrees, and `bump`/`update` through the loopback GitHub move every
place the version is written (tag, asset names, a version ENV) and each arm's sha256, nothing
else."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import FakeGitHub

GH = "https://github.com/acme/tool/releases/download"
FILES = {v: {f"tool-v{v}.linux-{a}": f"tool {v} for {a}".encode() for a in ("amd64", "arm64")}
         for v in ("1.0.0", "1.1.0")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(version: str, *, env: bool = False) -> str:
    """A per-arch `case` block; tag and asset names written literally, the sha256s too."""
    a = sha(FILES[version][f"tool-v{version}.linux-amd64"])
    b = sha(FILES[version][f"tool-v{version}.linux-arm64"])
    head = f"ENV TOOL_VERSION {version}\n" if env else ""
    return f"""\
FROM scratch
{head}RUN set -eux; \\
\tcase "$(dpkg --print-architecture)" in \\
\t\t'amd64') url='{GH}/v{version}/tool-v{version}.linux-amd64'; sha256='{a}' ;; \\
\t\t'arm64') url='{GH}/v{version}/tool-v{version}.linux-arm64'; sha256='{b}' ;; \\
\t\t*) exit 1 ;; \\
\tesac; \\
\tcurl -fsSL -o /usr/local/bin/tool "$url"; \\
\techo "$sha256 */usr/local/bin/tool" | sha256sum -c -; \\
\techo "tool 1.0.0 ready"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker").mkdir()
    return tmp_path


def _github(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
    for version, assets in FILES.items():
        fake.add_release("acme/tool", f"v{version}", assets)
    monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.mark.parametrize("env", [False, True])
def test_init_adopts_a_literal_tag_and_verify_agrees(
        env: bool, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _text("1.0.0", env=env)
    df = project / "docker" / "Dockerfile"
    df.write_text(text)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    assert "seen but not managed" not in r.out, r.out
    lock = (project / "image.lock.toml").read_text()
    assert 'kind = "github-release"' in lock and 'tag-template = "v{version}"' in lock
    assert '{name = "tool-v{version}.linux-amd64"}' in lock
    assert ('version-arg = "TOOL_VERSION"' in lock) == env
    assert df.read_text() == text
    assert run_cli(capsys, "verify", "tool", "--strict").code == 0
    # The version edited in one arm's URL alone: verify rejects it.
    df.write_text(text.replace("/v1.0.0/tool-v1.0.0.linux-arm64",
                               "/v1.0.1/tool-v1.0.0.linux-arm64"))
    bad = run_cli(capsys, "verify")
    assert bad.code != 0, bad.out


@pytest.mark.parametrize(("command", "env"), [("bump", False), ("update", False),
                                              ("bump", True)])
def test_bump_moves_every_literal_together(
        command: str, env: bool, project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    df = project / "docker" / "Dockerfile"
    df.write_text(_text("1.0.0", env=env))
    assert run_cli(capsys, "init").code == 0
    with FakeGitHub() as fake:
        _github(monkeypatch, fake)
        args = ("bump", "tool", "1.1.0") if command == "bump" else ("update", "tool")
        r = run_cli(capsys, *args)
        assert r.code == 0, r
    # Tag, asset names, sha256s (and the ENV) moved; the echo's "1.0.0" is no pin: it stays.
    assert df.read_text() == _text("1.1.0", env=env).replace("tool 1.1.0 ready",
                                                             "tool 1.0.0 ready")
    lock = (project / "image.lock.toml").read_text()
    assert 'version = "1.1.0"' in lock and 'tag = "v1.1.0"' in lock
    assert run_cli(capsys, "verify", "tool", "--strict").code == 0


def test_a_version_split_by_a_line_continuation_is_reported(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = sha(FILES["1.0.0"]["tool-v1.0.0.linux-amd64"])
    text = f"""\
FROM scratch
RUN url='{GH}/v1.0.0/tool-v1.\\
0.0.linux-amd64'; \\
\tcurl -fsSL -o /tool "$url"; \\
\techo "{a}  /tool" | sha256sum -c -
"""
    df = project / "docker" / "Dockerfile"
    df.write_text(text)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    assert "no exact place" in r.out and "docker/Dockerfile:5" in r.out, r.out
    assert "github-release" not in (project / "image.lock.toml").read_text()
    assert run_cli(capsys, "verify").code == 0
