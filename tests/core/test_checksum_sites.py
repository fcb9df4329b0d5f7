"""The checksum recognizer: every sha256 that checks a download, its exact span, its URL and
arch; checksum files; and what it sees but cannot pin (computed at build time, a loop URL)."""

from __future__ import annotations

import pytest

from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import ChecksumSite, Sites, find_sites

A, B, C = "a" * 64, "b" * 64, "c" * 64
GH = "https://github.com/acme/tool/releases/download"


def sites_of(text: str) -> Sites:
    s = find_sites(parse(text))
    for c in s.checksums.sites:
        # The span holds exactly the digits: an edit there rewrites nothing else.
        assert text[c.value.start:c.value.end] == c.value.text
    return s


def only(text: str) -> ChecksumSite:
    (site,) = [c for c in sites_of(text).checksums.sites if c.how != "name"]
    return site


@pytest.mark.parametrize("check", [
    'echo "${TOOL_SHA256}  /tmp/t.tgz" | sha256sum -c -',
    'echo "$TOOL_SHA256 */tmp/t.tgz" | sha256sum --check',
    'echo "${TOOL_SHA256}  /tmp/t.tgz" | sha256sum --strict -c -',
    'sha256sum -c <<<"${TOOL_SHA256}  /tmp/t.tgz"',
    'sha256sum -c - <<< "$TOOL_SHA256 /tmp/t.tgz"',
    "printf '%s  %s\\n' \"$TOOL_SHA256\" /tmp/t.tgz | sha256sum -c",
    'echo "$TOOL_SHA256  /tmp/t.tgz" | shasum -a 256 -c -',
])
def test_an_arg_checked_by_sha256sum_is_tied_to_the_file_it_checks(check: str) -> None:
    c = only(f"FROM alpine\nARG TOOL_VERSION=1.0\nARG TOOL_SHA256={A}\n"
             f"RUN curl -fsSL -o /tmp/t.tgz {GH}/v${{TOOL_VERSION}}/t.tgz && {check}\n")
    assert (c.holder, c.held_in, c.how, c.value.line) == ("TOOL_SHA256", "ARG", "sha256sum", 3)
    assert c.url == f"{GH}/v${{TOOL_VERSION}}/t.tgz" and c.file == "/tmp/t.tgz"


def test_an_env_holder_in_either_form() -> None:
    s = sites_of(f"FROM alpine\nENV TOOL_VERSION 1.0\nENV TOOL_SHA256={A} OTHER=x\n"
                 f"RUN wget -O t.tgz {GH}/v$TOOL_VERSION/t.tgz; "
                 'echo "$TOOL_SHA256 *t.tgz" | sha256sum -c -\n')
    (c,) = s.checksums.sites
    assert (c.holder, c.held_in) == ("TOOL_SHA256", "ENV")
    assert [(e.name, e.value.text if e.value else None) for e in s.checksums.env] == [
        ("TOOL_VERSION", "1.0"), ("TOOL_SHA256", A), ("OTHER", "x")]


def test_add_checksum_literal_and_by_arg() -> None:
    s = sites_of(f"FROM alpine\nARG V=1\nARG X_SHA256={B}\n"
                 f"ADD --checksum=sha256:{A} {GH}/v${{V}}/a.tgz /tmp/\n"
                 f"ADD --checksum=sha256:${{X_SHA256}} {GH}/v${{V}}/b.tgz /tmp/b.tgz\n")
    got = [(c.holder, c.held_in, c.value.text, c.url) for c in s.checksums.sites]
    assert got == [(None, "ADD", A, f"{GH}/v${{V}}/a.tgz"),
                   ("X_SHA256", "ARG", B, f"{GH}/v${{V}}/b.tgz")]


CASE = f"""\
FROM debian
ENV TOOL_VERSION=2.0
RUN set -eux; \\
    case "$(dpkg --print-architecture)" in \\
        amd64) sha256='{A}'; url="{GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz" ;; \\
        arm64|aarch64) \\
            sha256='{B}'; \\
            url="{GH}/v${{TOOL_VERSION}}/tool-linux-arm64.tgz" ;; \\
        *) echo unsupported; exit 1 ;; \\
    esac; \\
    curl -fsSLo tool.tgz "$url"; \\
    echo "$sha256 *tool.tgz" | sha256sum -c -
"""


