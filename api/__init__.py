"""HTTP routes of API.md: parse, call shared/, respond."""

from api import conflicts, connections, health, projects, runs, scheduler, subscriptions, templates  # noqa: F401  (each registers its routes)
from api.blueprint import blueprint

__all__ = ["blueprint"]
