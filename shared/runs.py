"""Starting, stopping and reading runs: the run lock, the run record, and how a run looks to its watchers.

How a run stops (terminate, or a lock taken over from a run that ended without freeing it):

1. The stop mark goes on the project's run lock (`RunLockRepository.stop`). From then on no
   step of the run starts writing: a load step registers a lease and then checks that its
   run holds the lock without a stop mark (shared/sync/fence.py) before its bulk write;
   `begin_run` and each extraction step check the lock too.
2. Durable is told to terminate `sync_project` and the task orchestrations of the run still
   going (`task_instance_prefix`, shared/run_ids.py). A task orchestration scheduled in the same instant meets
   the closed fence at its first step and ends by itself.
3. The run settles (`settle_stopped`) once no lease of its steps is live: its record reads
   Terminated, its staged pages and leases go, and the lock is freed. A lease expires after
   the host's functionTimeout, by when the host has killed whatever invocation held it.
   Settling is tried by the terminate request itself, by the last step leaving, by
   `GET /api/runs/{id}` (`observed_status`) and by Sync Now taking the lock over. Each try
   is idempotent, so a crash between its writes is mended by the next one. Until then the
   run reads Running and Sync Now answers 409.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationError

from shared.errors import ConsentRequired, InvalidInput, NotFound, RunActive
from shared.models import Run, RunMode, RunStatus, Strict
from shared.models.common import LegName
from shared.outcomes import COUNTS
from shared.run_ids import new_run_id, task_instance_prefix
from shared.store import Store
from shared.store.run_lock import Standing


class RunRequest(Strict):
    """The optional body of Sync Now."""

    mode: Literal["full", "incremental", "failedOnly"] = "full"
    dryRun: bool = False


class ErrorPageToken(Strict):
    page: int = Field(ge=0)
    offset: int = Field(ge=0)


class ErrorFilter(Strict):
    """What `GET /runs/{runId}/errors` narrows a run's error records to: each value given equals the record's."""

    task: str | None = Field(default=None, min_length=1, max_length=128)
    leg: LegName | None = None
    field: str | None = Field(default=None, min_length=1, max_length=256)
    code: str | None = Field(default=None, min_length=1, max_length=256)

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ErrorFilter:
        """The filter of a request's query parameters (an empty one counts as absent); InvalidInput naming it if bad."""
        given = {name: params[name] for name in cls.model_fields if params.get(name)}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            raise InvalidInput(f"{name} must be {_FILTER_RULES[name]}", field=name) from exc

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(record.get(name) == value for name, value in self.model_dump(exclude_none=True).items())


_FILTER_RULES = {
    "task": "a task name of 1-128 characters",
    "leg": "sourceToCds, cdsToDestination or cdsToSource",
    "field": "a field name of 1-256 characters",
    "code": "an error code of 1-256 characters",
}


ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
START_GRACE = timedelta(minutes=5)
"""How long a Pending run may go unseen by Durable before its lock counts as abandoned."""
TERMINATED = "the run was terminated"
ENDED_WITHOUT_RELEASE = "the run ended without releasing its lock"


def require_consent(store: Store, project_id: str) -> None:
    """ConsentRequired unless a consent to run `project_id` is on record (checked by Sync Now and by `begin_run`)."""
    if not store.consents.list(project_id):
        raise ConsentRequired(f"project {project_id!r} has no consent on record", field="consent")


def reserve_run(
    store: Store, project_id: str, request: RunRequest, now: datetime, seen: dict[str, str | None]
) -> Run:
    """Take the project's run lock for a new run and record the run as Pending.

    `seen` maps a lock holder's run id to what Durable says of it (None: unknown). A lock
    left by a run that Durable says ended, or that Durable never saw long after it was
    reserved (its starter crashed), is taken over once none of that run's steps can still
    write (the holder gets the stop mark, then settles). Otherwise the holder makes this
    RunActive.
    """
    store.projects.get(project_id)
    require_consent(store, project_id)
    run_id = new_run_id(now)
    try:
        store.run_lock.acquire(project_id, run_id)
    except RunActive as active:
        holder = active.run_id
        if holder not in seen or not _abandoned(store, holder, seen[holder], now):
            raise
        store.run_lock.stop(project_id, holder)
        status, message = (RunStatus.TERMINATED, TERMINATED) if seen[holder] == "Terminated" else (
            RunStatus.FAILED, ENDED_WITHOUT_RELEASE)
        if not settle_stopped(store, project_id, holder, now, status, message):
            raise
        store.run_lock.acquire(project_id, run_id)
    run = Run(
        runId=run_id, projectId=project_id, status=RunStatus.PENDING, mode=RunMode(request.mode),
        dryRun=request.dryRun, createdTime=now, lastUpdatedTime=now,
    )
    store.runs.create(run)
    return run


def _abandoned(store: Store, run_id: str, runtime: str | None, now: datetime) -> bool:
    if runtime in ENDED:
        return True
    if runtime is not None:
        return False
    try:
        return now - store.runs.get(run_id).createdTime > START_GRACE
    except NotFound:
        return True


