"""Fixed downloads: a checked download whose URL holds no version ARG or ENV (docker-library's
rustup-init `case` block) is adopted with its URLs and sha256s, verified offline and online
(sidecar, bytes), kept by `lock`, left alone by `update`, refused by `bump`; what cannot be
tied completely stays reported."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import tomlkit
from support.cli import init_and_verify as _init
from support.cli import run_cli, snapshot
from support.download_host import DownloadHost, sha256_hex

from pinlock.errors import LockfileError
from pinlock.kinds.download import schema
from pinlock.tables import TableReader

ARCHES = {"amd64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu",
          "armhf": "armv7-unknown-linux-gnueabihf"}
RUSTUP = "https://static.rust-lang.org"


def _bytes(arch: str) -> bytes:
    return f"rustup-init for {arch}".encode()


def _rust(base: str, shas: dict[str, str | None]) -> str:
    """The docker-library rust block: a `case` arm per arch sets rustArch and rustupSha256,
    then one URL with ${rustArch} is fetched and checked (a None sha: the arm sets none)."""
    arms = "".join(
        f"\t\t'{dpkg}') \\\n\t\t\trustArch='{ARCHES[dpkg]}'; \\\n"
        + (f"\t\t\trustupSha256='{sha}'; \\\n" if sha is not None else "")
        + "\t\t\t;; \\\n" for dpkg, sha in shas.items())
    return f"""\
FROM scratch
ENV RUST_VERSION=1.94.1
RUN set -eux; \\
\tarch="$(dpkg --print-architecture)"; \\
\tcase "$arch" in \\
{arms}\t\t*) echo >&2 "unsupported architecture: $arch"; exit 1 ;; \\
\tesac; \\
\turl="{base}/rustup/archive/1.29.0/${{rustArch}}/rustup-init"; \\
\twget --progress=dot:giga "$url"; \\
\techo "${{rustupSha256}} *rustup-init" | sha256sum -c -; \\
\tchmod +x rustup-init
"""


def _shas() -> dict[str, str | None]:
    return {d: sha256_hex(_bytes(a)) for d, a in ARCHES.items()}



def _codes(out: str) -> list[tuple[str, str]]:
    return [(f["input"], f["code"]) for f in json.loads(out)["findings"]]


def test_a_rustup_case_block_is_adopted_as_a_fixed_download(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shas = _shas()
    inputs, out = _init(project, _rust(RUSTUP, shas), capsys)
    rustup = inputs["rustup-init"]
    assert rustup["kind"] == "download" and rustup["fixed"] is True
    assert "version-arg" not in rustup and "version" not in rustup["locked"]
    assert rustup["url"] == f"{RUSTUP}/rustup/archive/1.29.0/{{arch}}/rustup-init"
    # rustup publishes a .sha256 beside each rustup-init.
    assert rustup["checksums"] == {"from": "sidecar"}
    assert rustup["platforms"] == ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    files = rustup["locked"]["files"]
    assert {f["platform"]: (f["url"], f["sha256"]) for f in files.values()} == {
        "linux/amd64": (f"{RUSTUP}/rustup/archive/1.29.0/{ARCHES['amd64']}/rustup-init",
                        shas["amd64"]),
        "linux/arm64": (f"{RUSTUP}/rustup/archive/1.29.0/{ARCHES['arm64']}/rustup-init",
                        shas["arm64"]),
        "linux/arm/v7": (f"{RUSTUP}/rustup/archive/1.29.0/{ARCHES['armhf']}/rustup-init",
                         shas["armhf"]),
    }
    # One file name in every arch's folder: the arch is part of each file's key.
    assert sorted(files) == sorted(f"rustup-init@{a}" for a in ARCHES.values())
    assert "a fixed download" in out and "nothing to move it by" not in out

    # Editing one arm's sha256 makes verify name its line.
    df = project / "docker" / "Dockerfile"
    text = df.read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if str(shas["arm64"]) in t)
    df.write_text(text.replace(str(shas["arm64"]), "f" * 64))
    r = run_cli(capsys, "verify")
    assert r.code == 1, r
    assert f"Dockerfile:{line}:" in r.out + r.err and "aarch64" in r.out + r.err, r
    assert "f" * 64 in r.out + r.err


def test_an_edited_url_is_a_structural_error(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(project, _rust(RUSTUP, _shas()), capsys)
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace("1.29.0", "1.30.0"))
    r = run_cli(capsys, "verify")
    assert r.code != 0 and "keeps its URLs as locked" in r.out + r.err, r


def test_verify_online_checks_the_sidecar_and_the_bytes(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    for a in ARCHES.values():
        host.put(f"/rustup/archive/1.29.0/{a}/rustup-init", _bytes(a))
        # rustup's own sidecars name the file by its build path.
        host.put(f"/rustup/archive/1.29.0/{a}/rustup-init.sha256",
                 f"{sha256_hex(_bytes(a))} *target/{a}/release/rustup-init\n")
    inputs, _ = _init(project, _rust(host.url, _shas()), capsys)
    assert "checksums" not in inputs["rustup-init"]  # not a host known to publish sidecars
    lock = project / "image.lock.toml"
    doc = tomlkit.parse(lock.read_text())
    doc["inputs"]["rustup-init"]["checksums"] = {"from": "sidecar"}
    lock.write_text(tomlkit.dumps(doc))
    assert run_cli(capsys, "verify").code == 0

    r = run_cli(capsys, "verify", "--online", "--json")
    assert r.code == 0, r
    r = run_cli(capsys, "verify", "--online", "--deep", "--json")
    assert r.code == 0, r
    # `lock` keeps the fixed download as it is.
    before = snapshot(project)
    r = run_cli(capsys, "lock")
    assert r.code == 0, r
    assert snapshot(project) == before
    dockerfile = (project / "docker" / "Dockerfile").read_text()
    r = run_cli(capsys, "lock", "--deep", "rustup-init")  # named: read afresh
    assert r.code == 0, r
    assert (project / "docker" / "Dockerfile").read_text() == dockerfile
    # Re-read upstream: the same sha256s, now vouched for by the sidecar and the bytes.
    locked = tomllib.loads(lock.read_text())["inputs"]["rustup-init"]["locked"]
    assert "version" not in locked
    assert {(f["sha256"], tuple(f["verified-by"])) for f in locked["files"].values()} == {
        (str(sha), ("bytes", "sidecar")) for sha in _shas().values()}

    # The served file changes: the bytes disagree with the sidecar (--deep).
    arm = ARCHES["arm64"]
    host.put(f"/rustup/archive/1.29.0/{arm}/rustup-init", b"replaced")
    r = run_cli(capsys, "verify", "--online", "--deep", "--json")
    assert r.code == 1 and _codes(r.out) == [("rustup-init", "checksum-disagreement")], r
    # The sidecar changes too: the file was replaced upstream under the same URL.
    host.put(f"/rustup/archive/1.29.0/{arm}/rustup-init.sha256",
             f"{sha256_hex(b'replaced')} *target/{arm}/release/rustup-init\n")
    r = run_cli(capsys, "verify", "--online", "--json")
    assert r.code == 1 and _codes(r.out) == [("rustup-init", "asset-replaced")], r
    assert sha256_hex(b"replaced") in r.out


def test_update_reports_it_not_movable_and_bump_refuses(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(project, _rust(RUSTUP, _shas()), capsys)
    before = snapshot(project)
    r = run_cli(capsys, "update", "rustup-init")
    assert r.code == 0, r
    assert "fixed download" in r.out + r.err and "nothing to move" in r.out + r.err, r
    assert snapshot(project) == before
    r = run_cli(capsys, "bump", "rustup-init", "1.30.0")
    assert r.code == 2, r
    assert "rustup-init is a fixed download" in r.err and "nothing to bump" in r.err, r
    assert snapshot(project) == before


@pytest.mark.parametrize(("text", "reason"), [
    # An arm without a sha256: the platform's file would go unchecked.
    (_rust(RUSTUP, {"amd64": "a" * 64, "arm64": None}),
     "checks no sha256 for linux/arm64"),
    # A URL assembled from a value known only at build time.
    ("FROM scratch\nRUN v=\"$(cat /etc/rustup-version)\"; "
     f"wget -O rustup-init \"{RUSTUP}/rustup/archive/$v/x86_64-unknown-linux-gnu/rustup-init\"; "
     f"echo \"{'a' * 64} *rustup-init\" | sha256sum -c -\n",
     "assembled from values known at build time"),
])
def test_what_cannot_be_tied_completely_stays_reported(
        text: str, reason: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, out = _init(project, text, capsys)
    assert not any(i.get("kind") == "download" for i in inputs.values()), inputs
    assert reason in out, out


def test_a_single_checked_file_and_an_add_checksum_are_fixed_downloads(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = "a" * 64, "b" * 64
    inputs, _ = _init(project, f"""\
