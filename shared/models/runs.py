"""Runs and their outcome: a run's status and counts by task and leg, its failed records, and where the next
incremental read resumes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from shared.models.common import FieldName, LegName, Name, Strict, Value, exactly_one


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
    """A leg's counts. A bidirectional task's legs are its directions: each counts the records read on the side
    it flows from, plus the fields left in conflict and the records it deleted on the side it writes to (left
    out, as None, for a one-way task's legs)."""

    leg: LegName
    skippedReasons: dict[str, int] = Field(default_factory=dict)
    deletedInSource: int = 0
    conflicts: int | None = Field(default=None, exclude_if=lambda value: value is None)
    deleted: int | None = Field(default=None, exclude_if=lambda value: value is None)


class TaskOutcome(Counts):
    """A task's counts, summed over its legs; `legs` has each leg's own."""

    name: str
    status: RunStatus = RunStatus.PENDING
    legs: list[LegOutcome] = Field(default_factory=list)
    message: str | None = None
    conflicts: int | None = Field(default=None, exclude_if=lambda value: value is None)
    """The conflicts of its legs, summed whatever was given (None when no leg counts conflicts: a one-way task)."""

    @model_validator(mode="after")
    def _sum_conflicts(self) -> TaskOutcome:
        counted = [leg.conflicts for leg in self.legs if leg.conflicts is not None]
        self.conflicts = sum(counted) if counted else None
        return self


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


ConflictState = Literal["open", "resolved", "applied"]
"""`open` until a person settles it, `resolved` once settled, `applied` once a run has written the resolution."""


def conflict_id(task: str, identity: str, field: str) -> str:
    """The id of the conflict over `field` (a CDS field) of the pair `identity` of `task`: one per pair and field, so
    that a later run seeing the same conflict updates it."""
    return hashlib.sha256("\n".join((task, identity, field)).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class ConflictResolution(Strict):
    """How a person settles a conflict: take one side's value, or give the CDS field's value."""

    take: Literal["source", "cds"] | None = None
    values: dict[FieldName, Value] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_way_to_settle(self) -> ConflictResolution:
        exactly_one(self, "take", "values")
        return self


class ConflictSide(Strict):
    """A side's current value of a conflicting field, and that record's modification value (null when unknown)."""

    value: Value = None
    changedOn: Value = None


class Conflict(Strict):
    """A field of a bidirectional task's record pair changed on both sides to different values since the last sync.

    `identity` is the pair's business key as the run matches it (the JSON text of its key values,
    trimmed and case-folded); `businessKey` the CDS key as last seen. `baseline` is null when only
    a digest of the value was kept.
    """

    conflictId: str = ""
    task: str
    identity: str
    businessKey: dict[str, Any]
    field: FieldName
    sourceField: FieldName
    baseline: Value = None
    source: ConflictSide
    cds: ConflictSide
    state: ConflictState = "open"
    runId: Name
    resolution: ConflictResolution | None = None
    resolvedAt: datetime | None = None

    @model_validator(mode="after")
    def _derived_id(self) -> Conflict:
        self.conflictId = conflict_id(self.task, self.identity, self.field)
        return self
