"""lock, update, bump and verify --online of download inputs, against loopback upstreams in
each documented shape (Node's index.json + signed SHASUMS256.txt, Go's JSON index, GitHub tags
with sidecars, GitLab tags with SHA256SUMS, an autoindex listing)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli, snapshot
from support.download_host import DownloadHost, go_index, node_index, sha256_hex, sums_text
from support.fake_github import FakeGitHub

from download.conftest import Signer

X64, ARM = "linux/amd64", "linux/arm64"


def _write(project: Path, dockerfile: str, lock: str) -> None:
    (project / "docker" / "Dockerfile").write_text(dockerfile)
    (project / "image.lock.toml").write_text(lock)


def _locked(project: Path, name: str) -> dict[str, Any]:
    data = tomllib.loads((project / "image.lock.toml").read_text())
    locked: dict[str, Any] = data["inputs"][name]["locked"]
    return locked


def _codes(out: str) -> list[tuple[str, str]]:
    return [(f["input"], f["code"]) for f in json.loads(out)["findings"]]


# ------------------------------------------------------------------ Node: index.json, signed sums


def _node_release(host: DownloadHost, signer: Signer, version: str, salt: bytes = b"") -> None:
    files = {f"node-v{version}-linux-{a}.tar.xz": f"node {version} {a}".encode() + salt
             for a in ("x64", "arm64")}
    for n, d in files.items():
        host.put(f"/dist/v{version}/{n}", d)
    sums = sums_text(files)
    host.put(f"/dist/v{version}/SHASUMS256.txt", sums)
    host.put(f"/dist/v{version}/SHASUMS256.txt.asc", signer.sign(sums))


@pytest.fixture
def node(project: Path, host: DownloadHost, signers: tuple[Signer, Signer]) -> DownloadHost:
    signer = signers[0]
    for v in ("20.11.0", "20.11.1", "21.0.0"):
        _node_release(host, signer, v)
    host.put("/dist/index.json", node_index({"v21.0.0": "2026-01-03", "v20.11.1": "2026-01-02",
                                             "v20.11.0": "2026-01-01", "v19.0.0-rc.1": ""}))
    host.put("/keys/release.asc", signer.public_key())
    _write(project, f"""\
FROM scratch
ARG NODE_VERSION=20.11.0
ARG NODE_SHA256_X64=unset
ARG NODE_SHA256_ARM64=unset
ADD {host.url}/dist/v${{NODE_VERSION}}/node-v${{NODE_VERSION}}-linux-x64.tar.xz /node.tar.xz
""", f"""\
version = 1

[inputs.node]
kind = "download"
url = "{host.url}/dist/v{{version}}/node-v{{version}}-linux-{{arch}}.tar.xz"
version-arg = "NODE_VERSION"
sha256-arg = "NODE_SHA256_{{ARCH}}"
arch-map = {{ "linux/amd64" = "x64", "linux/arm64" = "arm64" }}
versions = {{ from = "json-index", url = "{host.url}/dist/index.json" }}
checksums = {{ from = "sums-file", url = "{host.url}/dist/v{{version}}/SHASUMS256.txt" }}

[inputs.node.signature]
url = "{host.url}/dist/v{{version}}/SHASUMS256.txt.asc"
fingerprint = "{signer.fingerprint}"
key-url = "{host.url}/keys/release.asc"

