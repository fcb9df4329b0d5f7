"""ReleaseSource end to end against the loopback GitHub, for an s6-overlay-like release."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from support.fake_github import S6_REPOSITORY, FakeGitHub, add_s6_overlay, s6_tarballs

from pinlock.errors import PinlockError, UpstreamError
from pinlock.kinds.release.model import (
    AssetIntent,
    LockedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.model import Lock
from pinlock.sources.github import (
    AssetNotFoundError,
    ChecksumMismatchError,
    GitHubClient,
    RateLimitError,
    ReleaseNotAllowedError,
    ReleaseNotFoundError,
    ReleaseSource,
    SidecarError,
    TruncatedDownloadError,
    UnverifiableAssetError,
)
from pinlock.sources.interface import Context, Source

CTX = Context(Lock(platforms=("linux/amd64", "linux/arm64")))
NOARCH = "s6-overlay-noarch.tar.xz"
X86 = "s6-overlay-x86_64.tar.xz"
ARM = "s6-overlay-aarch64.tar.xz"
SYMLINKS = "s6-overlay-symlinks-noarch.tar.xz"


def s6_input(version: str = "3.2.3.0", **intent_changes: object) -> ReleaseInput:
    intent = ReleaseIntent(
        repository=S6_REPOSITORY,
        version_arg="S6_OVERLAY_VERSION",
        assets=(
            AssetIntent("s6-overlay-noarch.tar.xz", "S6_OVERLAY_NOARCH_SHA256"),
            AssetIntent("s6-overlay-{arch}.tar.xz", "S6_OVERLAY_{ARCH}_SHA256"),
            AssetIntent("s6-overlay-symlinks-noarch.tar.xz", "S6_OVERLAY_SYMLINKS_SHA256"),
        ),
        arch_map={"linux/amd64": "x86_64", "linux/arm64": "aarch64"},
    )
    intent = replace(intent, **intent_changes)  # type: ignore[arg-type]
    tag = f"v{version}" if version else ""
    return ReleaseInput("s6-overlay", intent, ReleaseLocked(version, tag))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def served(fake: FakeGitHub) -> dict[str, dict[str, bytes]]:
    return add_s6_overlay(fake)


@pytest.fixture
def source(client: GitHubClient) -> ReleaseSource:
    return ReleaseSource(client)


@pytest.fixture
def deep(client: GitHubClient) -> ReleaseSource:
    return ReleaseSource(client, deep=True)


def test_is_a_source(source: ReleaseSource) -> None:
    typed: Source[ReleaseInput] = source
    assert typed is source


# ---------------------------------------------------------------- resolve


def test_bump_fills_every_asset_from_sidecar_and_api_digest(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    fake.clear_requests()
    out = source.resolve(s6_input("3.2.3.0"), CTX, version="3.2.4.0")
    files = served["3.2.4.0"]
    assert (out.locked.version, out.locked.tag) == ("3.2.4.0", "v3.2.4.0")
    assert [(a.name, a.platform, a.sha256_arg) for a in out.locked.assets] == [
        (NOARCH, None, "S6_OVERLAY_NOARCH_SHA256"),
        (X86, "linux/amd64", "S6_OVERLAY_X86_64_SHA256"),
        (ARM, "linux/arm64", "S6_OVERLAY_AARCH64_SHA256"),
        (SYMLINKS, None, "S6_OVERLAY_SYMLINKS_SHA256"),
    ]
    for asset in out.locked.assets:
        assert asset.sha256 == sha(files[asset.name])
        assert asset.size == len(files[asset.name])
        assert asset.verified_by == ("api-digest", "sidecar")
        assert asset.url == (
            f"https://github.com/{S6_REPOSITORY}/releases/download/v3.2.4.0/{asset.name}"
        )
    assert source.take_notes() == []
    # One release lookup, then one small download per sidecar (API 302 + download host).
    api = [r for r in fake.requests if r.server == "api"]
    assert api[0].path.endswith("/releases/tags/v3.2.4.0")
    assert len(api) == 1 + 4 and len(fake.requests_to("", server="objects")) == 4
    sidecar_ids = {
        str(a.id)
        for a in fake.release(S6_REPOSITORY, "v3.2.4.0").assets
        if a.name.endswith(".sha256")
    }
    assert {r.path.rsplit("/", 1)[1] for r in fake.requests_to("", server="objects")} == sidecar_ids


def test_deep_hashes_the_bytes_too(
    fake: FakeGitHub, deep: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    out = deep.resolve(s6_input(), CTX, version="3.2.4.0")
    assert {a.verified_by for a in out.locked.assets} == {("api-digest", "bytes", "sidecar")}
    objects = fake.requests_to("", server="objects")
    assert len(objects) == 8 and not any(r.had_authorization for r in objects)


def test_lock_fills_missing_checksums_at_the_locked_version(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    out = source.resolve(s6_input("3.2.3.0"), CTX)
    assert out.locked.version == "3.2.3.0"
    assert [a.sha256 for a in out.locked.assets] == [
        sha(served["3.2.3.0"][n]) for n in (NOARCH, X86, ARM, SYMLINKS)
    ]


def test_no_locked_version_takes_the_newest_stable(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    assert source.resolve(s6_input(""), CTX).locked.version == "3.2.4.0"


def test_platforms_decide_the_arch_assets(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    only_arm = Context(Lock(platforms=("linux/arm64",)))
    out = source.resolve(s6_input(), only_arm, version="3.2.4.0")
    assert [a.name for a in out.locked.assets] == [NOARCH, ARM, SYMLINKS]


@pytest.mark.parametrize("omit", [False, True])
def test_old_release_without_api_digest_is_locked_and_reported(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]], omit: bool
) -> None:
    fake.drop_digests(S6_REPOSITORY, "v3.2.3.0", omit=omit)
    out = source.resolve(s6_input(), CTX)
    assert {a.verified_by for a in out.locked.assets} == {("sidecar",)}
    notes = source.take_notes()
    assert [n.code for n in notes] == ["single-checksum-source"] * 4
    assert all(n.severity == "warning" and "--deep" in n.message for n in notes)
    assert X86 in notes[1].message and notes[1].found == sha(served["3.2.3.0"][X86])
    assert source.take_notes() == []


def test_old_release_under_deep_is_cross_checked_by_the_bytes(
    fake: FakeGitHub, deep: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    fake.drop_digests(S6_REPOSITORY, "v3.2.3.0")
    out = deep.resolve(s6_input(), CTX)
    assert {a.verified_by for a in out.locked.assets} == {("bytes", "sidecar")}
    assert deep.take_notes() == []


def test_no_checksum_source_without_deep(fake: FakeGitHub, source: ReleaseSource) -> None:
    fake.add_release(
        S6_REPOSITORY, "v3.2.3.0", s6_tarballs("3.2.3.0"), digests=False, sidecars=False
    )
    with pytest.raises(UnverifiableAssetError) as info:
        source.resolve(s6_input(), CTX)
    assert NOARCH in info.value.message and "--deep" in info.value.diagnostics()


def test_adopted_dockerfile_pin_stays_credited(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    adopted = tuple(
        LockedAsset(name, arg, platform, "u", sha(served["3.2.3.0"][name]), None, ("dockerfile",))
        for name, arg, platform in [
            (NOARCH, "S6_OVERLAY_NOARCH_SHA256", None),
            (X86, "S6_OVERLAY_X86_64_SHA256", "linux/amd64"),
        ]
    )
    inp = s6_input()
    inp = replace(inp, locked=replace(inp.locked, assets=adopted))
    out = source.resolve(inp, CTX)
    by_name = {a.name: a.verified_by for a in out.locked.assets}
    assert by_name[NOARCH] == ("api-digest", "dockerfile", "sidecar")
    assert by_name[ARM] == ("api-digest", "sidecar")


def test_locked_value_that_upstream_no_longer_serves_stops_the_run(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    first = source.resolve(s6_input(), CTX)
    fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", X86, s6_tarballs("9.9.9.9")[X86])
    with pytest.raises(ChecksumMismatchError) as info:
        source.resolve(first, CTX)
    old = sha(served["3.2.3.0"][X86])
    new = sha(s6_tarballs("9.9.9.9")[X86])
    assert old in info.value.message and new in info.value.message
    assert info.value.values["lock"] == old


# ---------------------------------------------------------------- faults, one per case


def _sidecar_disagrees(fake: FakeGitHub) -> None:
    fake.set_sidecar(S6_REPOSITORY, "v3.2.4.0", X86, f"{'0' * 64}  {X86}\n".encode())


def _sidecar_for_another_file(fake: FakeGitHub) -> None:
    text = f"{sha(b'x')}  {ARM}\n".encode()
    fake.set_sidecar(S6_REPOSITORY, "v3.2.4.0", X86, text)


def _sidecar_malformed(fake: FakeGitHub) -> None:
    fake.set_sidecar(S6_REPOSITORY, "v3.2.4.0", X86, b"<html>Not Found</html>\n")


def _tarball_swapped(fake: FakeGitHub) -> None:
    evil = s6_tarballs("6.6.6.6")[X86]
    fake.replace_asset(
        S6_REPOSITORY, "v3.2.4.0", X86, evil, update_digest=False, update_sidecar=False
    )


def _arch_missing(fake: FakeGitHub) -> None:
    fake.remove_asset(S6_REPOSITORY, "v3.2.4.0", ARM)


def _cut_download(fake: FakeGitHub) -> None:
    fake.cut_download(S6_REPOSITORY, "v3.2.4.0", X86, at=3000)


def _rate_limited(fake: FakeGitHub) -> None:
    fake.exhaust_rate_limit()


def _github_down(fake: FakeGitHub) -> None:
    fake.server_error(times=None)


def _sidecar_tampered_after_upload(fake: FakeGitHub) -> None:
    side = fake.release(S6_REPOSITORY, "v3.2.4.0").asset(X86 + ".sha256")
    side.data = f"{'1' * 64}  {X86}\n".encode()  # its API digest still names the old text


FAULTS: list[tuple[str, Callable[[FakeGitHub], None], bool, type[PinlockError], list[str]]] = [
    (
        "sidecar-disagrees",
        _sidecar_disagrees,
        False,
        ChecksumMismatchError,
        [X86, "sidecar=" + "0" * 64, "api-digest="],
    ),
    (
        "sidecar-other-file",
        _sidecar_for_another_file,
        False,
        SidecarError,
        [f"names {ARM}, not {X86}"],
    ),
    (
        "sidecar-malformed",
        _sidecar_malformed,
        False,
        SidecarError,
        [f"{X86}.sha256", "malformed line"],
    ),
    (
        "sidecar-tampered",
        _sidecar_tampered_after_upload,
        False,
        ChecksumMismatchError,
        [f"sidecar {X86}.sha256", "bytes="],
    ),
    (
        "tarball-swapped-deep",
        _tarball_swapped,
        True,
        ChecksumMismatchError,
        [X86, "bytes=" + sha(s6_tarballs("6.6.6.6")[X86]), "sidecar=", "api-digest="],
    ),
    ("arch-missing", _arch_missing, False, AssetNotFoundError, [ARM, "linux/arm64", "v3.2.4.0"]),
    ("cut-download-deep", _cut_download, True, TruncatedDownloadError, ["cut off after"]),
    ("rate-limited", _rate_limited, False, RateLimitError, ["rate limit", "resets at"]),
    ("github-down", _github_down, False, UpstreamError, ["HTTP 503", "/releases/tags/v3.2.4.0"]),
]


@pytest.mark.parametrize(
    ("setup", "deep_mode", "error", "phrases"),
    [f[1:] for f in FAULTS],
    ids=[f[0] for f in FAULTS],
)
def test_fault_gives_a_clear_error(
    fake: FakeGitHub,
    client: GitHubClient,
    served: dict[str, dict[str, bytes]],
    token: str,
    setup: Callable[[FakeGitHub], None],
    deep_mode: bool,
    error: type[PinlockError],
    phrases: list[str],
) -> None:
    setup(fake)
    source = ReleaseSource(client, deep=deep_mode)
    with pytest.raises(error) as info:
        source.resolve(s6_input(), CTX, version="3.2.4.0")
    text = info.value.diagnostics()
    for phrase in phrases:
        assert phrase in text
    assert token not in text


def test_swapped_tarball_passes_without_deep_but_not_with_it(
    fake: FakeGitHub,
    source: ReleaseSource,
    deep: ReleaseSource,
    served: dict[str, dict[str, bytes]],
) -> None:
    _tarball_swapped(fake)
    assert source.resolve(s6_input(), CTX, version="3.2.4.0").locked.version == "3.2.4.0"
    with pytest.raises(ChecksumMismatchError):
        deep.resolve(s6_input(), CTX, version="3.2.4.0")


def test_version_without_release_lists_nearest(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    with pytest.raises(ReleaseNotFoundError) as info:
        source.resolve(s6_input(), CTX, version="3.2.5.0")
    assert info.value.nearest == ("3.2.3.0", "3.2.4.0", "3.2.10.0")
    assert "v3.2.5.0" in info.value.message and "3.2.4.0, 3.2.10.0" in info.value.message


def test_prerelease_needs_permission(
    client: GitHubClient, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    with pytest.raises(ReleaseNotAllowedError, match=r"v3\.2\.10\.0 is a pre-release"):
        source.resolve(s6_input(), CTX, version="3.2.10.0")
    allowed = s6_input(allow_prerelease=True)
    assert source.resolve(allowed, CTX, version="3.2.10.0").locked.tag == "v3.2.10.0"
    flagged = ReleaseSource(client, allow_prerelease=True)
    assert flagged.resolve(s6_input(), CTX, version="3.2.10.0").locked.version == "3.2.10.0"


def test_draft_cannot_be_resolved(fake: FakeGitHub, source: ReleaseSource) -> None:
    add_s6_overlay(fake)
    fake.add_release(S6_REPOSITORY, "v3.2.11.0", s6_tarballs("3.2.11.0"), draft=True)
    with pytest.raises(ReleaseNotFoundError):
        source.resolve(s6_input(), CTX, version="3.2.11.0")


def test_unmapped_arch_names_the_platform(
    source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    with pytest.raises(AssetNotFoundError) as info:
        source.resolve(s6_input(arch_map={}), CTX, version="3.2.4.0")
    assert "s6-overlay-amd64.tar.xz for platform linux/amd64" in info.value.message
    assert "arch_map" in info.value.diagnostics()


def test_from_env(fake: FakeGitHub, token: str, served: dict[str, dict[str, bytes]]) -> None:
    with httpx.Client() as http:
        source = ReleaseSource.from_env(
            http, deep=True, environ={"GITHUB_API_URL": fake.api_url, "GITHUB_TOKEN": token}
        )
        out = source.resolve(s6_input(), CTX, version="3.2.4.0")
    assert source.deep and "bytes" in out.locked.assets[0].verified_by
    assert all(r.authenticated for r in fake.requests if r.server == "api")


# ---------------------------------------------------------------- newest


def test_newest_skips_prereleases_and_drafts(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    fake.add_release(S6_REPOSITORY, "v3.2.11.0", s6_tarballs("3.2.11.0"), draft=True)
    fake.add_release(S6_REPOSITORY, "latest", {}, sidecars=False)
    candidate = source.newest(s6_input(), CTX)
    assert candidate is not None
    assert (candidate.version, candidate.ref) == ("3.2.4.0", "v3.2.4.0")
    assert candidate.notes_url == f"{fake.web_url}/{S6_REPOSITORY}/releases/tag/v3.2.4.0"
    pre = source.newest(s6_input(), CTX, prerelease=True)
    assert pre is not None and pre.version == "3.2.10.0"
    assert source.newest(s6_input(allow_prerelease=True), CTX) == pre


def test_newest_orders_four_part_versions(fake: FakeGitHub, source: ReleaseSource) -> None:
    for version in ("3.2.9.0", "3.2.10.0", "3.2.2.1"):
        fake.add_release(S6_REPOSITORY, f"v{version}", {}, sidecars=False)
    candidate = source.newest(s6_input(), CTX)
    assert candidate is not None and candidate.version == "3.2.10.0"


def test_newest_keeps_the_major_unless_allowed(fake: FakeGitHub, source: ReleaseSource) -> None:
    for version in ("3.2.4.0", "4.0.0.0"):
        fake.add_release(S6_REPOSITORY, f"v{version}", {}, sidecars=False)
    same = source.newest(s6_input(), CTX)
    assert same is not None and same.version == "3.2.4.0"
    major = source.newest(s6_input(), CTX, allow_major=True)
    assert major is not None and major.version == "4.0.0.0"


def test_newest_without_releases(fake: FakeGitHub, source: ReleaseSource) -> None:
    assert source.newest(s6_input(), CTX) is None


def test_newest_over_many_pages(fake: FakeGitHub, source: ReleaseSource) -> None:
    for n in range(230):
        fake.add_release(S6_REPOSITORY, f"v3.{n}.0.0", {}, sidecars=False)
    candidate = source.newest(s6_input(), CTX)
    assert candidate is not None and candidate.version == "3.229.0.0"
    assert len(fake.requests_to(r"/releases$")) == 3


# ---------------------------------------------------------------- check


def test_check_clean(source: ReleaseSource, served: dict[str, dict[str, bytes]]) -> None:
    locked = source.resolve(s6_input(), CTX)
    assert source.check(locked, CTX) == []


def test_check_replaced_asset_names_both_values(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    locked = source.resolve(s6_input(), CTX)
    new = s6_tarballs("7.7.7.7")[ARM]
    fake.replace_asset(S6_REPOSITORY, "v3.2.3.0", ARM, new)
    (finding,) = source.check(locked, CTX)
    old = sha(served["3.2.3.0"][ARM])
    assert (finding.code, finding.severity) == ("asset-replaced", "error")
    assert (finding.expected, finding.found) == (old, sha(new))
    assert old in finding.message and sha(new) in finding.message and ARM in finding.message


def test_check_release_missing(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    locked = source.resolve(s6_input(), CTX)
    fake.releases.remove(fake.release(S6_REPOSITORY, "v3.2.3.0"))
    (finding,) = source.check(locked, CTX)
    assert finding.code == "release-missing" and "v3.2.3.0" in finding.message


def test_check_asset_missing_and_disagreement(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    locked = source.resolve(s6_input(), CTX)
    fake.remove_asset(S6_REPOSITORY, "v3.2.3.0", NOARCH)
    fake.set_sidecar(S6_REPOSITORY, "v3.2.3.0", X86, f"{'0' * 64}  {X86}\n".encode())
    findings = source.check(locked, CTX)
    assert [(f.code, f.severity) for f in findings] == [
        ("asset-missing", "error"),
        ("checksum-disagreement", "error"),
    ]
    assert NOARCH in findings[0].message and "sidecar=" + "0" * 64 in findings[1].message


def test_check_deep_finds_swapped_bytes(
    fake: FakeGitHub,
    source: ReleaseSource,
    deep: ReleaseSource,
    served: dict[str, dict[str, bytes]],
) -> None:
    locked = source.resolve(s6_input(), CTX)
    fake.replace_asset(
        S6_REPOSITORY, "v3.2.3.0", SYMLINKS, b"evil", update_digest=False, update_sidecar=False
    )
    fake.release(S6_REPOSITORY, "v3.2.3.0").asset(SYMLINKS).listed_size = 4
    assert [f.code for f in source.check(locked, CTX)] == ["asset-replaced"]  # size only
    (finding,) = deep.check(locked, CTX)
    assert finding.code == "checksum-disagreement" and "bytes=" + sha(b"evil") in finding.message


def test_check_reports_single_source(
    fake: FakeGitHub, source: ReleaseSource, served: dict[str, dict[str, bytes]]
) -> None:
    locked = source.resolve(s6_input(), CTX)
    fake.drop_digests(S6_REPOSITORY, "v3.2.3.0")
    findings = source.check(locked, CTX)
    assert {(f.code, f.severity) for f in findings} == {("single-checksum-source", "warning")}
    assert len(findings) == 4
