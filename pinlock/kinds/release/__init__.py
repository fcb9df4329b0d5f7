"""The GitHub release kind (``kind = "github-release"``): one package, registered in
``pinlock.kinds``."""

from pinlock.kinds.release.kind import KIND

__all__ = ["KIND"]
