"""The shapes of the bodies the API builds as plain dicts, as models, so that the connector definition can name them.

Each is the domain model it shows plus what the route adds (a name, a link, the next scheduled
run). tests/api/test_openapi.py and the run on the twin hold the API's real answers to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.models import (
    Conflict,
    Connection,
    Consent,
    Counts,
    ErrorRecord,
    LegName,
    Name,
    ProjectDefinition,
    RunMode,
    RunStatus,
    Strict,
    TaskOutcome,
)
from shared.store.subscriptions import RunEnd


class ConnectionView(Connection):
    name: Name


class ProjectView(ProjectDefinition):
    nextRun: datetime | None = Field(default=None, description="When the schedule next starts a run.")


class ProjectChange(ProjectDefinition):
    """The body of `PUT /api/projects/{id}`: the whole definition; new systems need a fresh consent."""

    consent: Consent | None = None
    nextRun: datetime | None = Field(default=None, description="Ignored: it is what the schedule gives.")


class TemplateTask(Strict):
    name: str
    source: str
    destination: str
    direction: Literal["bidirectional"] | None = None


class TemplateSummary(Strict):
    name: Name
    description: str | None = None
    tasks: list[TemplateTask]


class ValidationProblem(Strict):
    task: str | None = None
    leg: LegName | None = None
    field: str | None = None
    message: str


class ValidationResult(Strict):
    ok: bool
    problems: list[ValidationProblem]


class RunStarted(Strict):
    id: Name
    runId: Name
    statusQueryGetUri: str = Field(description="The Durable status endpoint of the run's orchestration.")


class RunView(Strict):
    runId: Name
    projectId: Name
    runtimeStatus: RunStatus
    createdTime: datetime
    lastUpdatedTime: datetime
    mode: RunMode
    dryRun: bool
    tasks: list[TaskOutcome]
    message: str | None = None
    customStatus: dict[str, Any] | None = Field(default=None, description="The run's progress while it runs.")
    errorsUri: str


class RunStopping(Strict):
    runId: Name
    status: str = Field(description="Terminated, Terminating, or the run's final status when it had ended.")


class ErrorPage(Strict):
    value: list[ErrorRecord]
    continuationToken: str | None = Field(default=None, description="Give it back to read the next page.")


class ConflictView(Conflict):
    identity: str = Field(default="", exclude=True)
    resolveUri: str = Field(description="Where to settle the conflict.")


class ConflictPage(Strict):
    value: list[ConflictView]
    continuationToken: str | None = Field(default=None, description="Give it back to read the next page.")


class TaskSummary(Counts):
    name: str
    status: RunStatus


class RunSummary(Strict):
    """What a subscription's callback (and a project's webhook) receives when a run ends (shared/notify.py)."""

    project: Name
    runId: Name
    status: RunEnd | Literal["Terminated"]
    mode: RunMode
    createdTime: datetime
    lastUpdatedTime: datetime
    counts: Counts
    tasks: list[TaskSummary]
    errorsUri: str


class Health(Strict):
    status: Literal["ok", "degraded"]
    storage: Literal["ok", "unreachable", "not configured"]
