"""Start a sandbox server in a child process and stop it again: for tests, the demo and benchmarks.

    with start_sandbox("dataverse", dataset="prospect-to-cash", records=500, token="t") as dv:
        requests.get(dv.service_url + "accounts", headers={"Authorization": "Bearer t"})

Knobs are the command-line flags in snake_case (`latency_ms=5`, `companies=["usmf", "usrt"]`).
The server's standard output carries one line, its address, which is read from a pipe; its log
(standard error) goes to a file (`handle.log_path`). It is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICE_ROOTS = {"dataverse": "/api/data/v9.2/", "finops": "/data/"}
_LISTENING = re.compile(r"^listening on (http://\S+)$")


@dataclass
class SandboxProcess:
    """A running sandbox server that this process started."""

    kind: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def service_url(self) -> str:
        """The service root: `{url}/api/data/v9.2/` or `{url}/data/`."""
        return self.url + SERVICE_ROOTS[self.kind]

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _flags(knobs: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for name, value in knobs.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, Iterable) and not isinstance(value, str | Path):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


def start_sandbox(kind: str, *, port: int = 0, timeout_s: float = 60.0, **knobs: Any) -> SandboxProcess:
    """Start `python -m sandbox KIND` and wait for its `listening on` line."""
    if kind not in SERVICE_ROOTS:
        raise ValueError(f"unknown sandbox kind {kind!r}")
    log_path = Path(tempfile.mkdtemp(prefix=f"sandbox-{kind}-")) / "server.log"
    command = [sys.executable, "-m", "sandbox", kind, "--port", str(port), *_flags(knobs)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    url = _announced_url(process, timeout_s)
    sandbox = SandboxProcess(kind, url or "", process, log_path)
    if url is None:
        sandbox.stop()
        raise RuntimeError(f"the {kind} sandbox did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
    return sandbox


def _announced_url(process: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    """The address in the server's one line of output, or None if it exits or stays silent for `timeout_s`.

    The server prints nothing else to standard output, so the pipe never fills up, and waiting
    needs no polling: the line arrives, or end-of-file says the server has exited.
    """
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    line = process.stdout.readline() if ready and process.stdout else b""
    found = _LISTENING.match(line.decode(errors="replace").strip())
    return found.group(1) if found else None