def test_a_per_arch_case_block_gives_each_literal_its_arch_and_url() -> None:
    got = [(c.arch, c.value.text, c.value.line, c.url) for c in sites_of(CASE).checksums.sites]
    assert got == [(("amd64",), A, 5, f"{GH}/v${{TOOL_VERSION}}/tool-linux-amd64.tgz"),
                   (("arm64", "aarch64"), B, 7, f"{GH}/v${{TOOL_VERSION}}/tool-linux-arm64.tgz")]


def test_an_arch_variable_set_in_the_arms_fills_the_url_after_the_case() -> None:
    s = sites_of(f"""\
FROM alpine
ARG V=1.2
RUN apkArch="$(apk --print-arch)"; case "$apkArch" in \\
      x86_64) binArch='amd64'; checksum='{A}' ;; \\
      aarch64) binArch='arm64'; checksum='{B}' ;; \\
    esac; \\
    wget -O /tmp/t.tgz "{GH}/v${{V}}/t_${{V}}_linux_${{binArch}}.tar.gz"; \\
    echo "$checksum  /tmp/t.tgz" | sha256sum -c
""")
    assert [(c.arch, c.url) for c in s.checksums.sites] == [
        (("x86_64",), f"{GH}/v${{V}}/t_${{V}}_linux_amd64.tar.gz"),
        (("aarch64",), f"{GH}/v${{V}}/t_${{V}}_linux_arm64.tar.gz")]


def test_a_literal_in_echo_and_a_file_added_earlier() -> None:
    c = only(f"FROM alpine\nARG V=1\nADD {GH}/v${{V}}/t.tgz /tmp/\n"
             f'RUN echo "{C}  /tmp/t.tgz" | sha256sum -c -\n')
    assert (c.holder, c.held_in, c.value.text, c.value.line) == (None, "RUN", C, 4)
    assert c.url == f"{GH}/v${{V}}/t.tgz"


def test_checksum_files_downloaded_and_checked_in_the_run() -> None:
    s = sites_of(f"""\
FROM alpine
ARG V=1
RUN curl -fsSLO {GH}/v${{V}}/t.tgz && curl -fsSLO {GH}/v${{V}}/SHA256SUMS \\
 && sha256sum -c --ignore-missing SHA256SUMS
RUN curl -fsSLo u.tgz {GH}/v${{V}}/u.tgz && curl -fsSLo u.tgz.sha256 {GH}/v${{V}}/u.tgz.sha256 \\
 && sha256sum -c u.tgz.sha256
RUN wget {GH}/v${{V}}/w.tgz {GH}/v${{V}}/SHASUMS256.txt \\
 && grep " w.tgz\\$" SHASUMS256.txt | sha256sum -c -
""")
    assert not s.checksums.sites
    assert [(f.url.rsplit("/", 1)[1], f.checks and f.checks.rsplit("/", 1)[1], f.line)
            for f in s.checksums.files] == [
        ("SHA256SUMS", None, 4), ("u.tgz.sha256", "u.tgz", 6), ("SHASUMS256.txt", "w.tgz", 8)]


@pytest.mark.parametrize(("run", "why"), [
    ('curl -o t.tgz https://x.org/t.tgz && echo "$(curl -s https://x.org/t.sha256)  t.tgz" '
     "| sha256sum -c -", "computed or fetched when the image builds"),
    ('sum=$(curl -s https://x.org/t.sha256); curl -o t.tgz https://x.org/t.tgz; '
     'echo "$sum  t.tgz" | sha256sum -c -', "computed or fetched when the image builds"),
    ("for a in amd64 arm64; do curl -fsSLO https://x.org/t-$a.tgz; done",
     "assembled in a shell loop ($a)"),
])
def test_what_cannot_be_pinned_is_seen_with_its_line_and_why(run: str, why: str) -> None:
    s = sites_of(f"FROM alpine\n\nRUN {run}\n")
    assert not s.checksums.sites
    (u,) = [u for u in s.unmanaged if why in u.reason]
    assert u.line == 3


def test_a_sha256_default_no_check_uses_is_reported_by_name() -> None:
    (c,) = sites_of(f"FROM alpine\nARG TOOL_SHA256={A}\nARG NOT_A_SUM=abc\n").checksums.sites
    assert (c.holder, c.how, c.url) == ("TOOL_SHA256", "name", None)