def _mark_ended(store: Store, run_id: str, status: RunStatus, message: str, now: datetime) -> None:
    def end(run: Run) -> bool:
        if not run.status.active:
            return False
        run.status, run.message, run.lastUpdatedTime = status, message, now
        return True

    try:
        store.runs.change(run_id, end)
    except NotFound:
        return


def abandon_run(store: Store, run: Run, message: str, now: datetime) -> None:
    """A run that could not start: Failed on record, lock freed."""
    _mark_ended(store, run.runId, RunStatus.FAILED, message, now)
    store.run_lock.release(run.projectId, run.runId)


def settle_stopped(
    store: Store, project_id: str, run_id: str, now: datetime,
    status: RunStatus = RunStatus.TERMINATED, message: str = TERMINATED,
) -> bool:
    """End a run told to stop once none of its steps can still write; return whether it has ended.

    A run holding its lock without the stop mark was not told to stop, and a stopping run
    with live step leases must wait: both give False. Otherwise the record takes `status`
    (unless it is final already), and a stopping run's staged pages and leases go before
    its lock is freed, so that a crash part-way leaves the stop mark for the next try.
    A run that does not hold the lock has no step that may write.
    """
    standing = store.run_lock.standing(project_id, run_id)
    if standing is Standing.HOLDS:
        return False
    if standing is Standing.STOPPING and store.run_lock.live_steps(run_id, now):
        return False
    _mark_ended(store, run_id, status, message, now)
    if standing is Standing.STOPPING:
        store.staging.delete_run(run_id)
        store.run_lock.forget_steps(run_id)
        store.run_lock.release(project_id, run_id)
    return True


def effective_status(run: Run, durable_status: str | None) -> RunStatus:
    """The run record decides once it is final; before that, Durable's own status."""
    if not run.status.active:
        return run.status
    if durable_status in ("Failed", "Terminated"):
        return RunStatus(durable_status)
    if durable_status == "Running":
        return RunStatus.RUNNING
    return run.status


def observed_status(store: Store, run: Run, durable_status: str | None, now: datetime) -> tuple[Run, RunStatus]:
    """The record and status a watcher sees, settling a stopped run on the way.

    A run that Durable says was terminated but that lacks the stop mark (it was terminated
    through the Durable management API, not through ours) gets it. A stopping run reads
    Running until it settles, then Terminated.
    """
    if not run.status.active:
        return run, run.status
    if durable_status == "Terminated":
        store.run_lock.stop(run.projectId, run.runId)
    if store.run_lock.standing(run.projectId, run.runId) is not Standing.STOPPING:
        return run, effective_status(run, durable_status)
    if not settle_stopped(store, run.projectId, run.runId, now):
        return run, RunStatus.RUNNING
    settled = store.runs.get(run.runId)
    return settled, settled.status


def run_view(run: Run, status: RunStatus, custom_status: Any, errors_uri: str) -> dict[str, Any]:
    return {
        "runId": run.runId,
        "projectId": run.projectId,
        "runtimeStatus": status.value,
        "createdTime": run.createdTime.isoformat(),
        "lastUpdatedTime": run.lastUpdatedTime.isoformat(),
        "mode": run.mode.value,
        "dryRun": run.dryRun,
        "tasks": [
            {k: v for k, v in t.model_dump(mode="json").items() if k != "message" or v}
            for t in run.tasks
        ],
        "message": run.message,
        "customStatus": custom_status,
        "errorsUri": errors_uri,
    }


def live_legs(run_id: str, statuses: Iterable[tuple[str, Any]], finished: int) -> list[dict[str, Any]]:
    """The legs of the run's tasks that have not finished, with the records they counted so far, from the custom
    statuses of the run's task orchestrations (`(instance id, custom status)`; a leg's or a two-way task's status
    carries its counts, orchestrators/progress.py); `finished` tasks have their counts on the run already."""
    prefix = task_instance_prefix(run_id)
    found = []
    for instance_id, status in sorted(statuses, key=lambda pair: pair[0]):
        number = instance_id[len(prefix) : len(prefix) + 3]
        if not (instance_id.startswith(prefix) and number.isdigit() and int(number) >= finished):
            continue
        legs = status.get("legs") if isinstance(status, dict) else None
        for leg in legs if isinstance(legs, list) else [status]:
            if isinstance(leg, dict) and {"task", "leg", "stage", *COUNTS} <= leg.keys():
                found.append({name: leg[name] for name in ("task", "leg", "stage", *COUNTS)})
    return found


def error_page(
    store: Store, run_id: str, token: ErrorPageToken, limit: int, wanted: ErrorFilter | None = None
) -> tuple[list[dict[str, Any]], Any]:
    """Up to `limit` error records of a run that `wanted` matches from `token` on, and the token of what follows
    (or None). The token counts positions among all the run's records, so a filter may change between pages."""
    pages = store.errors.list_pages(run_id)
    found: list[dict[str, Any]] = []
    page, offset = token.page, token.offset
    while page < len(pages) and len(found) < limit:
        records = store.errors.read_page(pages[page])
        while offset < len(records) and len(found) < limit:
            if wanted is None or wanted.matches(records[offset]):
                found.append(records[offset])
            offset += 1
        if offset >= len(records):
            page, offset = page + 1, 0
    following = ErrorPageToken(page=page, offset=offset) if page < len(pages) else None
    return found, following
