"""HTTP routes of API.md: parse, call shared/, respond."""

# each module registers its routes on the blueprint
from api import (  # noqa: F401
    conflicts,
    connections,
    health,
    openapi,
    projects,
    runs,
    scheduler,
    subscriptions,
    templates,
    ui,
)
from api.blueprint import blueprint

__all__ = ["blueprint"]
