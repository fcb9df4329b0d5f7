"""Update pull requests: git branches, commits and GitHub pull requests, one per input."""

from __future__ import annotations

from pinlock.pr.git import Author, DirtyTreeError, GitError, PushRejectedError, RemoteError
from pinlock.pr.run import PrAction, PrOptions, PrResult, Unit, plan_units, run_pr

__all__ = [
    "Author",
    "DirtyTreeError",
    "GitError",
    "PrAction",
    "PrOptions",
    "PrResult",
    "PushRejectedError",
    "RemoteError",
    "Unit",
    "plan_units",
    "run_pr",
]
