"""devhost's worker processes: where user code runs, how invocations spread, and what a timeout does.

As on Azure, `FUNCTIONS_WORKER_PROCESS_COUNT` processes (default 1, at most 10) each import the
app and run `PYTHON_THREADPOOL_THREAD_COUNT` sync threads (default min(32, cores + 4)) and one
event loop (worker_process.py). An invocation goes to the process with the fewest in flight.

host.json's `functionTimeout` is enforced the way the host enforces it for an out-of-process
worker: an invocation still running at its deadline gets the host's log lines, its worker
process is killed and a fresh one started, and every invocation in flight on the killed
process fails. A worker that dies on its own is replaced the same way. Such failures are
marked `aborted` (see worker_protocol.Failure).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from devhost.timers import TimerService
from devhost.worker_process import WorkerSpec, worker_main
from devhost.worker_protocol import Failure, Invocation, Outcome, WorkerInitFailed, WorkerReady

log = logging.getLogger("devhost")

PROCESS_COUNT_SETTING = "FUNCTIONS_WORKER_PROCESS_COUNT"
THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"
MAX_PROCESSES = 10
REAP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class WorkerSettings:
    """How many worker processes, and how many sync threads each, from the app settings."""

    processes: int
    threads: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        """The settings as the host and the Python worker read them; an unusable value falls back, with a warning."""
        environ = os.environ if environ is None else environ
        processes = _setting(environ, PROCESS_COUNT_SETTING, 1, MAX_PROCESSES)
        threads = _setting(environ, THREAD_COUNT_SETTING, min(32, (os.cpu_count() or 1) + 4), None)
        return cls(processes, threads)


def _setting(environ: Mapping[str, str], name: str, default: int, most: int | None) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (most is not None and value > most):
        limit = f"1 to {most}" if most is not None else "a positive integer"
        log.warning("App setting %s=%r is not %s; using %d", name, raw, limit, default)
        return default
    return value


def format_timespan(span: timedelta) -> str:
    """A duration as the host writes it: hh:mm:ss, with a day count in front when over a day."""
    seconds = int(span.total_seconds())
    days, seconds = divmod(seconds, 86400)
    text = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{days}.{text}" if days else text


@dataclass(eq=False)
class _Worker:
    slot: int
    process: BaseProcess
    connection: Connection
    in_flight: dict[str, tuple[Future[Outcome], str]] = field(default_factory=dict)
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    ready: bool = False
    retired: bool = False
    replacement: bool = False
    init_error: str | None = None


class WorkerPool:
    """Runs invocations in worker processes; `start` before the first, `stop` at shutdown."""

    def __init__(self, spec: WorkerSpec, settings: WorkerSettings, timeout: timedelta | None) -> None:
        self._spec = spec
        self._settings = settings
        self._timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._turn = itertools.count()
        self._stopping = False
        self._deadlines = TimerService() if timeout is not None else None

    def start(self) -> None:
        """Start the worker processes (they import the app while devhost finishes starting)."""
        timeout = format_timespan(self._timeout) if self._timeout is not None else "not enforced"
        log.info("Starting %d worker process(es) of %d thread(s) each; functionTimeout %s",
                 self._settings.processes, self._settings.threads, timeout)
        self._workers = [self._spawn(slot) for slot in range(self._settings.processes)]
        if self._deadlines is not None:
            self._deadlines.start()

    def stop(self) -> None:
        """Kill the worker processes; invocations in flight fail as aborted."""
        with self._lock:
            self._stopping = True
            workers, self._workers = self._workers, []
            lost = [entry for worker in workers for entry in worker.in_flight.values()]
            for worker in workers:
                worker.in_flight.clear()
        for worker in workers:
            worker.process.kill()
        for future, _ in lost:
            future.set_result(Outcome("", failure=Failure("HostStopping", "The host is shutting down", aborted=True)))
        if self._deadlines is not None:
            self._deadlines.stop()

    def run_here(self, invocation: Invocation) -> Outcome:
        """Run an invocation and wait for its outcome."""
        return self.submit(invocation).result()

    def submit(self, invocation: Invocation) -> Future[Outcome]:
        """Send an invocation to the least busy worker; its outcome's future (never raises)."""
        future: Future[Outcome] = Future()
        with self._lock:
            worker = self._least_busy()
            if worker is None:
                failure = Failure("WorkerUnavailable", "No worker process is running the app", aborted=True)
                future.set_result(Outcome(invocation.invocation_id, failure=failure))
                return future
            worker.in_flight[invocation.invocation_id] = (future, invocation.function_name)
        if self._deadlines is not None and self._timeout is not None:
            token = (worker, invocation.invocation_id)
            self._deadlines.schedule(
                _deadline_key(token), datetime.now(UTC) + self._timeout, lambda: self._expired(token)
            )
        try:
            with worker.send_lock:
                worker.connection.send(invocation)
        except (OSError, ValueError) as error:
            # The worker died while this was on its way: its reader fails what it had, this included
            # unless it got there first.
            failure = Failure("WorkerProcessExitException", f"the worker process is gone: {error}", aborted=True)
            self._settle(worker, invocation.invocation_id, Outcome(invocation.invocation_id, failure=failure))
        return future

    def _least_busy(self) -> _Worker | None:
        """The live worker with the fewest invocations in flight, taking turns among equals (hold the lock)."""
        live = [worker for worker in self._workers if not worker.retired]
        if not live:
            return None
        turn = next(self._turn) % len(self._workers)
        return min(live, key=lambda w: (len(w.in_flight), (w.slot - turn) % len(self._workers)))

    def _spawn(self, slot: int, replacement: bool = False) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=worker_main, args=(theirs, self._spec), name=f"devhost-worker-{slot}"
        )
        process.start()
        # Only the child holds its end now, so its exit is an end of file for our reader.
        theirs.close()
        worker = _Worker(slot, process, ours, replacement=replacement)
        threading.Thread(target=self._read, args=(worker,), name=f"worker-{slot}-reader", daemon=True).start()
        return worker

    def _read(self, worker: _Worker) -> None:
        while True:
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, Outcome):
                self._settle(worker, message.invocation_id, message)
            elif isinstance(message, WorkerReady):
                worker.ready = True
                log.info("Worker process started and initialized. Pid=%d", message.pid)
                if worker.replacement:
                    log.warning("Restart of language worker process(es) completed.")
            elif isinstance(message, WorkerInitFailed):
                worker.init_error = message.message
        self._exited(worker)

    def _settle(self, worker: _Worker, invocation_id: str, outcome: Outcome) -> None:
        with self._lock:
            entry = worker.in_flight.pop(invocation_id, None)
        if self._deadlines is not None:
            self._deadlines.cancel(_deadline_key((worker, invocation_id)))
        if entry is not None:
            entry[0].set_result(outcome)

    def _exited(self, worker: _Worker) -> None:
        """A worker process ended: unless devhost ended it, fail what it had and start another."""
        worker.process.join(REAP_TIMEOUT_S)
        with self._lock:
            if worker.retired or self._stopping:
                return
        pid, code = worker.process.pid, worker.process.exitcode
        log.error("Language Worker Process exited. Pid=%s. python exited with code %s", pid, code)
        if not worker.ready:
            log.error("Worker process failed to load the app: %s", worker.init_error or f"exit code {code}")
        lost = self._swap(worker, restart=worker.ready)
        failure = Failure("WorkerProcessExitException", f"python exited with code {code}", aborted=True)
        for future, _ in lost or []:
            future.set_result(Outcome("", failure=failure))

    def _expired(self, token: tuple[_Worker, str]) -> None:
        """An invocation's deadline passed: if it still runs, kill its worker as the host does."""
        worker, invocation_id = token
        with self._lock:
            entry = worker.in_flight.get(invocation_id)
            if entry is None or worker.retired or self._stopping:
                return
        timeout = format_timespan(self._timeout or timedelta())
        name = entry[1]
        log.error("Timeout value of %s exceeded by function 'Functions.%s' (Id: '%s'). Initiating cancellation.",
                  timeout, name, invocation_id)
        log.warning("A function timeout has occurred. Restarting worker process executing invocationId '%s'.",
                    invocation_id)
        lost = self._swap(worker, restart=True)
        if lost is None:
            return
        worker.process.kill()
        worker.process.join(REAP_TIMEOUT_S)
        failure = Failure(
            "FunctionTimeoutException", f"Timeout value of {timeout} was exceeded by function: Functions.{name}",
            aborted=True,
        )
        for future, _ in lost:
            future.set_result(Outcome("", failure=failure))

    def _swap(self, worker: _Worker, restart: bool) -> list[tuple[Future[Outcome], str]] | None:
        """Retire `worker` (with a fresh process in its slot when `restart`); what was in flight on it.

        The fresh process takes the slot in the same step that retires the old one, so no
        invocation finds the slot empty meanwhile: those sent before are lost with the old
        process, those sent after wait for the new one. None when the worker was retired already.
        """
        fresh = self._spawn(worker.slot, replacement=True) if restart else None
        with self._lock:
            if worker.retired or self._stopping:
                lost = None
            else:
                worker.retired = True
                lost = list(worker.in_flight.values())
                worker.in_flight.clear()
                if fresh is not None:
                    self._workers[worker.slot] = fresh
                    fresh = None
        if fresh is not None:
            fresh.retired = True
            fresh.process.kill()
        return lost


def _deadline_key(token: tuple[_Worker, str]) -> tuple[str, str]:
    """The timer key of an invocation's functionTimeout deadline (invocation ids are unique)."""
    return ("functionTimeout", token[1])
