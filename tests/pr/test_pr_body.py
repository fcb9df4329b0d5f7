"""The pull-request body rendered from two lock states: provenance tables in GitHub Markdown."""

from __future__ import annotations

import re

from pinlock import markdown
from pinlock.changes import Change, short_digest
from pinlock.digest import Digest
from pinlock.kinds.apt.model import (
    AptArchLocked,
    AptInput,
    AptIntent,
    AptLocked,
    AptPackage,
    SuiteState,
)
from pinlock.kinds.image.model import ImageInput, ImageIntent, ImageLocked
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.pr import body
from pinlock.pr.pulls import PullRequest

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def sha(c: str) -> str:
    return c * 64


def tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text: lists of rows of cells (split on unescaped pipes)."""
    out: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), line
            current.append([c.strip() for c in _CELL_SPLIT.split(line)[1:-1]])
        elif current:
            out.append(current)
            current = []
    return out


def assert_well_formed(text: str) -> None:
    found = tables(text)
    assert found
    for rows in found:
        header, rule, *data = rows
        assert all(re.fullmatch(r"-{3,}", c) for c in rule) and len(rule) == len(header)
        for row in data:
            assert len(row) == len(header), row


# ------------------------------------------------------------------ two lock states


def image(tag: str, index: str, amd: str, arm: str, name: str = "ghcr.io/astral-sh/uv"
          ) -> ImageInput:
    return ImageInput("uv", ImageIntent(name, tag_pattern="{version}-python3.13-trixie"),
                      ImageLocked(tag, "sha256:" + index, platforms={
                          "linux/amd64": "sha256:" + amd, "linux/arm64": "sha256:" + arm}))


def release(version: str, x86: str, arm: str, noarch: str) -> ReleaseInput:
    intent = ReleaseIntent("just-containers/s6-overlay", "S6_OVERLAY_VERSION", (
        AssetIntent("s6-overlay-noarch.tar.xz", "S6_OVERLAY_NOARCH_SHA256"),
        AssetIntent("s6-overlay-{arch}.tar.xz", "S6_OVERLAY_{ARCH}_SHA256")),
        arch_map={"linux/amd64": "x86_64", "linux/arm64": "aarch64"})
    url = f"https://github.com/just-containers/s6-overlay/releases/download/v{version}/"
    assets = (
        LockedAsset("s6-overlay-noarch.tar.xz", "S6_OVERLAY_NOARCH_SHA256", None,
                    url + "s6-overlay-noarch.tar.xz", noarch, 10, ("sidecar", "api-digest")),
        LockedAsset("s6-overlay-x86_64.tar.xz", "S6_OVERLAY_X86_64_SHA256", "linux/amd64",
                    url + "s6-overlay-x86_64.tar.xz", x86, 10, ("api-digest", "sidecar")),
        LockedAsset("s6-overlay-aarch64.tar.xz", "S6_OVERLAY_AARCH64_SHA256", "linux/arm64",
                    url + "s6-overlay-aarch64.tar.xz", arm, 10, ("sidecar", "bytes")),
    )
    return ReleaseInput("s6-overlay", intent, ReleaseLocked(version, f"v{version}", assets))


def pkg(name: str, version: str, arch: str, c: str) -> AptPackage:
    return AptPackage(name, version, arch, sha(c), 100, f"pool/main/{name[0]}/{name}.deb", name)


def apt(snapshot: str, inrelease: str, closures: dict[str, list[AptPackage]]) -> AptInput:
    return AptInput("apt", AptIntent(("curl", "git"), "1", ("trixie",)), AptLocked(
        snapshot=snapshot, archive="snapshot", base="minbase",
        suites={"trixie": SuiteState("Sat, 01 Feb 2025 00:00:00 UTC", inrelease)},
        archs={arch: AptArchLocked({p.name: p.version for p in pkgs if p.name in ("curl", "git")},
                                   tuple(pkgs)) for arch, pkgs in closures.items()}))


def test_image_rows_have_every_platform_digest() -> None:
    old = image("0.11.6-python3.13-trixie", sha("1"), sha("2"), sha("3"))
    new = image("0.11.7-python3.13-trixie", sha("4"), sha("5"), sha("3"))  # arm64 unchanged
    text = body.render([Change("uv", old, new)], command="pinlock bump uv 0.11.7")
    assert_well_formed(text)
    assert ("| uv | `0.11.6-python3.13-trixie` | `0.11.7-python3.13-trixie` | — |"
            in text)
    pins = tables(text)[1]
    assert pins[0] == ["input", "pin", "from", "to", "verified by"]
    assert pins[2:] == [
        ["uv", "ghcr.io/astral-sh/uv:0.11.7-python3.13-trixie index", f"`sha256:{sha('1')}`",
         f"`sha256:{sha('4')}`", "registry manifest, its bytes hashed"],
        ["uv", "ghcr.io/astral-sh/uv linux/amd64", f"`sha256:{sha('2')}`",
         f"`sha256:{sha('5')}`", "entry of that index"],
    ]
    assert body.bump_version(new) == "0.11.7"
    assert text.splitlines()[-1] == "Reproduce locally: `pinlock bump uv 0.11.7`"


def test_release_rows_carry_each_sha256_and_what_verified_it() -> None:
    old = release("3.2.3.0", sha("a"), sha("b"), sha("c"))
    new = release("3.2.4.0", sha("d"), sha("e"), sha("c"))  # noarch: same bytes
    change = Change("s6-overlay", old, new)
    url = "https://github.com/just-containers/s6-overlay/releases/tag/v3.2.4.0"
    text = body.render([change], command="pinlock bump s6-overlay 3.2.4.0",
                       notes_urls={"s6-overlay": url})
    assert_well_formed(text)
    assert f"| s6-overlay | `3.2.3.0` | `3.2.4.0` | [release notes]({url}) |" in text
    rows = tables(text)[1][2:]
    assert rows == [
        ["s6-overlay", "S6_OVERLAY_X86_64_SHA256 (s6-overlay-x86_64.tar.xz, linux/amd64)",
         f"`{sha('a')}`", f"`{sha('d')}`", "api-digest, sidecar"],
        ["s6-overlay", "S6_OVERLAY_AARCH64_SHA256 (s6-overlay-aarch64.tar.xz, linux/arm64)",
         f"`{sha('b')}`", f"`{sha('e')}`", "bytes, sidecar"],
    ]
    assert "`sidecar`, the release's `.sha256` file" in text
    assert "`bytes`, the downloaded file, hashed" in text
    assert body.title([change]) == "pinlock: bump s6-overlay 3.2.3.0 → 3.2.4.0"


def test_apt_closure_diff_per_architecture() -> None:
    old = apt("20250101T000000Z", sha("1"), {
        "amd64": [pkg("curl", "8.0-1", "amd64", "a"), pkg("libssl3", "3.0-1", "amd64", "b"),
                  pkg("git", "2.40-1", "amd64", "c"), pkg("zlib1g", "1.2-1", "amd64", "d")],
        "arm64": [pkg("curl", "8.0-1", "arm64", "e"), pkg("git", "2.40-1", "arm64", "f")],
    })
    new = apt("20250201T000000Z", sha("2"), {
        "amd64": [pkg("curl", "8.1-1", "amd64", "g"), pkg("libssl3", "3.0-1", "amd64", "b"),
                  pkg("git", "2.40-1", "amd64", "c"), pkg("libnghttp2", "1.5-1", "amd64", "h")],
        "arm64": [pkg("curl", "8.0-1", "arm64", "e"), pkg("git", "2.40-1", "arm64", "f")],
    })
    text = body.render([Change("apt", old, new)], command="pinlock bump apt 20250201T000000Z")
    assert_well_formed(text)
    assert "| apt | `20250101T000000Z` | `20250201T000000Z` | — |" in text
    assert ("| apt | snapshot (DEBIAN_SNAPSHOT) | `20250101T000000Z` | `20250201T000000Z` "
            "| snapshot archive |") in text
    assert (f"| apt | InRelease trixie | `{sha('1')}` | `{sha('2')}` "
            "| signature checked against the keyring |") in text
    assert "### Debian packages (apt)" in text
    assert "<summary>amd64: 1 added, 1 removed, 1 changed</summary>" in text
    assert "arm64" not in text  # nothing changed there
    closure = tables(text)[2]
    assert closure[0] == ["package", "from", "to", "sha256"]
    assert closure[2:] == [
        ["curl", "`8.0-1`", "`8.1-1`", f"`{sha('g')}`"],
        ["libnghttp2", "—", "`1.5-1`", f"`{sha('h')}`"],
        ["zlib1g", "`1.2-1`", "—", "—"],
    ]
    # The closure table sits in <details>, with blank lines so GitHub renders it.
    block = text[text.index("<details>"):text.index("</details>")]
    assert "</summary>\n\n| package |" in block and block.endswith("|\n\n")


def test_group_body_lists_every_input_and_one_command() -> None:
    a = Change("s6-overlay", release("3.2.3.0", sha("a"), sha("b"), sha("c")),
               release("3.2.4.0", sha("d"), sha("e"), sha("f")))
    b = Change("uv", image("0.11.6-python3.13-trixie", sha("1"), sha("2"), sha("3")),
               image("0.11.7-python3.13-trixie", sha("4"), sha("5"), sha("6")))
    text = body.render([a, b], command="pinlock bump s6-overlay 3.2.4.0 && pinlock bump uv 0.11.7")
    assert_well_formed(text)
    assert [r[0] for r in tables(text)[0][2:]] == ["s6-overlay", "uv"]
    assert len(tables(text)[1][2:]) == 3 + 3
    assert body.title([a, b], group="base") == (
        "pinlock: bump base: s6-overlay 3.2.3.0 → 3.2.4.0, "
        "uv 0.11.6-python3.13-trixie → 0.11.7-python3.13-trixie")
    same = Change("uv", b.old, b.old)
    assert body.title([same]) == "pinlock: pin uv 0.11.6-python3.13-trixie"


def test_pipes_and_newlines_cannot_break_a_table() -> None:
    old = image("1.0", sha("1"), sha("2"), sha("3"), name="registry.example/odd|name")
    new = image("1.1", sha("4"), sha("5"), sha("6"), name="registry.example/odd|name")
    text = body.render([Change("uv", old, new)], command="pinlock bump uv 1.1")
    assert_well_formed(text)
    assert "registry.example/odd\\|name:1.1 index" in text
    assert markdown.cell("a|b\nc") == "a\\|b c"
    assert markdown.cell("ends\\") + " |" == "ends\\\\ |"  # a trailing backslash cannot escape it
    assert markdown.cell(None) == "—"


def test_a_huge_closure_diff_is_summarised_to_fit_github() -> None:
    many = [pkg(f"lib{i:04d}", "1.0-1", "amd64", "a") for i in range(2000)]
    old = apt("20250101T000000Z", sha("1"), {"amd64": []})
    new = apt("20250201T000000Z", sha("2"), {"amd64": many})
    text = body.render([Change("apt", old, new)], command="pinlock bump apt 20250201T000000Z")
    assert len(text) <= body.MAX_BODY
    assert_well_formed(text)
    assert "- amd64: 2000 added, 0 removed, 0 changed (too many to list here" in text
    assert text.splitlines()[-1].startswith("Reproduce locally: ")


def test_a_moved_tag_is_a_digest_update_in_title_table_and_marker() -> None:
    old = image("0.11.6-python3.13-trixie", "abcd1234" + sha("1")[8:], sha("2"), sha("3"))
    new = image("0.11.6-python3.13-trixie", "ef567890" + sha("4")[8:], sha("5"), sha("3"))
    change = Change("uv", old, new)
    assert change.digest_moved and not Change("uv", old, old).digest_moved
    assert body.title([change]) == (
        "pinlock: update uv 0.11.6-python3.13-trixie digest sha256:abcd123 → sha256:ef56789")
    # A version bump in the same group still makes it a bump.
    s6 = Change("s6-overlay", release("3.2.3.0", sha("a"), sha("b"), sha("c")),
                release("3.2.4.0", sha("d"), sha("e"), sha("f")))
    assert body.title([s6, change], group="g").startswith("pinlock: bump g: s6-overlay ")
    text = body.render([change], command="pinlock update uv")
    assert_well_formed(text)
    assert ("| uv | `0.11.6-python3.13-trixie@sha256:abcd123` | "
            "`0.11.6-python3.13-trixie@sha256:ef56789` | — |") in text
    pins = tables(text)[1][2:]
    assert [row[1] for row in pins] == [
        "ghcr.io/astral-sh/uv:0.11.6-python3.13-trixie index", "ghcr.io/astral-sh/uv linux/amd64"]
    assert pins[0][2:4] == [f"`{old.locked.index_digest}`", f"`{new.locked.index_digest}`"]


def test_the_target_marker_names_what_the_update_moves_to() -> None:
    uv = Change("uv", image("0.11.6-python3.13-trixie", sha("1"), sha("2"), sha("3")),
                image("0.11.7-python3.13-trixie", sha("4"), sha("5"), sha("6")))
    s6 = Change("s6-overlay", release("3.2.3.0", sha("a"), sha("b"), sha("c")),
                release("3.2.4.0", sha("d"), sha("e"), sha("f")))
    want = f"s6-overlay=3.2.4.0 uv=0.11.7-python3.13-trixie@sha256:{sha('4')}"
    assert body.target([uv, s6]) == body.target([s6, uv]) == want
    text = body.render([uv, s6], command="…")
    assert text.splitlines()[:2] == [body.MARKER, f"<!-- pinlock:target {want} -->"]
    assert body.target_of(text) == want and body.target_of("a body by hand") is None
    # Withdrawn when pinlock closes the pull request itself; the rest of the body stays.
    gone = body.withdraw_target(text)
    assert body.target_of(gone) is None and body.MARKER in gone
    assert gone.replace("<!-- pinlock:withdrawn -->", f"<!-- pinlock:target {want} -->") == text
    # A value that would end the HTML comment early is quoted.
    odd = Change("s6-overlay", s6.old, release("3.2.4.0 -->", sha("d"), sha("e"), sha("f")))
    assert body.target([odd]) == "s6-overlay=3.2.4.0%20--%3E"


def test_apt_target_is_its_package_versions_not_its_snapshot() -> None:
    old = apt("20250101T000000Z", sha("1"), {"amd64": [pkg("curl", "8.0-1", "amd64", "a")]})
    new = apt("20250201T000000Z", sha("2"), {"amd64": [pkg("curl", "8.1-1", "amd64", "b")]})
    later = apt("20250301T000000Z", sha("3"), {"amd64": [pkg("curl", "8.1-1", "amd64", "b")]})
    newer = apt("20250301T000000Z", sha("3"), {"amd64": [pkg("curl", "8.2-1", "amd64", "c")]})
    t = body.target([Change("apt", old, new)])
    assert t.startswith("apt=versions:")
    # A later snapshot that installs the same versions offers nothing new.
    assert body.target([Change("apt", old, later)]) == t
    assert body.target([Change("apt", old, newer)]) != t


def _release_named(name: str, version: str, c: str) -> ReleaseInput:
    inp = release(version, sha(c), sha(c), sha(c))
    return ReleaseInput(name, inp.intent, inp.locked)


def test_a_group_title_stays_within_githubs_limit() -> None:
    changes = [Change(f"tool-with-a-rather-long-name-{i:02d}",
                      _release_named(f"tool-with-a-rather-long-name-{i:02d}", "1.0.0", "1"),
                      _release_named(f"tool-with-a-rather-long-name-{i:02d}", "1.1.0", "2"))
               for i in range(12)]
    text = body.title(changes, group="tools")
    assert len(text) <= body.MAX_TITLE
    assert text.startswith("pinlock: bump tools: tool-with-a-rather-long-name-00 1.0.0 → 1.1.0, ")
    shown = text.count(" → ")
    assert text.endswith(f", … and {12 - shown} more") and 0 < shown < 12
    # A short group is named whole.
    assert body.title(changes[:2], group="tools") == (
        "pinlock: bump tools: tool-with-a-rather-long-name-00 1.0.0 → 1.1.0, "
        "tool-with-a-rather-long-name-01 1.0.0 → 1.1.0")


def test_a_body_still_too_long_after_the_short_form_cuts_the_pins_table() -> None:
    # So many inputs that even without Debian package tables the pins do not fit.
    changes = [Change(f"tool{i:04d}", _release_named(f"tool{i:04d}", "1.0.0", "1"),
                      _release_named(f"tool{i:04d}", "1.1.0", "2")) for i in range(150)]
    text = body.render(changes, command="pinlock update")
    assert len(text) <= body.MAX_BODY
    assert_well_formed(text)
    pins = tables(text)[1]
    left_out = 3 * 150 - (len(pins) - 2)
    assert 0 < left_out < 3 * 150
    assert (f"{left_out} more pins are not shown here, to fit GitHub's limit: see the lock "
            "file's diff.") in text
    assert text.splitlines()[-1] == "Reproduce locally: `pinlock update`"


def test_a_body_edited_in_the_browser_still_names_its_target() -> None:
    # GitHub returns a body edited in its web page with CRLF line ends.
    old, new = release("3.2.3.0", sha("1"), sha("2"), sha("3")), release(
        "3.2.4.0", sha("4"), sha("5"), sha("6"))
    text = body.render([Change("s6-overlay", old, new)], command="pinlock bump s6-overlay 3.2.4.0")
    crlf = text.replace("\n", "\r\n") + "\r\nLooks good to me.\r\n"
    pull = PullRequest.from_json({"number": 1, "body": crlf, "head": {"ref": "pinlock/x"}},
                                 where="test")
    assert body.target_of(pull.body) == "s6-overlay=3.2.4.0"
    assert "pinlock:target" not in body.withdraw_target(pull.body)
    assert pull.body.endswith("\nLooks good to me.\n")


def test_short_digest() -> None:
    assert short_digest("sha256:" + "abcdef0" * 9 + "a") == "sha256:abcdef0"
    assert short_digest("sha256:" + "a" * 64, 8) == "sha256:aaaaaaaa"
    assert short_digest(None) == "(none)"
    assert short_digest("not-a-digest") == "not-a-digest"
    assert Digest.parse("sha512:" + "f" * 128).short(3) == "sha512:fff"
