"""Run pinlock as ``python -m pinlock``."""

from pinlock.cli import main

main()
