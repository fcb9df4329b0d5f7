"""Hostile upstreams inject shell and TOML syntax; nothing of it reaches a file or a shell.

Each case runs pinlock in its own process against a loopback upstream that says
something hostile: a validly signed Debian archive, a GitHub API, a registry. It
asserts the exit code, a message naming the source and the value (escaped), no file
changed, no traceback, bounded memory and time, and that the marker file the
injected command would create never appears, also when the RUN line in the
Dockerfile is run by a real shell.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.debian_archive import SNAP1, ArchiveServer, P, build_archive
from support.fake_github import Answer, FakeGitHub, RecordedRequest, sha256_hex
from support.hostile_registry import HostileRegistry
from support.proc import Proc, run_pinlock, tree_digest

LIMIT = 60.0
Rewrite = Callable[[str, str, str], str]


@pytest.fixture
def marker() -> Iterator[Path]:
    """Where an injected ``touch`` would land: /tmp/<unique>, never created."""
    path = Path("/tmp") / f"pinlock-injected-{uuid.uuid4().hex}"
    yield path
    assert not path.exists(), f"the injected command ran: {path} exists"
    path.unlink(missing_ok=True)


def _refused(p: Proc, code: int, *needles: str) -> None:
    p.assert_clean()
    assert p.code == code, p.text
    for n in needles:
        assert n in p.text, f"{n!r} not in:\n{p.text}"
    assert p.seconds < LIMIT


def _runs(dockerfile: str) -> list[str]:
    """The shell text of each RUN (continuations joined), as the build's /bin/sh gets it."""
    text = dockerfile.replace("\\\n", " ")
    return [m.group(1) for m in re.finditer(r"^RUN (.*)$", text, re.MULTILINE)]


def _run_in_sh(script: str, cwd: Path) -> None:
    """Run a RUN line with a real sh, its tools replaced by no-op programs first on PATH
    (dash takes no function named ``apt-get``; and ``rm -rf`` must not touch this machine):
    an injected command substitution would still run, and touch the marker."""
    subprocess.run(["sh", "-n", "-c", script], check=True, cwd=cwd, timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        stubs = Path(tmp)
        for tool in ("apt-get", "apt", "curl", "sha256sum", "tar", "rm", "wget"):
            (stubs / tool).write_text("#!/bin/sh\nexit 0\n")
            (stubs / tool).chmod(0o755)
        done = subprocess.run(["sh", "-c", script], cwd=cwd, timeout=30, capture_output=True,
                              text=True, env={"PATH": f"{stubs}:/usr/bin:/bin", "HOME": tmp})
    assert done.returncode == 0, done.stderr  # the oracle ran the whole line


# ------------------------------------------------------------------ Debian archive

APT_DOCKERFILE = """\
FROM debian:13.4
RUN apt-get update && \\
    apt-get install -y --no-install-recommends curl && \\
    rm -rf /var/lib/apt/lists/*
"""
UNIVERSE = {SNAP1: {
    "trixie": [P("libbase", "1.1-1", Priority="required"),
               P("curl", "8.14.1-2", Depends="libbase")],
    "trixie-updates": [], "trixie-security": [],
}}


def _field(name: str, value: str) -> Rewrite:
    """A rewrite of curl's paragraph in every trixie Packages index: ``name: value``."""
    def rewrite(suite: str, arch: str, text: str) -> str:
        if suite != "trixie":
            return text
        paras = text.split("\n\n")
        for i, para in enumerate(paras):
            if para.startswith("Package: curl\n"):
                paras[i] = re.sub(rf"^{name}: .*$", f"{name}: {value}", para, flags=re.M)
                if f"\n{name}: " not in paras[i]:
                    paras[i] += f"\n{name}: {value}"
        return "\n\n".join(paras)
    return rewrite


def _apt_project(tmp_path: Path, srv: ArchiveServer) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(APT_DOCKERFILE)
    env = {"PINLOCK_DEBIAN_MIRROR": srv.debian(), "PINLOCK_DEBIAN_SECURITY_MIRROR":
           srv.security(), "PINLOCK_DEBIAN_KEYRING": str(srv.archive.keyring),
           "PINLOCK_CACHE_DIR": str(tmp_path / "cache")}
    p = run_pinlock("init", "--dockerfile", "Dockerfile", cwd=root, env=env, limit=LIMIT)
    assert p.code == 0, p.text
    return root, env


def _serve(tmp_path: Path, rewrite: Rewrite | None = None) -> ArchiveServer:
    archive = build_archive(tmp_path / "archive", UNIVERSE, rewrite=rewrite)
    return ArchiveServer(archive).start()


def test_clean_archive_locks_and_the_run_line_is_plain_shell(tmp_path: Path,
                                                              marker: Path) -> None:
    """The control: the same archive, unpoisoned, locks; the RUN it writes parses in sh."""
    srv = _serve(tmp_path)
    try:
        root, env = _apt_project(tmp_path, srv)
        p = run_pinlock("lock", "apt", cwd=root, env=env, limit=LIMIT)
        p.assert_clean()
        assert p.code == 0, p.text
        written = (root / "Dockerfile").read_text()
        assert "curl=8.14.1-2 " in written
        for script in _runs(written):
            _run_in_sh(script, root)
    finally:
        srv.stop()


POISONED = [
    ("Version", "8.14.1-2$(touch${IFS}MARKER)", "Debian version"),
    ("Version", "8.14.1-2`touch MARKER`", "Debian version"),
    ("Version", "8.14.1-2;touch MARKER", "Debian version"),
    ("Source", "curl$(touch${IFS}MARKER)", "Debian package name"),
    ("Filename", "pool/../../../../tmp/MARKER.deb", "pool file name"),
    ("Filename", "/etc/passwd", "pool file name"),
    ("SHA256", "zz" * 32, "sha256"),
    ("Architecture", "amd64$(touch${IFS}MARKER)", None),
]


@pytest.mark.parametrize("field,value,what", POISONED,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(POISONED)])
def test_signed_archive_with_injected_field_writes_nothing(
        tmp_path: Path, marker: Path, field: str, value: str, what: str | None) -> None:
    value = value.replace("MARKER", str(marker))
    srv = _serve(tmp_path, _field(field, value))
    try:
        root, env = _apt_project(tmp_path, srv)
        before = tree_digest(root)
        p = run_pinlock("lock", "apt", cwd=root, env=env, limit=LIMIT)
        p.assert_clean()
        assert tree_digest(root) == before, p.text
        if what is None:
            # A poisoned Architecture makes the record not curl's for amd64: refused either
            # way (no candidate), and never written.
            assert p.code in (1, 2, 3), p.text
        else:
            _refused(p, 1, "Debian archive", what, repr(value)[:60])
            assert "nothing was written" in p.text
        for script in _runs((root / "Dockerfile").read_text()):
            _run_in_sh(script, root)
    finally:
        srv.stop()


