"""The apt options pinlock writes after ``--snapshot``, spelled out once for the tests."""

from __future__ import annotations

# What every apt command that reads the lists gets after --snapshot (docs/lockfile.md).
URIS = [
    "Acquire::Snapshots::URI::Host::deb.debian.org="
    "http://snapshot.debian.org/archive/@PATH@/@SNAPSHOTID@/",
    "Acquire::Snapshots::URI::Host::security.debian.org="
    "http://snapshot.debian.org/archive/@PATH@/@SNAPSHOTID@/",
    "Acquire::Snapshots::URI::Origin::Debian="
    "http://snapshot.debian.org/archive/@PATH@/@SNAPSHOTID@/",
    "Acquire::Snapshots::URI::Override::Label::Debian-Security="
    "http://snapshot.debian.org/archive/debian-security/@SNAPSHOTID@/",
]


def wired(sub: str, pad: str | None = "        ", ref: str = '"${DEBIAN_SNAPSHOT}"',
          snapshot: bool = True) -> str:
    """``<sub> --snapshot REF`` and its options, one a line (``pad`` None: one line)."""
    opts = (["--error-on=any"] if sub == "update" else [])
    opts += ["-o Acquire::Check-Valid-Until=false"] + [f"-o {u}" for u in URIS]
    sep = " " if pad is None else f" \\\n{pad}"
    head = f"{sub} --snapshot {ref}" if snapshot else sub
    return head + "".join(sep + o for o in opts)
