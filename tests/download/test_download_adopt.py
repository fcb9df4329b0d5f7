"""`init` adopts docker-library style checked downloads (a version ENV, the URLs of a per-arch
`case` block, the sha256 literals of its arms, or ENV-held URL and sha256), `bump` moves them
together, and what cannot be tied completely is reported, never locked half."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from support.cli import init_and_verify as _init
from support.cli import run_cli
from support.download_host import DownloadHost, go_index, sha256_hex

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _golang(base: str, version: str, amd64: str, arm64: str) -> str:
    """The docker-library golang block, with the version as ${GOLANG_VERSION} in the URLs."""
    return f"""\
FROM scratch
ENV GOLANG_VERSION {version}
RUN set -eux; \\
\tarch="$(dpkg --print-architecture)"; \\
\tcase "$arch" in \\
\t\t'amd64') \\
\t\t\turl="{base}/go${{GOLANG_VERSION}}.linux-amd64.tar.gz"; \\
\t\t\tsha256='{amd64}'; \\
\t\t\t;; \\
\t\t'arm64') \\
\t\t\turl="{base}/go${{GOLANG_VERSION}}.linux-arm64.tar.gz"; \\
\t\t\tsha256='{arm64}'; \\
\t\t\t;; \\
\t\t*) echo >&2 "error: unsupported architecture '$arch'"; exit 1 ;; \\
\tesac; \\
\tcurl -fL -o go.tgz "$url"; \\
\techo "$sha256 *go.tgz" | sha256sum -c -; \\
\ttar -C /usr/local -xzf go.tgz
"""



def test_a_golang_case_block_is_adopted_with_go_s_index(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, _golang("https://dl.google.com/go", "1.22.1", A, B), capsys)
    go = inputs["golang"]
    assert go["kind"] == "download"
    assert go["url"] == "https://dl.google.com/go/go{version}.linux-{arch}.tar.gz"
    assert go["version-arg"] == "GOLANG_VERSION" and "sha256-arg" not in go
    assert go["arch-map"] == {"linux/amd64": "amd64", "linux/arm64": "arm64"}
    assert go["platforms"] == ["linux/amd64", "linux/arm64"]
    assert go["versions"] == {"from": "json-index", "template": "go{version}",
                              "url": "https://go.dev/dl/?mode=json&include=all"}
    assert go["checksums"] == {"from": "json-index"}
    files = go["locked"]["files"]
    assert files["go1.22.1.linux-amd64.tar.gz"]["sha256"] == A
    assert files["go1.22.1.linux-arm64.tar.gz"]["sha256"] == B
    assert "set `versions`" not in out
    # An arm's sha256 edited by hand: verify names it.
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace(B, C))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "go1.22.1.linux-arm64.tar.gz" in r.out + r.err, r


def test_bump_moves_the_env_and_every_arm_s_sha256_together(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    releases = {f"go{v}": {f"go{v}.linux-{a}.tar.gz": f"go {v} {a}".encode()
                           for a in ("amd64", "arm64")} for v in ("1.22.0", "1.22.1")}
    for files in releases.values():
        for n, d in files.items():
            host.put(f"/dl/{n}", d)
    host.put("/dl/index.json", go_index(releases))
    old = {a: sha256_hex(f"go 1.22.0 {a}".encode()) for a in ("amd64", "arm64")}
    new = {a: sha256_hex(f"go 1.22.1 {a}".encode()) for a in ("amd64", "arm64")}
    base = f"{host.url}/dl"
    inputs, out = _init(project, _golang(base, "1.22.0", old["amd64"], old["arm64"]), capsys)
    assert "versions" not in inputs["golang"] and "set `versions`" in out  # not Go's host
    lock = project / "image.lock.toml"
    text = lock.read_text()
    at = text.index('version-arg = "GOLANG_VERSION"\n') + len('version-arg = "GOLANG_VERSION"\n')
    lock.write_text(text[:at] + f'versions = {{ from = "json-index", template = "go{{version}}", '
                    f'url = "{base}/index.json?mode=json&include=all" }}\n'
                    'checksums = { from = "json-index" }\n' + text[at:])
    r = run_cli(capsys, "outdated", "--json")
    assert r.code == 0 and '"1.22.1"' in r.out, r
    r = run_cli(capsys, "bump", "golang", "1.22.1")
    assert r.code == 0, r
    # The ENV and each arm's sha256 moved, and nothing else.
    assert (project / "docker" / "Dockerfile").read_text() == _golang(
        base, "1.22.1", new["amd64"], new["arm64"])
    files = tomllib.loads(lock.read_text())["inputs"]["golang"]["locked"]["files"]
    assert files["go1.22.1.linux-arm64.tar.gz"]["sha256"] == new["arm64"]
    assert files["go1.22.1.linux-arm64.tar.gz"]["verified-by"] == ["json-index"]
    assert run_cli(capsys, "verify").code == 0


def test_an_env_held_url_and_sha256_are_adopted_and_move_together(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, _ = _init(project, f"""\
FROM scratch
ENV HAPROXY_VERSION 2.8.26
ENV HAPROXY_URL https://www.haproxy.org/download/2.8/src/haproxy-2.8.26.tar.gz
ENV HAPROXY_SHA256 {A}
RUN wget -O haproxy.tar.gz "$HAPROXY_URL"; \\
\techo "$HAPROXY_SHA256 *haproxy.tar.gz" | sha256sum -c
""", capsys)
    h = inputs["haproxy"]
    assert h["url"] == "https://www.haproxy.org/download/2.8/src/haproxy-{version}.tar.gz"
    assert (h["url-arg"], h["sha256-arg"]) == ("HAPROXY_URL", "HAPROXY_SHA256")
    assert h["locked"]["files"]["haproxy-2.8.26.tar.gz"]["sha256"] == A
    # The URL's version edited alone: verify wants the URL of the locked version.
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace("haproxy-2.8.26.tar.gz", "haproxy-2.8.27.tar.gz"))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "HAPROXY_URL" in r.out + r.err, r


@pytest.mark.parametrize(("text", "reason"), [
    # The version written inside RUN text, split by a line continuation: no exact place.
    ("ENV GOLANG_VERSION 1.22.1\n"
     "RUN case \"$arch\" in amd64) url='https://dl.google.com/go/go1.22\\\n.1.linux-amd64.tar.gz'; "
     f"sha256='{A}' ;; arm64) url='https://dl.google.com/go/go1.22.1.linux-arm64.tar.gz'; "
     f"sha256='{B}' ;; esac; curl -o go.tgz \"$url\"; echo \"$sha256 *go.tgz\" | sha256sum -c -\n",
     "is written inside RUN text"),
    # An arm whose pattern names no platform.
    ("ENV T_VERSION 1.0\n"
     "RUN case \"$arch\" in amd64) url='https://x.example.org/t-${T_VERSION}-amd64.tgz'; "
     f"sha256='{A}' ;; weird) url='https://x.example.org/t-${{T_VERSION}}-weird.tgz'; "
     f"sha256='{B}' ;; esac; curl -o t.tgz \"$url\"; echo \"$sha256 *t.tgz\" | sha256sum -c -\n",
     "names no single platform"),
    # Arms whose URLs differ in two places.
    ("ENV T_VERSION 1.0\n"
     "RUN case \"$arch\" in amd64) url='https://x.example.org/x64/t-${T_VERSION}-x86_64.tgz'; "
     f"sha256='{A}' ;; arm64) url='https://x.example.org/arm/t-${{T_VERSION}}-aarch64.tgz'; "
     f"sha256='{B}' ;; esac; curl -o t.tgz \"$url\"; echo \"$sha256 *t.tgz\" | sha256sum -c -\n",
     "differ in more than one place"),
    # No version ARG or ENV, and a URL assembled at build time (written whole, it is a
    # fixed download: tests/download/test_download_fixed.py).
    (f"RUN d=\"$(date +%Y)\"; curl -o t.tgz \"https://x.example.org/$d/t.tgz\" && "
     f"echo \"{A}  t.tgz\" | sha256sum -c -\n", "assembled from values known at build time"),
    # A URL built with a shell expansion pinlock does not evaluate (a substitution).
    (f"ENV T_VERSION 1.0.1\nENV T_SHA256 {A}\n"
     "RUN curl -o t.tgz \"https://x.example.org/${T_VERSION/./-}/t-$T_VERSION.tgz\" "
     "&& echo \"$T_SHA256 *t.tgz\" | sha256sum -c -\n", "shell expansions"),
    # A removal whose pattern shells read differently ("^" in a bracket expression).
    (f"ENV T_VERSION 1.0.1\nENV T_SHA256 {A}\n"
     "RUN curl -o t.tgz \"https://x.example.org/${T_VERSION%%[^0-9.]*}/t-$T_VERSION.tgz\" "
     "&& echo \"$T_SHA256 *t.tgz\" | sha256sum -c -\n", "cannot evaluate exactly"),
    # Another URL, not named for the download, holds the version literally and would be left
    # behind (one named for it moves with it: test_download_expand.py).
    (f"ENV T_VERSION 1.0\nENV T_URL https://x.example.org/t-1.0.tgz\n"
     "ENV OTHER_ASC_URL https://x.example.org/t-1.0.tgz.asc\n"
     f"ENV T_SHA256 {A}\n"
     "RUN curl -o t.tgz \"$T_URL\" && echo \"$T_SHA256 *t.tgz\" | sha256sum -c -\n",
     "OTHER_ASC_URL also hold(s) version 1.0"),
])
def test_an_incomplete_block_is_reported_not_locked(
        text: str, reason: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, "FROM scratch\n" + text, capsys)
    assert not any(i.get("kind") == "download" for i in inputs.values()), inputs
    assert reason in out, out
    assert "docker/Dockerfile:" in out