# ------------------------------------------------------------------ GitHub releases

TOOL = b"tool 1.0.0 bytes\n"
TOOL2 = b"tool 1.0.1 bytes\n"
RELEASE_DOCKERFILE = """\
FROM debian:13.4
ARG TOOL_VERSION=1.0.0
ARG TOOL_LINUX_SHA256={sha}
RUN curl -fsSLo /tmp/tool.tar.gz \\
      "https://github.com/acme/tool/releases/download/v${{TOOL_VERSION}}/tool-linux.tar.gz" && \\
    echo "${{TOOL_LINUX_SHA256}}  /tmp/tool.tar.gz" | sha256sum -c -
"""
RELEASE_LOCK = """\
version = 1
dockerfile = "Dockerfile"
platforms = ["linux/amd64"]

[inputs.tool]
kind = "github-release"
repository = "acme/tool"
version-arg = "TOOL_VERSION"
tag-template = "v{{version}}"
assets = [{{ name = "tool-linux.tar.gz", sha256-arg = "TOOL_LINUX_SHA256" }}]

[inputs.tool.locked]
version = "1.0.0"
tag = "v1.0.0"

[inputs.tool.locked.assets."tool-linux.tar.gz"]
sha256 = "{sha}"
sha256-arg = "TOOL_LINUX_SHA256"
url = "https://github.com/acme/tool/releases/download/v1.0.0/tool-linux.tar.gz"
verified-by = ["api-digest", "sidecar"]
"""


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_release("acme/tool", "v1.0.0", {"tool-linux.tar.gz": TOOL})
        yield fake


def _release_project(tmp_path: Path, fake: FakeGitHub) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    sha = sha256_hex(TOOL)
    (root / "Dockerfile").write_text(RELEASE_DOCKERFILE.format(sha=sha))
    (root / "image.lock.toml").write_text(RELEASE_LOCK.format(sha=sha))
    env = {"GITHUB_API_URL": fake.api_url}
    p = run_pinlock("verify", cwd=root, env=env, limit=LIMIT)
    assert p.code == 0, p.text
    return root, env


