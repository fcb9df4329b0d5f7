"""The generic download kind (``kind = "download"``): one package, registered in
``pinlock.kinds``."""

from pinlock.kinds.download.kind import KIND

__all__ = ["KIND"]
