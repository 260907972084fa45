"""Call user functions the way the Python worker does, and log each call the way the host does.

Sync functions run on the calling thread (or an executor); async ones run on one long-lived
event loop, so that clients bound to a loop (the durable client's aiohttp session) keep
working from one invocation to the next. Each invocation logs

    Executing 'Functions.name' (Reason='...', Id=...)
    Executed 'Functions.name' (Succeeded, Id=..., Duration=12ms)

and never its inputs or outputs, which may hold customer data.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import _abc as functions_abc

from devhost.app_index import IndexedFunction

log = logging.getLogger("devhost")

REASON_HTTP = "This function was programmatically called via the host APIs."
REASON_DURABLE = "(null)"
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


class FunctionInvoker:
    """Runs user functions; `start` before the first call, `stop` at shutdown."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="function-loop", daemon=True)

    def start(self) -> None:
        """Start the event loop for async functions."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the event loop."""
        self._loop.call_soon_threadsafe(self._loop.stop)

    def call(
        self, function: IndexedFunction, arguments: dict[str, Any], reason: str, describe_errors: bool = True
    ) -> Any:
        """Invoke `function` with `arguments` and wait for its result (or exception)."""
        if function.is_async:
            return asyncio.run_coroutine_threadsafe(
                self._run_async(function, arguments, reason, describe_errors), self._loop
            ).result()
        return self._run_sync(function, arguments, reason, describe_errors)

    def submit(self, function: IndexedFunction, arguments: dict[str, Any], reason: str, executor: Executor) -> Future:
        """Start invoking `function` (sync ones on `executor`) and return its future."""
        if function.is_async:
            return asyncio.run_coroutine_threadsafe(self._run_async(function, arguments, reason, True), self._loop)
        return executor.submit(self._run_sync, function, arguments, reason, True)

    def _run_sync(self, function: IndexedFunction, arguments: dict[str, Any], reason: str, describe: bool) -> Any:
        with _logged(function.name, reason, describe) as invocation_id:
            return function.function(**_with_context(function, arguments, invocation_id))

    async def _run_async(
        self, function: IndexedFunction, arguments: dict[str, Any], reason: str, describe: bool
    ) -> Any:
        with _logged(function.name, reason, describe) as invocation_id:
            return await function.function(**_with_context(function, arguments, invocation_id))


def user_traceback(error: BaseException) -> str:
    """The traceback of an exception a user function raised, without devhost's own frames."""
    frames = error.__traceback__
    while frames is not None and Path(frames.tb_frame.f_code.co_filename).is_relative_to(DEVHOST_DIR):
        frames = frames.tb_next
    return "".join(traceback.format_exception(type(error), error, frames))


def _with_context(function: IndexedFunction, arguments: dict[str, Any], invocation_id: str) -> dict[str, Any]:
    if not function.wants_context:
        return arguments
    return {**arguments, "context": InvocationContext(invocation_id, function.name)}


@contextmanager
def _logged(name: str, reason: str, describe_errors: bool) -> Iterator[str]:
    invocation_id = str(uuid.uuid4())
    log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", name, reason, invocation_id)
    started = time.perf_counter()
    try:
        yield invocation_id
    except Exception as error:
        duration = round((time.perf_counter() - started) * 1000)
        log.info("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)", name, invocation_id, duration)
        if describe_errors:
            log.error("Exception while executing function: Functions.%s. %s: %s", name, type(error).__name__, error)
        raise
    duration = round((time.perf_counter() - started) * 1000)
    log.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", name, invocation_id, duration)