def test_clean_release_updates_and_the_run_line_is_plain_shell(
        tmp_path: Path, github: FakeGitHub, marker: Path) -> None:
    github.add_release("acme/tool", "v1.0.1", {"tool-linux.tar.gz": TOOL2})
    root, env = _release_project(tmp_path, github)
    p = run_pinlock("update", "tool", cwd=root, env=env, limit=LIMIT)
    p.assert_clean()
    assert p.code == 0, p.text
    written = (root / "Dockerfile").read_text()
    assert "ARG TOOL_VERSION=1.0.1\n" in written and sha256_hex(TOOL2) in written
    for script in _runs(written):
        _run_in_sh(script, root)


HOSTILE_TAGS = [
    "v1.0.1$(touch MARKER)",
    "v1.0.1`touch MARKER`",
    "v1.0.1'; touch MARKER; '",
    'v1.0.1"; touch MARKER; "',
    "v1.0.1\ntouch MARKER",
    'v1.0.1"]\n[x]',
    "v1.0.1 && touch MARKER",
    "v1.0.1\\",
    "v1.0.1;touch${IFS}MARKER",
]


@pytest.mark.parametrize("tag", HOSTILE_TAGS, ids=range(len(HOSTILE_TAGS)))
@pytest.mark.parametrize("command", ["update", "outdated", "bump"])
def test_release_tag_with_shell_or_toml_syntax_is_refused(
        tmp_path: Path, github: FakeGitHub, marker: Path, tag: str, command: str) -> None:
    tag = tag.replace("MARKER", str(marker))
    github.add_release("acme/tool", tag, {"tool-linux.tar.gz": TOOL2})
    root, env = _release_project(tmp_path, github)
    before = tree_digest(root)
    args = {"update": ["update", "tool"], "outdated": ["outdated"],
            "bump": ["bump", "tool", tag[1:]]}[command]
    p = run_pinlock(*args, cwd=root, env=env, limit=LIMIT)
    assert tree_digest(root) == before, p.text
    if command == "bump":
        # The version comes from the command line: bad input, refused before any request.
        _refused(p, 2, "is not", repr(tag[1:])[:40])
        assert not github.requests_to(r"/repos/.*")
    else:
        _refused(p, 1, "GitHub releases of acme/tool", repr(tag)[:40])
    if "\n" in tag:  # shown escaped: the newline cannot forge a line of output
        assert tag[1:] not in p.text
    for script in _runs((root / "Dockerfile").read_text()):
        _run_in_sh(script, root)


@pytest.mark.parametrize("name", ["../tool-linux.tar.gz", "x/tool-linux.tar.gz", "..",
                                  "tool-linux.tar.gz\nx", "tool$(id).tar.gz"])
def test_release_asset_name_with_path_or_syntax_is_refused(
        tmp_path: Path, github: FakeGitHub, marker: Path, name: str) -> None:
    github.add_release("acme/tool", "v1.0.1", {"tool-linux.tar.gz": TOOL2, name: b"x"})
    root, env = _release_project(tmp_path, github)
    before = tree_digest(root)
    p = run_pinlock("update", "tool", cwd=root, env=env, limit=LIMIT)
    assert tree_digest(root) == before, p.text
    _refused(p, 1, "GitHub release acme/tool", "asset name", repr(name)[:30])


def test_hand_edited_lock_with_hostile_tag_is_bad_input_for_every_command(
        tmp_path: Path, github: FakeGitHub, marker: Path) -> None:
    root, env = _release_project(tmp_path, github)
    lock = root / "image.lock.toml"
    lock.write_text(lock.read_text().replace('tag = "v1.0.0"',
                                             f'tag = "v1.0.0$(touch {marker})"'))
    before = tree_digest(root)
    for args in (["verify"], ["verify", "--online"], ["lock"], ["update"], ["outdated"]):
        p = run_pinlock(*args, cwd=root, env=env, limit=LIMIT)
        assert tree_digest(root) == before, p.text
        _refused(p, 2, "image.lock.toml: inputs.tool.locked.tag", "release tag")
        assert "agree" not in p.text


def test_lock_with_a_newline_in_a_tag_is_bad_input_not_a_traceback(tmp_path: Path,
                                                                   github: FakeGitHub) -> None:
    root, env = _release_project(tmp_path, github)
    lock = root / "image.lock.toml"
    lock.write_text(lock.read_text().replace('tag = "v1.0.0"', 'tag = "v1.0.0\\n"'))
    p = run_pinlock("verify", cwd=root, env=env, limit=LIMIT)
    _refused(p, 2, "inputs.tool.locked.tag", "'v1.0.0\\n'")


