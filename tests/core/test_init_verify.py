"""`pinlock init` on the seed and offline `pinlock verify`, end to end through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "upstream" / "Dockerfile"
if not SEED.exists():  # the repo's own copy starts byte-identical to the seed
    SEED = ROOT / "docker" / "Dockerfile"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker").mkdir()
    shutil.copy(SEED, tmp_path / "docker" / "Dockerfile")
    return tmp_path


def test_init_on_seed_matches_committed_lock(project: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    before = (project / "docker" / "Dockerfile").read_bytes()
    r = run_cli(capsys, "init")
    assert r.code == 0, r
    assert (project / "docker" / "Dockerfile").read_bytes() == before
    assert (project / "image.lock.toml").read_text() == (ROOT / "image.lock.toml").read_text()
    text = (project / "image.lock.toml").read_text()
    for expected in [
        'tag = "0.11.6-python3.13-trixie"',
        'index-digest = "sha256:b3c543b6c4f23a5f2df22866bd7857e5d304b67a564f4feab6ac22044dde719b"',
        'tag = "13.4"', 'repository = "just-containers/s6-overlay"', 'version = "3.2.3.0"',
        '"linux/amd64" = "x86_64"', '"linux/arm64" = "aarch64"',
        'sha256-arg = "S6_OVERLAY_NOARCH_SHA256"', 'sha256-arg = "S6_OVERLAY_SYMLINKS_SHA256"',
        '[inputs.s6-overlay.locked.assets."s6-overlay-x86_64.tar.xz"]',
        '[inputs.s6-overlay.locked.assets."s6-overlay-aarch64.tar.xz"]',
        'sha256 = "a93f02882c6ed46b21e7adb5c0add86154f01236c93cd82c7d682722e8840563"',
    ]:
        assert expected in text
    packages = ("curl nodejs npm python3 ripgrep ffmpeg gcc python3-dev libffi-dev "  # noqa: SIM905
                "procps git openssh-client docker-cli xz-utils").split()
    assert all(f'"{p}",' in text for p in packages)
    # A second init refuses to overwrite; --force replaces.
    assert run_cli(capsys, "init").code == 2
    assert run_cli(capsys, "init", "--force").code == 0


def test_verify_committed_repo_is_consistent(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    r = run_cli(capsys, "verify")
    assert r.code == 0, r
    assert "[debian] FROM image is not pinned yet" in r.out
    assert "[apt] 14 apt package(s) not pinned yet" in r.out
    strict = run_cli(capsys, "verify", "--strict")
    assert strict.code == 1


@pytest.mark.parametrize(("old", "new", "line", "input_name"), [
    ("a93f02882c6ed46b21e7adb5c0add86154f01236c93cd82c7d682722e8840563",
     "a93f02882c6ed46b21e7adb5c0add86154f01236c93cd82c7d682722e8840564", 46, "s6-overlay"),
    ("b720f9d9340efc8bb07528b9743813c836e4b02f8693d90241f047998b4c53cf",
     "0" * 64, 45, "s6-overlay"),
    ("0952056ff913482163cc30e35b2e944b507ba1025d78f5becbb89367bf344581",
     "1" * 64, 47, "s6-overlay"),
    ("a60dc5235de3ecbcf874b9c1f18d73263ab99b289b9329aa950e8729c4789f0e",
     "2" * 64, 48, "s6-overlay"),
    ("sha256:b3c543b6c4f23a5f2df22866bd7857e5d304b67a564f4feab6ac22044dde719b",
     "sha256:" + "3" * 64, 1, "uv"),
    ("S6_OVERLAY_VERSION=3.2.3.0", "S6_OVERLAY_VERSION=3.2.4.0", 44, "s6-overlay"),
])
def test_verify_names_line_and_both_values(old: str, new: str, line: int, input_name: str,
                                           capsys: pytest.CaptureFixture[str],
                                           project: Path) -> None:
    shutil.copy(ROOT / "image.lock.toml", project / "image.lock.toml")
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace(old, new))
    r = run_cli(capsys, "verify", "--lockfile", str(project / "image.lock.toml"), "--json")
    assert r.code == 1
    errors = [f for f in json.loads(r.out)["findings"] if f["severity"] == "error"]
    assert len(errors) == 1
    (f,) = errors
    assert (f["input"], f["line"], f["code"]) == (input_name, line, "mismatch")
    assert old.split("=")[-1] in f["expected"] and new.split("=")[-1] in f["found"]
    text = run_cli(capsys, "verify", "--lockfile", str(project / "image.lock.toml"))
    assert f"docker/Dockerfile:{line}" in text.out and "expected:" in text.out


def test_verify_limits_to_named_inputs(capsys: pytest.CaptureFixture[str],
                                       project: Path) -> None:
    shutil.copy(ROOT / "image.lock.toml", project / "image.lock.toml")
    df = project / "docker" / "Dockerfile"
    df.write_text(df.read_text().replace("S6_OVERLAY_VERSION=3.2.3.0", "S6_OVERLAY_VERSION=9"))
    lock = str(project / "image.lock.toml")
    assert run_cli(capsys, "verify", "uv", "debian", "--lockfile", lock).code == 0
    assert run_cli(capsys, "verify", "s6-overlay", "--lockfile", lock).code == 1


def test_offline_verify_imports_no_http_stack() -> None:
    code = ("import sys\nfrom pinlock.cli import main\n"
            "try:\n    main(['verify'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('httpx', 'httpcore', 'ssl', 'pinlock.sources.oci') "
            "if m in sys.modules]\nprint(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_findings_text_names_a_place_only_when_there_is_one() -> None:
    from pinlock.model import Finding
    from pinlock.report import findings_text

    text = findings_text([Finding("apt", "error", "upstream", "GET x: HTTP 503"),
                          Finding("uv", "error", "mismatch", "differs", "docker/Dockerfile", 3),
                          Finding("uv", "warning", "x", "no line", "docker/Dockerfile")])
    assert text.splitlines()[:4] == [
        "error: [apt] GET x: HTTP 503", "error: docker/Dockerfile:3: [uv] differs",
        "warning: docker/Dockerfile: [uv] no line", "2 error(s), 1 warning(s)"]


def test_init_and_verify_v_report_tools_that_run_apt(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(
        "FROM node:22-bookworm\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends git\n"
        "RUN npx -y playwright install --with-deps chromium\n")
    r = run_cli(capsys, "init")
    assert r.code == 0, r.err
    assert "seen but not managed by pinlock:" in r.out
    assert "docker/Dockerfile:3: npx -y playwright install --with-deps chromium" in r.out
    js = json.loads(run_cli(capsys, "init", "--force", "--json").out)
    assert [(u["line"], u["what"].split()[2]) for u in js["unmanaged"]] == [(3, "playwright")]
    quiet = run_cli(capsys, "verify")
    assert "not managed" not in quiet.out
    loud = run_cli(capsys, "verify", "-v")
    assert "docker/Dockerfile:3: npx -y playwright install --with-deps chromium" in loud.out
    assert "runs apt-get with its own package list" in loud.out
