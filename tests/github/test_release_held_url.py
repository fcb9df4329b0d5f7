"""A checked GitHub release download whose URL an ENV writes out whole, its sha256 in another
ENV (docker-library's Windows images: `ENV DOCKER_BUILDX_URL https://…/v0.36.1/…`):
`init` adopts it, `verify` names a URL edited by hand, and `bump` moves the version ENV, every
place of the version in the URL ENV and the sha256 ENV, nothing else."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_github import FakeGitHub

GH = "https://github.com/acme/tool/releases/download"
FILES = {v: {f"tool-v{v}.linux-amd64": f"tool {v}".encode()} for v in ("1.0.0", "1.1.0")}


def _text(version: str) -> str:
    data = FILES[version][f"tool-v{version}.linux-amd64"]
    return f"""\
FROM scratch
ENV TOOL_VERSION {version}
ENV TOOL_URL {GH}/v{version}/tool-v{version}.linux-amd64
ENV TOOL_SHA256 {hashlib.sha256(data).hexdigest()}
RUN curl -fsSL -o /usr/local/bin/tool "$TOOL_URL" \\
 && echo "$TOOL_SHA256 */usr/local/bin/tool" | sha256sum -c -
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker").mkdir()
    return tmp_path


def test_init_adopts_it_and_verify_names_an_edited_url(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = project / "docker" / "Dockerfile"
    df.write_text(_text("1.0.0"))
    r = run_cli(capsys, "init")
    assert r.code == 0 and "seen but not managed" not in r.out, r.out
    lock = (project / "image.lock.toml").read_text()
    assert 'version-arg = "TOOL_VERSION"' in lock and 'sha256-arg = "TOOL_SHA256"' in lock
    assert run_cli(capsys, "verify", "--strict").code == 0
    df.write_text(_text("1.0.0").replace("/v1.0.0/tool-v1.0.0", "/v1.0.1/tool-v1.0.0"))
    bad = run_cli(capsys, "verify")
    assert bad.code == 1 and "docker/Dockerfile:3" in bad.out, bad.out


def test_bump_moves_the_version_the_url_and_the_sha256_together(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    df = project / "docker" / "Dockerfile"
    df.write_text(_text("1.0.0"))
    assert run_cli(capsys, "init").code == 0
    with FakeGitHub() as fake:
        for version, assets in FILES.items():
            fake.add_release("acme/tool", f"v{version}", assets)
        monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        r = run_cli(capsys, "bump", "tool", "1.1.0")
        assert r.code == 0, r
    assert df.read_text() == _text("1.1.0")
    assert run_cli(capsys, "verify", "--strict").code == 0
