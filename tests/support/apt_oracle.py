"""Real apt-get as the oracle: simulate an install in a throwaway root and read its Inst lines."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ", re.MULTILINE)


@dataclass(frozen=True)
class AptRoot:
    """A throwaway apt configuration: its own sources, lists, cache and dpkg status."""

    root: Path
    arch: str

    @property
    def config(self) -> Path:
        return self.root / "apt.conf"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            "APT_CONFIG": str(self.config), "LC_ALL": "C", "PATH": os.environ["PATH"],
            "DEBIAN_FRONTEND": "noninteractive",
        }
        proc = subprocess.run(
            ["apt-get", *args], capture_output=True, text=True, env=env, timeout=600,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"apt-get {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return proc


def make_root(
    root: Path, *, arch: str, sources: str, status: str = "",
) -> AptRoot:
    """Write apt.conf, a deb822 sources file and a status file under ``root``.

    Dir::Etc::Parts points at an empty folder so this machine's apt.conf.d does
    not leak in (proxies, extra index targets, recommends defaults).
    """
    for sub in ("lists/partial", "cache/archives/partial", "etc/parts", "etc/prefs", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "etc" / "sources.sources").write_text(sources)
    (root / "status").write_text(status)
    conf = f"""
Dir::State "{root}";
Dir::State::Lists "{root}/lists";
Dir::State::status "{root}/status";
Dir::State::extended_states "{root}/extended_states";
Dir::Cache "{root}/cache";
Dir::Etc::SourceList "{root}/etc/none.list";
Dir::Etc::SourceParts "{root}/etc";
Dir::Etc::Parts "{root}/etc/parts";
Dir::Etc::Preferences "{root}/etc/none.pref";
Dir::Etc::PreferencesParts "{root}/etc/prefs";
Dir::Log "{root}/log";
APT::Architecture "{arch}";
APT::Architectures {{ "{arch}"; }};
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
APT::Sandbox::User "root";
Debug::NoLocking "true";
APT::Install-Recommends "false";
APT::Get::Assume-Yes "true";
"""
    (root / "apt.conf").write_text(conf)
    return AptRoot(root, arch)


def sources_entry(uri: str, suites: Sequence[str], keyring: str, components: str = "main") -> str:
    return (
        f"Types: deb\nURIs: {uri}\nSuites: {' '.join(suites)}\nComponents: {components}\n"
        f"Signed-By: {keyring}\n\n"
    )


def simulate_install(
    root: AptRoot, packages: Sequence[str], *, recommends: bool = False
) -> dict[str, str]:
    """``apt-get -s install`` -> {package: version} of every Inst line."""
    flag = "--install-recommends" if recommends else "--no-install-recommends"
    proc = root.run("-s", "install", flag, *packages)
    return {m.group(1).split(":")[0]: m.group(3) for m in _INST.finditer(proc.stdout)}


_REMV = re.compile(r"^Remv (\S+) (?:\[(\S+)\])?", re.MULTILINE)


@dataclass(frozen=True)
class Simulation:
    """What ``apt-get -s install`` would do: what it installs or upgrades, and what it removes."""

    installed: dict[str, str]  # package -> version it installs (new or upgraded)
    removed: dict[str, str]  # package -> installed version it removes
    ok: bool  # apt-get exited 0
    output: str


def simulate(root: AptRoot, packages: Sequence[str], *, recommends: bool = False) -> Simulation:
    """``apt-get -s install``, removals included; a refusal is a result (``ok`` False)."""
    flag = "--install-recommends" if recommends else "--no-install-recommends"
    proc = root.run("-s", "install", flag, *packages, check=False)
    out = proc.stdout
    return Simulation(
        installed={m.group(1).split(":")[0]: m.group(3) for m in _INST.finditer(out)},
        removed={m.group(1).split(":")[0]: m.group(2) or "" for m in _REMV.finditer(out)},
        ok=proc.returncode == 0,
        output=out + proc.stderr,
    )