FROM scratch
ADD --checksum=sha256:{b} https://download.example.org/linux/debian/gpg /etc/keyrings/d.asc
RUN curl -fsSL "https://example.org/raw/48b1620/main/getconf.c" -o /usr/src/getconf.c; \\
\techo '{a} */usr/src/getconf.c' | sha256sum -c -
""", capsys)
    assert {n: (i["fixed"], [(f["url"], f["sha256"]) for f in i["locked"]["files"].values()])
            for n, i in inputs.items()} == {
        "gpg": (True, [("https://download.example.org/linux/debian/gpg", b)]),
        "getconf": (True, [("https://example.org/raw/48b1620/main/getconf.c", a)]),
    }
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace(b, "c" * 64))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "Dockerfile:2:" in r.out + r.err, r


@pytest.mark.parametrize(("extra", "key"), [
    ('version-arg = "X_VERSION"\n', "version-arg"),
    ('versions = { from = "github-tags", repository = "o/r" }\n', "versions"),
    ("", "version"),
])
def test_a_fixed_table_with_a_version_is_refused(extra: str, key: str) -> None:
    table = ('url = "https://example.org/f.tgz"\nfixed = true\n' + extra
             + ('[locked]\nversion = "1.0"\n' if key == "version" else "[locked]\n"))
    r = TableReader("image.lock.toml", tomllib.loads(table), "inputs.f")
    with pytest.raises(LockfileError) as exc:
        schema.load(r, "f", ("linux/amd64",))
    assert key in str(exc.value.diagnostics())


def test_a_fixed_url_must_not_hold_a_version_placeholder() -> None:
    r = TableReader("image.lock.toml", tomllib.loads(
        'url = "https://example.org/f-{version}.tgz"\nfixed = true\n[locked]\n'), "inputs.f")
    with pytest.raises(LockfileError, match="without"):
        schema.load(r, "f", ("linux/amd64",))
