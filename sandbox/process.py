"""Start a sandbox server in a child process and stop it again: for tests, the demo and benchmarks.

    with start_sandbox("dataverse", dataset="prospect-to-cash", records=500, token="t") as dv:
        requests.get(dv.service_url + "accounts", headers={"Authorization": "Bearer t"})

Knobs are the command-line flags in snake_case (`latency_ms=5`, `companies=["usmf", "usrt"]`).
The child's output goes to a log file (`handle.log_path`); it is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from devhost.children import wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
SERVICE_ROOTS = {"dataverse": "/api/data/v9.2/", "finops": "/data/"}
_LISTENING = re.compile(r"listening on (http://\S+)")


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
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    found = wait_until_listening(process, log_path, _LISTENING, timeout_s, f"the {kind} sandbox")
    return SandboxProcess(kind, found.group(1), process, log_path)
