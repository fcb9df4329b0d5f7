"""The hostile harness itself: a child is measured, and killed at its limit."""

from pathlib import Path

from support.proc import run_pinlock


def test_smoke(tmp_path: Path) -> None:
    p = run_pinlock("--version", cwd=tmp_path)
    assert p.code == 0, p.text
    p.assert_clean()
    assert 5 < p.rss_mb < 300
    p = run_pinlock("verify", cwd=tmp_path, limit=0.05)
    assert p.timed_out
