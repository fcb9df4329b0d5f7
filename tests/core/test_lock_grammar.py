"""A lock holding a value outside its grammar is bad input on load, naming the key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from pinlock import lockfile
from pinlock.errors import LockfileError, UpstreamDataError
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
from pinlock.model import Input, Lock
from pinlock.values import input_values, lock_values, require

D1 = "sha256:" + "1" * 64
HEX = "2" * 64
CURL = AptPackage("curl", "8.14.1-2", "amd64", HEX, 1000,
                  "pool/main/c/curl/curl_8.14.1-2_amd64.deb", "curl")

IMAGE = ImageInput("debian", ImageIntent("debian", stage="base"),
                   ImageLocked("13.4", D1, "application/vnd.oci.image.index.v1+json",
                               {"linux/amd64": D1}))
RELEASE = ReleaseInput(
    "s6-overlay",
    ReleaseIntent("just-containers/s6-overlay", "S6_OVERLAY_VERSION",
                  (AssetIntent("s6-overlay-{arch}.tar.xz", "S6_OVERLAY_{ARCH}_SHA256"),),
                  arch_map={"linux/amd64": "x86_64"}),
    ReleaseLocked("3.2.0.0", "v3.2.0.0", (LockedAsset(
        "s6-overlay-x86_64.tar.xz", "S6_OVERLAY_X86_64_SHA256", "linux/amd64",
        "https://github.com/just-containers/s6-overlay/releases/download/v3.2.0.0/"
        "s6-overlay-x86_64.tar.xz", HEX, 10, ("api-digest", "sidecar")),)))
APT = AptInput("apt", AptIntent(("curl",), "base", ("trixie", "trixie-security")),
               AptLocked("20250101T000000Z", "snapshot", "minbase",
                         {"trixie": SuiteState("Sat, 15 Nov 2025 09:04:36 UTC", HEX)},
                         {"amd64": AptArchLocked({"curl": "8.14.1-2"}, (CURL,),
                                                 ("libold=1.0-1",))}))
LOCK = Lock("Dockerfile", ("linux/amd64",), {i.name: i for i in (IMAGE, RELEASE, APT)})

Mutation = Callable[[str], Input]
EVIL = "1.0$(touch /tmp/x)"

CASES: list[tuple[str, Mutation]] = [
    ("inputs.debian.locked.tag", lambda v: replace(IMAGE, locked=replace(IMAGE.locked, tag=v))),
    ("inputs.debian.locked.index-digest",
     lambda v: replace(IMAGE, locked=replace(IMAGE.locked, index_digest=v))),
    ("inputs.debian.locked.media-type",
     lambda v: replace(IMAGE, locked=replace(IMAGE.locked, media_type=v))),
    ("inputs.debian.image", lambda v: replace(IMAGE, intent=replace(IMAGE.intent, image=v))),
    ("inputs.s6-overlay.locked.version",
     lambda v: replace(RELEASE, locked=replace(RELEASE.locked, version=v))),
    ("inputs.s6-overlay.locked.tag",
     lambda v: replace(RELEASE, locked=replace(RELEASE.locked, tag=v))),
    ("inputs.s6-overlay.version-arg",
     lambda v: replace(RELEASE, intent=replace(RELEASE.intent, version_arg=v))),
    ("inputs.s6-overlay.tag-template",
     lambda v: replace(RELEASE, intent=replace(RELEASE.intent, tag_template="v{version}" + v))),
    ("inputs.s6-overlay.download-url",
     lambda v: replace(RELEASE, intent=replace(RELEASE.intent, download_url="https://x/" + v))),
    (".url", lambda v: replace(RELEASE, locked=replace(RELEASE.locked, assets=(replace(
        RELEASE.locked.assets[0], url="https://github.com/" + v),)))),
    ("inputs.apt.packages", lambda v: replace(APT, intent=replace(APT.intent, packages=(v,)))),
    ("inputs.apt.suites", lambda v: replace(APT, intent=replace(APT.intent, suites=(v,)))),
    ("inputs.apt.snapshot-arg",
     lambda v: replace(APT, intent=replace(APT.intent, snapshot_arg=v))),
    ("inputs.apt.locked.snapshot", lambda v: replace(APT, locked=replace(APT.locked, snapshot=v))),
    ("inputs.apt.locked.arch.amd64.top.curl", lambda v: replace(APT, locked=replace(
        APT.locked, archs={"amd64": replace(APT.locked.archs["amd64"], top={"curl": v})}))),
    ("closure[0].version", lambda v: replace(APT, locked=replace(APT.locked, archs={
        "amd64": replace(APT.locked.archs["amd64"], closure=(replace(CURL, version=v),))}))),
    ("closure[0].filename", lambda v: replace(APT, locked=replace(APT.locked, archs={
        "amd64": replace(APT.locked.archs["amd64"],
                         closure=(replace(CURL, filename="pool/" + v),))}))),
    ("closure[0].source", lambda v: replace(APT, locked=replace(APT.locked, archs={
        "amd64": replace(APT.locked.archs["amd64"], closure=(replace(CURL, source=v),))}))),
    ("inputs.apt.locked.arch.amd64.removed", lambda v: replace(APT, locked=replace(
        APT.locked, archs={"amd64": replace(APT.locked.archs["amd64"],
                                            removed=("libold=" + v,))}))),
]


def test_a_realistic_lock_holds_every_grammar() -> None:
    text = lockfile.render(LOCK)
    assert lockfile.load(text, "image.lock.toml")[0] == LOCK
    assert lockfile.load_fast(text, "image.lock.toml") == LOCK
    assert len(list(lock_values(LOCK))) > 40


@pytest.mark.parametrize("value", [EVIL, "1.0\n", "1.0`id`", '1.0"]\n[x]', "../1.0", "1 0"])
@pytest.mark.parametrize("key,mutate", CASES, ids=[k for k, _ in CASES])
def test_a_value_outside_its_grammar_is_refused_on_load(key: str, mutate: Mutation,
                                                       value: str) -> None:
    bad = LOCK.replace_input(mutate(value))
    text = lockfile.render(bad)  # tomlkit escapes anything: the TOML itself is well-formed
    for load in (lambda: lockfile.load(text, "image.lock.toml"),
                 lambda: lockfile.load_fast(text, "image.lock.toml")):
        with pytest.raises(LockfileError) as info:
            load()
        message = info.value.diagnostics()
        assert key in message
        assert message.startswith("image.lock.toml: ")
        assert "\n[x]" not in message and "1.0\n" not in message


@pytest.mark.parametrize("key,mutate", CASES, ids=[k for k, _ in CASES])
def test_the_write_path_check_names_the_source(key: str, mutate: Mutation) -> None:
    with pytest.raises(UpstreamDataError) as info:
        require("registry example", input_values(mutate(EVIL)))
    assert info.value.exit_code == 1
    assert info.value.message.startswith("registry example: ")


def test_the_last_wall_refuses_a_dockerfile_edit_that_is_not_one_inert_word() -> None:
    from pinlock.app import _inert
    from pinlock.dockerfile.sites import Value
    from pinlock.pins import PinSite

    here = Value("curl", 10, 14, 3)
    _inert([PinSite("apt", "apt package curl", here, "curl=8.14.1-2")])
    # pinlock's own wiring (quotes and a parameter expansion) is not a value
    _inert([PinSite("apt", "--snapshot", here, ' --snapshot "${DEBIAN_SNAPSHOT}"', wiring=True)])
    with pytest.raises(UpstreamDataError) as info:
        _inert([PinSite("apt", "apt package curl", here, "curl=8.14.1-2$(id)")])
    assert "'curl=8.14.1-2$(id)'" in info.value.message