[inputs.node.locked]
version = "20.11.0"
""")
    return host


def test_node_lock_update_verify_online_and_a_replaced_file(
        node: DownloadHost, project: Path, signers: tuple[Signer, Signer],
        capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "lock")
    assert r.code == 0, r
    df = (project / "docker" / "Dockerfile").read_text()
    x64 = sha256_hex(b"node 20.11.0 x64")
    assert f"ARG NODE_SHA256_X64={x64}" in df
    assert f"ARG NODE_SHA256_ARM64={sha256_hex(b'node 20.11.0 arm64')}" in df
    files = _locked(project, "node")["files"]
    assert isinstance(files, dict)
    assert files["node-v20.11.0-linux-x64.tar.xz"] == {
        "sha256": x64, "sha256-arg": "NODE_SHA256_X64", "platform": X64,
        "url": f"{node.url}/dist/v20.11.0/node-v20.11.0-linux-x64.tar.xz",
        "verified-by": ["signature", "sums-file"]}
    assert run_cli(capsys, "verify").code == 0

    # update stays on the locked major (21.0.0 is another major; the rc is a pre-release).
    r = run_cli(capsys, "update", "--json")
    assert r.code == 0, r
    assert [(c["from"], c["to"]) for c in json.loads(r.out)["changes"]] == [
        ("20.11.0", "20.11.1")]
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG NODE_VERSION=20.11.1" in df
    assert f"ARG NODE_SHA256_ARM64={sha256_hex(b'node 20.11.1 arm64')}" in df
    r = run_cli(capsys, "verify", "--online", "--json")
    assert r.code == 0, r

    # The same version, other bytes (and a sums file signed anew): verify raises the alarm.
    _node_release(node, signers[0], "20.11.1", salt=b" replaced")
    r = run_cli(capsys, "verify", "--online", "--json")
    assert r.code == 1, r
    assert set(_codes(r.out)) == {("node", "asset-replaced")}
    # Re-locking the same version refuses the replaced file, and writes nothing.
    before = snapshot(project)
    r = run_cli(capsys, "bump", "node", "20.11.1")
    assert r.code == 1 and "no longer serves the locked file" in r.err, r
    assert snapshot(project) == before


def test_node_bump_to_another_major(node: DownloadHost, project: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "bump", "node", "21.0.0")
    assert r.code == 0, r
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG NODE_VERSION=21.0.0" in df
    assert f"ARG NODE_SHA256_X64={sha256_hex(b'node 21.0.0 x64')}" in df
    assert run_cli(capsys, "verify").code == 0


@pytest.mark.parametrize("attack", ["tampered-sums", "other-key", "key-swapped"])
def test_a_bad_signature_is_refused_and_nothing_is_written(
        attack: str, node: DownloadHost, project: Path, signers: tuple[Signer, Signer],
        capsys: pytest.CaptureFixture[str]) -> None:
    other = signers[1]
    sums_path = "/dist/v20.11.0/SHASUMS256.txt"
    if attack == "tampered-sums":
        # The sums file changed after it was signed (a file swapped with its checksum).
        node.put(sums_path, node.files[sums_path].replace(b"linux-x64", b"linux-x64 "))
        node.put(sums_path, sums_text({"node-v20.11.0-linux-x64.tar.xz": b"evil",
                                       "node-v20.11.0-linux-arm64.tar.xz": b"evil"}))
    elif attack == "other-key":
        node.put(sums_path + ".asc", other.sign(node.files[sums_path]))
    else:
        # key-url serves the attacker's key and the attacker signed: the pinned fingerprint
        # is what is believed, not whatever key the URL serves.
        node.put("/keys/release.asc", other.public_key())
        node.put(sums_path + ".asc", other.sign(node.files[sums_path]))
    before = snapshot(project)
    r = run_cli(capsys, "lock")
    assert r.code == 1, r
    assert "signature" in r.err, r.err
    assert snapshot(project) == before


# ------------------------------------------------------------------ Go: the JSON index


def test_go_index_gives_versions_and_sha256_and_bump_moves_both_args(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    releases = {f"go{v}": {f"go{v}.linux-{a}.tar.gz": f"go {v} {a}".encode()
                           for a in ("amd64", "arm64")}
                for v in ("1.22.0", "1.22.1", "1.23rc1")}
    for files in releases.values():
        for n, d in files.items():
            host.put(f"/dl/{n}", d)
    host.put("/dl/index.json", go_index(releases, unstable=["go1.23rc1"]))
    _write(project, f"""\
FROM scratch
ARG GO_VERSION=1.22.0
ARG GO_SHA256_AMD64={"0" * 64}
ARG GO_SHA256_ARM64={"0" * 64}
RUN curl -fsSLo go.tgz {host.url}/dl/go${{GO_VERSION}}.linux-amd64.tar.gz
""", f"""\
version = 1

[inputs.go]
kind = "download"
url = "{host.url}/dl/go{{version}}.linux-{{arch}}.tar.gz"
version-arg = "GO_VERSION"
sha256-arg = "GO_SHA256_{{ARCH}}"
arch-map = {{ "linux/amd64" = "amd64", "linux/arm64" = "arm64" }}
versions = {{ from = "json-index", template = "go{{version}}", \
             url = "{host.url}/dl/index.json?mode=json&include=all" }}
checksums = {{ from = "json-index" }}

