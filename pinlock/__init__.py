"""pinlock: a reproducible lock manager for Dockerfiles."""

__version__ = "0.1.0"
