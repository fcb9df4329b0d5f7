"""pinlock: a reproducible lock manager for Dockerfiles."""

try:
    # Written by setuptools-scm from the git tag when pinlock is built or installed.
    from pinlock._version import __version__ as __version__
except ImportError:  # a source tree that was never installed (the GitHub Action runs one)
    __version__ = "0+unknown"
