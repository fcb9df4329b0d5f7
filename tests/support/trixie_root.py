"""Real apt 3.0 for replays: a cached debootstrapped trixie root and a loopback snapshot.debian.org.

The root is shaped like the debian:13 image: minbase, no ca-certificates, the image's deb822
``debian.sources`` and no package lists. It is built once per machine under
``/var/tmp/pinlock-test-roots/<key>`` (``PINLOCK_TEST_ROOTS`` moves it), into a temporary
folder renamed into place, so a killed build never leaves a half root behind. Tests work on
a throwaway overlay (or copy) of it. ``SnapshotStandIn`` answers for snapshot.debian.org on a
loopback address of its own, on port 80 (plain http) and 443 (TLS with a certificate the root
does not trust), and ``replay`` runs a RUN's shell text in the root with ``chroot`` and
libfaketime.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import random
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from pinlock.dockerfile.parser import Dockerfile, Instruction, parse
from pinlock.dockerfile.sites import APT_TOOLS

SUITE = "trixie"
# What the debian:13 image ships (debuerreotype): both archives on deb.debian.org over http,
# signed by the Debian archive keyring; no lists, no CA bundle.
IMAGE_SOURCES = """\
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
KEYRING = "usr/share/keyrings/debian-archive-keyring.gpg"
SOURCES = "etc/apt/sources.list.d/debian.sources"
# libfaketime moves the clock of apt, its methods and sqv/gpgv; it is part of the root.
_FAKETIME_PKG = "libfaketime"
_INST = re.compile(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) ", re.MULTILINE)


def roots_cache() -> Path:
    return Path(os.environ.get("PINLOCK_TEST_ROOTS", "/var/tmp/pinlock-test-roots"))


def require_chroot() -> None:
    """Skip unless this process may chroot and debootstrap is installed."""
    if os.geteuid() != 0:
        pytest.skip("replaying apt in a chroot needs root")
    if _debootstrap() is None:
        pytest.skip("debootstrap is not installed (scripts/test installs it)")


def _debootstrap() -> str | None:
    return shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")


def root_key(mirror: str, arch: str) -> str:
    recipe = f"{SUITE} minbase {arch} {mirror} +{_FAKETIME_PKG} sources=image v1"
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def trixie_root(mirror: str, arch: str = "amd64") -> tuple[Path, float]:
    """The cached root for ``mirror`` (built now if absent) and the seconds a build took (0.0
    when it was already there)."""
    cache = roots_cache()
    cache.mkdir(parents=True, exist_ok=True)
    dest = cache / root_key(mirror, arch)
    if (dest / ".pinlock-root-complete").exists():
        return dest, 0.0
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=cache))
    try:
        proc = subprocess.run(
            [_debootstrap() or "debootstrap", "--variant=minbase", f"--include={_FAKETIME_PKG}",
             f"--arch={arch}", SUITE, str(tmp / "root"), mirror],
            capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"debootstrap failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                               f"\n{proc.stderr[-3000:]}")
        _shape_like_image(tmp / "root")
        (tmp / "root" / ".pinlock-root-complete").write_text(f"{mirror}\n")
        try:
            os.rename(tmp / "root", dest)
        except OSError:
            if not (dest / ".pinlock-root-complete").exists():
                raise  # another build won the race only if it finished
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest, time.monotonic() - started


def _shape_like_image(root: Path) -> None:
    """debootstrap leaves a one-line sources.list, lists and cached .debs: the image has
    debian.sources and neither lists nor debs."""
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d").mkdir(exist_ok=True)
    (root / SOURCES).write_text(IMAGE_SOURCES)
    for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
        folder = root / sub
        for p in folder.iterdir():
            if p.is_file() or p.is_symlink():
                p.unlink()
    if (root / "usr/sbin/update-ca-certificates").exists():
        raise RuntimeError("the root has ca-certificates: it must not")


@contextlib.contextmanager
def scratch_root(root: Path, where: Path) -> Iterator[Path]:
    """A writable view of the cached root for one test, thrown away afterwards: an overlay
    mount where the kernel allows it (instant), else a copy (cp -a keeps devices and owners).
    The cached root itself is never written."""
    where.mkdir(parents=True)
    merged, upper, work = where / "merged", where / "upper", where / "work"
    for d in (merged, upper, work):
        d.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={root},upperdir={upper},workdir={work}", str(merged)],
        capture_output=True, check=False, timeout=60).returncode == 0
    if not mounted:
        merged.rmdir()
        subprocess.run(["cp", "-a", str(root), str(merged)], check=True, timeout=300)
    try:
        yield merged
    finally:
        if mounted:
            subprocess.run(["umount", "--lazy", str(merged)], check=False, timeout=60)
        shutil.rmtree(where, ignore_errors=True)


