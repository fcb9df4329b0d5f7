"""`init` never writes a lock its own `verify` rejects: what it cannot tie completely is left
out of the lock and reported with its line. One minimal form per way that used to fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_cli

CASES = {
    # A version ARG in a GitHub release URL, and no checksum ARG pinlock can tie to it.
    "release-without-checksum-arg": ("""\
FROM alpine:3.20
ARG TOOL_VERSION=1.2.3
RUN wget -O /tmp/tool.tgz \\
    https://github.com/acme/tool/releases/download/v${TOOL_VERSION}/tool-linux-amd64.tgz
""", 3, "with no checksum pinlock can tie to it"),
    # The sha256 is fetched while the image builds: nothing in the Dockerfile to pin.
    "checksum-fetched-at-build-time": ("""\
FROM alpine:3.20
ARG TOOL_VERSION=1.2.3
RUN wget -O /tmp/t.tgz https://github.com/acme/t/releases/download/v${TOOL_VERSION}/t.tgz \\
 && echo "$(wget -qO- https://example.org/t.tgz.sha256)  /tmp/t.tgz" | sha256sum -c -
""", 3, "with no checksum pinlock can tie to it"),
    # An apt version pattern: apt picks the version when the image builds.
    "apt-version-glob": ("""\
FROM debian:13.4
RUN apt-get update \\
 && apt-get install -y curl s3cmd=1.1.0*
""", 3, "is a pattern apt matches when the image builds"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_init_leaves_out_what_it_cannot_tie_and_verify_accepts_its_lock(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text, line, reason = CASES[case]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(text)
    r = run_cli(capsys, "init", "--dockerfile", "Dockerfile")
    assert r.code == 0, r.err
    assert f"Dockerfile:{line}: " in r.out and reason in r.out, r.out
    lock = (tmp_path / "image.lock.toml").read_text()
    assert "github-release" not in lock and "{arch}" not in lock and 'kind = "apt"' not in lock
    v = run_cli(capsys, "verify", "--dockerfile", "Dockerfile")
    assert v.code == 0, v.out + v.err


def test_a_release_url_held_in_an_arg_is_adopted_with_its_checksum_arg(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sha = "b" * 64
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(f"""\
FROM alpine:3.20
ARG FLUXCTL_VERSION="1.21.0"
ARG FLUXCTL_CHECKSUM="{sha}"
ARG FLUXCTL_URL="https://github.com/fluxcd/flux/releases/download/${{FLUXCTL_VERSION}}/fluxctl_linux_amd64"
RUN curl -L ${{FLUXCTL_URL}} -o /usr/local/bin/fluxctl \\
 && echo "${{FLUXCTL_CHECKSUM}}  /usr/local/bin/fluxctl" | sha256sum -c
""")
    r = run_cli(capsys, "init", "--dockerfile", "Dockerfile")
    assert r.code == 0, r.err
    lock = (tmp_path / "image.lock.toml").read_text()
    assert 'repository = "fluxcd/flux"' in lock and f'sha256 = "{sha}"' in lock
    assert run_cli(capsys, "verify", "--dockerfile", "Dockerfile").code == 0
    (tmp_path / "Dockerfile").write_text(
        (tmp_path / "Dockerfile").read_text().replace(sha, "c" * 64))
    assert run_cli(capsys, "verify", "--dockerfile", "Dockerfile").code == 1
