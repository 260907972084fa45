"""The fence of a run's writes to its targets: a step writes only while its run holds the lock unstopped.

    with writing(store, project_id, run_id, "Accounts sourceToCds page 3"):
        target.write_batch(...)

Entering registers a lease for the step (expiring after the host's functionTimeout) and
only then reads the run lock, so a stop mark written at any moment either turns the step
away here or finds its lease (shared/runs.py describes the whole stop). Leaving drops the
lease; the step that leaves a stopping run last settles it. A step costs three table calls
and a point read, once per bulk write, never per record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from shared.budgets import Budgets
from shared.errors import Conflict
from shared.runs import settle_stopped
from shared.store import Store
from shared.store.run_lock import Standing

log = logging.getLogger(__name__)


class RunStopped(Conflict):
    """The run was told to stop, or does not hold its project's lock: the step writes nothing.

    A domain error, not a retryable one: a retry would be turned away the same way, so the
    step's task ends at once.
    """


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_may_write(store: Store, project_id: str, run_id: str) -> None:
    """Raise RunStopped unless `run_id` holds the run lock of `project_id` without a stop mark."""
    standing = store.run_lock.standing(project_id, run_id)
    if standing is not Standing.HOLDS:
        raise RunStopped(_refusal(project_id, run_id, standing))


@contextmanager
def writing(
    store: Store, project_id: str, run_id: str, step: str, clock: Callable[[], datetime] = _now
) -> Iterator[None]:
    """Hold a lease while the body writes; RunStopped (before the body runs) when the run may not write."""
    # functionTimeout as the process read it once (not host.json again on every page)
    lease = store.run_lock.enter_step(run_id, step, clock() + timedelta(seconds=Budgets.for_app().function_timeout_s))
    try:
        ensure_may_write(store, project_id, run_id)
        yield
    finally:
        store.run_lock.leave_step(run_id, lease)
        if store.run_lock.standing(project_id, run_id) is Standing.STOPPING:
            settled = settle_stopped(store, project_id, run_id, clock())
            log.info("run %s: a step left a stopping run (settled: %s)", run_id, settled)


def _refusal(project_id: str, run_id: str, standing: Standing) -> str:
    if standing is Standing.STOPPING:
        return f"run {run_id} was told to stop: it writes nothing more"
    return f"run {run_id} does not hold the run lock of project {project_id!r}: it writes nothing"