def forget_lists(root: Path) -> None:
    """Back to no package lists and no apt caches, as in the image, between two replays."""
    for folder in ("var/lib/apt/lists", "var/cache/apt"):
        for p in (root / folder).iterdir():
            if p.is_file() or p.is_symlink():
                p.unlink()


def faketime_library(root: Path) -> str:
    """libfaketime inside ``root``, as a path in the root."""
    found = sorted(root.glob("usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise RuntimeError(f"{root} has no libfaketime")
    return "/" + str(found[0].relative_to(root))


@dataclass(frozen=True)
class Replay:
    code: int
    output: str
    seconds: float

    def installed(self) -> dict[str, str]:
        """The ``Inst`` lines of ``apt-get install -s``: package -> version."""
        return {m.group(1).split(":")[0]: m.group(2) for m in _INST.finditer(self.output)}


def replay(root: Path, script: str, env: Mapping[str, str], *,
           clock: str | None = "+365d", timeout: float = 600) -> Replay:
    """Run ``script`` as BuildKit runs a RUN (``/bin/sh -c``, ARGs as environment variables)
    inside ``root`` with ``chroot``, the clock moved by ``clock`` (libfaketime)."""
    full = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive", **env}
    if clock is not None:
        full["LD_PRELOAD"] = faketime_library(root)
        full["FAKETIME"] = clock
        full["FAKETIME_DONT_RESET"] = "1"
    started = time.monotonic()
    proc = subprocess.run(["chroot", str(root), "/bin/sh", "-c", script], env=full,
                          capture_output=True, text=True, timeout=timeout, check=False)
    return Replay(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)


def allow_root_sandbox(root: Path, *, arch: str | None = None) -> None:
    """Test-root settings outside the RUN: apt's methods may run as root (no _apt user
    switch in a chroot without its own /proc), and a simulated foreign architecture."""
    conf = ['APT::Sandbox::User "root";']
    if arch is not None:
        # The root's Architecture: all packages would depend on libraries of ``arch`` that
        # are not installed (apt then calls the system broken): this simulation starts from
        # an empty status. The test archive's packages share no name with the root's.
        (root / "var/lib/dpkg/status.simulated").write_text("")
        conf += [f'APT::Architecture "{arch}";', f'APT::Architectures {{ "{arch}"; }};',
                 'Dir::State::status "/var/lib/dpkg/status.simulated";']
    (root / "etc/apt/apt.conf.d/00pinlock-test").write_text("\n".join(conf) + "\n")


def apt_runs(df: Dockerfile, stage: int) -> list[Instruction]:
    """The shell-form RUNs of ``stage`` that call apt-get/apt."""
    out = []
    current = -1
    for ins in df.instructions:
        if ins.keyword == "FROM":
            current += 1
        elif ins.keyword == "RUN" and current == stage and re.search(
                r"(^|[\s;&|(])(" + "|".join(map(re.escape, APT_TOOLS)) + r")\s",
                ins.text.text):
            out.append(ins)
    return out


def run_script(ins: Instruction) -> str:
    """The text BuildKit hands to ``/bin/sh -c``: the logical line after ``RUN`` and its
    flags (continuations already joined by the parser)."""
    text = ins.text.text[ins.args_offset:]
    return re.sub(r"^(--\S+\s+)*", "", text)


def arg_env(df: Dockerfile, stage: int) -> dict[str, str]:
    """The ARG values a RUN of ``stage`` sees, as BuildKit exposes them: a stage ARG's own
    default, else (for a bare ``ARG X``) the global default."""
    glob: dict[str, str] = {}
    local: dict[str, str] = {}
    current = -1
    for ins in df.instructions:
        if ins.keyword == "FROM":
            current += 1
            continue
        if ins.keyword != "ARG" or current not in (-1, stage):
            continue
        for word in ins.text.text[ins.args_offset:].split():
            name, eq, value = word.partition("=")
            value = value.strip("\"'")
            if current == -1:
                if eq:
                    glob[name] = value
            elif eq:
                local[name] = value
            elif name in glob:
                local[name] = glob[name]
    return local


def simulate_installs(script: str) -> str:
    """``apt-get install`` -> ``apt-get install -s``: the only change a replay makes."""
    return re.sub(r"\b(apt-get|apt)(\s+)install\b", r"\1\2install -s", script)


def stage_replay_script(dockerfile: str, stage: int = 0) -> tuple[str, dict[str, str]]:
    """The stage's apt RUNs joined with ``&&`` (as written, installs simulated) and its ARGs."""
    df = parse(dockerfile)
    runs = apt_runs(df, stage)
    if not runs:
        raise AssertionError(f"stage {stage} has no apt RUN")
    script = " && ".join(f"( {simulate_installs(run_script(r))} )" for r in runs)
    return script, arg_env(df, stage)


def _loopback_pair(stand_in: SnapshotStandIn) -> tuple[_Server, _Server]:
    """Servers on ports 80 and 443 of one 127.x.y.z address nobody else uses (tests and
    other checkouts run side by side): random addresses until both ports bind."""
    rnd = random.Random()
    for _ in range(50):
        addr = f"127.{rnd.randrange(64, 250)}.{rnd.randrange(1, 250)}.{rnd.randrange(2, 250)}"
        try:
            plain = _Server((addr, 80), stand_in, "http")
        except OSError:
            continue
        try:
            return plain, _Server((addr, 443), stand_in, "https")
        except OSError:
            plain.server_close()
    raise RuntimeError("no free loopback address for the snapshot stand-in")


Serve = Callable[[http.server.BaseHTTPRequestHandler], None]


class _StandInHandler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.stand_in.requests.append((self.server.scheme, self.path))
        self.server.stand_in.serve(self)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], stand_in: SnapshotStandIn, scheme: str) -> None:
        super().__init__(addr, _StandInHandler)
        self.stand_in = stand_in
        self.scheme = scheme

    def handle_error(self, request: object, client_address: object) -> None:
        # apt refusing the untrusted certificate is the expected outcome on 443: record it.
        self.stand_in.refused += 1