[inputs.go.locked]
version = "1.22.0"
""")
    r = run_cli(capsys, "outdated", "--json")
    assert r.code == 0, r
    assert [(x["locked"], x["newest"]) for x in json.loads(r.out)["inputs"]] == [
        ("1.22.0", "1.22.1")]  # go1.23rc1 is `stable: false`
    r = run_cli(capsys, "bump", "go", "1.22.1")
    assert r.code == 0, r
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG GO_VERSION=1.22.1" in df
    assert f"ARG GO_SHA256_AMD64={sha256_hex(b'go 1.22.1 amd64')}" in df
    assert f"ARG GO_SHA256_ARM64={sha256_hex(b'go 1.22.1 arm64')}" in df
    locked_files = _locked(project, "go")["files"]
    assert locked_files["go1.22.1.linux-arm64.tar.gz"]["verified-by"] == ["json-index"]
    assert locked_files["go1.22.1.linux-arm64.tar.gz"]["size"] == len(b"go 1.22.1 arm64")
    # Two sources with --deep: the index and the bytes. A file replaced on the host while
    # the index still lists the old sha256 is a disagreement, and nothing is written.
    host.put("/dl/go1.22.1.linux-amd64.tar.gz", b"replaced")
    before = snapshot(project)
    r = run_cli(capsys, "bump", "go", "1.22.1", "--deep")
    assert r.code == 1, r
    assert "checksum sources disagree" in r.err and "bytes=" in r.err, r.err
    assert snapshot(project) == before


# ------------------------------------------------------------------ GitHub tags, sidecars


def test_github_tags_and_sidecars_update_and_deep_cross_check(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    tags = [{"name": n, "commit": {"sha": "0" * 40, "url": "x"}, "zipball_url": "x",
             "tarball_url": "x", "node_id": "x"}
            for n in ("v1.3.0", "v1.2.0", "nightly", "v2.0.0-beta.1")]
    with FakeGitHub() as gh:
        gh.add_route("GET", r"/repos/acme/tool/tags", lambda req, p: gh.paginated(req, tags))
        monkeypatch.setenv("GITHUB_API_URL", gh.api_url)
        for v in ("1.2.0", "1.3.0"):
            host.publish(f"/tool/tool-{v}.tar.gz", f"tool {v}".encode())
        _write(project, f"""\
FROM scratch
ARG TOOL_VERSION=1.2.0
ARG TOOL_SHA256={sha256_hex(b"tool 1.2.0")}
ADD --checksum=sha256:{sha256_hex(b"tool 1.2.0")} {host.url}/tool/tool-${{TOOL_VERSION}}.tar.gz /t
""", f"""\
version = 1

[inputs.tool]
kind = "download"
url = "{host.url}/tool/tool-{{version}}.tar.gz"
version-arg = "TOOL_VERSION"
sha256-arg = "TOOL_SHA256"
versions = {{ from = "github-tags", repository = "acme/tool" }}
checksums = {{ from = "sidecar" }}

[inputs.tool.locked]
version = "1.2.0"
""")
        r = run_cli(capsys, "update", "--deep")
        assert r.code == 0, r
        df = (project / "docker" / "Dockerfile").read_text()
        new = sha256_hex(b"tool 1.3.0")
        assert f"ARG TOOL_SHA256={new}" in df and f"--checksum=sha256:{new}" in df
        files = _locked(project, "tool")["files"]
        assert isinstance(files, dict)
        assert files["tool-1.3.0.tar.gz"]["verified-by"] == ["bytes", "sidecar"]
        # The sidecar and the bytes disagree: an IntegrityError, exit 1, nothing written.
        host.put("/tool/tool-1.3.0.tar.gz", b"swapped")
        r = run_cli(capsys, "verify", "--online", "--deep", "--json")
        assert r.code == 1 and _codes(r.out) == [("tool", "checksum-disagreement")], r
        # A sidecar that names another file vouches for nothing.
        host.put("/tool/tool-1.3.0.tar.gz.sha256", f"{new}  other.tar.gz\n")
        r = run_cli(capsys, "verify", "--online", "--json")
        assert r.code == 1 and _codes(r.out) == [("tool", "checksum-disagreement")], r


# ------------------------------------------------------------------ GitLab tags, SHA256SUMS


def _gitlab_project(project: Path, host: DownloadHost, sums: dict[str, bytes]) -> None:
    host.gitlab_tags["group/sub/tool"] = [
        {"name": f"v{v}", "message": "", "target": "0" * 40, "protected": False,
         "created_at": "2026-01-01T00:00:00.000Z", "commit": {"id": "0" * 40}}
        for v in ("1.0.0", "1.0.1", "1.1.0", "0.9.0", "1.2.0")]
    for v in ("1.0.0", "1.2.0"):
        files = {f"tool_{v}_linux_{a}.zip": f"gl {v} {a}".encode() for a in ("amd64", "arm64")}
        for n, d in files.items():
            host.put(f"/gl/{v}/{n}", d)
        host.put(f"/gl/{v}/SHA256SUMS", sums_text({**files, **sums}, binary=True))
    _write(project, """\
FROM scratch
ARG TOOL_VERSION=1.0.0
ARG TOOL_AMD64_SHA256=x
ARG TOOL_ARM64_SHA256=x
""", f"""\
version = 1

