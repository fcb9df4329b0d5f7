"""apt RUNs built to be slow to read: pinlock still answers (exit 2, file:line) in bounded time."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.proc import run_pinlock, tree_digest

N = 20_000
CASES = {
    # thousands of shell functions, each wrapping apt: one bisection per word, not a scan
    "functions": "RUN " + " && ".join(f"f{i}() {{ apt-get install -y p{i}; }}"
                                      for i in range(N)) + "\n",
    # a function body that never closes, then a long install line inside it
    "open-function": "RUN f() { apt-get install -y " + " ".join(f"p{i}" for i in range(N))
                     + "\n",
    # one long install line with a variable at its end
    "long-line-variable": "RUN apt-get install -y " + " ".join(f"p{i}" for i in range(N))
                          + " $EXTRA\n",
    # backticks and eval strings, many times over
    "backticks": "RUN " + "; ".join(f"eval 'apt-get install -y `cat l{i}`'" for i in range(N))
                 + "\n",
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["init", "verify"])
def test_unsafe_apt_at_scale(case: str, command: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:13.4\n" + CASES[case])
    if command == "verify":
        (tmp_path / "image.lock.toml").write_text(
            'version = 1\ndockerfile = "Dockerfile"\n\n[inputs.apt]\nkind = "apt"\n'
            'stage = "0"\npackages = ["p0"]\nsuites = ["trixie"]\n')
    before = tree_digest(tmp_path)
    p = run_pinlock(command, "--dockerfile", "Dockerfile", cwd=tmp_path, limit=60)
    p.assert_clean()
    assert p.code in ((0,) if command == "init" else (1, 2)), p.text[:2000]
    assert "Dockerfile:2: " in p.text, p.text[:2000]
    assert p.seconds < 20, f"{p.seconds:.1f} s"
    if command == "init":
        # init leaves the stage's apt packages out of the lock and reports the commands
        lock = (tmp_path / "image.lock.toml").read_text()
        assert 'kind = "apt"' not in lock and "left out of the lock" in p.out
        (tmp_path / "image.lock.toml").unlink()
    assert tree_digest(tmp_path) == before
