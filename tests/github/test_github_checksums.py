"""Sidecar parsing and the reconciliation of checksum sources (pure)."""

from __future__ import annotations

import hashlib

import pytest

from pinlock.sources.github.checksums import parse_api_digest, parse_sidecar, reconcile
from pinlock.sources.github.errors import (
    ChecksumMismatchError,
    SidecarError,
    UnverifiableAssetError,
)

NAME = "s6-overlay-x86_64.tar.xz"
HEX = hashlib.sha256(b"tarball").hexdigest()
OTHER = hashlib.sha256(b"other").hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        f"{HEX}  {NAME}\n",
        f"{HEX} *{NAME}\n",
        f"{HEX}  ./dist/{NAME}\r\n",
        f"{HEX.upper()}  {NAME}",
        f"SHA256 ({NAME}) = {HEX}\n",
        f"{HEX}\n",
        f"{OTHER}  other.tar.xz\n{HEX}  {NAME}\n",
    ],
)
def test_sidecar_forms(text: str) -> None:
    assert parse_sidecar(text.encode(), asset_name=NAME, sidecar=NAME + ".sha256") == HEX


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (f"{HEX}  s6-overlay-aarch64.tar.xz\n", "names s6-overlay-aarch64.tar.xz, not"),
        ("", "empty"),
        ("not a checksum\n", "malformed line"),
        (f"{HEX[:-1]}  {NAME}\n", "malformed line"),
        (f"{HEX}  {NAME}\n{OTHER}  {NAME}\n", "different sha256"),
    ],
)
def test_bad_sidecars(text: str, match: str) -> None:
    with pytest.raises(SidecarError, match=match) as info:
        parse_sidecar(text.encode(), asset_name=NAME, sidecar=NAME + ".sha256")
    assert NAME + ".sha256" in info.value.message


def test_sidecar_not_utf8() -> None:
    with pytest.raises(SidecarError, match="not UTF-8"):
        parse_sidecar(b"\xff\xfe", asset_name=NAME, sidecar="x.sha256")


def test_api_digest() -> None:
    assert parse_api_digest(f"sha256:{HEX}", what="a") == HEX
    assert parse_api_digest("sha512:" + "0" * 128, what="a") is None
    with pytest.raises(ChecksumMismatchError, match="malformed"):
        parse_api_digest("sha256:xyz", what="a")


def test_reconcile_agreeing_sources() -> None:
    assert reconcile({"sidecar": HEX, "api-digest": HEX, "bytes": HEX}, what="a") == HEX


def test_reconcile_names_each_source_and_value() -> None:
    with pytest.raises(ChecksumMismatchError) as info:
        reconcile({"sidecar": OTHER, "api-digest": HEX}, what=NAME)
    text = info.value.diagnostics()
    assert f"api-digest={HEX}" in text and f"sidecar={OTHER}" in text and NAME in text
    assert info.value.values == {"sidecar": OTHER, "api-digest": HEX}


def test_reconcile_without_sources() -> None:
    with pytest.raises(UnverifiableAssetError, match="no checksum source"):
        reconcile({}, what=NAME)
