"""Run invocations inside one process the way the Python worker does.

Sync functions of every kind (HTTP handlers, activities, orchestrator replays, timers) share
one thread pool; async ones run on one long-lived event loop, so that clients bound to a loop
(the durable client's aiohttp session) keep working from one invocation to the next. A worker
process runs one `FunctionRunner`; with `--lenient`, devhost's own process runs one too.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import _abc as functions_abc

from devhost.app_index import AppIndex, IndexedFunction
from devhost.worker_protocol import Failure, Invocation, OrchestrationTrigger, Outcome

DEVHOST_DIR = Path(__file__).resolve().parent


class _TraceContext(functions_abc.TraceContext):
    def __init__(self) -> None:
        self._parent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(functions_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> None:
        return None


class InvocationContext(func.Context):
    """The `context` argument a function receives when it declares one."""

    def __init__(self, invocation_id: str, function_name: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._local = threading.local()
        self._trace = _TraceContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:
        return self._local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return ""

    @property
    def trace_context(self) -> _TraceContext:
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        return _RetryContext()


def functions_by_name(index: AppIndex) -> dict[str, IndexedFunction]:
    """Every function of the app under the name invocations use (`Functions.<name>`)."""
    every = [*index.http, *index.timers, *index.orchestrators.values(), *index.activities.values()]
    return {function.name: function for function in every}


def local_traceback(error: BaseException) -> str:
    """The traceback of an exception a user function raised, without devhost's own frames."""
    frames = error.__traceback__
    while frames is not None and Path(frames.tb_frame.f_code.co_filename).is_relative_to(DEVHOST_DIR):
        frames = frames.tb_next
    return "".join(traceback.format_exception(type(error), error, frames))


class FunctionRunner:
    """One process's sync thread pool and event loop; `start` before the first invocation."""

    def __init__(self, functions: Mapping[str, IndexedFunction], threads: int | None) -> None:
        self._functions = functions
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="function")
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="function-loop", daemon=True)

    def start(self) -> None:
        """Start the event loop for async functions."""
        self._loop_thread.start()

    def stop(self) -> None:
        """Take no more invocations; those under way are not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def submit(self, invocation: Invocation) -> Future[Outcome]:
        """Start an invocation (sync functions on the pool, async ones on the loop); its outcome's future."""
        function = self._functions.get(invocation.function_name)
        if function is not None and function.is_async:
            return asyncio.run_coroutine_threadsafe(self._run_async(function, invocation), self._loop)
        return self._pool.submit(self.run_here, invocation)

    def run_here(self, invocation: Invocation) -> Outcome:
        """Run an invocation to its end: a sync function on the calling thread, an async one on the loop."""
        known = self._functions.get(invocation.function_name)
        if known is not None and known.is_async:
            return self.submit(invocation).result()
        try:
            function, arguments = self._bind(invocation)
            value = function.function(**arguments)
            return Outcome(invocation.invocation_id, _encoded(function, invocation, value))
        except Exception as error:
            return _failed(invocation, error)

    async def _run_async(self, function: IndexedFunction, invocation: Invocation) -> Outcome:
        try:
            function, arguments = self._bind(invocation)
            value = await function.function(**arguments)
            return Outcome(invocation.invocation_id, _encoded(function, invocation, value))
        except Exception as error:
            return _failed(invocation, error)

    def _bind(self, invocation: Invocation) -> tuple[IndexedFunction, dict[str, Any]]:
        function = self._functions.get(invocation.function_name)
        if function is None:
            raise LookupError(f"The function '{invocation.function_name}' is not part of the app")
        trigger = invocation.arguments[function.trigger_param]
        arguments = {**invocation.arguments, function.trigger_param: trigger.decode()}
        if function.wants_context:
            arguments["context"] = InvocationContext(invocation.invocation_id, function.name)
        return function, arguments


def _encoded(function: IndexedFunction, invocation: Invocation, value: Any) -> Any:
    return invocation.arguments[function.trigger_param].encode_result(value)


def _failed(invocation: Invocation, error: Exception) -> Outcome:
    described: BaseException = error
    if error.__cause__ is not None and any(isinstance(v, OrchestrationTrigger) for v in invocation.arguments.values()):
        # The SDK wraps an orchestrator's error in its own exception that carries the state:
        # the user's traceback is the cause's.
        described = error.__cause__
    failure = Failure(type(error).__name__, str(error), local_traceback(described))
    return Outcome(invocation.invocation_id, failure=failure)
