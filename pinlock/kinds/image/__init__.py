"""The image kind (``kind = "image"``): one package, registered in ``pinlock.kinds``."""

from pinlock.kinds.image.kind import KIND

__all__ = ["KIND"]
