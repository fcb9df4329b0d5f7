"""The value grammars: real values pass; what a shell, TOML or git would read as syntax fails."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinlock import grammar
from pinlock.grammar import GrammarError
from pinlock.sources.debian.version import compare, is_valid

# Shell, TOML and log metacharacters: none may pass any grammar that reaches a file.
HOSTILE = ["$(touch /tmp/x)", "`id`", "'", '"', " ", "\n", "\t", "\\", ";", "|", "&", "<",
           ">", "(", ")", "{", "}", "$", "*", "?", "[", "]", "#\n", "\r", "\x1b[2J", "\x00"]

CHECKS: dict[str, Callable[[str], None]] = {
    "debian_package": grammar.debian_package,
    "debian_version": grammar.debian_version,
    "debian_arch": grammar.debian_arch,
    "pool_filename": grammar.pool_filename,
    "oci_repository": grammar.oci_repository,
    "oci_tag": grammar.oci_tag,
    "digest": grammar.digest,
    "media_type": grammar.media_type,
    "release_version": grammar.release_version,
    "release_tag": grammar.release_tag,
    "asset_name": grammar.asset_name,
    "sha256_hex": grammar.sha256_hex,
    "url": grammar.url,
    "git_branch": grammar.git_branch,
}

GOOD = {
    "debian_package": ["curl", "libc6", "g++", "libstdc++6", "python3.13", "0ad", "nodejs"],
    "debian_version": ["8.14.1-2", "1:2.3.4-1+deb13u1", "2.41-12", "1.0~rc1-1", "20240101",
                       "3.0.17-1~deb13u2", "1:9.2.0-1", "2:1.2.3", "0.9.8", "7.88.1-10+deb12u12",
                       "1.0-2-3", "4.1:3"[2:]],
    "debian_arch": ["amd64", "arm64", "all", "armhf", "ppc64el", "hurd-i386"],
    "pool_filename": ["pool/main/c/curl/curl_8.14.1-2_amd64.deb",
                      "pool/main/libs/libstdc++/libstdc++6_14.2.0-19_arm64.deb",
                      "pool/updates/main/o/openssl/openssl_3.0.17-1~deb13u2_amd64.deb"],
    "oci_repository": ["debian", "library/debian", "ghcr.io/astral-sh/uv",
                       "localhost:5000/team/app", "127.0.0.1:35123/x/y", "a__b/c-d"],
    "oci_tag": ["13.4", "latest", "0.11.6-python3.13-trixie", "v1.2.3_build", "_x"],
    "digest": ["sha256:" + "0" * 64, "sha256:" + "ab" * 32],
    "media_type": ["application/vnd.oci.image.index.v1+json",
                   "application/vnd.docker.distribution.manifest.list.v2+json"],
    "release_version": ["1.2.3", "3.2.0.0", "2024.05.1", "1.0.0-rc.1", "1.2.3+build.4", "r27",
                        "1.7.1"],
    "release_tag": ["v1.2.3", "jq-1.7.1", "2024.05.1", "v3.2.0.0", "pkg@1.2.3", "cli/v2.0.0",
                    "v1.0.0-rc.1", "release_1_0"],
    "asset_name": ["s6-overlay-x86_64.tar.xz", "jq-linux-amd64", "tool_1.0_linux_arm64.tar.gz",
                   "sha256sum.txt", "app-1.0+1.zip"],
    "sha256_hex": ["0" * 64, "deadbeef" * 8],
    "url": ["https://github.com/o/r/releases/download/v1.0/a.tar.gz",
            "http://127.0.0.1:8080/x/y=1", "https://example.org/a%20b~c"],
    "git_branch": ["pinlock/s6-overlay", "pinlock/group-base@main", "renovate/x_1.2"],
}

BAD = {
    "debian_package": ["Curl", "c", "-x", "curl$(id)", "curl\n", "curl=1", "a b"],
    "debian_version": ["8.14.1-2$(touch${IFS}/tmp/x)", "1.0\n", " 1.0", "a1.0", "1:", "1.0-",
                       "1.0:2", "1.0-2_3", "", "1.0`id`"],
    "debian_arch": ["AMD64", "amd64\n", "am d64", "amd64;", ""],
    "pool_filename": ["../etc/passwd", "pool/../../x.deb", "/pool/x.deb", "pool//x.deb",
                      "pool/./x.deb", "pool/x y.deb", "pool/x$(id).deb", "pool/x\n.deb", ""],
    "oci_repository": ["Debian", "debian:13", "x/../y", "a//b", "a b", "x/$(id)", "-x"],
    "oci_tag": ["1.0\n", ".x", "-x", "a" * 129, "1.0$(id)", "é"],
    "digest": ["sha256:" + "0" * 63, "sha256:" + "A" * 64, "md5:" + "0" * 32,
               "sha256:" + "0" * 64 + "\n"],
    "media_type": ["application/json; charset=utf-8", "x", "a/b\n"],
    "release_version": ["1.0$(id)", "1.0`id`", "1.0'", '1.0"', "1.0 ", "1.0\n", "1.0\\",
                        "1.0;x", '1"]\n[x]', "-1", "1/2"],
    "release_tag": ["v1$(id)", "v1`id`", "v1'", 'v1"', "v1\n", 'v"]\n[x]', "../v1", "v1/../x",
                    "/v1", "v1/", "v 1"],
    "asset_name": ["a/b.tar.gz", "..", "../x", "x..y", ".", "a b", "a$(id)", "a\n", ""],
    "sha256_hex": ["0" * 63, "0" * 65, "G" * 64, "A" * 64, "0" * 64 + "\n"],
    "url": ["ftp://x/y", "file:///etc/passwd", "https://x/$(id)", "https://x/a b",
            "https://x/'", "https:///x", "javascript:alert(1)", "https://x/a\n", "https://x/`id`",
            "https://x/a;b", "https://x/a&b", "https://x/a?b=1",
            "https://x/a#b", "https://x/a*", "https://x/a/../b", "https://x/./b"],
    "git_branch": ["a..b", "-x", "a//b", "a/", "a.lock", "a/.x", "a@{1}", "a b", "a\n", "a~1",
                   "a^", "a:b"],
}


@pytest.mark.parametrize("check,value", [(c, v) for c, vs in GOOD.items() for v in vs])
def test_real_values_pass(check: str, value: str) -> None:
    CHECKS[check](value)


@pytest.mark.parametrize("check,value", [(c, v) for c, vs in BAD.items() for v in vs])
def test_bad_values_fail_with_escaped_value(check: str, value: str) -> None:
    with pytest.raises(GrammarError) as info:
        CHECKS[check](value)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message and "\x1b" not in message
    assert repr(value)[:60].rstrip("'") in message


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("poison", HOSTILE)
def test_no_grammar_takes_a_metacharacter(check: str, poison: str) -> None:
    for good in GOOD[check][:2]:
        for value in (good + poison, poison + good, good[:1] + poison + good[1:]):
            with pytest.raises(GrammarError):
                CHECKS[check](value)


_SAFE_SHELL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_values_passing_a_grammar_need_no_shell_quoting(value: str) -> None:
    """Whatever a grammar admits is one literal shell word: shell_word leaves it as is and
    shlex (POSIX rules) splits it back to itself."""
    for check in CHECKS.values():
        try:
            check(value)
        except GrammarError:
            continue
        assert "\n" not in value and "$" not in value and "`" not in value
        word = grammar.shell_word(value)
        assert shlex.split(word) == [value]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_shell_word_is_one_literal_word_for_sh(value: str) -> None:
    """The real shell as oracle: ``sh -c 'printf %s WORD'`` prints the value back, unexpanded."""
    if "\x00" in value:
        return
    word = grammar.shell_word(value)
    out = subprocess.run(["sh", "-c", f"printf %s {word}"], capture_output=True, check=True,
                         env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})
    assert out.stdout.decode("utf-8", "surrogateescape") == value


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"\A(?:[0-9]{1,2}:)?[0-9][A-Za-z0-9.+~]{0,8}(?:-[A-Za-z0-9.+~]{1,6})?\Z"))
def test_generated_debian_versions_pass_and_compare(version: str) -> None:
    grammar.debian_version(version)
    assert is_valid(version)
    assert compare(version, version) == 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_debian_version_agrees_with_is_valid(text: str) -> None:
    try:
        grammar.debian_version(text)
        ok = True
    except GrammarError:
        ok = False
    assert ok == is_valid(text)
    if ok:
        assert not set(text) & set("$`'\" \n\\;|&<>(){}[]")


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(GrammarError) as info:
        grammar.release_tag("v1" + "$" * 10_000)
    assert len(str(info.value)) < 400
    assert "10002 characters" in str(info.value)


def test_pr_title() -> None:
    grammar.pr_title("pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0")
    for bad in ("", "a\nb", "a\rb", "x" * 257, "a\x1bb"):
        with pytest.raises(GrammarError):
            grammar.pr_title(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_json_string_is_the_inside_of_one_json_string(value: str) -> None:
    import json

    assert json.loads('"' + grammar.json_string(value) + '"') == value


def test_pr_body() -> None:
    grammar.pr_body("## pinlock\n\n| a | b |\n|---|---|\n| `x` | → |\n")
    for bad in ("a\rb", "a\x1b[2Jb", "a\x00", "x" * 65537):
        with pytest.raises(GrammarError):
            grammar.pr_body(bad)


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._+-]{0,20}\Z"),
    st.text(alphabet="abc1.-+_$`'\"\\ ;|&(){}[]#~*?", min_size=1, max_size=12)))
def test_a_value_that_passes_is_the_arg_value_buildkit_reads(value: str) -> None:
    """BuildKit's own parser (the ``dockerfile`` package) reads ``ARG V=<value>`` back as
    exactly the value whenever the release-version grammar admits it."""
    dockerfile = pytest.importorskip("dockerfile")
    try:
        grammar.release_version(value)
    except GrammarError:
        return
    (cmd,) = dockerfile.parse_string(f"ARG V={value}\n")
    assert cmd.value == (f"V={value}",)
    (run,) = dockerfile.parse_string(f"RUN apt-get install -y curl={value}\n")
    assert shlex.split(run.value[0]) == ["apt-get", "install", "-y", f"curl={value}"]
