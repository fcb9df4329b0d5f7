"""`pinlock lock` of an apt input through the CLI: pins, the snapshot ARG and `--snapshot`."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from pathlib import Path

import pytest
from support.apt_project import archive_project
from support.apt_run import wired
from support.cli import run_cli, snapshot
from support.debian_archive import SNAP1, SNAP2, ArchiveServer, P, build_archive, serve

from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import find_sites

DOCKERFILE = """\
FROM debian:13.4

# the packages the app needs
RUN apt-get update && \\
    apt-get install -y --no-install-recommends app tool native && \\
    rm -rf /var/lib/apt/lists/*
"""


@pytest.fixture
def project(tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Path:
    return _project(tmp_path / "project", DOCKERFILE, archive_server, monkeypatch,
                    capsys).parent


def _project(root: Path, text: str, srv: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Path:
    return archive_project(root, text, srv, monkeypatch, capsys)


def _changed(before: str, after: str) -> list[str]:
    return [d for d in difflib.ndiff(before.splitlines(), after.splitlines())
            if d.startswith(("- ", "+ "))]


def _snapshot_of(lock_text: str) -> str:
    line = next(x for x in lock_text.splitlines() if x.startswith("snapshot = "))
    return line.split('"')[1]


def test_lock_apt_writes_pins_and_snapshot_then_changes_nothing(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = project / "Dockerfile"
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    after = df.read_text()
    ts = _snapshot_of((project / "image.lock.toml").read_text())
    # Exactly: one ARG line before the RUN, --snapshot on update and install, two pins.
    # `native` is 1.0-1+b1 on amd64 and 1.0-1 on arm64: left bare, the snapshot pins it.
    assert after == DOCKERFILE.replace(
        "RUN apt-get update && \\\n    apt-get install -y",
        f"ARG DEBIAN_SNAPSHOT={ts}\n"
        f"RUN apt-get {wired('update')} && \\\n"
        f"    apt-get {wired('install')} -y",
    ).replace(" app tool native ", " app=1.0-1 tool=1.0-1 native ")
    # two lines replaced, one ARG added, and the options' 6 + 5 continuation lines
    assert len(_changed(DOCKERFILE, after)) == 5 + 11
    # BuildKit's own parser reads the result as the same instructions plus the ARG.
    dockerfile = pytest.importorskip("dockerfile")
    cmds = dockerfile.parse_string(after)
    assert [c.cmd for c in cmds] == ["FROM", "ARG", "RUN"]
    assert cmds[1].value == (f"DEBIAN_SNAPSHOT={ts}",)
    # verify agrees; a second lock changes no byte of either file
    assert run_cli(capsys, "verify").code == 0
    files = snapshot(project)
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    assert snapshot(project) == files


def test_verify_names_a_removed_snapshot_option_and_a_changed_arg(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "lock", "apt").code == 0
    df = project / "Dockerfile"
    locked = df.read_text()
    ts = _snapshot_of((project / "image.lock.toml").read_text())
    df.write_text(locked.replace('install --snapshot "${DEBIAN_SNAPSHOT}" ', "install "))
    r = run_cli(capsys, "verify")
    assert r.code == 1
    assert "Dockerfile:12: [apt] apt-get install --snapshot is missing" in r.out
    df.write_text(locked.replace(ts, "20200101T000000Z"))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "ARG DEBIAN_SNAPSHOT" in r.out + r.err
    assert "20200101T000000Z" in r.out + r.err and ts in r.out + r.err
    # lock puts both back, and only them
    df.write_text(locked.replace('install --snapshot "${DEBIAN_SNAPSHOT}" ', "install ")
                  .replace(ts, "20200101T000000Z"))
    assert run_cli(capsys, "lock", "apt").code == 0
    # the piece goes back where it was: on the install line, ahead of its options
    assert df.read_text() == locked
    df.write_text(locked.replace('install --snapshot "${DEBIAN_SNAPSHOT}" ', "install ")
                  .replace(ts, "20200101T000000Z"))
    assert run_cli(capsys, "lock", "apt").code == 0
    assert df.read_text() == locked


@pytest.mark.parametrize(("fault", "code", "says"), [
    ("tampered-index", 1, "Packages"),
    ("bad-signature", 1, "InRelease"),
    ("untrusted-signer", 1, "InRelease"),
    ("down", 3, "HTTP 503"),
])
def test_lock_apt_stops_on_upstream_faults_with_nothing_written(
        project: Path, archive_server: ArchiveServer, fault: str, code: int, says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    files = snapshot(project)
    archive_server.faults.add(fault)
    r = run_cli(capsys, "lock", "apt")
    assert r.code == code, r.err
    assert "Traceback" not in r.err and says in r.err and "nothing was written" in r.err
    assert snapshot(project) == files


def test_existing_literal_snapshot_and_global_arg_are_kept_in_step(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = (f"ARG DEBIAN_SNAPSHOT={SNAP1}\n"
            "FROM debian:13.4\n"
            "  RUN apt-get -S 20200101T000000Z update \\\n"
            "   && apt-get install --snapshot=$DEBIAN_SNAPSHOT -y app\n")
    root = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys).parent
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    ts = _snapshot_of((root / "image.lock.toml").read_text())
    assert ts == SNAP1  # init adopted the ARG's archive state
    # the global ARG holds it, the stage gets a bare ARG (indented like the RUN),
    # the literal follows the lock, the reference is left as written
    assert (root / "Dockerfile").read_text() == (
        f"ARG DEBIAN_SNAPSHOT={ts}\n"
        "FROM debian:13.4\n"
        "  ARG DEBIAN_SNAPSHOT\n"
        f"  RUN apt-get -S {ts} "
        + wired("update", "          ", snapshot=False) + " \\\n"
        "   && apt-get install --snapshot=$DEBIAN_SNAPSHOT"
        + wired("", "       ", snapshot=False) + " -y app=1.0-1\n")
    assert run_cli(capsys, "verify").code == 0


@pytest.mark.parametrize(("line", "word"), [
    ('apt-get update --snapshot "${X}"', "${X}"),
    ("apt-get -S 20250101T000000Z update", "20250101T000000Z"),
    ("apt-get --snapshot=20250101T000000Z update", "20250101T000000Z"),
    ("apt-get -o APT::Snapshot=20250101T000000Z update", "20250101T000000Z"),
    ("apt-get -oAPT::Snapshot=$X update", "$X"),
    ("apt update", None),
])
def test_sites_read_the_snapshot_option(line: str, word: str | None) -> None:
    sites = find_sites(parse(f"FROM debian\nRUN {line}\n"))
    (cmd,) = sites.apt_commands
    assert cmd.sub == "update" and cmd.snapshot_word == word
    if cmd.snapshot is not None:
        src = f"FROM debian\nRUN {line}\n"
        assert src[cmd.snapshot.start:cmd.snapshot.end] == cmd.snapshot.text


def test_snapshot_argument_is_not_taken_for_a_package() -> None:
    sites = find_sites(parse('FROM debian\nRUN apt-get install --snapshot "$S" -y curl\n'))
    assert [p.name for p in sites.apt[0].packages] == ["curl"]
    assert not sites.unmanaged


def test_exec_form_apt_is_reported_not_rewritten(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = ('FROM debian:13.4\nRUN ["apt-get", "update"]\n'
            'RUN ["apt-get", "install", "-y", "app"]\n')
    root = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys).parent
    assert run_cli(capsys, "lock", "apt").code == 0
    # the pin goes in (a JSON string), but no ARG: exec form has no shell to expand it
    assert (root / "Dockerfile").read_text() == text.replace('"app"', '"app=1.0-1"')
    r = run_cli(capsys, "verify")
    assert r.code == 0
    assert "Dockerfile:2: [apt] apt-get update in exec (JSON) form cannot be pointed" in r.out


def test_a_hand_written_pin_is_not_overwritten(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    df = _project(tmp_path / "p", "FROM debian:13.4\nRUN apt-get update && \\\n"
                  "    apt-get install -y app=0.9-1 tool\n", archive_server, monkeypatch, capsys)
    files = snapshot(tmp_path / "p")
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 2
    assert ("Dockerfile:3: apt package app is pinned to 0.9-1 here, but the archive at "
            "snapshot") in r.err and "has 1.0-1" in r.err and "remove `=0.9-1`" in r.err
    assert snapshot(tmp_path / "p") == files
    # the pin that matches the candidate is kept, nothing to refuse
    df.write_text(df.read_text().replace("app=0.9-1", "app=1.0-1"))
    assert run_cli(capsys, "lock", "apt").code == 0
    assert f"apt-get {wired('install')} -y app=1.0-1 tool=1.0-1" in df.read_text()


def test_pins_pinlock_wrote_move_with_the_snapshot(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    df = _project(tmp_path / "p", "FROM debian:13.4\nRUN apt-get update && "
                  "apt-get install -y prelib tool\n", archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "bump", "apt", SNAP1)
    assert r.code == 0, r.err
    assert f"ARG DEBIAN_SNAPSHOT={SNAP1}\n" in df.read_text()
    assert "prelib=0.5-1 tool=1.0-1" in df.read_text()
    r = run_cli(capsys, "update", "apt")  # today: the archive's second run, prelib 0.6-1
    assert r.code == 0, r.err
    text = df.read_text()
    assert "prelib=0.6-1 tool=1.0-1" in text and SNAP1 not in text
    assert run_cli(capsys, "verify").code == 0


def test_verify_online_deep_checks_the_debs(
        project: Path, archive_server: ArchiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "lock", "apt").code == 0
    assert run_cli(capsys, "verify", "--online", "apt").code == 0
    archive_server.requests.clear()
    r = run_cli(capsys, "verify", "--online", "--deep", "--sample", "2", "apt")
    assert r.code == 0, r.out + r.err
    debs = {p.rsplit("/", 1)[1] for p in archive_server.requests if p.endswith(".deb")}
    assert len(debs) == 2  # each file looked for under each archive base, via redirects
    archive_server.faults.add("tampered-deb")
    assert run_cli(capsys, "verify", "--online", "apt").code == 0  # the indexes still agree
    r = run_cli(capsys, "verify", "--online", "--deep", "apt")
    assert r.code == 1 and "bytes differ from the lock" in r.out
    r = run_cli(capsys, "verify", "--online", "--deep", "--sample", "1", "apt")
    found = re.search(r"one of 1 sampled from \d+ with seed (\d+)", r.out)
    assert r.code == 1 and found
    again = run_cli(capsys, "verify", "--online", "--deep", "--sample", "1", "--seed",
                    found.group(1), "apt")
    assert again.code == 1 and again.out == r.out  # the same file, found again
    assert run_cli(capsys, "verify", "--online", "--deep", "--seed", "1").code == 2
    # --sample needs --deep, and both need --online
    assert run_cli(capsys, "verify", "--online", "--sample", "2").code == 2
    assert run_cli(capsys, "verify", "--deep").code == 2


def test_a_stage_installing_in_several_runs_is_one_input(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = ("FROM debian:13.4\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends app\n"
            "COPY . /src\n"
            "RUN apt-get install -y --no-install-recommends tool prelib\n")
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    lock = tomllib.loads((tmp_path / "p" / "image.lock.toml").read_text())["inputs"]
    assert [n for n, i in lock.items() if i["kind"] == "apt"] == ["apt"]
    assert lock["apt"]["packages"] == ["app", "tool", "prelib"]
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    ts = _snapshot_of((tmp_path / "p" / "image.lock.toml").read_text())
    assert df.read_text() == (
        "FROM debian:13.4\n"
        f"ARG DEBIAN_SNAPSHOT={ts}\n"
        f"RUN apt-get {wired('update')} && apt-get {wired('install')} "
        "-y --no-install-recommends app=1.0-1\n"
        "COPY . /src\n"
        f"RUN apt-get {wired('install')} -y --no-install-recommends tool=1.0-1 "
        "prelib=0.6-1\n")
    assert run_cli(capsys, "verify").code == 0
    # a package added to the second RUN is reported on that line
    df.write_text(df.read_text().replace("prelib=0.6-1", "prelib=0.6-1 alt1"))
    r = run_cli(capsys, "verify")
    assert r.code == 0 and "Dockerfile:16: [apt] apt package alt1 is installed but not" in (
        r.out)
    assert run_cli(capsys, "verify", "--strict").code == 1


def test_two_apt_stages_sharing_a_global_snapshot_arg_each_get_their_own(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = (f"ARG DEBIAN_SNAPSHOT={SNAP1}\n"
            "FROM debian:13.4 AS build\nRUN apt-get update && apt-get install -y prelib\n"
            "FROM debian:13.4\nRUN apt-get update && apt-get install -y tool\n")
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "bump", "apt", SNAP1)  # both adopted the global default at init
    assert r.code == 0, r.err
    r = run_cli(capsys, "bump", "apt-1", SNAP2)  # the second stage moves on alone
    assert r.code == 0, r.err
    out = df.read_text()
    lock = tomllib.loads((tmp_path / "p" / "image.lock.toml").read_text())["inputs"]
    other = lock["apt-1"]["locked"]["snapshot"]
    assert other == SNAP2
    # the global default is left alone: each stage declares the snapshot it was locked to
    assert out.startswith(f"ARG DEBIAN_SNAPSHOT={SNAP1}\nFROM debian:13.4 AS build\n"
                          f"ARG DEBIAN_SNAPSHOT={SNAP1}\n")
    assert f"FROM debian:13.4\nARG DEBIAN_SNAPSHOT={other}\n" in out
    assert "prelib=0.5-1" in out and "tool=1.0-1" in out
    assert run_cli(capsys, "verify").code == 0


def test_sh_c_in_exec_form_stays_valid_json(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = ('FROM debian:13.4\n'
            'RUN ["sh", "-c", "apt-get update && apt-get install -y app"]\n')
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    assert run_cli(capsys, "lock", "apt").code == 0
    run = df.read_text().splitlines()[-1]
    assert json.loads(run[len("RUN "):]) == [
        "sh", "-c", f"apt-get {wired('update', None, '${DEBIAN_SNAPSHOT}')} && apt-get "
        f"{wired('install', None, '${DEBIAN_SNAPSHOT}')} -y app=1.0-1"]
    assert run_cli(capsys, "verify").code == 0


def test_bookworm_gets_versions_but_no_snapshot_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # apt before 2.7 (Debian 12) has no --snapshot: writing it would break the build
    table = {SNAP1: {"bookworm": [P("apt", "2.6-1", Priority="important"), P("app", "1.0-1")],
                     "bookworm-updates": [], "bookworm-security": []}}
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y app\n"
    for srv in serve(build_archive(tmp_path / "archive", table)):
        df = _project(tmp_path / "p", text, srv, monkeypatch, capsys)
        assert run_cli(capsys, "lock", "apt").code == 0
        assert df.read_text() == text.replace("-y app", "-y app=1.0-1")
        r = run_cli(capsys, "verify")
        assert r.code == 0 and "apt of bookworm has no --snapshot" in r.out


def test_a_new_install_command_in_the_stage_is_noticed(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    df = _project(tmp_path / "p", "FROM debian:13.4\nRUN apt-get update && "
                  "apt-get install -y app\n", archive_server, monkeypatch, capsys)
    assert run_cli(capsys, "lock", "apt").code == 0
    df.write_text(df.read_text() + "RUN apt-get install -y alt1\n")
    r = run_cli(capsys, "verify", "--strict")
    assert r.code == 1 and "Dockerfile:15: [apt] apt package alt1 is installed but not" in (
        r.out)


def test_a_bare_stage_arg_gets_its_own_value_when_the_global_is_shared(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = (f"ARG DEBIAN_SNAPSHOT={SNAP1}\n"
            "FROM debian:13.4 AS build\nARG DEBIAN_SNAPSHOT\n"
            "RUN apt-get update --snapshot \"$DEBIAN_SNAPSHOT\" && apt-get install -y prelib\n"
            "FROM debian:13.4\nARG DEBIAN_SNAPSHOT\n"
            "RUN apt-get update --snapshot \"$DEBIAN_SNAPSHOT\" && apt-get install -y tool\n")
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    assert run_cli(capsys, "bump", "apt-1", SNAP2).code == 0
    out = df.read_text()
    # each stage's bare ARG now names its own snapshot; the shared global is left alone
    assert out.count(f"ARG DEBIAN_SNAPSHOT={SNAP1}\n") == 2
    assert f"FROM debian:13.4\nARG DEBIAN_SNAPSHOT={SNAP2}\n" in out
    assert run_cli(capsys, "verify").code == 0
    # what a stage reads is what verify checks
    df.write_text(out.replace(f"ARG DEBIAN_SNAPSHOT={SNAP2}\n", "ARG DEBIAN_SNAPSHOT\n"))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "ARG DEBIAN_SNAPSHOT is missing" in r.out


def test_two_apt_inputs_of_one_stage_at_two_snapshots_are_refused(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    df = _project(tmp_path / "p", "FROM debian:13.4\nRUN apt-get update && apt-get install "
                  "-y app\nRUN apt-get install -y tool\n", archive_server, monkeypatch, capsys)
    lock = tmp_path / "p" / "image.lock.toml"
    text = lock.read_text()
    section = text[text.index("[inputs.apt]"):text.index("[inputs.debian]")]
    split = section.replace('packages = ["app", "tool"]', 'packages = ["app"]')
    lock.write_text(text.replace(section, split + split.replace("inputs.apt", "inputs.apt2")
                                 .replace('packages = ["app"]', 'packages = ["tool"]')))
    assert run_cli(capsys, "bump", "apt", SNAP1).code == 0
    files = snapshot(tmp_path / "p")
    r = run_cli(capsys, "bump", "apt2", SNAP2)
    assert r.code == 2 and "apt inputs 'apt' and 'apt2' install in the same stage" in r.err
    assert snapshot(tmp_path / "p") == files
    assert df.read_text().count("ARG DEBIAN_SNAPSHOT") == 1


@pytest.mark.parametrize(("line", "key", "value"), [
    ("apt-get update -o Acquire::Check-Valid-Until=false", "Acquire::Check-Valid-Until", "false"),
    ("apt-get update -oAcquire::Check-Valid-Until=0", "Acquire::Check-Valid-Until", "0"),
    ("apt-get update --option Acquire::Check-Valid-Until=no", "Acquire::Check-Valid-Until",
     "no"),
    ("apt-get update --option=acquire::check-valid-until=false", "Acquire::Check-Valid-Until",
     "false"),
    ("apt-get update '-oAcquire::Check-Valid-Until=false'", "Acquire::Check-Valid-Until",
     "false"),
    ("apt-get update --error-on=any", "APT::Update::Error-Mode", "any"),
    ("apt-get update --error-on any", "APT::Update::Error-Mode", "any"),
    ("apt-get update -e any", "APT::Update::Error-Mode", "any"),
    ("apt-get update -o APT::Update::Error-Mode=any", "APT::Update::Error-Mode", "any"),
])
def test_sites_read_apt_options_in_any_spelling(line: str, key: str, value: str) -> None:
    src = f"FROM debian\nRUN {line}\n"
    (cmd,) = find_sites(parse(src)).apt_commands
    assert cmd.sub == "update"
    opt = cmd.option(key)
    assert opt is not None and opt.value == value
    assert src[opt.word.start:opt.word.end] == opt.word.text


def test_an_option_argument_is_not_taken_for_the_subcommand_or_a_package() -> None:
    sites = find_sites(parse("FROM debian\nRUN apt-get --error-on any update && "
                             "apt-get -o Foo::Bar=1 install -y curl\n"))
    assert [c.sub for c in sites.apt_commands] == ["update", "install"]
    assert [p.name for p in sites.apt[0].packages] == ["curl"]


def test_a_dockerfile_locked_with_snapshot_alone_is_reported_piece_by_piece_and_upgraded(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "lock", "apt").code == 0
    df = project / "Dockerfile"
    locked = df.read_text()
    # what pinlock wrote before: --snapshot alone, on one line with the subcommand
    old = re.sub(r" \\\n +(--error-on=any|-o Acquire::\S+)", "", locked)
    assert 'RUN apt-get update --snapshot "${DEBIAN_SNAPSHOT}" && \\\n' in old
    df.write_text(old)
    r = run_cli(capsys, "verify")
    assert r.code == 1
    # each missing piece, on its command's line, with why and the exact text to add
    assert ("Dockerfile:5: [apt] apt-get update --error-on is missing: a snapshot index "
            "apt cannot fetch would be a warning") in r.out
    assert "    expected: --error-on=any\n" in r.out
    assert ("Dockerfile:6: [apt] apt-get install -o Acquire::Check-Valid-Until is "
            "missing: apt refuses a snapshot's -updates/-security InRelease 7 days") in r.out
    assert "    expected: -o Acquire::Check-Valid-Until=false\n" in r.out
    assert ("Dockerfile:6: [apt] apt-get install -o Acquire::Snapshots::URI::Host::"
            "deb.debian.org is missing: apt would fetch the snapshot over https") in r.out
    assert ("    expected: -o Acquire::Snapshots::URI::Override::Label::Debian-Security="
            "http://snapshot.debian.org/archive/debian-security/@SNAPSHOTID@/\n") in r.out
    assert r.out.count(" is missing: ") == 11
    # `pinlock lock` writes them, and only them
    assert run_cli(capsys, "lock", "apt").code == 0
    assert df.read_text() == locked
    assert run_cli(capsys, "verify").code == 0


def test_hand_written_options_are_kept_and_one_that_undoes_a_piece_is_corrected(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    mine = ("-o Acquire::Snapshots::URI::Host::deb.debian.org="
            "https://snapshots.example/archive/@PATH@/@SNAPSHOTID@/")
    text = ("FROM debian:13.4\n"
            f"RUN apt-get -q update --error-on persistent {mine} -o Acquire::Retries=3 && \\\n"
            "    apt-get install -oAcquire::Check-Valid-Until=true -y --no-install-recommends "
            "tool\n")
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    out = df.read_text()
    # the hand-written URI (a mirror with its own CA) and the unknown options stay as written
    assert out.count(mine) == 1 and "-q update" in out and "-o Acquire::Retries=3" in out
    # the values that undo a piece are corrected in place
    assert "--error-on any" in out and "persistent" not in out
    assert "-oAcquire::Check-Valid-Until=false" in out and "=true" not in out
    # the missing pieces are added; nothing is written twice
    assert out.count("Acquire::Snapshots::URI::Host::deb.debian.org=") == 2
    assert out.count("Check-Valid-Until") == 2 and out.count("--error-on") == 1
    assert run_cli(capsys, "verify").code == 0
    df.write_text(out.replace("--error-on any", "--error-on persistent"))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "apt-get update --error-on differs from the lock" in r.out


@pytest.mark.parametrize(("text", "wired_update"), [
    # a heredoc is shell text: its continuation is the shell's backslash
    ("FROM debian:13.4\nRUN <<EOF\nset -e\napt-get update\napt-get install -y tool\nEOF\n",
     "apt-get " + wired("update", "    ")),
    # with `# escape=`` the Dockerfile's continuation is the backtick
    ("# escape=`\nFROM debian:13.4\nRUN apt-get update && apt-get install -y tool\n",
     "apt-get " + wired("update").replace("\\\n", "`\n")),
])
def test_options_go_one_a_line_with_the_continuation_of_their_context(
        tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], text: str, wired_update: str) -> None:
    df = _project(tmp_path / "p", text, archive_server, monkeypatch, capsys)
    r = run_cli(capsys, "lock", "apt")
    assert r.code == 0, r.err
    assert wired_update in df.read_text()
    assert run_cli(capsys, "verify").code == 0
    files = snapshot(tmp_path / "p")
    assert run_cli(capsys, "lock", "apt").code == 0
    assert snapshot(tmp_path / "p") == files
    if "escape" in text:  # BuildKit's own parser reads one RUN, the options in it
        dockerfile = pytest.importorskip("dockerfile")
        cmds = dockerfile.parse_string(df.read_text())
        assert [c.cmd for c in cmds] == ["FROM", "ARG", "RUN"]
        assert "-o Acquire::Check-Valid-Until=false" in cmds[2].value[0]


@pytest.mark.parametrize("line", [
    "apt-get update -o", "apt-get update --error-on", "apt-get update -e",
    "apt-get update -o =x", "apt-get update -o Acquire::Check-Valid-Until=",
    "apt-get update --option=", "apt-get update -o \"$OPTS\"", "apt-get -o",
    "apt-get update --error-on=", "apt-get update -oAPT::Snapshot= x",
])
def test_odd_apt_options_are_read_without_error(line: str) -> None:
    sites = find_sites(parse(f"FROM debian\nRUN {line}\n"))
    for cmd in sites.apt_commands:
        for opt in cmd.options:
            assert opt.key and "=" not in opt.key
