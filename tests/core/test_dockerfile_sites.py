"""Pin sites found in Dockerfiles: explicit cases with the exact values and lines expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinlock.dockerfile import shell
from pinlock.dockerfile.edit import Edit, OverlappingEditsError, apply_edits
from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import Sites, Value, find_sites

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "dockerfiles"
UV = ("ghcr.io/astral-sh/uv:0.11.6-python3.13-trixie@sha256:"
      "b3c543b6c4f23a5f2df22866bd7857e5d304b67a564f4feab6ac22044dde719b")
S6_URL = "https://github.com/just-containers/s6-overlay/releases/download/v${S6_OVERLAY_VERSION}/"


def corpus(name: str) -> str:
    return (CORPUS / f"{name}.Dockerfile").read_bytes().decode("utf-8")


def sites_of(text: str) -> Sites:
    sites = find_sites(parse(text))
    # Every value names exactly its own characters, on the line it says.
    for v in _values(sites):
        assert text[v.start:v.end] == v.text, v
        assert v.line == text.count("\n", 0, v.start) + 1, v
    return sites


def _values(sites: Sites) -> list[Value]:
    out = [s.value for s in sites.images]
    out += [a.value for a in sites.args if a.value is not None]
    out += [u.checksum for u in sites.urls if u.checksum is not None]
    out += [p.value for site in sites.apt for p in site.packages]
    return out


def apt_words(sites: Sites) -> list[list[tuple[str, str | None, int]]]:
    return [[(p.name, p.version, p.value.line) for p in site.packages] for site in sites.apt]


# The seed Dockerfile.

def test_seed_stages_and_images() -> None:
    sites = sites_of(corpus("seed"))
    assert [(s.index, s.name, s.line) for s in sites.stages] == [(0, "uv_source", 1), (1, None, 2)]
    assert [(i.ref, i.value.text, i.value.line, i.context, i.stage, i.via_arg)
            for i in sites.images] == [
        (UV, UV, 1, "FROM", 0, None),
        ("debian:13.4", "debian:13.4", 2, "FROM", 1, None),
    ]
    # COPY --from=uv_source names the stage, not an image.
    assert sites.stage("uv_source") is sites.stages[0]


def test_seed_args() -> None:
    sites = sites_of(corpus("seed"))
    assert [(a.name, a.value.text if a.value else None, a.stage, a.line) for a in sites.args] == [
        ("TARGETARCH", None, 1, 43),
        ("S6_OVERLAY_VERSION", "3.2.3.0", 1, 44),
        ("S6_OVERLAY_NOARCH_SHA256",
         "b720f9d9340efc8bb07528b9743813c836e4b02f8693d90241f047998b4c53cf", 1, 45),
        ("S6_OVERLAY_X86_64_SHA256",
         "a93f02882c6ed46b21e7adb5c0add86154f01236c93cd82c7d682722e8840563", 1, 46),
        ("S6_OVERLAY_AARCH64_SHA256",
         "0952056ff913482163cc30e35b2e944b507ba1025d78f5becbb89367bf344581", 1, 47),
        ("S6_OVERLAY_SYMLINKS_SHA256",
         "a60dc5235de3ecbcf874b9c1f18d73263ab99b289b9329aa950e8729c4789f0e", 1, 48),
    ]
    assert sites.arg_default("S6_OVERLAY_VERSION") == "3.2.3.0"


def test_seed_urls() -> None:
    sites = sites_of(corpus("seed"))
    assert [(u.url, u.keyword, u.stage, u.line, u.checksum) for u in sites.urls] == [
        (S6_URL + "s6-overlay-noarch.tar.xz", "ADD", 1, 49, None),
        (S6_URL + "s6-overlay-symlinks-noarch.tar.xz", "ADD", 1, 50, None),
        (S6_URL + "s6-overlay-${s6_arch}.tar.xz", "RUN", 1, 51, None),
    ]


def test_seed_apt_packages_on_line_20() -> None:
    sites = sites_of(corpus("seed"))
    assert len(sites.apt) == 1
    site = sites.apt[0]
    assert (site.tool, site.stage, site.line, site.no_install_recommends, site.json_form) == (
        "apt-get", 1, 18, True, False)
    names = ["curl", "nodejs", "npm", "python3", "ripgrep", "ffmpeg", "gcc", "python3-dev",
             "libffi-dev", "procps", "git", "openssh-client", "docker-cli", "xz-utils"]
    assert apt_words(sites) == [[(n, None, 20) for n in names]]
    # Playwright's browser dependencies come through apt-get run by playwright itself.
    assert [(u.line, u.what) for u in sites.unmanaged] == [
        (102, "npx playwright install --with-deps chromium --only-shell")]


# Images.

def test_from_with_platform_as_and_stage_references() -> None:
    sites = sites_of(corpus("from-platform-as"))
    assert [(s.index, s.name, s.base) for s in sites.stages] == [
        (0, "build", "golang:1.23"),
        (1, "arm", "docker.io/library/debian:12@sha256:" + "0" * 64),
        (2, "test", "build"),
        (3, None, "scratch"),
    ]
    # `FROM build`, `FROM scratch` and `COPY --from=Build` are no images.
    assert [(i.ref, i.line, i.context) for i in sites.images] == [
        ("golang:1.23", 1, "FROM"),
        ("docker.io/library/debian:12@sha256:" + "0" * 64, 2, "FROM"),
    ]


def test_references_built_from_global_args() -> None:
    sites = sites_of(corpus("arg-refs"))
    got = [(i.ref, i.value.text, i.value.line, i.prefix, i.suffix, i.stage, i.line, i.via_arg)
           for i in sites.images]
    assert got == [
        ("node:22", "node:22", 1, "", "", 0, 5, "BASE"),
        ("alpine:3.20", "3.20", 2, "alpine:", "", 1, 6, "ALPINE_TAG"),
        ("node:22", "node:22", 1, "", "", 2, 7, "BASE"),
        # Text after the variable: the pin is the operand itself, the digest goes after it.
        ("ghcr.io/owner/tool:1.0", "${REGISTRY}/owner/tool:1.0", 8, "", "", 3, 8, None),
        # BuildKit reads the ${V:-x} default when UNSET has none.
        ("debian:12", "${UNSET:-debian:12}", 9, "", "", 4, 9, None),
    ]
    assert sites.images[3].template == "${REGISTRY}/owner/tool:1.0"
    assert sites.stages[4].base == "${UNSET:-debian:12}"
    assert sites.stages[4].resolved == "debian:12"
    assert [(a.name, a.stage) for a in sites.args] == [
        ("BASE", -1), ("ALPINE_TAG", -1), ("REGISTRY", -1), ("UNSET", -1), ("STAGE_ARG", 4)]


def test_stage_arg_does_not_build_a_from() -> None:
    text = "FROM debian:12\nARG IMG=node:22\nFROM ${IMG}\n"
    assert [i.ref for i in sites_of(text).images] == ["debian:12"]


def test_copy_from_image_versus_stage() -> None:
    sites = sites_of(corpus("copy-from"))
    assert [(i.ref, i.value.text, i.line, i.context, i.stage) for i in sites.images] == [
        ("golang:1.23", "golang:1.23", 1, "FROM", 0),
        ("debian:12", "debian:12", 2, "FROM", 1),
        ("ghcr.io/astral-sh/uv:0.5.0", "ghcr.io/astral-sh/uv:0.5.0", 5, "COPY --from", 1),
        ("busybox:1.36", "busybox:1.36", 6, "COPY --from", 1),
        ("quay.io/org/img:2", "quay.io/org/img:2", 7, "COPY --from", 1),
    ]


def test_run_mount_from_image() -> None:
    sites = sites_of(corpus("run-mount"))
    assert [(i.ref, i.value.line, i.line, i.context) for i in sites.images] == [
        ("debian:12", 1, 1, "FROM"),
        ("ghcr.io/org/tools:1.2", 3, 2, "RUN --mount"),
        ("docker.io/library/alpine:3.20", 5, 5, "RUN --mount"),
    ]
    assert apt_words(sites) == [[("make", None, 4)]]


def test_quoted_flags_are_read_as_buildkit_reads_them() -> None:
    sites = sites_of(corpus("quoted-flags"))
    assert [(i.ref, i.value.text, i.line, i.context) for i in sites.images] == [
        ("python:3.12", "python:3.12", 1, "FROM"),
        ("python:3.12-slim", "python:3.12-slim", 3, "COPY --from"),
    ]
    assert sites.unmanaged == ()  # pip install --require-hashes after a quoted --mount


def test_lowercase_keywords() -> None:
    sites = sites_of(corpus("lowercase"))
    assert [(s.name, s.line) for s in sites.stages] == [("build", 1), (None, 5)]
    assert [i.ref for i in sites.images] == [
        "node:22-bookworm", "gcr.io/distroless/nodejs22-debian12:nonroot"]
    assert [(a.name, a.value.text if a.value else None) for a in sites.args] == [
        ("NPM_VERSION", "10.8.2")]
    assert apt_words(sites) == [[("python3", None, 4)]]


# ARGs.

def test_arg_forms() -> None:
    text = ('FROM debian:12\nARG A=1 B="two words" C=\'3\' D\n'
            "ARG E=\\\n5 F=\\\n  6\n")
    sites = sites_of(text)
    assert [(a.name, a.value.text if a.value else None, a.line) for a in sites.args] == [
        ("A", "1", 2), ("B", "two words", 2), ("C", "3", 2), ("D", None, 2), ("E", "5", 3),
        ("F", "", 3), ("6", None, 3)]  # as BuildKit reads it: the spaces split `F=` from `6`
    assert sites.args[4].value is not None and sites.args[4].value.line == 4
    # An empty default is an insertion point right after its `=`, not on the next line.
    empty = sites.args[5].value
    assert empty is not None and (empty.start, empty.line) == (text.index("F=") + 2, 4)


# URLs and checksums.

def test_add_checksum_and_urls() -> None:
    sites = sites_of(corpus("add-checksum"))
    tini = "https://github.com/krallin/tini/releases/download/v${TINI_VERSION}/tini"
    assert [(u.url, u.keyword, u.line, u.checksum.text if u.checksum else None)
            for u in sites.urls] == [
        (tini, "ADD", 3,
         "sha256:93dcc18adc78c65a028a84799ecf8ad40c936fdfc5f2a57b1acda5a8117fa82c"),
        ("https://example.com/plain.sh", "ADD", 4, None),
        ("https://github.com/moby/buildkit.git#v0.14.0", "ADD", 5, None),
    ]


def test_add_json_form_and_curl_wget() -> None:
    text = ('FROM debian:12\nADD ["https://example.com/a.tgz", "/a/"]\n'
            "RUN curl -fsSLo /b https://example.com/b.tgz && wget -q https://example.com/c\n")
    sites = sites_of(text)
    assert [(u.url, u.keyword, u.line) for u in sites.urls] == [
        ("https://example.com/a.tgz", "ADD", 2),
        ("https://example.com/b.tgz", "RUN", 3),
        ("https://example.com/c", "RUN", 3),
    ]


# apt-get / apt install.

@pytest.mark.parametrize(
    ("name", "expected", "no_recommends"),
    [
        ("apt-forms", [
            [("curl", None, 2), ("ca-certificates", None, 2)],
            [("tzdata", None, 3), ("locales", "2.36-9+deb12u9", 4), ("libc6:arm64", None, 4)],
            [("vim", None, 5), ("nano", None, 5)],
            [("htop", None, 6), ("less", None, 6)],
            [("git", None, 9), ("openssh-client", None, 10)],
            [("golang-go", None, 13)],
        ], [True, False, True, False, False, False]),
        ("apt-in-heredoc", [[("python3", None, 6), ("python3-venv", None, 7)]], [True]),
        ("heredoc-basic", [[("ca-certificates", None, 5),
                            ("curl", "7.88.1-10+deb12u8", 5)]], [True]),
        ("heredoc-command", [[("jq", None, 4)], [("tree", None, 9)]], [False, False]),
        ("heredoc-chomp", [[("git", None, 4)]], [False]),
        ("json-forms", [[("curl", None, 2)], [("git", None, 3)]], [False, False]),
        ("crlf", [[("ca-certificates", None, 6), ("curl", None, 6)]], [True]),
        ("escape-backtick", [[("curl", None, 8), ("git", None, 9)]], [False]),
        ("continuation-comments-blank", [[("curl", None, 6), ("jq", None, 8),
                                          ("wget", None, 10)]], [False]),
        ("whitespace-after-escape", [[("curl", None, 4), ("git", None, 5)]], [False]),
        ("tabs", [[("make", None, 2), ("gcc", None, 3)]], [False]),
        ("open-continuation-eof", [[("curl", None, 2), ("git", None, 3)]], [False]),
        ("unicode", [[("curl", None, 5), ("fonts-noto-cjk", None, 6)]], [False]),
    ],
)
def test_apt_install_forms(name: str, expected: list[list[tuple[str, str | None, int]]],
                           no_recommends: list[bool]) -> None:
    sites = sites_of(corpus(name))
    assert apt_words(sites) == expected
    assert [s.no_install_recommends for s in sites.apt] == no_recommends


def test_apt_tool_stage_and_json_form() -> None:
    sites = sites_of(corpus("apt-forms"))
    assert [(s.tool, s.stage, s.line) for s in sites.apt] == [
        ("apt-get", 0, 2), ("apt-get", 0, 3), ("apt", 0, 5), ("apt-get", 0, 6),
        ("apt-get", 1, 8), ("apt-get", 1, 13)]
    assert [s.json_form for s in sites_of(corpus("json-forms")).apt] == [True, False]


def test_quoted_package_value_is_inside_the_quotes() -> None:
    text = corpus("apt-forms")
    site = sites_of(text).apt[3]
    htop, less = site.packages
    assert text[htop.value.start - 1:htop.value.end + 1] == "'htop'"
    assert text[less.value.start - 1:less.value.end + 1] == '"less"'


def test_redirections_are_not_packages() -> None:
    text = "FROM debian:12\nRUN apt-get install -y curl 2>&1 >/dev/null 3>&- jq\n"
    assert apt_words(sites_of(text)) == [[("curl", None, 2), ("jq", None, 2)]]
    words = [t.value for t in shell.tokenize("a 2>&1 b") if isinstance(t, shell.Word)]
    assert words == ["a", "1", "b"]
    assert [[w.value for w in c] for c in shell.commands(shell.tokenize("a 2>&1 b"))] == [
        ["a", "b"]]


def test_apt_install_of_variables_is_unsafe() -> None:
    sites = sites_of(corpus("apt-forms"))
    assert sites.unmanaged == ()
    assert [(u.what, u.line, u.stage) for u in sites.unsafe_apt] == [
        ("apt-get install -y $EXTRA_PACKAGES", 12, 1)]
    assert "from a variable ($EXTRA_PACKAGES)" in sites.unsafe_apt[0].reason


def test_apt_commands_that_install_nothing() -> None:
    text = ("FROM debian:12\nRUN apt-get update && apt-get install -f && apt-get remove -y x"
            " && apt-cache show curl\n")
    assert sites_of(text).apt == ()


def test_onbuild_heredoc_is_not_an_instruction_stream() -> None:
    df = parse(corpus("onbuild-heredoc"))
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1), ("ONBUILD", 2, 4), ("ONBUILD", 5, 5)]
    assert [h.name for h in df.instructions[1].heredocs] == ["EOF"]


# What pinlock sees but does not manage.

def test_unmanaged() -> None:
    sites = sites_of(corpus("unmanaged"))
    got = [(u.line, u.reason.split()[0]) for u in sites.unmanaged]
    assert got == [(2, "a"), (3, "a"), (4, "a"), (5, "pip"), (7, "pip"), (8, "apk"), (9, "apk")]
    assert sites.unmanaged[0].what == "curl -fsSL https://get.example.com/install.sh | sh"
    assert "piped" in sites.unmanaged[1].reason
    assert sites.unmanaged[2].what.startswith("sh -c $(curl")


# Edits.

def test_edit_on_crlf_file_changes_only_the_value() -> None:
    text = corpus("crlf")
    curl = sites_of(text).apt[0].packages[1].value
    new = apply_edits(text, [Edit(curl.start, curl.end, "curl=7.88.1-10+deb12u8")])
    assert new == text.replace(" curl \\\r\n", " curl=7.88.1-10+deb12u8 \\\r\n")
    assert new.count("\r\n") == text.count("\r\n")
    assert apt_words(sites_of(new)) == [[("ca-certificates", None, 6),
                                         ("curl", "7.88.1-10+deb12u8", 6)]]


def test_edit_through_arg_built_reference() -> None:
    text = corpus("arg-refs")
    site = sites_of(text).images[1]
    assert site.via_arg == "ALPINE_TAG"
    new = apply_edits(text, [Edit(site.value.start, site.value.end, "3.21@sha256:" + "e" * 64)])
    assert new.splitlines()[1] == "ARG ALPINE_TAG=3.21@sha256:" + "e" * 64
    assert sites_of(new).images[1].ref == "alpine:3.21@sha256:" + "e" * 64


def test_edits_apply_together_and_refuse_overlap() -> None:
    assert apply_edits("abcdef", [Edit(4, 5, "E"), Edit(0, 1, "A")]) == "AbcdEf"
    assert apply_edits("abc", [Edit(1, 1, "-")]) == "a-bc"
    with pytest.raises(OverlappingEditsError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


def test_copy_from_through_an_arg_in_the_stages_scope() -> None:
    src = ("ARG HELPER=alpine:3.20\nARG STAGE=build\nFROM debian:13 AS build\n"
           "FROM debian:13\nARG HELPER\nARG STAGE\nARG LOCAL=busybox:1.36\nARG UNSET\n"
           "COPY --from=${HELPER} /bin/x /x\nCOPY --from=$STAGE /out /out\n"
           "RUN --mount=type=bind,from=${LOCAL},target=/b true\nCOPY --from=${UNSET} /a /a\n")
    s = find_sites(parse(src))
    got = [(i.context, i.ref, i.via_arg, i.value.line) for i in s.images
           if i.context != "FROM"]
    # HELPER's pin lives in the global default (line 1); a stage name is not an image;
    # an ARG without a default names nothing to pin
    assert got == [("COPY --from", "alpine:3.20", "HELPER", 1),
                   ("RUN --mount", "busybox:1.36", "LOCAL", 7)]
    helper = next(i for i in s.images if i.via_arg == "HELPER")
    assert src[helper.value.start:helper.value.end] == "alpine:3.20"
    # outside its stage an ARG is not in scope
    s = find_sites(parse("ARG HELPER=alpine:3.20\nFROM debian:13\n"
                         "COPY --from=${HELPER} /bin/x /x\n"))
    assert [i.context for i in s.images] == ["FROM"]


def test_apt_after_a_shell_function_is_still_a_site() -> None:
    text = ("FROM debian:13\nRUN clean() { rm -rf /var/lib/apt/lists/*; } && "
            "apt-get update && apt-get install -y curl && clean\n")
    sites = sites_of(text)
    assert apt_words(sites) == [[("curl", None, 2)]] and sites.unsafe_apt == ()


def test_apt_in_compound_commands_is_seen() -> None:
    text = ("FROM debian:13\nRUN if true; then apt-get install -y curl; else "
            "apt-get install -y wget; fi && { apt-get install -y jq; }\n")
    assert apt_words(sites_of(text)) == [[("curl", None, 2)], [("wget", None, 2)],
                                         [("jq", None, 2)]]


def test_unknown_apt_options_are_not_packages() -> None:
    text = "FROM debian:13\nRUN apt-get install -y --no-frobnicate -q=2 --allow-foo curl\n"
    sites = sites_of(text)
    assert apt_words(sites) == [[("curl", None, 2)]] and sites.unsafe_apt == ()


@pytest.mark.parametrize(("name", "expected"), [
    # `npx playwright install chromium` (line 5) downloads browsers only: no apt.
    ("apt-tool-playwright-with-deps", [
        (2, "npx -y playwright@1.49.0 install --with-deps chromium", "playwright install"),
        (3, "pnpm exec playwright install --with-deps", "playwright install"),
        (4, "python3 -m playwright install --with-deps firefox", "playwright install")]),
    ("apt-tool-playwright-install-deps", [
        (2, "npx playwright install-deps chromium", "playwright install-deps"),
        (4, "playwright install-deps", "playwright install-deps")]),
    ("apt-tool-install-packages", [
        (2, "install_packages curl ca-certificates", "install_packages is a helper")]),
    ("apt-tool-apt-install", [(2, "apt-install git jq", "apt-install is a helper")]),
    ("apt-tool-install-deps", [
        (2, "/usr/share/dotnet/install-deps.sh", "/usr/share/dotnet/install-deps.sh installs"),
        (3, "/usr/share/app/setup install-deps --yes", "/usr/share/app/setup installs")]),
])
def test_tools_that_run_apt_themselves_are_seen_not_managed(
        name: str, expected: list[tuple[int, str, str]]) -> None:
    sites = sites_of(corpus(name))
    assert [(u.line, u.what) for u in sites.unmanaged] == [(n, w) for n, w, _ in expected]
    for u, (_, _, reason) in zip(sites.unmanaged, expected, strict=True):
        assert u.reason.startswith(reason), u.reason
        assert "apt" in u.reason
    assert sites.apt == ()  # nothing of theirs is mistaken for a pinnable install
