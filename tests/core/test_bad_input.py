"""The bad-input corpus: each case exits 2 with a message naming the problem, writes nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.cli import run_cli, snapshot

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "docker" / "Dockerfile"
BAD = Path(__file__).resolve().parents[1] / "corpus" / "bad"
LOCK_CASES = sorted(BAD.glob("*.toml"))
SIMPLE_DOCKERFILE = "FROM debian:13.4\nARG V=1\nRUN apt-get install -y curl\n"


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first[len("# expect: "):]


def test_corpus_is_large_enough() -> None:
    assert len(LOCK_CASES) >= 25


@pytest.mark.parametrize("case", LOCK_CASES, ids=[p.stem for p in LOCK_CASES])
@pytest.mark.parametrize("command", [["verify"], ["lock", "--dry-run"]])
def test_bad_lock(case: Path, command: list[str], tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text(SIMPLE_DOCKERFILE)
    lock = tmp_path / "image.lock.toml"
    shutil.copy(case, lock)
    before = snapshot(tmp_path)
    r = run_cli(capsys, *command, "--lockfile", str(lock), "--dockerfile",
                str(tmp_path / "Dockerfile"))
    assert r.code == 2, r
    assert _expected(case) in r.err
    assert str(lock) in r.err
    assert "Traceback" not in r.err + r.out
    assert snapshot(tmp_path) == before


def _seed_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    (tmp_path / "docker").mkdir()
    df = tmp_path / "docker" / "Dockerfile"
    shutil.copy(SEED, df)
    lock = tmp_path / "image.lock.toml"
    r = run_cli(capsys, "init", "--dockerfile", str(df), "--lockfile", str(lock))
    assert r.code == 0, r
    return df, lock


DOCKERFILE_CASES = [
    # (id, how to break the Dockerfile, expected message)
    ("arg-vanished", lambda s: s.replace("ARG S6_OVERLAY_NOARCH_SHA256=", "ARG GONE_SHA256="),
     "ARG S6_OVERLAY_NOARCH_SHA256 is not declared"),
    ("version-arg-vanished", lambda s: s.replace("ARG S6_OVERLAY_VERSION=3.2.3.0\n", ""),
     "ARG S6_OVERLAY_VERSION is not declared"),
    ("stage-renamed", lambda s: s.replace("AS uv_source", "AS uv_src").replace(
        "--from=uv_source", "--from=uv_src"), "names stage 'uv_source'"),
    ("image-vanished", lambda s: s.replace("FROM debian:13.4", "FROM ubuntu:24.04"),
     "stage '1' does not start FROM 'debian'"),
    ("apt-vanished", lambda s: s.replace("apt-get install -y", "apt-get download"),
     "has no apt-get install"),
    ("binary", lambda s: "FROM a\n\0\0\0", "binary file"),
    ("not-utf8", lambda s: "FROM a\n\udcff", "not UTF-8"),
    ("open-heredoc", lambda s: s + "RUN <<EOF\necho hi\n", "unterminated heredoc 'EOF'"),
    ("bad-escape", lambda s: "# escape=x\n" + s, "invalid escape directive"),
]


@pytest.mark.parametrize(("case", "breaker", "message"), DOCKERFILE_CASES,
                         ids=[c[0] for c in DOCKERFILE_CASES])
def test_bad_dockerfile(case: str, breaker, message: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                        capsys: pytest.CaptureFixture[str]) -> None:
    df, lock = _seed_project(tmp_path, capsys)
    text = breaker(SEED.read_text())
    df.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = snapshot(tmp_path)
    for command in (["verify"], ["lock", "--dry-run"]):
        r = run_cli(capsys, *command, "--lockfile", str(lock))
        assert r.code == 2, (case, r)
        assert message in r.err, r.err
        assert "docker/Dockerfile" in r.err
        assert "Traceback" not in r.err
    assert snapshot(tmp_path) == before


def test_missing_dockerfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "init", "--dockerfile", str(tmp_path / "nope"), "--lockfile",
                str(tmp_path / "image.lock.toml"))
    assert r.code == 2
    assert "nope: dockerfile not found" in r.err
    assert list(tmp_path.iterdir()) == []


def test_missing_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "verify", "--lockfile", str(tmp_path / "image.lock.toml"))
    assert r.code == 2
    assert "image.lock.toml: lockfile not found" in r.err


CLI_CASES = [
    (["verify", "--no-such-flag"], "No such option"),
    (["verify", "nosuchinput"], "unknown input 'nosuchinput'"),
    (["lock", "nosuchinput"], "unknown input 'nosuchinput'"),
    (["bump", "s6-overlay"], "Missing argument"),
    (["bump", "nosuchinput", "1.0"], "unknown input 'nosuchinput'"),
    (["bump", "s6-overlay", "1 0"], "'1 0' is not a version"),
    (["init"], "already exists"),
    (["frobnicate"], "No such command"),
]


@pytest.mark.parametrize(("args", "message"), CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_bad_cli(args: list[str], message: str, tmp_path: Path,
                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_project(tmp_path, capsys)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    r = run_cli(capsys, *args)
    assert r.code == 2, r
    assert message in r.err
    assert "Traceback" not in r.err
    assert snapshot(tmp_path) == before


# apt RUNs pinlock cannot rewrite safely: one small Dockerfile per form, its expected
# message on the first line (`# expect: LINE: message`).
APT_CASES = sorted(BAD.glob("apt_*.Dockerfile"))


def _apt_expected(path: Path) -> tuple[int, str]:
    line, _, message = _expected(path).partition(": ")
    return int(line), message


def test_apt_corpus_covers_each_form() -> None:
    assert len(APT_CASES) >= 10


@pytest.mark.parametrize("case", APT_CASES, ids=[p.stem for p in APT_CASES])
def test_unsafe_apt_is_left_out_and_reported_by_init(
        case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # init never writes half a stage: the stage's apt packages stay out of the lock, the
    # command is reported with its line and what to write instead, and verify accepts the
    # lock init wrote (a warning; an error only with --strict).
    line, message = _apt_expected(case)
    df = tmp_path / "Dockerfile"
    shutil.copy(case, df)
    lock = tmp_path / "image.lock.toml"
    r = run_cli(capsys, "init", "--dockerfile", str(df), "--lockfile", str(lock))
    assert r.code == 0, r
    assert f"Dockerfile:{line}: " in r.out and message in r.out, r.out
    assert "left out of the lock" in r.out
    assert "write the packages literally in the install line" in r.out
    assert 'kind = "apt"' not in lock.read_text()
    before = snapshot(tmp_path)
    v = run_cli(capsys, "verify", "--dockerfile", str(df), "--lockfile", str(lock))
    assert v.code == 0, v
    assert f"Dockerfile:{line}: [apt] " in v.out and message in v.out, v.out
    assert "warning: " in v.out and "0 error(s)" in v.out
    v = run_cli(capsys, "verify", "--strict", "--dockerfile", str(df), "--lockfile", str(lock))
    assert v.code == 1 and re.search(rf"^error: \S*Dockerfile:{line}: \[apt\] ", v.out, re.M), v
    # lock of the rest is not blocked by a stage the lock does not own
    r = run_cli(capsys, "lock", "apt", "--dockerfile", str(df), "--lockfile", str(lock))
    assert r.code == 2 and "unknown input" in r.err.lower() + r.out.lower(), r
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case", APT_CASES, ids=[p.stem for p in APT_CASES])
@pytest.mark.parametrize("command", [["lock"], ["lock", "apt"], ["update", "apt"]])
def test_unsafe_apt_is_refused_by_lock(case: Path, command: list[str], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    # A lock made before the RUN was edited into a form pinlock cannot rewrite.
    line, message = _apt_expected(case)
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:13.4\nRUN apt-get update && apt-get install -y curl\n")
    lock = tmp_path / "image.lock.toml"
    assert run_cli(capsys, "init", "--dockerfile", str(df), "--lockfile", str(lock)).code == 0
    shutil.copy(case, df)
    before = snapshot(tmp_path)
    r = run_cli(capsys, *command, "--dockerfile", str(df), "--lockfile", str(lock))
    assert r.code == 2, r
    assert f"Dockerfile:{line}: " in r.err and "error: [apt] " in r.err, r.err
    assert message in r.err, r.err
    assert "nothing was written" in r.err and "Traceback" not in r.err + r.out
    assert snapshot(tmp_path) == before
    # verify names the same line: what it installs is in no lock (a finding, or bad input
    # when the stage installs nothing else)
    v = run_cli(capsys, "verify", "--dockerfile", str(df), "--lockfile", str(lock))
    assert v.code in (1, 2) and f"Dockerfile:{line}: " in v.out + v.err, v
    assert message in v.out + v.err and "Traceback" not in v.out + v.err


def test_verify_reports_unsafe_apt_next_to_a_literal_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:13.4\nRUN apt-get update && apt-get install -y curl\n")
    lock = tmp_path / "image.lock.toml"
    assert run_cli(capsys, "init", "--dockerfile", str(df), "--lockfile", str(lock)).code == 0
    df.write_text(df.read_text() + "RUN apt-get install -y ${EXTRA}\n")
    r = run_cli(capsys, "verify", "--dockerfile", str(df), "--lockfile", str(lock))
    assert r.code == 1, r
    assert ("Dockerfile:3: [apt] apt-get install -y ${EXTRA}: the package list comes from a "
            "variable (${EXTRA})") in r.out