[inputs.tool]
kind = "download"
url = "{host.url}/gl/{{version}}/tool_{{version}}_linux_{{arch}}.zip"
version-arg = "TOOL_VERSION"
sha256-arg = "TOOL_{{ARCH}}_SHA256"
arch-map = {{ "linux/amd64" = "amd64", "linux/arm64" = "arm64" }}
versions = {{ from = "gitlab-tags", repository = "group/sub/tool", url = "{host.url}" }}
checksums = {{ from = "sums-file", url = "{host.url}/gl/{{version}}/SHA256SUMS" }}

[inputs.tool.locked]
version = "1.0.0"
""")


def test_gitlab_tags_across_pages_and_a_binary_marked_sums_file(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    _gitlab_project(project, host, {"README": b"x"})
    r = run_cli(capsys, "update")
    assert r.code == 0, r
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG TOOL_VERSION=1.2.0" in df  # on the third page of two tags each
    assert f"ARG TOOL_AMD64_SHA256={sha256_hex(b'gl 1.2.0 amd64')}" in df
    assert any("page=3" in q for q in host.requests)


def test_a_sums_file_without_the_file_is_refused(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    _gitlab_project(project, host, {})
    host.put("/gl/1.0.0/SHA256SUMS", sums_text({"tool_1.0.0_linux_amd64.zip": b"gl"}))
    before = snapshot(project)
    r = run_cli(capsys, "lock")
    assert r.code == 1, r
    assert "lists no tool_1.0.0_linux_arm64.zip" in r.err, r.err
    assert snapshot(project) == before


# ------------------------------------------------------------------ an autoindex directory


def _listing_project(project: Path, host: DownloadHost) -> None:
    for v in ("3.1.0", "3.2.0"):
        host.publish(f"/pub/lib/lib-{v}.tar.gz", f"lib {v}".encode(), bare=True)
    _write(project, f"""\
FROM scratch
ARG LIB_VERSION=3.1.0
ARG LIB_SHA256={sha256_hex(b"lib 3.1.0")}
""", f"""\
version = 1

[inputs.lib]
kind = "download"
url = "{host.url}/pub/lib/lib-{{version}}.tar.gz"
version-arg = "LIB_VERSION"
sha256-arg = "LIB_SHA256"
versions = {{ from = "directory" }}
checksums = {{ from = "sidecar" }}

[inputs.lib.locked]
version = "3.1.0"
""")


def test_directory_listing_update(project: Path, host: DownloadHost,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _listing_project(project, host)
    r = run_cli(capsys, "update")
    assert r.code == 0, r
    df = (project / "docker" / "Dockerfile").read_text()
    assert "ARG LIB_VERSION=3.2.0" in df and f"ARG LIB_SHA256={sha256_hex(b'lib 3.2.0')}" in df
    assert "/pub/lib/" in host.requests


def test_a_hostile_version_is_refused_before_it_is_written(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    _listing_project(project, host)
    # A listed file whose version holds shell syntax, and a bump asked with one.
    host.put("/pub/lib/lib-3.9.0$(touch${IFS}x).tar.gz", b"evil")
    before = snapshot(project)
    r = run_cli(capsys, "update")
    assert r.code == 1 and "3.9.0$(touch" in r.err and "not valid" in r.err, r
    r = run_cli(capsys, "bump", "lib", "3.2.0;rm -rf /")
    assert r.code == 2 and "is not a version" in r.err, r
    assert snapshot(project) == before


def test_bytes_need_deep_and_a_redirect_is_followed_to_the_bytes_hashed(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    _listing_project(project, host)
    text = (project / "image.lock.toml").read_text()
    (project / "image.lock.toml").write_text(text.replace('from = "sidecar"', 'from = "bytes"'))
    r = run_cli(capsys, "bump", "lib", "3.2.0")
    assert r.code == 1 and "needs --deep" in r.err, r
    # A loop of redirects is refused, naming the limit; nothing is written.
    host.redirects["/pub/lib/lib-3.2.0.tar.gz"] = "/pub/lib/lib-3.2.0.tar.gz"
    r = run_cli(capsys, "bump", "lib", "3.2.0", "--deep")
    assert r.code == 3 and "more than 5 redirects" in r.err, r
    # A CDN redirect is followed, and the bytes found there are what is hashed.
    host.put("/cdn/lib-3.2.0.tar.gz", host.files["/pub/lib/lib-3.2.0.tar.gz"])
    host.redirects["/pub/lib/lib-3.2.0.tar.gz"] = "/cdn/lib-3.2.0.tar.gz"
    r = run_cli(capsys, "bump", "lib", "3.2.0", "--deep")
    assert r.code == 0, r
    files = _locked(project, "lib")["files"]
    assert isinstance(files, dict)
    assert files["lib-3.2.0.tar.gz"]["verified-by"] == ["bytes"]

