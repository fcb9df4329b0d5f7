"""Checksum sources of a release asset and their reconciliation (pure: text in, sha256 out).

Three sources can vouch for an asset: its ``.sha256`` sidecar (published by
the project), the API's ``digest`` (computed by GitHub at upload), and the
downloaded bytes. A tampered or replaced file shows up as a disagreement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pinlock.sources.github.errors import (
    ChecksumMismatchError,
    SidecarError,
    UnverifiableAssetError,
)

SIDECAR = "sidecar"
API_DIGEST = "api-digest"
BYTES = "bytes"
SIDECAR_SUFFIX = ".sha256"

# sha256sum's output: "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode).
_GNU_LINE = re.compile(r"^(?P<hex>[0-9A-Fa-f]{64})(?: [ *](?P<name>.+))?$")
# The BSD / `sha256sum --tag` form: "SHA256 (<name>) = <hex>".
_BSD_LINE = re.compile(r"^SHA256 \((?P<name>.+)\) = (?P<hex>[0-9A-Fa-f]{64})$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


def sidecar_name(asset_name: str) -> str:
    return asset_name + SIDECAR_SUFFIX


def _base(name: str) -> str:
    return name.strip().rsplit("/", 1)[-1]


def parse_sidecar(data: bytes, *, asset_name: str, sidecar: str) -> str:
    """The sha256 a sidecar gives for ``asset_name``.

    Accepts sha256sum lines (``<hex>  <name>``, ``<hex> *<name>``), the BSD
    form, and a file holding only the hex. A sidecar naming another file is an
    error, not a match: it would vouch for the wrong asset.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SidecarError(f"{sidecar}: not UTF-8 text, expected '<sha256>  {asset_name}'") from exc
    entries: list[tuple[str, str | None]] = []
    for raw in text.splitlines():
        line = raw.strip("\r\n").rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _GNU_LINE.match(line) or _BSD_LINE.match(line)
        if match is None:
            raise SidecarError(
                f"{sidecar}: malformed line {line[:100]!r}",
                expected=f"'<sha256>  {asset_name}'",
            )
        name = match.group("name")
        entries.append((match.group("hex").lower(), name.lstrip("*") if name else None))
    if not entries:
        raise SidecarError(f"{sidecar}: empty, expected '<sha256>  {asset_name}'")
    matching = {hexd for hexd, name in entries if name is not None and _base(name) == asset_name}
    if len(matching) == 1:
        return matching.pop()
    if len(matching) > 1:
        raise SidecarError(
            f"{sidecar}: lists {asset_name} with different sha256 values: "
            + ", ".join(sorted(matching))
        )
    if len(entries) == 1 and entries[0][1] is None:
        return entries[0][0]
    named = sorted({_base(name) for _, name in entries if name is not None})
    raise SidecarError(
        f"{sidecar}: names {', '.join(named)}, not {asset_name}",
        expected=asset_name,
        observed=", ".join(named),
        hint="the sidecar vouches for another file; the release may be misassembled",
    )


def parse_api_digest(digest: str, *, what: str) -> str | None:
    """The hex of GitHub's ``sha256:<hex>`` asset digest; None for another algorithm."""
    algorithm, sep, hexpart = digest.partition(":")
    if not sep:
        raise ChecksumMismatchError(
            f"{what}: GitHub's asset digest {digest!r} is malformed",
            values={API_DIGEST: digest},
            expected="'sha256:<64 hex digits>'",
        )
    if algorithm.lower() != "sha256":
        return None
    if not _HEX.match(hexpart.lower()):
        raise ChecksumMismatchError(
            f"{what}: GitHub's asset digest {digest!r} is malformed",
            values={API_DIGEST: digest},
            expected="'sha256:<64 hex digits>'",
        )
    return hexpart.lower()


def reconcile(values: Mapping[str, str], *, what: str) -> str:
    """The one sha256 every available source agrees on; raise naming each source otherwise."""
    if not values:
        raise UnverifiableAssetError(
            f"{what}: no checksum source: no {SIDECAR_SUFFIX} sidecar and no API digest",
            hint="run with --deep to hash the downloaded bytes",
        )
    distinct = set(values.values())
    if len(distinct) == 1:
        return distinct.pop()
    listing = ", ".join(f"{source}={values[source]}" for source in sorted(values))
    raise ChecksumMismatchError(
        f"{what}: checksum sources disagree: {listing}",
        values=values,
        hint="the asset or its sidecar was replaced or tampered with; nothing was written",
    )


# A value adopted from the Dockerfile by `pinlock init`; kept in verified_by when upstream agrees.
DOCKERFILE = "dockerfile"


def same_file(prior_sha256: str | None, prior_verified_by: tuple[str, ...], sha256: str,
              values: Mapping[str, str], *, what: str, hint: str) -> set[str]:
    """Refuse a locked file upstream now serves with other bytes under the same version;
    else the `verified-by` words the locked value keeps (``dockerfile``: adopted by init)."""
    if prior_sha256 is None:
        return set()
    if prior_sha256 != sha256:
        # Same version, other bytes: the file was replaced after it was locked.
        raise ChecksumMismatchError(
            f"{what}: upstream no longer serves the locked file: locked sha256 "
            f"{prior_sha256}, upstream ({', '.join(sorted(values))}) {sha256}",
            values={"lock": prior_sha256, **values}, hint=hint)
    return {DOCKERFILE} & set(prior_verified_by)