class SnapshotStandIn:
    """snapshot.debian.org on ``address`` (port 80 http, 443 https with an untrusted
    certificate). ``serve(handler)`` answers each GET; ``requests`` records (scheme, path)."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.requests: list[tuple[str, str]] = []
        self.refused = 0
        ca = trustme.CA()
        cert = ca.issue_cert("snapshot.debian.org")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._servers = list(_loopback_pair(self))
        self.address = str(self._servers[0].server_address[0])
        tls = self._servers[1]
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True,
                                     do_handshake_on_connect=False)
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True)
                         for s in self._servers]

    def start(self) -> SnapshotStandIn:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
        for t in self._threads:
            t.join(timeout=10)

    def point_root_at_me(self, root: Path) -> None:
        """The root's /etc/hosts names this address for snapshot.debian.org, and for the
        archive hosts of the image's sources: apt also reads the live lists next to a
        snapshot's (to learn each archive's Label and Origin), and they must be the test's."""
        hosts = root / "etc/hosts"
        names = " ".join(STAND_IN_HOSTS)
        # the first line naming a host wins: an earlier stand-in's line goes
        old = [x for x in (hosts.read_text() if hosts.exists() else "").splitlines()
               if not x.endswith(f" {names}")]
        hosts.write_text("\n".join([*old, f"{self.address} {names}"]) + "\n")

    def paths(self, scheme: str = "http") -> list[str]:
        return [p for s, p in self.requests if s == scheme]


