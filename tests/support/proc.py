"""Run pinlock as a user would, in its own process, measuring its peak RSS and wall time.

Each case runs ``python -m pinlock`` as a child, with a hard wall-clock limit, and measures
its peak RSS through ``wait4``. A case then asserts on the exit code, the messages, the files
(unchanged), the absence of tracebacks and secrets, and on the measured RSS and time. Every
run is recorded in ``RUNS``; the hostile suite prints the worst RSS and time per case.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]

# The numbers: every hostile case stays under these.
MAX_RSS_MB = 300.0


@dataclass
class Proc:
    code: int
    out: str
    err: str
    rss_mb: float
    seconds: float
    timed_out: bool

    @property
    def text(self) -> str:
        return self.out + self.err

    def assert_clean(self, *secrets: str) -> None:
        """No traceback, no secret, bounded memory and time."""
        assert not self.timed_out, f"still running at the limit:\n{self.text}"
        assert "Traceback" not in self.text, self.text
        for secret in secrets:
            assert secret not in self.text, f"secret {secret[:4]}… printed:\n{self.text}"
        assert self.rss_mb < MAX_RSS_MB, f"peak RSS {self.rss_mb:.0f} MB"


RUNS: list[tuple[str, Proc]] = []

# Linux carries a parent's RSS high-water mark into a child across (v)fork and exec, so
# wait4 on a child of the test process reports at least the test process's own peak (a
# few hundred MB late in a full run). A small launcher starts pinlock instead and
# reports its child's peak through a pipe: the floor is then the launcher's few MB.
_LAUNCHER = r"""
import os, signal, sys
fd = int(sys.argv[1])
os.set_inheritable(fd, False)  # pinlock and its children must not hold the pipe open
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(fd, str(usage.ru_maxrss).encode())
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def run_pinlock(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    limit: float = 120.0,
    stdin: str | None = None,
    prefix: Sequence[str] = (),
) -> Proc:
    """Run ``python -m pinlock ARGS`` in ``cwd``; kill it at ``limit`` seconds.

    ``prefix``: a command that runs the rest (``unshare -m …``, a wrapper that injects a
    fault); it must exec or wait for it, so the peak RSS measured is still pinlock's.
    """
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "GH_", "PINLOCK_"))}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.setdefault("PINLOCK_CACHE_DIR", str(cwd / ".pinlock-cache"))
    if env:
        full_env.update(env)
    start = time.monotonic()
    rss_read, rss_write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _LAUNCHER, str(rss_write),
         *prefix, sys.executable, "-m", "pinlock", *args], cwd=cwd, env=full_env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        pass_fds=(rss_write,))
    os.close(rss_write)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s))
               for n, s in (("out", proc.stdout), ("err", proc.stderr)) if s is not None]
    for t in readers:
        t.start()
    if proc.stdin is not None:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write((stdin or "").encode())
            proc.stdin.close()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(limit, kill)
    timer.start()
    _, status = os.waitpid(proc.pid, 0)
    timer.cancel()
    with os.fdopen(rss_read, "rb") as f:
        reported = f.read().strip()
    # Killed at the limit, the launcher reports nothing, and its own figure carries the
    # test process's peak: not measured (nan), and the run fails as timed out anyway.
    rss_kb = float(reported) if reported.isdigit() else math.nan
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    seconds = time.monotonic() - start
    result = Proc(proc.returncode, chunks.get("out", b"").decode(errors="replace"),
                  chunks.get("err", b"").decode(errors="replace"),
                  rss_kb / 1024.0, seconds, killed.is_set())
    RUNS.append((os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], result))
    return result


def worktree_digest(work: Path) -> dict[str, str]:
    """tree_digest of a git work tree, git's own bookkeeping (.git) aside."""
    return {k: v for k, v in tree_digest(work).items() if not k.startswith(".git")}


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (cache excluded) with its sha256 and mode."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts and rel.parts[0] == ".pinlock-cache":
            continue
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            out[str(rel)] = f"{hashlib.sha256(p.read_bytes()).hexdigest()} {st.st_mode:o}"
    return out
