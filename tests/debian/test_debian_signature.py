"""InRelease signatures checked with gpgv's status output, against the built archive's keys."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from support.debian_archive import SNAP1, BuiltArchive

from pinlock.sources.debian.errors import SignatureError
from pinlock.sources.debian.signature import check_valid_until, verify_clearsigned


def dists(built: BuiltArchive, name: str) -> Path:
    return built.root / "archive" / "debian" / SNAP1 / "dists" / "trixie" / name


def test_debian_good_signature_returns_signed_text(built_archive: BuiltArchive) -> None:
    v = verify_clearsigned(dists(built_archive, "InRelease").read_bytes(),
                           str(built_archive.keyring))
    assert v.text == dists(built_archive, "Release").read_text()
    assert len(v.fingerprints) == 1


def test_debian_bad_signature(built_archive: BuiltArchive) -> None:
    with pytest.raises(SignatureError, match="bad signature"):
        verify_clearsigned(dists(built_archive, "InRelease.bad-signature").read_bytes(),
                           str(built_archive.keyring))


def test_debian_untrusted_signer(built_archive: BuiltArchive) -> None:
    with pytest.raises(SignatureError, match="not in the keyring"):
        verify_clearsigned(dists(built_archive, "InRelease.untrusted-signer").read_bytes(),
                           str(built_archive.keyring))


def test_debian_two_signers_one_trusted(built_archive: BuiltArchive) -> None:
    data = dists(built_archive, "InRelease.two-signers").read_bytes()
    path = dists(built_archive, "InRelease.two-signers")
    # the premise: gpgv itself fails, because one signer is missing from the keyring
    rc = subprocess.run(["gpgv", "--keyring", str(built_archive.keyring), str(path)],
                        capture_output=True, check=False).returncode
    assert rc != 0
    v = verify_clearsigned(data, str(built_archive.keyring))
    assert v.text == dists(built_archive, "Release").read_text()


def test_debian_wrong_keyring(built_archive: BuiltArchive) -> None:
    with pytest.raises(SignatureError):
        verify_clearsigned(dists(built_archive, "InRelease").read_bytes(),
                           str(built_archive.untrusted_keyring))


@pytest.mark.parametrize("mangle", [
    lambda t: "Injected: field\n" + t,  # bytes before the signed message
    lambda t: t + t,  # a second message appended
    lambda t: t + "Trailing: data\n",
    lambda t: t.split("-----BEGIN PGP SIGNATURE-----")[0],  # no signature at all
])
def test_debian_bytes_outside_the_signed_part_are_refused(
    built_archive: BuiltArchive, mangle: object
) -> None:
    text = dists(built_archive, "InRelease").read_text()
    assert callable(mangle)
    with pytest.raises(SignatureError):
        verify_clearsigned(mangle(text).encode(), str(built_archive.keyring))


def test_debian_valid_until() -> None:
    now = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    check_valid_until("Thu, 01 Jan 2099 00:00:00 UTC", now=now)
    check_valid_until(None, now=now)
    with pytest.raises(SignatureError, match="expired"):
        check_valid_until("Sat, 01 Jan 2000 00:00:00 UTC", now=now)
