"""Run activity functions, at most host.json's maxConcurrentActivityFunctions at a time.

Inputs and outputs cross as the JSON strings the Durable extension passes, decoded and
encoded where the function runs by azure-functions' own activity trigger converter. An
activity that raises, or that the runtime ends (functionTimeout, a worker process that
exited), answers with a failure (reason and details), which the SDK raises in the
orchestrator, where RetryOptions retry it, as the Durable extension reports such a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devhost.app_index import IndexedFunction
from devhost.invoker import REASON_DURABLE, FunctionInvoker, InvocationFailed
from devhost.worker_protocol import ActivityTrigger

log = logging.getLogger("devhost")


@dataclass(frozen=True)
class ActivityWork:
    """One activity attempt: the task it answers and what to call."""

    instance_id: str
    generation: int
    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class ActivityResult:
    """A succeeded attempt's JSON result, or a failed one's reason and details."""

    succeeded: bool
    result: str | None = None
    reason: str | None = None
    details: str | None = None


class ActivityRunner:
    """Runs activities concurrently and reports each result to `on_result`."""

    def __init__(
        self,
        activities: dict[str, IndexedFunction],
        invoker: FunctionInvoker,
        max_concurrent: int,
        on_result: Callable[[ActivityWork, ActivityResult], None],
    ) -> None:
        self._activities = activities
        self._invoker = invoker
        self._on_result = on_result
        self._pool = ThreadPoolExecutor(max_concurrent, thread_name_prefix="activity")
        self._stopped = False

    def submit(self, work: ActivityWork) -> None:
        """Queue an activity attempt; its result goes to `on_result`."""
        self._pool.submit(self._run, work)

    def stop(self) -> None:
        """Stop taking work; running activities are not waited for (they run again on restart)."""
        self._stopped = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, work: ActivityWork) -> None:
        try:
            result = self._execute(work)
        except Exception:
            log.exception("devhost could not run activity '%s'", work.name)
            return
        # An attempt cut short by the shutdown runs again on the next start, as Durable redelivers it.
        if not self._stopped:
            self._on_result(work, result)

    def _execute(self, work: ActivityWork) -> ActivityResult:
        activity = self._activities.get(work.name)
        if activity is None:
            return ActivityResult(
                False,
                reason=f"The function '{work.name}' doesn't exist, is disabled, or is not an activity function.",
                details="",
            )
        try:
            arguments = {activity.trigger_param: ActivityTrigger(work.input)}
            encoded = self._invoker.call(activity, arguments, REASON_DURABLE)
        except InvocationFailed as error:
            reason = f"Activity function '{work.name}' failed: {error.type_name}: {error}"
            return ActivityResult(False, reason=reason, details=error.details)
        return ActivityResult(True, result=encoded)
