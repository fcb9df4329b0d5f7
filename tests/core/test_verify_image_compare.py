"""The pure half of verify --image: dpkg status + lock -> findings; layers over layers; refs."""

from __future__ import annotations

import pytest

from pinlock.errors import InputError
from pinlock.kinds.apt.built import STATUS, STATUS_D, compare
from pinlock.kinds.apt.model import AptArchLocked, AptInput, AptIntent, AptLocked, AptPackage
from pinlock.sources.debian.deb822 import PackageRecord
from pinlock.sources.oci.image import ImageLocation, parse_location
from pinlock.sources.oci.layers import LayerChanges, apply_layer


def _pkg(name: str, version: str, arch: str = "amd64") -> AptPackage:
    return AptPackage(name, version, arch, "0" * 64, 1, f"pool/{name}.deb", name)


def _input(closure: tuple[AptPackage, ...], removed: tuple[str, ...] = (),
           name: str = "apt") -> AptInput:
    return AptInput(name, AptIntent(("curl",), "0", ("trixie",)), AptLocked(
        snapshot="20250101T000000Z", archive="snapshot", base="image-dpkg-status",
        archs={"amd64": AptArchLocked({"curl": "8.14.1-2"}, closure, removed)}))


def _status(*pkgs: tuple[str, str, str], state: str = "install ok installed") -> bytes:
    return "\n".join(f"Package: {n}\nStatus: {state}\nPriority: optional\nArchitecture: {a}\n"
                     f"Version: {v}\nDescription: x\n multi-line\n" for n, v, a in pkgs).encode()


BASE = [PackageRecord("libc6", "2.41-12", "amd64"), PackageRecord("libc6", "2.41-12", "i386"),
        PackageRecord("mawk", "1.3.4-1", "amd64"), PackageRecord("tzdata", "2025a-1", "all")]
CLOSURE = (_pkg("curl", "8.14.1-2"), _pkg("libc6", "2.41-13"), _pkg("ca-certificates",
                                                                      "20250419", "all"))
GOOD = (("libc6", "2.41-13", "amd64"), ("libc6", "2.41-12", "i386"), ("tzdata", "2025a-1", "all"),
        ("curl", "8.14.1-2", "amd64"), ("ca-certificates", "20250419", "all"))


def _codes(files: dict[str, bytes], inp: AptInput | None = None) -> list[tuple[str, str]]:
    findings = compare(files, [inp or _input(CLOSURE, ("mawk=1.3.4-1",))], BASE, "amd64",
                       "linux/amd64")
    assert all(f.message.startswith("linux/amd64: ") for f in findings)
    return [(f.code, f.found or f.expected or "") for f in findings]


def test_upgrade_over_base_with_foreign_arch_and_removal_is_clean() -> None:
    # libc6 upgraded (amd64 only: the i386 copy stays), mawk removed as the lock says.
    assert _codes({STATUS: _status(*GOOD)}) == []


def test_removed_package_still_there() -> None:
    assert _codes({STATUS: _status(*GOOD, ("mawk", "1.3.4-1", "amd64"))}) == [
        ("removed-package", "mawk=1.3.4-1 (amd64)")]


def test_distroless_status_d_is_read_and_md5sums_skipped() -> None:
    files = {f"{STATUS_D}/{n}_{a}": _status((n, v, a)) for n, v, a in GOOD}
    files[f"{STATUS_D}/curl.md5sums"] = b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/curl\n"
    assert _codes(files) == []


def test_only_installed_packages_count() -> None:
    files = {STATUS: _status(*GOOD[1:]) + b"\n" + _status(GOOD[0], state="install ok unpacked")
             + b"\n" + _status(("vim", "2:9.1-1", "amd64"), state="deinstall ok config-files")}
    assert _codes(files) == [("missing-package", "libc6=2.41-13 (amd64)")]


