"""The docker-library golang block: `ENV GOLANG_VERSION` and each `case` arm's URL with the
version written literally. `init` adopts it, `verify` agrees, and `bump` through the loopback
Go JSON index moves the ENV, every URL's version and every arm's sha256 together, nothing else;
a version it cannot place exactly is reported, never guessed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from support.cli import run_cli
from support.download_host import DownloadHost, go_index, sha256_hex

ARCHES = ("amd64", "arm64")


def _golang(base: str, version: str, shas: dict[str, str]) -> str:
    return f"""\
FROM scratch
ENV GOLANG_VERSION {version}
RUN set -eux; \\
\tarch="$(dpkg --print-architecture)"; \\
\tcase "$arch" in \\
\t\t'amd64') \\
\t\t\turl='{base}/go{version}.linux-amd64.tar.gz'; \\
\t\t\tsha256='{shas["amd64"]}'; \\
\t\t\t;; \\
\t\t'arm64') \\
\t\t\turl='{base}/go{version}.linux-arm64.tar.gz'; \\
\t\t\tsha256='{shas["arm64"]}'; \\
\t\t\t;; \\
\t\t*) echo >&2 "error: unsupported architecture '$arch'"; exit 1 ;; \\
\tesac; \\
\twget -O go.tgz.asc "$url.asc"; \\
\twget -O go.tgz "$url"; \\
\techo "$sha256 *go.tgz" | sha256sum -c -; \\
\techo 'built with 1.22.0 in mind'
"""


def test_literal_urls_are_adopted_and_bump_moves_them_with_the_env(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    releases = {f"go{v}": {f"go{v}.linux-{a}.tar.gz": f"go {v} {a}".encode() for a in ARCHES}
                for v in ("1.22.0", "1.22.1")}
    for files in releases.values():
        for n, d in files.items():
            host.put(f"/dl/{n}", d)
    host.put("/dl/index.json", go_index(releases))
    old = {a: sha256_hex(f"go 1.22.0 {a}".encode()) for a in ARCHES}
    new = {a: sha256_hex(f"go 1.22.1 {a}".encode()) for a in ARCHES}
    base = f"{host.url}/dl"
    df = project / "docker" / "Dockerfile"
    before = _golang(base, "1.22.0", old)
    df.write_text(before)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    assert "no exact place" not in r.out, r.out
    lock = project / "image.lock.toml"
    go = tomllib.loads(lock.read_text())["inputs"]["golang"]
    assert go["url"] == f"{base}/go{{version}}.linux-{{arch}}.tar.gz"
    assert go["version-arg"] == "GOLANG_VERSION" and "url-arg" not in go
    assert go["locked"]["files"]["go1.22.0.linux-arm64.tar.gz"]["sha256"] == old["arm64"]
    assert df.read_text() == before
    assert run_cli(capsys, "verify", "--strict").code == 0
    text = lock.read_text()
    at = text.index('version-arg = "GOLANG_VERSION"\n') + len('version-arg = "GOLANG_VERSION"\n')
    lock.write_text(text[:at] + f'versions = {{ from = "json-index", template = "go{{version}}", '
                    f'url = "{base}/index.json?mode=json&include=all" }}\n'
                    'checksums = { from = "json-index" }\n' + text[at:])
    r = run_cli(capsys, "bump", "golang", "1.22.1")
    assert r.code == 0, r
    # The ENV, both URLs' versions and both sha256s moved; the echo's 1.22.0 is no pin.
    assert df.read_text() == _golang(base, "1.22.1", new).replace(
        "built with 1.22.1 in mind", "built with 1.22.0 in mind")
    assert run_cli(capsys, "verify", "--strict").code == 0


def test_a_url_edited_alone_is_a_mismatch(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shas = {a: sha256_hex(a.encode()) for a in ARCHES}
    df = project / "docker" / "Dockerfile"
    text = _golang("https://go.example.org/dl", "1.22.0", shas)
    df.write_text(text)
    assert run_cli(capsys, "init").code == 0
    assert run_cli(capsys, "verify").code == 0
    df.write_text(text.replace("go1.22.0.linux-arm64", "go1.22.1.linux-arm64"))
    assert run_cli(capsys, "verify").code != 0


def test_a_version_split_by_a_line_continuation_is_reported(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shas = {a: sha256_hex(a.encode()) for a in ARCHES}
    text = _golang("https://go.example.org/dl", "1.22.0", shas).replace(
        "go1.22.0.linux-arm64", "go1.22\\\n.0.linux-arm64")
    df = project / "docker" / "Dockerfile"
    df.write_text(text)
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    assert "no exact place" in r.out and "GOLANG_VERSION" in r.out, r.out
    assert 'kind = "download"' not in (project / "image.lock.toml").read_text()
    assert df.read_text() == text
    assert run_cli(capsys, "verify").code == 0
