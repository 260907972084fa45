"""Fire the app's timer-triggered functions on their NCRONTAB schedules (UTC).

A function gets the timer binding the Functions host passes (`func.TimerRequest`:
`past_due`, `schedule_status`, `schedule`). As with the host's schedule monitor (on by
default for schedules a minute or more apart, or with use_monitor=True), the last and next
occurrences are kept in storage; an occurrence missed while devhost was down fires once at
start, past due. The next occurrence is planned after an invocation ends, so invocations of
one function never overlap.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devhost.app_index import TimerFunction
from devhost.history import parse_time
from devhost.host_config import ConfigError, resolve_setting_references
from devhost.invoker import FunctionInvoker
from devhost.ncrontab import CronSchedule, ScheduleError
from devhost.persistence import HubStore
from devhost.timers import TimerService
from devhost.worker_protocol import TimerTrigger

log = logging.getLogger("devhost")

PAST_DUE_AFTER = timedelta(seconds=5)
MONITOR_FROM = timedelta(minutes=1)


@dataclass(frozen=True)
class _Timer:
    function: TimerFunction
    schedule: CronSchedule
    monitored: bool


class TimerTriggers:
    """Schedules every timer function of the app; `start` once, `stop` at shutdown.

    A schedule that cannot be read is a ConfigError when the triggers are built, as the host
    refuses to index such a function.
    """

    def __init__(
        self,
        functions: tuple[TimerFunction, ...],
        invoker: FunctionInvoker,
        timers: TimerService,
        store: HubStore,
        client_binding: str,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self._invoker = invoker
        self._timers = timers
        self._store = store
        self._client_binding = client_binding
        self._pool = ThreadPoolExecutor(max(1, len(functions)), thread_name_prefix="timer-trigger")
        self._stopped = False
        self._entries: list[_Timer] = []
        for function in functions:
            expression = resolve_setting_references(function.schedule, environ, f"the schedule of {function.name}")
            try:
                schedule = CronSchedule.parse(expression)
            except ScheduleError as error:
                raise ConfigError(f"the schedule of {function.name}: {error}") from error
            monitored = function.use_monitor
            if monitored is None:
                first = schedule.next_after(datetime.now(UTC))
                monitored = schedule.next_after(first) - first >= MONITOR_FROM
            self._entries.append(_Timer(function, schedule, monitored))

    def start(self) -> None:
        """Plan each function's next run; missed or run-on-startup ones run now."""
        now = datetime.now(UTC)
        for timer in self._entries:
            status = self._store.read_timer_status(timer.function.name) if timer.monitored else None
            missed = status is not None and parse_time(status["Next"]) < now
            if timer.function.run_on_startup or missed:
                self._pool.submit(self._fire, timer, now, missed, status)
            else:
                self._arm(timer, timer.schedule.next_after(now), status)

    def stop(self) -> None:
        """Plan no more runs; a run under way is not waited for."""
        self._stopped = True
        for timer in self._entries:
            self._timers.cancel(("timer-trigger", timer.function.name))
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _arm(self, timer: _Timer, at: datetime, status: dict[str, str] | None) -> None:
        if self._stopped:
            return
        self._timers.schedule(
            ("timer-trigger", timer.function.name), at, lambda: self._pool.submit(self._fire, timer, at, False, status)
        )

    def _fire(self, timer: _Timer, scheduled: datetime, missed: bool, status: dict[str, str] | None) -> None:
        now = datetime.now(UTC)
        payload = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": status,
            "IsPastDue": missed or now - scheduled > PAST_DUE_AFTER,
        }
        request = TimerTrigger(json.dumps(payload))
        arguments = {timer.function.trigger_param: request}
        arguments.update({name: self._client_binding for name in timer.function.client_params})
        # A failed invocation is logged by the invoker; the schedule goes on.
        with contextlib.suppress(Exception):
            self._invoker.call(timer.function, arguments, f"Timer fired at {now.isoformat()}")
        finished = datetime.now(UTC)
        following = timer.schedule.next_after(finished)
        new_status = {
            "Last": scheduled.isoformat(), "Next": following.isoformat(), "LastUpdated": finished.isoformat(),
        }
        if timer.monitored:
            try:
                self._store.write_timer_status(timer.function.name, new_status)
            except Exception:
                log.exception("Could not record the schedule status of %s", timer.function.name)
        self._arm(timer, following, new_status)
