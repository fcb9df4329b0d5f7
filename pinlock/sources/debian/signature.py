"""Verify OpenPGP signatures with gpgv: a clearsigned InRelease (only the signed text is
returned) and detached signatures of other files."""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

from pinlock import output
from pinlock.deadlines import DeadlineError, subprocess_timeout
from pinlock.sources.debian.errors import SignatureError

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----"
_SIG_BEGIN = "-----BEGIN PGP SIGNATURE-----"
_SIG_END = "-----END PGP SIGNATURE-----"
# Hash algorithms apt refuses for Release signatures (RFC 4880 ids: MD5, SHA1, RIPEMD160).
_WEAK_HASHES = {"1": "MD5", "2": "SHA1", "3": "RIPEMD160"}


@dataclass(frozen=True)
class Verified:
    """The signed text of an InRelease and who signed it."""

    text: str
    fingerprints: tuple[str, ...]  # primary-key fingerprints of the valid signatures


def _check_shape(data: bytes, what: str) -> None:
    """Refuse anything but exactly one clearsigned message with nothing around it.

    Guards against bytes outside the signed part (text before the armour, a
    second message appended) that a lax reader would parse as Release fields.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError(f"{what}: not UTF-8 text ({exc})") from None
    if not text.startswith(_BEGIN + "\n"):
        raise SignatureError(
            f"{what}: not a clearsigned file", expected=_BEGIN, observed=repr(text[:40])
        )
    if text.count(_BEGIN) != 1 or text.count(_SIG_BEGIN) != 1 or text.count(_SIG_END) != 1:
        raise SignatureError(f"{what}: expected exactly one signed message and one signature block")
    if text.rstrip().rsplit("\n", 1)[-1].strip() != _SIG_END:
        raise SignatureError(f"{what}: data after the signature block")


def verify_clearsigned(
    data: bytes, keyring: str, *, what: str = "InRelease", gpgv: str = "gpgv"
) -> Verified:
    """Check ``data`` against ``keyring`` and return the text the signature covers.

    gpgv's exit status is not the verdict: it exits non-zero when one of several
    signers is missing from the keyring although another, trusted signature is
    valid (Debian signs with two keys). The verdict is read from ``--status-fd``:
    at least one VALIDSIG with an acceptable hash, and no BADSIG / EXPKEYSIG /
    REVKEYSIG / ERRSIG other than a signer absent from the keyring.
    """
    _check_shape(data, what)
    with tempfile.TemporaryDirectory(prefix="pinlock-gpgv-") as tmp:
        src = os.path.join(tmp, "InRelease")
        out = os.path.join(tmp, "signed")
        with open(src, "wb") as f:
            f.write(data)
        valid = _gpgv(["--output", out, src], keyring, tmp, what=what, gpgv=gpgv)
        try:
            with open(out, "rb") as f:
                signed = f.read()
        except FileNotFoundError:
            raise SignatureError(f"{what}: gpgv wrote no signed text") from None
    return Verified(signed.decode("utf-8"), tuple(dict.fromkeys(valid)))


def verify_detached(
    data: bytes, signature: bytes, keyring: str, *, what: str, gpgv: str = "gpgv"
) -> tuple[str, ...]:
    """Check a detached signature (armoured ``.asc`` or binary ``.sig``) of ``data`` against
    ``keyring``; the primary-key fingerprints of the valid signatures (the same verdict as
    ``verify_clearsigned``)."""
    with tempfile.TemporaryDirectory(prefix="pinlock-gpgv-") as tmp:
        sig, src = os.path.join(tmp, "signature"), os.path.join(tmp, "data")
        for path, content in ((sig, signature), (src, data)):
            with open(path, "wb") as f:
                f.write(content)
        return tuple(dict.fromkeys(_gpgv([sig, src], keyring, tmp, what=what, gpgv=gpgv)))


def _gpgv(args: list[str], keyring: str, home: str, *, what: str, gpgv: str) -> list[str]:
    """Run gpgv on ``args`` with ``keyring``; the fingerprints of the valid signatures, or
    raise SignatureError. The verdict is read from ``--status-fd``, not the exit status."""
    if not os.path.exists(keyring):
        raise SignatureError(f"{what}: keyring {keyring} does not exist")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [gpgv, "--status-fd", "1", "--keyring", keyring, *args],
            capture_output=True, timeout=subprocess_timeout(f"{gpgv} on {what}", 60),
            check=False, env={**os.environ, "LC_ALL": "C", "GNUPGHOME": home},
        )
    except subprocess.TimeoutExpired:
        raise DeadlineError(f"{what}: {gpgv} did not finish before the deadline") from None
    except FileNotFoundError:
        raise SignatureError(
            f"{what}: {gpgv} not found", hint="install the gpgv package"
        ) from None
    output.ran(proc.args, started, proc.returncode)
    status = proc.stdout.decode("utf-8", "replace")
    valid: list[str] = []
    problems: list[str] = []
    missing: list[str] = []
    for line in status.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "[GNUPG:]":
            continue
        kind = parts[1]
        if kind == "VALIDSIG" and len(parts) >= 10:
            hash_algo = parts[9]
            if hash_algo in _WEAK_HASHES:
                problems.append(f"signature by {parts[2]} uses weak {_WEAK_HASHES[hash_algo]}")
                continue
            valid.append(parts[-1] if len(parts) >= 12 else parts[2])
        elif kind in ("BADSIG", "EXPKEYSIG", "REVKEYSIG", "EXPSIG"):
            problems.append(f"{kind} {' '.join(parts[2:4])}")
        elif kind == "ERRSIG":
            # ERRSIG <keyid> ... rc 9 = no public key: an untrusted signer, not a bad one.
            rc = parts[7] if len(parts) > 7 else ""
            if rc == "9":
                missing.append(parts[2])
            else:
                problems.append(f"ERRSIG {parts[2]} (rc {rc})")
        elif kind == "NO_PUBKEY":
            missing.append(parts[2])
    if problems:
        raise SignatureError(
            f"{what}: bad signature", observed="; ".join(problems),
            expected=f"valid signatures by keys in {keyring}",
        )
    if not valid:
        observed = (
            f"signed only by keys not in the keyring: {', '.join(sorted(set(missing)))}"
            if missing else (proc.stderr.decode("utf-8", "replace").strip() or "no signature")
        )
        raise SignatureError(
            f"{what}: no valid signature by a trusted key",
            expected=f"a signature by a key in {keyring}", observed=observed,
            hint="configure the archive's keyring if it is not Debian's",
        )
    return valid


def parse_date(value: str) -> dt.datetime:
    """Release dates are RFC 2822 (``Sat, 09 Aug 2025 09:07:00 UTC``)."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError(f"Release date {value!r} is not an RFC 2822 date") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def check_valid_until(
    valid_until: str | None, *, now: dt.datetime, what: str = "InRelease"
) -> None:
    """Refuse an expired Release: guards against a mirror replaying old, signed indexes.

    Snapshot archives are old by design; callers skip this check for them.
    """
    if not valid_until:
        return
    limit = parse_date(valid_until)
    if now > limit:
        raise SignatureError(
            f"{what}: the Release file has expired (Valid-Until)",
            expected=f"now ({now:%Y-%m-%d %H:%M:%S} UTC) before {valid_until}",
            observed="expired",
            hint="the mirror serves stale indexes; use another mirror or a snapshot",
        )