def test_findings_per_kind_of_difference() -> None:
    tampered = [("libc6", "2.41-13+evil", "amd64"), ("libc6", "2.41-12", "i386"),
                ("tzdata", "2025a-1", "amd64"), ("curl", "8.15.0-1", "arm64"),
                ("nc", "1.0-1", "amd64")]
    assert sorted(_codes({STATUS: _status(*tampered)})) == [
        ("architecture-differs", "tzdata=2025a-1 (amd64)"),
        ("missing-package", "ca-certificates=20250419 (all)"),
        ("package-differs", "curl=8.15.0-1 (arm64)"),
        ("unknown-package", "nc=1.0-1 (amd64)"),
        ("version-differs", "libc6=2.41-13+evil (amd64)"),
    ]


@pytest.mark.parametrize(("files", "code"), [
    ({}, "no-dpkg-status"),
    ({STATUS: b"Version: 1\n"}, "status-unreadable"),
    ({STATUS: b"\xff\xfe"}, "status-unreadable"),
])
def test_no_or_bad_status(files: dict[str, bytes], code: str) -> None:
    assert [c for c, _ in _codes(files)] == [code]


def test_arch_not_locked() -> None:
    findings = compare({STATUS: _status(*GOOD)}, [_input(CLOSURE)], BASE, "arm64", "linux/arm64")
    assert [f.code for f in findings] == ["not-locked"]


def test_two_inputs_later_stage_wins_and_owns_its_findings() -> None:
    first = _input(CLOSURE, ("mawk=1.3.4-1",), name="apt")
    second = _input((_pkg("curl", "8.14.1-3"), _pkg("jq", "1.7.1-6")), name="apt-final")
    good = [p for p in GOOD if p[0] != "curl"] + [("curl", "8.14.1-3", "amd64"),
                                                   ("jq", "1.7.1-6", "amd64")]
    assert compare({STATUS: _status(*good)}, [first, second], BASE, "amd64", "p") == []
    bad = [p for p in good if p[0] not in ("jq", "ca-certificates")] + [
        ("ca-certificates", "1", "all")]
    findings = compare({STATUS: _status(*bad)}, [first, second], BASE, "amd64", "p")
    assert sorted((f.input, f.code) for f in findings) == [
        ("apt", "version-differs"), ("apt-final", "missing-package")]


def test_layers_applied_in_order() -> None:
    state: dict[str, bytes] = {}
    apply_layer(state, LayerChanges({STATUS: b"base", f"{STATUS_D}/a": b"a"}))
    apply_layer(state, LayerChanges({STATUS: b"apt"}, hidden=(f"{STATUS_D}/a",)))
    assert state == {STATUS: b"apt"}
    # an opaque directory hides what lies below, never what its own layer adds
    apply_layer(state, LayerChanges({f"{STATUS_D}/b": b"b"}, opaque=("var/lib/dpkg",)))
    assert state == {f"{STATUS_D}/b": b"b"}
    apply_layer(state, LayerChanges(hidden=("var",)))
    assert state == {}


@pytest.mark.parametrize(("text", "want"), [
    ("ghcr.io/owner/app:1.2", ImageLocation("docker", "ghcr.io/owner/app", "1.2")),
    ("docker://127.0.0.1:5000/app", ImageLocation("docker", "127.0.0.1:5000/app", "latest")),
    ("app@sha256:" + "a" * 64, ImageLocation("docker", "app", "sha256:" + "a" * 64)),
    ("oci:/tmp/layout", ImageLocation("oci", "/tmp/layout", None)),
    ("oci:/tmp/layout:v1", ImageLocation("oci", "/tmp/layout", "v1")),
    ("docker-archive:app.tar", ImageLocation("docker-archive", "app.tar", None)),
    ("docker-archive:app.tar:app:v1", ImageLocation("docker-archive", "app.tar", "app:v1")),
])
def test_locations(text: str, want: ImageLocation) -> None:
    assert parse_location(text) == want
    assert parse_location(str(want)) == want  # str() is a location again


def test_location_text_of_a_tag_like_a_digest() -> None:
    assert str(parse_location("ghcr.io/o/app:sha-1a2b3c")) == "ghcr.io/o/app:sha-1a2b3c"


@pytest.mark.parametrize("text", ["", "Bad Ref", "oci:", "docker-archive:", "dir:/tmp/x",
                                  "app:1@sha256:" + "a" * 64, "app@sha256:abc"])
def test_bad_locations(text: str) -> None:
    with pytest.raises(InputError):
        parse_location(text)