def send(handler: http.server.BaseHTTPRequestHandler, code: int, body: bytes = b"",
         headers: Mapping[str, str] | None = None) -> None:
    handler.send_response(code)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


_SNAP_PATH = re.compile(r"^/archive/(debian|debian-security)/(\d{8}T\d{6}Z)/(.*)$")
_LIVE_PATH = re.compile(r"^/(debian|debian-security)/(.*)$")
STAND_IN_HOSTS = ("snapshot.debian.org", "deb.debian.org", "security.debian.org")


def from_folder(folder: Path, faults: set[str] | None = None) -> Serve:
    """Serve a built test archive (``folder/archive/<name>/<ts>/…``) as snapshot.debian.org
    does: a later timestamp is redirected to the last run at or before it. Fault
    ``expired`` serves InRelease files whose Valid-Until has passed."""
    faults = faults if faults is not None else set()

    def serve(h: http.server.BaseHTTPRequestHandler) -> None:
        path = urllib.parse.unquote(h.path.split("?", 1)[0])  # apt sends `+` as %2b
        m = _SNAP_PATH.match(path)
        live = _LIVE_PATH.match(path)
        if m is not None:
            name, ts, rest = m.groups()
        elif live is not None:  # the live archive: its newest run
            name, rest = live.groups()
            ts = "99991231T235959Z"
        else:
            send(h, 404)
            return
        base = folder / "archive" / name
        runs = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
        if live is not None and runs:
            ts = runs[-1]
        if ts not in runs:
            earlier = [r for r in runs if r <= ts]
            if not earlier:
                send(h, 404)
                return
            where = urllib.parse.quote(f"/archive/{name}/{earlier[-1]}/{rest}")
            send(h, 302, headers={"Location": where})
            return
        if "expired" in faults and rest.endswith("/InRelease"):
            rest += ".expired"
        file = (base / ts / rest).resolve()
        if not file.is_relative_to(base.resolve()) or not file.is_file():
            send(h, 404)
            return
        send(h, 200, file.read_bytes())

    return serve


def proxy_to(debian: str, security: str) -> Serve:
    """Serve snapshot paths from a live mirror: ``/archive/debian/<ts>/X`` is the mirror's
    ``X`` now (the lock was taken from it a moment ago)."""
    client = httpx.Client(timeout=60, follow_redirects=True)
    bases = {"debian": debian.rstrip("/"), "debian-security": security.rstrip("/")}
    # One test replays several times: each file is read from the mirror once.
    seen: dict[str, tuple[int, bytes]] = {}
    lock = threading.Lock()

    def serve(h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        m = _SNAP_PATH.match(path)
        live = _LIVE_PATH.match(path)
        if m is not None:
            name, rest = m.group(1), m.group(3)
        elif live is not None:
            name, rest = live.groups()
        else:
            send(h, 404)
            return
        url = f"{bases[name]}/{urllib.parse.quote(urllib.parse.unquote(rest))}"
        with lock:
            hit = seen.get(url)
        if hit is None:
            r = client.get(url)
            hit = (r.status_code, r.content if r.status_code == 200 else b"")
            with lock:
                seen[url] = hit
        send(h, *hit)

    return serve