def test_init_refuses_a_dockerfile_value_outside_its_grammar(tmp_path: Path,
                                                             marker: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    text = RELEASE_DOCKERFILE.format(sha=sha256_hex(TOOL)).replace(
        "ARG TOOL_VERSION=1.0.0", f"ARG TOOL_VERSION=1.0.0$(touch${{IFS}}{marker})")
    (root / "Dockerfile").write_text(text)
    before = tree_digest(root)
    p = run_pinlock("init", "--dockerfile", "Dockerfile", cwd=root, limit=LIMIT)
    assert tree_digest(root) == before, p.text
    _refused(p, 2, "Dockerfile:2:", "release version")


def test_verify_reports_an_unpinned_checksum_arg_holding_shell_syntax(
        tmp_path: Path, github: FakeGitHub, marker: Path) -> None:
    root, env = _release_project(tmp_path, github)
    lock = root / "image.lock.toml"
    lock.write_text(re.sub(r'sha256 = "[0-9a-f]{64}"\n', "", lock.read_text()))
    df = root / "Dockerfile"
    df.write_text(re.sub(r"TOOL_LINUX_SHA256=[0-9a-f]{64}",
                         f"TOOL_LINUX_SHA256=$(touch {marker})", df.read_text()))
    p = run_pinlock("verify", cwd=root, env=env, limit=LIMIT)
    _refused(p, 1, "which a shell would read as syntax", "Dockerfile:3:")


# ------------------------------------------------------------------ OCI registry

HOSTILE_OCI_TAGS = ["1.0.1$(touch MARKER)", "1.0.1\n", "1.0.1`id`", "1.0.1'", '1.0.1"]\n[x]',
                    "../1.0.1", "1.0.1 ", "-1.0.1"]


def _image_project(tmp_path: Path, reg: HostileRegistry) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {reg.host}/acme/app:1.0.0@{reg.index_digest}\nRUN true\n")
    p = run_pinlock("init", "--dockerfile", "Dockerfile", cwd=root, limit=LIMIT)
    assert p.code == 0, p.text
    return root


def test_clean_tag_list_reaches_the_manifests(tmp_path: Path) -> None:
    """The control: with clean tags, the newest tag is asked for; so a hostile list that
    asks for nothing was refused, not ignored."""
    with HostileRegistry("acme/app", ["1.0.0", "1.0.1"]) as reg:
        root = _image_project(tmp_path, reg)
        p = run_pinlock("outdated", cwd=root, limit=LIMIT)
        p.assert_clean()
        assert any("/manifests/1.0.1" in r for r in reg.requests), reg.requests


@pytest.mark.parametrize("tag", HOSTILE_OCI_TAGS, ids=range(len(HOSTILE_OCI_TAGS)))
@pytest.mark.parametrize("command", ["update", "outdated"])
def test_registry_listing_a_tag_with_metacharacters_is_refused(
        tmp_path: Path, marker: Path, tag: str, command: str) -> None:
    tag = tag.replace("MARKER", str(marker))
    with HostileRegistry("acme/app", ["1.0.0", tag]) as reg:
        root = _image_project(tmp_path, reg)
        before = tree_digest(root)
        p = run_pinlock(command, cwd=root, limit=LIMIT)
        assert tree_digest(root) == before, p.text
        _refused(p, 1, f"registry {reg.host}/acme/app tag list", repr(tag)[:30])
        assert not any("/manifests/" in r for r in reg.requests), reg.requests


def test_shell_word_oracle_on_a_written_pin(tmp_path: Path) -> None:
    """What pins.py writes for a hostile version, should a grammar ever let one through,
    is one inert word for sh."""
    from pinlock.grammar import shell_word

    marker = tmp_path / "m"
    word = shell_word(f"curl=1.0$(touch {marker})")
    out = subprocess.run(["sh", "-c", f"printf '%s\\n' {word}"], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert out.stdout == f"curl=1.0$(touch {marker})\n"
    assert not marker.exists()
    assert os.listdir(tmp_path) == []


def test_init_leaves_out_an_apt_pin_outside_the_debian_grammar(tmp_path: Path,
                                                             marker: Path) -> None:
    # The pin holds a command substitution: init adopts nothing of that stage's apt
    # packages, reports the line, and the injected text reaches no file.
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(APT_DOCKERFILE.replace(
        " curl ", f" curl=8.14.1-2$(touch${{IFS}}{marker}) "))
    before = tree_digest(root)
    p = run_pinlock("init", "--dockerfile", "Dockerfile", cwd=root, limit=LIMIT)
    p.assert_clean()
    assert p.code == 0, p.text
    assert "Dockerfile:3: " in p.out and "left out of the lock" in p.out, p.out
    lock = (root / "image.lock.toml").read_text()
    assert 'kind = "apt"' not in lock and "touch" not in lock and "8.14.1-2" not in lock
    (root / "image.lock.toml").unlink()
    assert tree_digest(root) == before
    assert not marker.exists()


def test_verify_does_not_agree_with_a_dockerfile_pin_edited_to_shell_syntax(
        tmp_path: Path, marker: Path) -> None:
    srv = _serve(tmp_path)
    try:
        root, env = _apt_project(tmp_path, srv)
        assert run_pinlock("lock", "apt", cwd=root, env=env, limit=LIMIT).code == 0
    finally:
        srv.stop()
    df = root / "Dockerfile"
    df.write_text(df.read_text().replace("curl=8.14.1-2 ",
                                         f"curl=8.14.1-2$(touch${{IFS}}{marker}) "))
    before = tree_digest(root)
    p = run_pinlock("verify", cwd=root, limit=LIMIT)
    assert tree_digest(root) == before
    # The edited pin is a command substitution: the stage's install line is no longer one
    # pinlock can check word by word, so verify refuses it as bad input, naming the line.
    _refused(p, 2, "Dockerfile:15:", "the package list comes from a command substitution")
    assert "agree" not in p.text


@pytest.mark.parametrize("claimed", ["sha256:$(touch MARKER)", "sha256:" + "A" * 64,
                                     "md5:" + "0" * 32, "sha256:`id`"])
def test_registry_claiming_a_digest_outside_the_grammar_is_refused(
        tmp_path: Path, marker: Path, claimed: str) -> None:
    claimed = claimed.replace("MARKER", str(marker))
    with HostileRegistry("acme/app", ["1.0.0", "1.0.1"]) as reg:
        root = _image_project(tmp_path, reg)
        reg.digest_header = claimed
        before = tree_digest(root)
        for command in ("outdated", "update"):
            p = run_pinlock(command, cwd=root, limit=LIMIT)
            assert tree_digest(root) == before, p.text
            p.assert_clean()
            # Refused, the source and the value named (the client checks a claimed digest
            # itself, as a registry error), never written.
            assert p.code in (1, 3), p.text
            assert reg.host in p.text and repr(claimed)[:20] in p.text, p.text


@pytest.mark.parametrize("field,value", [
    ("html_url", "https://github.com/acme/tool/releases/tag/v1.0.1\nerror: forged"),
    ("html_url", "javascript:alert(1)"),
    ("browser_download_url", "https://github.com/acme/tool/releases/download/v1.0.1/t x"),
    ("url", "http://127.0.0.1:1/assets/1\r\nX-Injected: 1"),
])
def test_release_json_with_a_hostile_url_is_refused(
        tmp_path: Path, github: FakeGitHub, field: str, value: str) -> None:
    rel = github.add_release("acme/tool", "v1.0.1", {"tool-linux.tar.gz": TOOL2})

    def listing(req: RecordedRequest, params: object) -> Answer:
        data = [github.release_json(r) for r in reversed(github.releases)]
        for item in data:
            if item["tag_name"] == rel.tag_name:
                if field == "html_url":
                    item[field] = value
                else:
                    for asset in item["assets"]:
                        asset[field] = value
        return Answer.json(data)

    github.add_route("GET", r"/repos/acme/tool/releases", listing)
    root, env = _release_project(tmp_path, github)
    before = tree_digest(root)
    p = run_pinlock("update", "tool", cwd=root, env=env, limit=LIMIT)
    assert tree_digest(root) == before, p.text
    _refused(p, 1, "GitHub release acme/tool 'v1.0.1'", field, repr(value)[:30])


def test_the_shell_oracle_would_see_an_injected_pin(tmp_path: Path) -> None:
    """The check the cases rely on is real: had the poisoned version been written into the
    RUN line, running that line creates the marker."""
    marker = tmp_path / "ran"
    written = APT_DOCKERFILE.replace(" curl ", f" curl=8.14.1-2$(touch${{IFS}}{marker}) ")
    for script in _runs(written):
        _run_in_sh(script, tmp_path)
    assert marker.exists()
