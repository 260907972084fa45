"""What a run's orchestrations show as custom status: summaries whose size does not grow with the project.

The host refuses a custom status over 16 KB counted in UTF-16, after the orchestrator has
returned, by failing the orchestration. So a status never lists the tasks: it names the
current one, counts the finished ones, sums their records and shows the last few, every
name cut to NAME_CHARS characters. `status_size` measures the worst case (the JSON with
every non-ASCII character escaped) and the tests hold it under the limit for any project.
Every task's own counts are on the run record (`GET /api/runs/{id}`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.models import RunStatus
from shared.outcomes import COUNTS

CUSTOM_STATUS_LIMIT = 16 * 1024
"""Bytes of UTF-16 the host allows a custom status."""
NAME_CHARS = 64
"""Characters of a task name a status keeps."""
RECENT_TASKS = 3
"""Finished tasks a status shows, the latest last."""


def clip(name: str) -> str:
    """`name` cut to NAME_CHARS characters, marked with an ellipsis when cut."""
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def leg_progress(task: str, leg: str, stage: str, counts: dict[str, Any], **more: Any) -> dict[str, Any]:
    """While a leg (or one direction of a two-way task) runs: its stage and the records it has counted so far."""
    return {"task": clip(task), "leg": leg, "stage": stage, **{k: counts[k] for k in COUNTS}, **more}


def task_progress(run_id: str, task: str, number: int, count: int, done: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """While task `number` (from 1) of `count` runs, after the tasks `done`."""
    return {"runId": run_id, "task": clip(task), "taskNumber": number, "taskCount": count, **finished(done)}


def run_outcome(run_id: str, status: str, done: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Once the run has its final status."""
    return {"runId": run_id, "status": status, **finished(done)}


def finished(done: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The tasks `done` (outcomes with a name, a status and counts), summed up, with the last few shown."""
    return {
        "tasksFinished": len(done),
        "tasksFailed": sum(1 for task in done if task["status"] == RunStatus.FAILED),
        "totals": {k: sum(task[k] for task in done) for k in COUNTS},
        "recentTasks": [
            {"name": clip(task["name"]), "status": task["status"], **{k: task[k] for k in COUNTS}}
            for task in done[-RECENT_TASKS:]
        ],
    }


def status_size(status: Any) -> int:
    """UTF-16 bytes of `status` as JSON with every non-ASCII character escaped and spaces after separators.

    That text is ASCII (one UTF-16 unit a character) and at least as long as the compact or
    the unescaped JSON of the same value, so it bounds what the host counts.
    """
    return 2 * len(json.dumps(status, ensure_ascii=True))
