"""Run activity functions on a pool sized like host.json's maxConcurrentActivityFunctions.

Inputs and outputs cross as the JSON strings the Durable extension passes, decoded and
encoded by azure-functions' own activity trigger converter. An activity that raises answers
with a failure (reason and details), which the SDK raises in the orchestrator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.app_index import IndexedFunction
from devhost.invoker import REASON_DURABLE, FunctionInvoker, user_traceback

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

    def submit(self, work: ActivityWork) -> None:
        """Queue an activity attempt; its result goes to `on_result`."""
        self._pool.submit(self._run, work)

    def stop(self) -> None:
        """Stop taking work; running activities are not waited for (they run again on restart)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, work: ActivityWork) -> None:
        try:
            result = self._execute(work)
        except Exception:
            log.exception("devhost could not run activity '%s'", work.name)
            return
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
            datum = meta.Datum(work.input if work.input is not None else "null", "json")
            argument = ActivityTriggerConverter.decode(datum, trigger_metadata=None)
            value = self._invoker.call(activity, {activity.trigger_param: argument}, REASON_DURABLE)
            encoded = ActivityTriggerConverter.encode(value, expected_type=None).value
        except Exception as error:
            return ActivityResult(
                False,
                reason=f"Activity function '{work.name}' failed: {type(error).__name__}: {error}",
                details=user_traceback(error),
            )
        return ActivityResult(True, result=encoded)
