"""The main of a worker process: import the app, then run every invocation devhost sends until the pipe closes.

Like the Python worker, it imports the app itself (so module-level state is its own), runs
sync functions on one pool of `threads` threads and async ones on one event loop, and answers
each invocation with one message. It exits when devhost closes its end of the pipe, or when
devhost kills it.
"""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from devhost.app_index import AppIndex, import_app
from devhost.worker_protocol import Failure, Outcome, WorkerInitFailed, WorkerReady
from devhost.worker_runtime import FunctionRunner, functions_by_name


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to load the app: where it is, and how many sync threads to run."""

    app_dir: str
    app_module: str | None
    threads: int


def worker_main(connection: Connection, spec: WorkerSpec) -> None:
    """Serve invocations from `connection` until devhost closes it."""
    # Imported here: devhost.host imports the invoker, which imports this module.
    from devhost.host import configure_logging

    configure_logging()
    # Ctrl-C reaches the whole process group; devhost decides when its workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        index = AppIndex.build(import_app(Path(spec.app_dir), spec.app_module))
    except Exception as error:
        connection.send(WorkerInitFailed(f"{type(error).__name__}: {error}"))
        return
    runner = FunctionRunner(functions_by_name(index), spec.threads)
    runner.start()
    answers = _Answers(connection)
    connection.send(WorkerReady(os.getpid()))
    while True:
        try:
            invocation = connection.recv()
        except (EOFError, OSError):
            break
        runner.submit(invocation).add_done_callback(answers.send)
    # Sync functions still running cannot be interrupted; devhost no longer waits for them.
    os._exit(0)


class _Answers:
    """Sends outcomes back one whole message at a time, from whichever thread finished them."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, done: Future[Outcome]) -> None:
        outcome = done.result()
        try:
            with self._lock:
                self._connection.send(outcome)
        except (EOFError, OSError):
            return
        except Exception as error:
            failure = Failure(type(error).__name__, f"the function's result could not be sent to the host: {error}")
            with self._lock:
                self._connection.send(Outcome(outcome.invocation_id, failure=failure))
