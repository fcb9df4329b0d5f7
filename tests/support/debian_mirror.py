"""The Debian archive this machine's apt uses, read from its sources at run time."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import httpx
import pytest

from pinlock.sources.debian.archive import security_template


def machine_mirrors() -> tuple[str, str] | None:
    """(debian, debian-security) base URLs from /etc/apt/sources*, or None."""
    uris: list[str] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        uris += re.findall(r"^URIs:\s*(.+)$", Path(path).read_text(), re.MULTILINE)
    for path in ["/etc/apt/sources.list", *glob.glob("/etc/apt/sources.list.d/*.list")]:
        if Path(path).exists():
            uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", Path(path).read_text(),
                               re.MULTILINE)
    flat = [u.rstrip("/") for line in uris for u in line.split()]
    debian = next((u for u in flat if u.endswith("/debian")), None)
    if debian is None:
        return None
    security = next((u for u in flat if u.endswith("/debian-security")), None)
    return debian, security or security_template(debian)


def require_mirrors() -> tuple[str, str]:
    """The machine's mirrors serving trixie, or skip the test that needs them."""
    found = machine_mirrors()
    if found is None:
        pytest.skip("this machine's apt sources name no Debian archive")
    try:
        r = httpx.head(f"{found[0]}/dists/trixie/InRelease", timeout=10)
    except httpx.HTTPError as exc:
        pytest.skip(f"the machine's Debian mirror is unreachable: {type(exc).__name__}")
    if r.status_code != 200:
        pytest.skip(f"the machine's Debian mirror does not serve trixie (HTTP {r.status_code})")
    return found
