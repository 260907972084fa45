"""Time budgets derived from the host's functionTimeout, so that every step ends on its own.

On Azure the host restarts the worker under an invocation that outlives functionTimeout,
failing every invocation in flight on it, and the service's own retry path never runs. So,
with T the timeout:

- a step (one activity) sends no request and starts no wait after `step_s` = T/2: it
  raises instead, and what it wrote is written again by its next attempt (writes are
  idempotent upserts);
- one request, all its attempts and waits together, gets `request_s`; an attempt never
  outlives what is left of it;
- Durable tries a step `step_attempts` times, `step_interval_s` apart;
- after one request has spent its whole budget on a system that did not answer, the other
  requests of the process to that system fail at once for `circuit_open_s`
  (= `step_interval_s`, so a step's next attempt asks the system again).

A system that stays down therefore fails the run within `down_system_fails_within_s` of the
first failure: `step_attempts * request_s + (step_attempts - 1) * step_interval_s`. The
outage budget scales with T up to the 10-minute default and no further, so the run of a
system that stays down fails within 10 minutes on every plan. Throttling (429 +
Retry-After) spends the same budgets, but never opens the circuit: a throttled service is
answering, so it slows the run and fails it only once the budgets are spent.

The budget of the running step travels in a context variable: `within_step_budget` sets
it around an activity and `carry_step_budget` hands it to the threads a step starts.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

from shared.settings import DEFAULT_FUNCTION_TIMEOUT, function_timeout

STEP_FRACTION = 0.5
"""Share of functionTimeout a step may spend: the rest is margin for its last request and its own work."""
REQUEST_SHARE = 6
"""The outage budget (T, at most 10 minutes) over this is one request's budget: 3 attempts x 1 + 2 intervals x 1
leave a sixth of the outage budget for the orchestrations' own steps."""
STEP_ATTEMPTS = 3
MAX_ATTEMPT_S = 120.0
"""One attempt waits at most this long for an answer (a Dataverse request runs for at most 2 minutes)."""
MIN_INTERVAL_S = 1.0

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Budgets:
    """The time budgets of steps and requests for one functionTimeout (seconds)."""

    function_timeout_s: float

    @classmethod
    def for_app(cls) -> Budgets:
        """The budgets of this app's functionTimeout (app setting, else host.json), read once per process."""
        return _app_budgets()

    @property
    def step_s(self) -> float:
        """After this, a step sends nothing more: it raises, well inside functionTimeout."""
        return self.function_timeout_s * STEP_FRACTION

    @property
    def outage_s(self) -> float:
        """The time the service gives a system that stopped answering, from the first failure to a failed run."""
        return min(self.function_timeout_s, DEFAULT_FUNCTION_TIMEOUT.total_seconds())

    @property
    def request_s(self) -> float:
        """One request's attempts and waits together."""
        return min(self.outage_s / REQUEST_SHARE, self.step_s)

    @property
    def attempt_timeout_s(self) -> float:
        """One attempt's wait for an answer."""
        return min(MAX_ATTEMPT_S, self.request_s)

    @property
    def step_attempts(self) -> int:
        return STEP_ATTEMPTS

    @property
    def step_interval_s(self) -> float:
        """Between two attempts of a step (Durable's retry interval)."""
        return max(MIN_INTERVAL_S, self.request_s)

    @property
    def circuit_open_s(self) -> float:
        """How long requests to a system that spent a request's whole budget failing are refused at once."""
        return self.step_interval_s

    @property
    def down_system_fails_within_s(self) -> float:
        """From the first failure of a system that stays down to the last attempt of the step that needs it."""
        return self.step_attempts * self.request_s + (self.step_attempts - 1) * self.step_interval_s


@lru_cache(maxsize=1)
def _app_budgets() -> Budgets:
    return Budgets(function_timeout().total_seconds())


_step_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("step_deadline", default=None)


def step_deadline() -> float | None:
    """The `time.monotonic()` by which the running step must be done sending, or None outside a step."""
    return _step_deadline.get()


@contextmanager
def step_budget(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[float]:
    """Within: the running step must be done sending in `seconds` (an enclosing step's earlier deadline stays)."""
    deadline = clock() + seconds
    enclosing = _step_deadline.get()
    if enclosing is not None:
        deadline = min(deadline, enclosing)
    token = _step_deadline.set(deadline)
    try:
        yield deadline
    finally:
        _step_deadline.reset(token)


def within_step_budget(step: Callable[P, R]) -> Callable[P, R]:
    """Run an activity within the app's step budget (`Budgets.step_s`)."""

    @wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with step_budget(Budgets.for_app().step_s):
            return step(*args, **kwargs)

    return run


def carry_step_budget(work: Callable[P, R]) -> Callable[P, R]:
    """`work` run with the caller's step budget, on whatever thread runs it (a pool's threads have their own)."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(work, *args, **kwargs)

    return run
