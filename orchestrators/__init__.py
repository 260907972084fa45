"""Durable orchestrators: they decide the order of work. Deterministic, no I/O."""

from orchestrators import sync_leg, sync_project, sync_task, sync_twoway  # noqa: F401  (register the orchestrators)
from orchestrators.blueprint import blueprint

__all__ = ["blueprint"]
