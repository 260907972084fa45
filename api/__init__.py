"""HTTP routes of API.md: parse, call shared/, respond."""

from api import health  # noqa: F401  (registers its route)
from api.blueprint import blueprint

__all__ = ["blueprint"]
