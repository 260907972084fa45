"""The ids of a run and of its Durable instances: pure, so the orchestrators, api/ and the runs agree on them."""

from __future__ import annotations

import secrets
from datetime import datetime


def new_run_id(now: datetime) -> str:
    """Sortable by start time, unique, and safe as a Durable instance id and a table key."""
    return f"r{now:%Y%m%d%H%M%S}{secrets.token_hex(4)}"


def task_instance_prefix(run_id: str) -> str:
    """What the instance ids of a run's task orchestrations, and of no other instance, start with."""
    return f"{run_id}-task"


def task_instance_id(run_id: str, index: int) -> str:
    """The Durable instance id of the orchestration of task `index` (from 0) of a run."""
    return f"{task_instance_prefix(run_id)}{index:03d}"
