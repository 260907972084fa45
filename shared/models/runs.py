"""Runs and their outcome: a run's status and counts by task and leg, its failed records, and where the next
incremental read resumes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from shared.models.common import LegName, Name, Strict


class RunStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    WARNING = "Warning"
    FAILED = "Failed"
    TERMINATED = "Terminated"
    SKIPPED = "Skipped"

    @property
    def active(self) -> bool:
        return self in (RunStatus.PENDING, RunStatus.RUNNING)


class RunMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    FAILED_ONLY = "failedOnly"


class Counts(Strict):
    read: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0

    def balanced(self) -> bool:
        """Nothing lost silently: every record read ended as written, skipped or failed."""
        return self.read == self.written + self.skipped + self.failed


class LegOutcome(Counts):
    leg: LegName
    skippedReasons: dict[str, int] = Field(default_factory=dict)
    deletedInSource: int = 0


class TaskOutcome(Counts):
    """A task's counts, summed over its legs; `legs` has each leg's own."""

    name: str
    status: RunStatus = RunStatus.PENDING
    legs: list[LegOutcome] = Field(default_factory=list)
    message: str | None = None


class Run(Strict):
    runId: Name
    projectId: Name
    status: RunStatus = RunStatus.PENDING
    mode: RunMode = RunMode.FULL
    dryRun: bool = False
    createdTime: datetime
    lastUpdatedTime: datetime
    tasks: list[TaskOutcome] = Field(default_factory=list)
    message: str | None = None


class TaskState(Strict):
    """Where an incremental read of one task's leg resumes: a delta link or a watermark."""

    project: Name
    task: str
    leg: LegName
    state: dict[str, Any]
    runId: Name
    savedAt: datetime


class ErrorRecord(Strict):
    """One record that failed to reach its target, with enough to find and fix it."""

    runId: Name
    task: str
    leg: LegName
    businessKey: dict[str, Any]
    field: str | None = None
    code: str
    message: str
    record: dict[str, Any]
