"""Call user functions the way the Functions host does, and log each call the way the host does.

Callers pass a function of the app and its arguments as plain data (worker_protocol.py: the
trigger's data, and strings such as the durable client binding). By default the call runs in
one of the app's worker processes (worker_pool.py), under host.json's functionTimeout; with
`Strictness.worker_processes` off it runs in devhost's own process (sync functions on the
calling thread), as devhost used to. Either way each invocation logs

    Executing 'Functions.name' (Reason='...', Id=...)
    Executed 'Functions.name' (Succeeded, Id=..., Duration=12ms)

and never its inputs or outputs, which may hold customer data. A function that fails raises
`InvocationFailed` for its caller; `InvocationAborted` when the runtime, not the function,
failed it (a timeout, a worker process that exited).
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import Future
from typing import Any, Protocol

from devhost.app_index import AppIndex, IndexedFunction
from devhost.host_config import HostConfig
from devhost.worker_pool import WorkerPool, WorkerSettings
from devhost.worker_process import WorkerSpec
from devhost.worker_protocol import Failure, Invocation, Outcome
from devhost.worker_runtime import FunctionRunner, functions_by_name, local_traceback

log = logging.getLogger("devhost")

REASON_HTTP = "This function was programmatically called via the host APIs."
REASON_DURABLE = "(null)"


class InvocationFailed(Exception):
    """A function invocation failed; `type_name`, the message and `details` (its traceback) describe why."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.type_name = failure.type_name
        self.details = failure.traceback

    def __str__(self) -> str:
        return super().__str__() or self.type_name


class InvocationAborted(InvocationFailed):
    """The runtime ended the invocation (functionTimeout, a worker process that exited, shutdown)."""


class _Runner(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submit(self, invocation: Invocation) -> Future[Outcome]: ...

    def run_here(self, invocation: Invocation) -> Outcome: ...


class FunctionInvoker:
    """Runs the app's functions; `start` before the first call, `stop` at shutdown."""

    def __init__(self, config: HostConfig, index: AppIndex, app_module: str | None) -> None:
        strictness = config.strictness
        self._runner: _Runner
        if strictness.worker_processes:
            settings = WorkerSettings.from_environ()
            timeout = config.function_timeout if strictness.function_timeout else None
            self._runner = WorkerPool(WorkerSpec(str(config.app_dir), app_module, settings.threads), settings, timeout)
        else:
            if strictness.function_timeout:
                log.warning("functionTimeout is enforced only with worker processes; functions run in devhost here")
            self._runner = FunctionRunner(functions_by_name(index), None)

    def start(self) -> None:
        """Start running functions (the worker processes, or the event loop in devhost)."""
        self._runner.start()

    def stop(self) -> None:
        """Stop running functions; invocations under way are abandoned."""
        self._runner.stop()

    def call(
        self, function: IndexedFunction, arguments: dict[str, Any], reason: str, describe_errors: bool = True
    ) -> Any:
        """Invoke `function` and wait for its encoded result; InvocationFailed when it fails."""
        invocation = _begin(function, arguments, reason)
        started = time.perf_counter()
        return _end(invocation, self._runner.run_here(invocation), started, describe_errors)

    def submit(self, function: IndexedFunction, arguments: dict[str, Any], reason: str) -> Future[Any]:
        """Start invoking `function`; the future of its encoded result (or InvocationFailed)."""
        invocation = _begin(function, arguments, reason)
        started = time.perf_counter()
        result: Future[Any] = Future()

        def settle(done: Future[Outcome]) -> None:
            try:
                result.set_result(_end(invocation, done.result(), started, True))
            except InvocationFailed as error:
                result.set_exception(error)

        self._runner.submit(invocation).add_done_callback(settle)
        return result


def user_traceback(error: BaseException) -> str:
    """The traceback of an exception a user function raised, without devhost's own frames."""
    if isinstance(error, InvocationFailed):
        return error.details
    return local_traceback(error)


def _begin(function: IndexedFunction, arguments: dict[str, Any], reason: str) -> Invocation:
    invocation = Invocation(str(uuid.uuid4()), function.name, arguments)
    log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation.invocation_id)
    return invocation


def _end(invocation: Invocation, outcome: Outcome, started: float, describe_errors: bool) -> Any:
    name, invocation_id = invocation.function_name, invocation.invocation_id
    duration = round((time.perf_counter() - started) * 1000)
    failure = outcome.failure
    if failure is None:
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", name, invocation_id, duration)
        return outcome.value
    log.info("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)", name, invocation_id, duration)
    if describe_errors or failure.aborted:
        log.error("Exception while executing function: Functions.%s. %s: %s", name, failure.type_name, failure.message)
    raise (InvocationAborted if failure.aborted else InvocationFailed)(failure)

