"""The apt kind (``kind = "apt"``): one package, registered in ``pinlock.kinds``."""

from pinlock.kinds.apt.kind import KIND

__all__ = ["KIND"]
