"""Scheduled runs: which projects are due, and what happens when their last run is still going.

Each tick, a project whose schedule had an occurrence since the last one handled is due.
The scheduler claims that due time (ETag-conditional, so two scheduler instances never act
twice on it), then starts a run through the same path as Sync Now, or, when the previous
run is still active, records a Skipped run naming it. A run that failed needs nothing
special: the next due time starts a new one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.models import ProjectDefinition, Run, RunMode, RunStatus
from shared.ncrontab import CronSchedule
from shared.run_ids import new_run_id
from shared.store import Store

FIRST_LOOK_BACK = timedelta(minutes=1)
"""A project seen for the first time is due for occurrences within this long before now."""


def latest_due(schedule: str, after: datetime, now: datetime) -> datetime | None:
    """The latest occurrence of `schedule` in (after, now], or None."""
    cron = CronSchedule.parse(schedule)
    due = None
    moment = cron.next_after(after)
    while moment <= now:
        due = moment
        moment = cron.next_after(moment)
    return due


def next_due(schedule: str, now: datetime) -> datetime:
    return CronSchedule.parse(schedule).next_after(now)


def claim_due(store: Store, project: ProjectDefinition, now: datetime) -> datetime | None:
    """The due time this tick must act on for `project`, claimed for this scheduler; None when not due."""
    if project.schedule is None:
        return None
    last, etag = store.schedules.last_due(project.name)
    due = latest_due(project.schedule, last or now - FIRST_LOOK_BACK, now)
    if due is None or not store.schedules.claim(project.name, due, etag):
        return None
    return due


def record_skipped(store: Store, project: ProjectDefinition, due: datetime, active_run: str, now: datetime) -> Run:
    """A due time passed while a run was still going: kept in the history, with the reason."""
    run = Run(
        runId=new_run_id(now), projectId=project.name, status=RunStatus.SKIPPED,
        mode=RunMode(project.scheduleMode), createdTime=now, lastUpdatedTime=now,
        message=f"due at {due.isoformat()} but run {active_run} was still active",
    )
    store.runs.create(run)
    return run
